"""Reads of the service hall, one module per area (query, scores, rankings, callbacks, appointments)."""
