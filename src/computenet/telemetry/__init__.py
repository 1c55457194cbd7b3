"""Telemetry: node and job samples from every cluster, roll-ups, reports,
anomaly alerts, failure diagnosis and Prometheus metrics."""
