"""Update Many Tickets and job statuses of the fake Zendesk.

- `PUT /api/v2/tickets/update_many.json` with `{"tickets": [{"id": 1, ...}, ...]}` (batch: each ticket its
  own changes; what `zenpy.tickets.update([t1, t2])` sends) or `?ids=1,2,3` with `{"ticket": {...}}` (bulk:
  one change for all). At most 100 tickets, else 400 `TooManyValues`. Answers 200 `{"job_status": {...,
  "status": "queued", "progress": 0, "results": null}}` and applies the job in the background after
  `job_delay` seconds (default 0.2): a daemon thread, or the first poll after the due time, whichever
  comes first; each ticket under the server lock, with the rules of a single PUT
  (ZendeskState.update_ticket). An `updated_stamp` always makes the item a safe update.
- `GET /api/v2/job_statuses/{id}.json` (404 RecordNotFound if unknown) and
  `GET /api/v2/job_statuses/show_many.json?ids=a,b` (unknown ids left out).
Job status shape and results: developer.zendesk.com "Job Statuses"; per-item failure words are
[unconfirmed] (docs/zendesk-facts.md section 3).
"""

from __future__ import annotations

import copy
import json
import secrets
import threading
import time
from typing import Any, Callable

from werkzeug.wrappers import Request, Response

from tests.fakes.zendesk_state import ZendeskError, ZendeskState, not_found

MAX_TICKETS = 100


def _too_many() -> ZendeskError:
    return ZendeskError(400, {"error": "TooManyValues",
                              "description": f"You can update at most {MAX_TICKETS} tickets at once"})


def item_failure(ticket_id: Any, index: int, exc: ZendeskError) -> dict[str, Any]:
    """A job result for a ticket the job could not update."""
    body = exc.body
    if exc.status == 404:
        error, details = "RecordNotFound", "Ticket not found"
    elif exc.status == 409:
        error, details = "UpdateConflict", body.get("description", "")
    elif body.get("error") == "RecordInvalid":
        error = "TicketUpdateFailed"
        details = "; ".join(d.get("description", "") for items in (body.get("details") or {}).values()
                            for d in items)
    else:
        error, details = str(body.get("error", "TicketUpdateFailed")), str(body.get("description", ""))
    return {"id": ticket_id, "index": index, "error": error, "details": details}


class BulkRoutes:
    """Route handlers; `app` is the FakeZendeskApp (state, lock, agent_id, job_delay, stopping)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    @property
    def state(self) -> ZendeskState:
        return self.app.state

    def routes(self) -> list[tuple[str, str, Callable[..., Response]]]:
        return [
            ("PUT", r"/api/v2/tickets/update_many(?:\.json)?", self.update_many),
            ("GET", r"/api/v2/job_statuses/show_many\.json", self.show_many_jobs),
            ("GET", r"/api/v2/job_statuses/(\w+)\.json", self.show_job),
        ]

    @staticmethod
    def json(status: int, body: Any) -> Response:
        return Response(json.dumps(body), status=status, content_type="application/json; charset=utf-8")

    # -- submitting ------------------------------------------------------------
    def update_many(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        body = body if isinstance(body, dict) else {}
        if "ids" in query:
            ids = [i.strip() for i in query["ids"].split(",") if i.strip()]
            if not isinstance(body.get("ticket"), dict) or not ids:
                raise ZendeskError(400, {"error": "InvalidParameter",
                                         "description": "Parameters ids and ticket are required"})
            items = [{**copy.deepcopy(body["ticket"]), "id": int(i) if i.isdigit() else i} for i in ids]
        elif isinstance(body.get("tickets"), list):
            items = copy.deepcopy(body["tickets"])
            if not all(isinstance(t, dict) and "id" in t for t in items):
                raise ZendeskError(400, {"error": "InvalidParameter",
                                         "description": "Every ticket needs an id"})
        else:
            raise ZendeskError(400, {"error": "InvalidParameter",
                                     "description": "Parameter tickets (or ids and ticket) is required"})
        if len(items) > MAX_TICKETS:
            raise _too_many()
        job = self.queue(items)
        return self.json(200, {"job_status": self.view(job)})

    def queue(self, items: list[dict[str, Any]]) -> dict[str, Any]:
        """Store a queued job and start its runner (lock held)."""
        job_id = secrets.token_hex(16)
        while job_id.isdigit():  # the router turns all-digit path parts into ints
            job_id = secrets.token_hex(16)
        fail = self.app.fail_jobs.pop(0) if self.app.fail_jobs else None
        job = {"id": job_id, "url": self.state.url(f"job_statuses/{job_id}.json"), "job_type": "BulkUpdateJob",
               "total": len(items), "progress": 0, "status": "queued", "message": None, "results": None,
               "_items": items, "_due": time.monotonic() + self.app.job_delay, "_fail": fail}
        self.state.jobs[job_id] = job
        threading.Thread(target=self._run_later, args=(job,), name=f"zendesk-job-{job_id[:8]}",
                         daemon=True).start()
        return job

    @staticmethod
    def view(job: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy({k: v for k, v in job.items() if not k.startswith("_")})

    # -- running ---------------------------------------------------------------
    def _run_later(self, job: dict[str, Any]) -> None:
        if self.app.stopping.wait(max(0.0, job["_due"] - time.monotonic())):
            return
        self.run(job)

    def run(self, job: dict[str, Any]) -> None:
        """Apply a due job once: queued -> working -> completed/failed. Reentrant under the lock."""
        with self.app.lock:
            if job["status"] != "queued" or self.state.jobs.get(job["id"]) is not job:
                return  # already claimed, or forgotten by reset()
            job["status"] = "working"
            if job["_fail"] is not None:
                job.update(status="failed", message=job["_fail"], results=[])
                return
            job["results"] = []
        for index, item in enumerate(job["_items"]):
            with self.app.lock:
                if self.state.jobs.get(job["id"]) is not job:
                    return
                job["results"].append(self._apply(index, item))
                job["progress"] = index + 1
        with self.app.lock:
            job.update(status="completed", message=f"Completed at {self.state.now()}")

    def _apply(self, index: int, item: dict[str, Any]) -> dict[str, Any]:
        data = dict(item)
        ticket_id = data.pop("id")
        ticket_id = int(ticket_id) if isinstance(ticket_id, str) and ticket_id.isdigit() else ticket_id
        if "updated_stamp" in data:
            data["safe_update"] = True  # a bulk job always honours updated_stamp
        try:
            if not isinstance(ticket_id, int):
                raise not_found()
            self.state.update_ticket(ticket_id, data, self.app.agent_id)
        except ZendeskError as exc:
            return item_failure(ticket_id, index, exc)
        return {"id": ticket_id, "action": "update", "success": True, "status": "Updated"}

    def _settle(self, job: dict[str, Any]) -> dict[str, Any]:
        if job["status"] == "queued" and time.monotonic() >= job["_due"]:
            self.run(job)
        return self.view(job)

    # -- polling ---------------------------------------------------------------
    def show_job(self, request: Request, body: Any, query: dict[str, str], job_id: Any) -> Response:
        job = self.state.jobs.get(str(job_id))
        if job is None:
            raise not_found()
        return self.json(200, {"job_status": self._settle(job)})

    def show_many_jobs(self, request: Request, body: Any, query: dict[str, str]) -> Response:
        ids = [i.strip() for i in query.get("ids", "").split(",") if i.strip()]
        if len(ids) > MAX_TICKETS:
            raise _too_many()
        jobs = [self._settle(self.state.jobs[i]) for i in ids if i in self.state.jobs]
        return self.json(200, {"job_statuses": jobs})


class BulkMixin:
    """FakeZendesk methods for jobs (needs self._lock and self._app)."""

    _lock: Any
    _app: Any

    def set_job_delay(self, seconds: float) -> None:
        """How long a job stays queued before it is applied (default 0.2 s)."""
        with self._lock:
            self._app.job_delay = seconds

    def fail_next_job(self, n: int = 1, message: str = "Job failed") -> None:
        """The next n jobs end "failed" with `message`, applying nothing."""
        with self._lock:
            self._app.fail_jobs.extend([message] * n)

    def jobs(self) -> list[dict[str, Any]]:
        """Copies of every job status, oldest first."""
        with self._lock:
            return [BulkRoutes.view(j) for j in self._app.state.jobs.values()]

    def wait_for_jobs(self, timeout: float = 5.0) -> None:
        """Block until no job is queued or working (AssertionError after `timeout`)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                if all(j["status"] in ("completed", "failed") for j in self._app.state.jobs.values()):
                    return
            assert time.monotonic() < deadline, f"jobs still running after {timeout} s"
            time.sleep(0.01)
