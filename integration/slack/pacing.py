"""Slack's per-channel pace (about one chat.postMessage a second per channel), kept in the database so that
every worker process shares it: two workers never post two messages a second to one channel."""
from __future__ import annotations

import datetime as dt
from typing import Callable

from sqlalchemy.orm import Session, sessionmaker

from integration.storage import rate_budget
from integration.storage.rate_budget import Budget

PACE = dt.timedelta(seconds=1)


class SharedChannelPacer:
    def __init__(self, sessions: sessionmaker[Session], now: Callable[[], dt.datetime],
                 interval: dt.timedelta = PACE) -> None:
        self.sessions, self.now, self.interval = sessions, now, interval

    def wait_for(self, channel: str) -> float:
        """0 when this channel's slot is ours now (and taken), else the seconds until it frees."""
        bucket = f"slack:{channel}"[:32]
        with self.sessions.begin() as session:
            wait = rate_budget.take(session, Budget({bucket: 1}, self.interval), {bucket: 1}, self.now())
        return wait.total_seconds()
