"""``python -m motionmag``: the command line (also what ``torchrun -m motionmag`` starts)."""

import sys

from motionmag.cli import main

sys.exit(main())
