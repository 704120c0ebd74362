"""A pytest plugin that benchmarks registered calculators on HEO relaxation tasks.

``pytest benchmark_suite --calc sevennet-0,chgnet --heo-dataset heo.h5 --heo-report out/``;
see docs/benchmark.md. The plugin (:mod:`benchmark_suite.plugin`) is cheap to import; the
tasks (:mod:`benchmark_suite.tasks`) can also be called from Python.
"""
