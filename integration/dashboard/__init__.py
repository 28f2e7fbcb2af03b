"""The live SLA dashboard (admin only) and the Prometheus metrics."""
