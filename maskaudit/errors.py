"""Errors the user can act on: the CLI prints them on one line and exits with code 2."""


class UsageError(Exception):
    """Bad input or options: the message names the thing and what to do."""
