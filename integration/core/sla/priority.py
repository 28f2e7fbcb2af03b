"""Priorities and their Zendesk names."""
from enum import Enum


class Priority(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Higher is more urgent: low=0 … critical=3."""
        return _RANK[self]

    @classmethod
    def parse(cls, text: str) -> "Priority":
        return cls(text.strip().lower())


_RANK = {Priority.LOW: 0, Priority.MEDIUM: 1, Priority.HIGH: 2, Priority.CRITICAL: 3}
PRIORITIES = tuple(Priority)
