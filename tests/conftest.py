"""Shared test settings: hypothesis runs deterministically so CI results repeat."""

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=60)
settings.load_profile("ci")
