"""Errors that the command line reports as one clear line instead of a traceback (torch-free, so
that importing them costs nothing)."""


class CheckpointError(RuntimeError):
    """A checkpoint file is missing, unreadable, foreign or of the wrong role."""


class DeviceError(RuntimeError):
    """The device asked for in params.yaml (`device: cuda`) cannot be used on this machine, or the
    CPU kernels asked for (MFH_CPU_KERNELS, mfh.numerics) are not in effect."""


class DataError(Exception):
    """Raw data is missing, corrupt or does not match its pinned checksums, or cannot be prepared;
    or a table a step reads is missing, has other columns than its definition (`mfh.tables`) or
    holds values that do not fit it."""


class SectionError(LookupError):
    """A step reads a params section that its `--params` files do not hold (its rule's
    `sections(...)` lacks the key), or two sections would reach a study under one name."""


class HealthError(RuntimeError):
    """A run is broken and its numbers must not be published: a net ends at chance, most of a
    layer's channels are dead, or a loss diverged (`mfh.health`)."""
