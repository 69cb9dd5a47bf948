"""Conformance suites that judge voki-sim against the documentation."""
