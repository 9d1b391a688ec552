"""Atomic file writing: every output is written to a temporary file beside its target and then
renamed into place, so no reader (a downstream job, DVC, a user) ever sees a half-written file.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Iterator


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success rename it onto `target`.

    The folder is created if missing. On an exception the temporary file is removed and the
    target is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; give it a new file's mode
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_png(fig, target: str | os.PathLike, dpi: int = 150) -> None:
    """Save a matplotlib figure as PNG, atomically and reproducibly: without the "Software"
    tag, the same figure and matplotlib version give the same bytes (Agg backend)."""
    with atomic_path(target) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(target: str | os.PathLike, text: str) -> None:
    """Write `text` to `target` atomically (UTF-8, newline as given)."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
