"""The one exception type that means "the user gave bad input" (the CLI turns it into exit 2)."""


class MotionmagError(Exception):
    """A problem with the user's input or environment, reported as one line without a traceback."""
