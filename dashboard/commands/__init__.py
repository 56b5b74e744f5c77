"""Subcommands of the ``streettwin`` CLI, one module each."""
