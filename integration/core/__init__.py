"""The pure core: every rule of the service (SLA clock, escalation matrix, step effects, decisions,
state and signal types, messages and notes, explain). It imports nothing from the edges."""
