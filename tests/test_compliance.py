"""The dashboard and the monthly report show the same compliance for the same counts."""
import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from integration.core.compliance import percent
from integration.dashboard.data import compliance_this_month
from integration.reports.figures import TargetOutcome
from integration.reports.stats import target_stats
from integration.storage.db import make_engine, upgrade
from integration.storage.models import Ticket

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 3, 16, 15, 0, tzinfo=UTC)


def test_halves_round_up_where_float_rounding_would_go_down():
    # 1 of 16 is 6.25%: round(6.25, 1) on a float gives 6.2.
    assert percent(1, 16) == Decimal("6.3")
    assert percent(0, 0) is None


def test_dashboard_and_report_agree_on_a_boundary_case(tmp_path):
    url = f"sqlite:///{tmp_path}/compliance.db"
    upgrade(url)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        for ticket_id in range(1, 17):
            state = "met" if ticket_id == 1 else "breached"
            session.add(Ticket(id=ticket_id, status="open", tier="enterprise", created_at=NOW, updated_at=NOW,
                               first_response_state=state, resolution_state="running"))
    with Session(engine) as session:
        [dashboard] = compliance_this_month(session, NOW)
    engine.dispose()
    outcomes = [TargetOutcome(state="met" if i == 0 else "breached", stopped=True, elapsed_seconds=60,
                              target_seconds=3600) for i in range(16)]
    report = target_stats(outcomes).compliance_pct

    assert dashboard["first_response"] == 6.3 and report == Decimal("6.3")
    assert dashboard["resolution"] is None
