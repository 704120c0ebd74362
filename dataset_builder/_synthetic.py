"""Deprecated private path of :mod:`dataset_builder.synthetic` (the public module), kept for old imports."""

from dataset_builder.synthetic import *  # noqa: F403
