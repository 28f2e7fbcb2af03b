"""The typed ticket state reads back what storage wrote, old rows included."""
import datetime as dt

from integration.core.sla.ticket import Target
from integration.core.sla_summary import SlaSummary, TargetSummary

UTC = dt.timezone.utc
DUE = dt.datetime(2026, 3, 2, 15, 12, 30, tzinfo=UTC)


def test_the_sla_summary_round_trips_and_finds_the_nearest_running_due():
    stored = {"first_response": {"state": "running", "due": "2026-03-02T15:12:30+00:00",
                                 "warning": "2026-03-02T15:09:30+00:00", "elapsed_seconds": 600,
                                 "target_seconds": 900, "breached_at": None},
              "resolution": {"state": "paused", "due": None, "warning": None, "elapsed_seconds": 600,
                             "target_seconds": 7200, "breached_at": None}}
    summary = SlaSummary.from_json(stored)
    assert summary[Target.FIRST_RESPONSE] == TargetSummary("running", DUE, DUE - dt.timedelta(minutes=3), 600, 900)
    assert summary.to_json() == stored
    assert summary.nearest_due() == DUE


def test_an_old_or_partial_row_reads_as_unknown():
    summary = SlaSummary.from_json({"first_response": {"state": "met"}})
    assert summary.first_response == TargetSummary("met")
    assert summary.resolution.state is None and summary.nearest_due() is None
    assert summary.to_json() == {"first_response": {"state": "met", "due": None, "warning": None,
                                                    "elapsed_seconds": 0, "target_seconds": 0, "breached_at": None}}
    assert SlaSummary.from_json(None) == SlaSummary.from_json({}) == SlaSummary()


def test_history_rows_round_trip_in_the_stored_shape():
    from integration.core.history import CommentRow, PolicyRow, StatusRow, row_from_json, row_to_json
    from integration.core.sla.priority import Priority

    stored = [{"at": "2026-03-02T15:00:00+00:00", "kind": "policy", "tier": "enterprise", "priority": "critical"},
              {"at": "2026-03-02T15:05:00+00:00", "kind": "status", "status": "pending"},
              {"at": "2026-03-02T15:06:00.250000+00:00", "kind": "comment", "public": True, "by_agent": False}]
    rows = [row_from_json(r) for r in stored]
    start = dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    assert rows == [PolicyRow(start, "enterprise", Priority.CRITICAL),
                    StatusRow(start + dt.timedelta(minutes=5), "pending"),
                    CommentRow(start + dt.timedelta(minutes=6, milliseconds=250), True, False)]
    assert [row_to_json(r) for r in rows] == stored
