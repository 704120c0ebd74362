"""``python -m heo_calc.cli``: the same as ``heo-calc``."""

import sys

from heo_calc.cli import main

sys.exit(main())
