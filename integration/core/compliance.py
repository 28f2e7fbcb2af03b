"""Compliance as a percentage: the dashboard and the monthly report must show the same figure for the same counts."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def percent(part: int, whole: int) -> Decimal | None:
    """part/whole as a percentage to one decimal, halves rounded up (1 of 16 is 6.3%); None when whole is 0."""
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
