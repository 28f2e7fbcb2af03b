"""Zendesk ticket statuses: which are open (the ticket still needs work) and which are solved (its clocks have stopped)."""
from __future__ import annotations

OPEN_STATUSES = ("new", "open", "pending", "hold")
SOLVED_STATUSES = ("solved", "closed")
ZENDESK_STATUSES = OPEN_STATUSES + SOLVED_STATUSES
