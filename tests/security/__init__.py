"""Security suites: hostile input and secrets (issue 8). See README "Safety guarantees"."""
