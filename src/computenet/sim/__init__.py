"""Trace replay and simulation on the same scheduling/ code the live system runs."""
