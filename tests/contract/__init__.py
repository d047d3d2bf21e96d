"""The connector contract suite, for the built-in and a third-party connector."""
