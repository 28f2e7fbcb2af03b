"""Which organization a Slack channel speaks for (pure). Channel ids only: names differ across workspaces."""
from __future__ import annotations

from dataclasses import dataclass

from integration.mappings.model import Mappings, Organization


@dataclass(frozen=True)
class Binding:
    kind: str  # customer | staff | none
    organization: Organization | None = None
    refusal: str = ""  # for kind "none": what to tell the user


def bind_channel(mappings: Mappings, channel_id: str | None) -> Binding:
    if not channel_id:
        return Binding("none", refusal="I could not tell which channel this came from.")
    if channel_id in mappings.escalation.staff_slack_channel_ids:
        return Binding("staff")
    if channel_id.startswith("D"):
        return Binding("none", refusal="I only answer in your organization's support channel, not in direct "
                                       "messages. Ask there, or email support.")
    for org in mappings.organizations:
        if org.slack_channel_id == channel_id:
            if not mappings.tiers[org.tier].slack_channel:
                return Binding("none", refusal="Support through Slack is not part of this organization's plan. "
                                               "Please email support; your account manager can tell you more.")
            return Binding("customer", org)
    return Binding("none", refusal="This channel is not linked to a support account yet. Ask your account "
                                   "manager to link it, or email support.")


def can_see(binding: Binding, organization_id: int | None) -> bool:
    """A customer channel sees its own organization's tickets only; staff channels see all."""
    if binding.kind == "staff":
        return True
    return binding.kind == "customer" and organization_id is not None and \
        organization_id == binding.organization.zendesk_id
