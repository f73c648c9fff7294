"""Errors that are the user's to fix.

The CLI turns an ``ArenaError`` into one line on stderr and exit status 2; anything else is a bug and keeps
its traceback.
"""


class ArenaError(Exception):
    """A problem with the user's input or environment: a bad spec, a missing file, an invalid prompt set."""
