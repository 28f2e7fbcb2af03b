"""Slack: the Web API gateway (slack-sdk), request verification, and the inbound handlers."""
