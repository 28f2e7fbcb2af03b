"""The SLA clock: pure functions of calendar, timezone, holidays, targets, ticket history and now."""
