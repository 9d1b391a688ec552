"""`python -m mfh`: see `mfh.cli`."""

import sys

from mfh.cli import main

sys.exit(main())
