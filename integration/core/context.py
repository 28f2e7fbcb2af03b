"""Facts about the deployment that decisions need and the mappings do not hold."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Context:
    """Facts about the deployment that decisions need and mappings don't hold."""

    zendesk_url: str = "https://zendesk.example"

    def ticket_url(self, ticket_id: int) -> str:
        return f"{self.zendesk_url.rstrip('/')}/agent/tickets/{ticket_id}"

    def request_url(self, ticket_id: int) -> str:
        """The customer's page of a ticket (Help Center); customers cannot open the agent page."""
        return f"{self.zendesk_url.rstrip('/')}/hc/requests/{ticket_id}"
