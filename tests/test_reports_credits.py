"""The Service Credits Report: earned, requested, approved, denied, applied and outstanding per organization,
through `escalator report --kind credits` and GET /reports/<month>/credits, on both backends.

Hand computation: the tickets of tests/test_credits_flow.py (February 2026). Earned: Northwind 1001 720.00 (T501,
3 started hours × 240.00), Pennyworth 1004 23.88 (T701, 6 h × 3.98); no other organization has tickets.
Requests (storage, explicit instants): Northwind asks Mon 2 Mar 14:00 (720.00), approved Tue 3 Mar 10:00, applied
Thu 5 Mar 12:00 on INV-7; Pennyworth asks Mon 2 Mar 15:00 (23.88), denied Tue 3 Mar 11:00.
As of Mon 2 Mar 14:30: requested 720.00 (Pennyworth's ask is later), nothing decided.
As of Wed 4 Mar: requested 743.88, approved 720.00, denied 23.88, applied 0.00, outstanding 720.00.
As of Fri 6 Mar: applied 720.00, outstanding 0.00.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from click.testing import CliRunner

from integration.cli import cli
from integration.config import Config
from integration.reports.credit_standing import month_standing
from integration.reports.credits_report import build_credits, request_as_of
from integration.reports.figures import Month
from integration.reports.queries import load_credits_report, load_report
from integration.services import build_services
from integration.storage import credits as store
from tests.fakes.slack import fake_slack  # noqa: F401  (pytest fixture)
from tests.fakes.zendesk import fake_zendesk  # noqa: F401  (pytest fixture)
from tests.test_credits_flow import stack, t  # noqa: F401  (pytest fixture: the February tickets)

NORTHWIND, PENNYWORTH = 1001, 1004
FEB = Month(2026, 2)


@pytest.fixture
def requested(stack):  # noqa: F811
    services, mappings = stack.services, stack.services.mappings.current
    for org, asked, decided, approve in ((NORTHWIND, t(3, 2, 14), t(3, 3, 10), True),
                                         (PENNYWORTH, t(3, 2, 15), t(3, 3, 11), False)):
        eligible = month_standing(services.sessions, mappings, org, "2026-02", asked).eligibility
        state, added = store.request_credit(services.sessions, mappings, eligible, by="U1", note="", channel=None,
                                            now=asked)
        assert added
        store.decide(services.sessions, mappings, state.id, approved=approve, by="U0BILLING1",
                     reason="" if approve else "excluded by contract", now=decided)
    store.applied(services.sessions, mappings, 1, invoice="INV-7", by="U0BILLING1", now=t(3, 5, 12))
    return stack


def report_at(stack, as_of, org=None):
    services = stack.services
    report = load_report(services.sessions, services.mappings.current, FEB, as_of, org)
    return load_credits_report(services.sessions, services.mappings.current, report)


def amounts(report, org):
    row = next(r for r in report.rows if r.organization_id == org)
    return tuple(str(row.amount_in(c)) for c in ("earned", "requested", "approved", "denied", "applied",
                                                  "outstanding"))


def test_each_column_as_the_requests_stood(requested):
    early = report_at(requested, t(3, 2, 14, 30))
    assert amounts(early, NORTHWIND) == ("720.00", "720.00", "0.00", "0.00", "0.00", "0.00")
    assert amounts(early, PENNYWORTH) == ("23.88", "0.00", "0.00", "0.00", "0.00", "0.00")
    assert next(r for r in early.rows if r.organization_id == PENNYWORTH).request is None

    middle = report_at(requested, t(3, 4, 0))
    assert amounts(middle, NORTHWIND) == ("720.00", "720.00", "720.00", "0.00", "0.00", "720.00")
    assert amounts(middle, PENNYWORTH) == ("23.88", "23.88", "0.00", "23.88", "0.00", "0.00")
    assert [str(middle.total(c)) for c in ("earned", "requested", "approved", "denied", "applied",
                                           "outstanding")] == ["743.88", "743.88", "720.00", "23.88", "0.00",
                                                               "720.00"]
    late = report_at(requested, t(3, 6, 0))
    assert amounts(late, NORTHWIND) == ("720.00", "720.00", "720.00", "0.00", "720.00", "0.00")
    row = next(r for r in late.rows if r.organization_id == NORTHWIND)
    assert (row.request.status, row.request.invoice) == ("applied", "INV-7")
    assert [r.organization_id for r in late.rows] == [NORTHWIND, PENNYWORTH]  # organizations with tickets, by name


def test_a_request_for_an_organization_without_tickets_in_the_month_still_shows(requested):
    services = requested.services
    report = load_report(services.sessions, services.mappings.current, FEB, t(3, 6, 0))
    with services.sessions() as session:
        states = [store.state_of(r) for r in store.list_requests(session, month="2026-02")]
    moved = [s.__class__(**{**s.__dict__, "organization_id": 999}) if s.organization_id == PENNYWORTH else s
             for s in states]
    built = build_credits(report, moved, {999: "Gone Ltd"})
    (gone,) = [r for r in built.rows if r.organization_id == 999]
    assert (gone.name, str(gone.earned), str(gone.amount_in("denied"))) == ("Gone Ltd", "0.00", "23.88")
    assert request_as_of(states[0], t(3, 2, 13)) is None


def test_cli_and_web_give_the_same_figures(requested, monkeypatch):
    config = requested.services.config
    monkeypatch.setenv("DATABASE_URL", config.database_url)
    monkeypatch.setenv("MAPPINGS_DIR", config.mappings_dir)
    runner = CliRunner()
    out = runner.invoke(cli, ["report", "--month", "2026-02", "--kind", "credits", "--format", "csv",
                              "--as-of", "2026-03-04T00:00:00Z"])
    assert out.exit_code == 0, out.output
    rows = list(csv.DictReader(io.StringIO(out.output)))
    northwind = next(r for r in rows if r["organization_id"] == str(NORTHWIND))
    assert (northwind["earned"], northwind["approved"], northwind["outstanding"], northwind["status"]) == \
        ("720.00", "720.00", "720.00", "approved")
    pennyworth = next(r for r in rows if r["organization_id"] == str(PENNYWORTH))
    assert (pennyworth["denied"], pennyworth["denial_reason"]) == ("23.88", "excluded by contract")
    assert rows[-1]["name"] == "Total" and rows[-1]["requested"] == "743.88"
    refused = runner.invoke(cli, ["report", "--month", "2026-02", "--kind", "credits", "--post-to-slack"])
    assert refused.exit_code == 2 and "not posted to customer channels" in refused.output

    web = Config(database_url=config.database_url, mappings_dir=config.mappings_dir, mappings_poll_seconds=0,
                 admin_user="admin", admin_password="s3cret")
    services = build_services(web, lambda: t(3, 6, 0))
    from integration.app import create_app
    client = create_app(web, services=services).test_client()
    try:
        assert client.get("/reports/2026-02/credits").status_code == 401
        data = client.get("/reports/2026-02/credits?format=json", auth=("admin", "s3cret"))
        assert data.status_code == 200 and "credits-report-2026-02.json" in data.headers["Content-Disposition"]
        body = json.loads(data.get_data(as_text=True))
        assert body["total"] == {"earned": "743.88", "requested": "743.88", "approved": "720.00",
                                 "denied": "23.88", "applied": "720.00", "outstanding": "0.00"}
        only = json.loads(client.get(f"/reports/2026-02/credits?format=json&org={PENNYWORTH}",
                                     auth=("admin", "s3cret")).get_data(as_text=True))
        assert [o["organization_id"] for o in only["organizations"]] == [PENNYWORTH]
        assert only["organizations"][0]["request"]["status"] == "denied"
        page = client.get("/reports/2026-02/credits", auth=("admin", "s3cret")).get_data(as_text=True)
        assert "Service Credits Report" in page and "#1 applied (invoice INV-7)" in page and "743.88" in page
        assert client.get("/reports/2026-02/credits?format=pdf", auth=("admin", "s3cret")).status_code == 400
    finally:
        services.engine.dispose()
