"""A pytest plugin that benchmarks registered calculators on HEO relaxation tasks.

``pytest benchmark_suite --calc heo-ft,sevennet-0 --heo-report out/`` runs on the benchmark set
packaged in ``benchmark_data/`` (LeMat-Bulk HEO test split, CC-BY-4.0); ``--heo-dataset`` takes
another file. See docs/benchmark.md. The plugin (:mod:`benchmark_suite.plugin`) is cheap to
import; the tasks (:mod:`benchmark_suite.tasks`) and the metrics with bootstrap intervals
(:mod:`benchmark_suite.metrics`) can also be called from Python.

Each task is one module of :mod:`benchmark_suite.tasks` with its record (metrics, headline
columns, report section, plots, profile sizes) in :data:`benchmark_suite.registry.TASKS`,
which the metrics, the report, the plots and the profiles read; the benchmark's shared metric
definitions are in :mod:`benchmark_suite.catalogue`.
"""
