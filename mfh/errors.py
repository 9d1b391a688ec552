"""Errors that the command line reports as one clear line instead of a traceback (torch-free, so
that importing them costs nothing)."""


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable, foreign or of the wrong role."""
