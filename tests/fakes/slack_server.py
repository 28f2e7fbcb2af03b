"""WSGI app of the fake Slack Web API: routing, bearer auth, injected faults, call log.

Used through FakeSlack in tests/fakes/slack.py, which runs it on a real socket
so that the real slack_sdk WebClient (urllib underneath) talks to it.
Routes: POST (or GET) /api/<method> and POST /response/<id> (a response_url).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import parse_qsl

from werkzeug.wrappers import Request, Response

from tests.fakes.slack_state import SlackError, SlackState

RESPONSE_METHOD = "response"  # Call.method of a POST to a response_url


@dataclass(frozen=True)
class Call:
    """One request the fake received (recorded before any fault is applied)."""

    method: str  # Slack API method, e.g. "chat.postMessage"; "response" for response_url
    path: str
    args: dict[str, Any]  # query + form fields or JSON body, as sent
    headers: dict[str, str]
    content_type: str
    at: float  # FakeSlack clock (time.monotonic by default) when received
    status: int = 0
    error: str | None = None  # the "error" Slack answered with; None when ok

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)

    @property
    def blocks(self) -> Any:
        """`blocks` decoded whether it came as a JSON array or a form string."""
        blocks = self.args.get("blocks")
        return json.loads(blocks) if isinstance(blocks, str) else blocks


@dataclass
class Fault:
    kind: str  # "fail" | "rate_limit" | "delay"
    remaining: int
    method: str | None = None
    status: int = 500
    seconds: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    body: str | bytes = b""
    content_type: str = "text/plain"
    when: str = "before"

    def matches(self, method: str) -> bool:
        return self.method is None or self.method == method


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(json.dumps(body), status=status, headers=headers or {},
                    content_type="application/json; charset=utf-8")


class FakeSlackApp:
    def __init__(self, state: SlackState, tokens: set[str], lock: threading.RLock):
        self.state = state
        self.tokens = tokens
        self.lock = lock
        self.faults: list[Fault] = []
        self.calls: list[Call] = []
        self.stopping = threading.Event()
        self.methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": lambda args: state.auth_test(),
            "chat.postMessage": state.post_message,
            "chat.update": state.update_message,
            "chat.postEphemeral": state.post_ephemeral,
            "conversations.info": state.conversation_info,
            "conversations.history": state.conversations_history,
            "users.info": state.user_info,
            "users.lookupByEmail": state.lookup_by_email,
            "reactions.add": state.reactions_add,
            "conversations.replies": state.conversations_replies,
            "files.info": state.files_info,
            "views.open": state.views_open,
        }

    # -- WSGI ----------------------------------------------------------------
    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self.handle(request)
        return response(environ, start_response)

    @staticmethod
    def _args(request: Request) -> dict[str, Any]:
        args: dict[str, Any] = dict(parse_qsl(request.query_string.decode(), keep_blank_values=True))
        if request.mimetype == "multipart/form-data":
            args.update(request.form.to_dict())
            return args
        raw = request.get_data()
        if not raw:
            return args
        if request.mimetype == "application/json":
            try:
                body = json.loads(raw)
            except ValueError:
                return {**args, "__invalid_json__": raw.decode("utf-8", "replace")}
            if isinstance(body, dict):
                args.update(body)
            return args
        args.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        return args

    def handle(self, request: Request) -> Response:
        path = request.path
        if path.startswith("/api/"):
            method = path[len("/api/"):]
        elif path.startswith("/response/"):
            method = RESPONSE_METHOD
        else:
            method = path
        args = self._args(request)
        with self.lock:
            index = len(self.calls)
            self.calls.append(Call(method, path, args, dict(request.headers),
                                   request.mimetype, self.state.clock()))
            fault = self._take_fault(method)
        if fault is not None and fault.kind == "delay" and fault.when == "before":
            self.stopping.wait(fault.seconds)
        response, error = self._respond(request, method, args, fault)
        if fault is not None and fault.kind == "delay" and fault.when == "after":
            self.stopping.wait(fault.seconds)
        with self.lock:
            call = self.calls[index]
            self.calls[index] = Call(call.method, call.path, call.args, call.headers,
                                     call.content_type, call.at, response.status_code, error)
        return response

    def _take_fault(self, method: str) -> Fault | None:
        for fault in self.faults:
            if fault.remaining > 0 and fault.matches(method):
                fault.remaining -= 1
                return fault
        return None

    def _respond(self, request: Request, method: str, args: dict[str, Any],
                 fault: Fault | None) -> tuple[Response, str | None]:
        if fault is not None and fault.kind in ("fail", "rate_limit"):
            error = None
            if fault.content_type.startswith("application/json"):
                try:
                    error = json.loads(fault.body).get("error")
                except (ValueError, AttributeError):
                    error = None
            return (Response(fault.body, status=fault.status, headers=fault.headers,
                             content_type=fault.content_type), error or f"http_{fault.status}")
        if method == RESPONSE_METHOD:
            return self._response_url(request.path[len("/response/"):], args), None
        if method.startswith("/files-pri/"):
            return self._download(request, method)
        handler = self.methods.get(method)
        if handler is None:
            return json_response(404, {"ok": False, "error": "unknown_method"}), "unknown_method"
        auth_error = self._auth_error(request, args)
        if auth_error is not None:
            return json_response(200, {"ok": False, "error": auth_error}), auth_error
        if "__invalid_json__" in args:
            return json_response(200, {"ok": False, "error": "invalid_json"}), "invalid_json"
        try:
            with self.lock:
                result = handler(args)
        except SlackError as exc:
            return json_response(exc.status, {"ok": False, "error": exc.error, **exc.extra},
                                 exc.headers), exc.error
        return json_response(200, {"ok": True, **result}), None

    def _download(self, request: Request, path: str) -> tuple[Response, str | None]:
        """url_private_download: the file's bytes for the bot's token; Slack answers others with a login page."""
        if self._auth_error(request, {}) is not None:
            return Response("<html>sign in</html>", status=302, headers={"Location": "/signin"}), "not_authed"
        file_id = path.split("/")[2].split("-", 1)[1]
        with self.lock:
            content = self.state.file_content.get(file_id)
            mimetype = self.state.files.get(file_id, {}).get("mimetype", "application/octet-stream")
        if content is None:
            return Response("not found", status=404), "file_not_found"
        return Response(content, status=200, content_type=mimetype), None

    def _auth_error(self, request: Request, args: dict[str, Any]) -> str | None:
        header = request.headers.get("Authorization", "")
        token = header[len("Bearer "):].strip() if header.startswith("Bearer ") else None
        token = token or args.get("token")
        if not token:
            return "not_authed"
        return None if token in self.tokens else "invalid_auth"

    def _response_url(self, response_id: str, args: dict[str, Any]) -> Response:
        with self.lock:
            self.state.responses.setdefault(response_id, []).append(dict(args))
        return Response("ok", status=200, content_type="text/html")
