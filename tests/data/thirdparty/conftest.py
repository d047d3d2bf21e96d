"""The example package's tests run only from an installed copy (see its README)."""

collect_ignore = ["idpsync_example"]
