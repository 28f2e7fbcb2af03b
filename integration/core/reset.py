"""An admin's reset of a ticket's escalation level, pure: levels never go down by themselves, only through this."""
from __future__ import annotations

from dataclasses import replace

from integration.core.state import Decision, TicketState


class ResetRefused(ValueError):
    pass


def reset_level(state: TicketState, level: int, reason: str) -> Decision:
    """Lower the ticket to `level`, forgetting the steps above it so that they can be taken again."""
    if level < 1:
        raise ResetRefused(f"level {level} is not a level (1 or more)")
    if level >= state.level:
        raise ResetRefused(f"ticket {state.id} is at level {state.level}; reset only lowers it")
    after = replace(state, level=level, escalation=state.escalation.up_to(level), version=state.version + 1)
    return Decision("applied", f"reset by an admin: {reason}", state=after, change={"level": [state.level, level]})
