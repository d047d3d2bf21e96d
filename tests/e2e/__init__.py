"""End to end: the CLI, sync and the service, driven as a user or operator would."""
