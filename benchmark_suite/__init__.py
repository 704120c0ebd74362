"""A pytest plugin that benchmarks registered calculators on HEO relaxation tasks."""
