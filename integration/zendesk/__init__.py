"""Zendesk: webhook signatures, payload parsing, the API gateway (zenpy) and the ticket update it sends."""
