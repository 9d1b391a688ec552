"""`python -m mfh`: see `mfh.cli`.

On success the process ends with `os._exit` once logs and streams are flushed: every output has
already been written and atomically renamed, and skipping the interpreter's teardown of torch,
pandas and matplotlib saves about 1 s per job here (measured: `import torch` then a normal exit
takes 2.6-3.1 s, then `os._exit` 1.7-1.8 s) — a third of a synthetic training job. Errors take the
normal path, with a traceback and a non-zero exit.

`mfh.numerics.pin()` comes first, before anything imports torch: it sets the environment that
selects portable CPU kernels (MFH_CPU_KERNELS, see mfh.numerics), which torch and MKL read once.
"""

from mfh.numerics import pin

pin()

import logging  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

from mfh.cli import main  # noqa: E402

status = main()
logging.shutdown()
sys.stdout.flush()
sys.stderr.flush()
os._exit(status)
