"""pytest plugin entry point (``pytest11``); the options and tasks are added by the benchmark issue."""
