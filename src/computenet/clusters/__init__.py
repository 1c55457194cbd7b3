"""Cluster adapters: one interface, one implementation per resource manager."""
