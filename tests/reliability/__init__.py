"""Reliability suites: injected faults, crashes, outages, Region lifecycle (issue 8)."""
