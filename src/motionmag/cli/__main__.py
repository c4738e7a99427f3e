"""``python -m motionmag.cli``: the command line, as ``python -m motionmag``."""

import sys

from motionmag.cli import main

sys.exit(main())
