"""Open tickets decided again after a mapping edit (Ingestor.redecide_after_mapping_edit): found when the mappings
change, and not looked for on every worker round while they stay the same (the search reads every open ticket)."""
import datetime as dt
import shutil

from integration.core.signals import TicketSignal
from integration.mappings.store import MappingsStore
from integration.storage.decisions import Ingestor
from tests.db import statements_sent
from tests.harness import TEST_MAPPINGS

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
GROWTH = 360000000103  # extended hours: a calendar edit moves its due times


def test_stale_tickets_are_looked_for_when_the_mappings_change_not_every_round(sessions, tmp_path):
    directory = tmp_path / "mappings"
    shutil.copytree(TEST_MAPPINGS, directory)
    ingestor = Ingestor(sessions, MappingsStore(directory, min_interval=0), now=lambda: START + dt.timedelta(hours=1))
    for ticket_id in (1, 2, 3):
        signal = TicketSignal(ticket_id=ticket_id, kind="snapshot", at=START, created_at=START, status="open",
                              zendesk_priority="normal", organization_id=GROWTH, organization_known=True,
                              authoritative=True, source_key=f"seed-{ticket_id}")
        ingestor.ingest(source="worker", dedup_key=signal.source_key, event_type="snapshot", payload={}, signal=signal)
    with statements_sent(sessions.kw["bind"]) as statements:
        assert ingestor.redecide_after_mapping_edit() == 0  # the first round looks once
        looked = len(statements)
        assert looked >= 1
        assert [ingestor.redecide_after_mapping_edit() for _ in range(5)] == [0] * 5
        assert len(statements) == looked  # nothing changed: not looked for again
    tiers = directory / "tiers.yaml"
    tiers.write_text(tiers.read_text().replace("calendar: extended ", "calendar: 24x7 ", 1))
    assert ingestor.redecide_after_mapping_edit() == 3  # the edit: every open ticket decided again
    assert ingestor.redecide_after_mapping_edit() == 0
