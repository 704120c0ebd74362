"""Errors about data files and labels; each message names the problem and the fix."""

from __future__ import annotations


class HEODataError(Exception):
    """Base class of every data error the project raises on purpose."""


class DatasetFileError(HEODataError):
    """An HDF5 file that is not a readable heo-dataset file."""


class LabelledDataError(HEODataError, ValueError):
    """Labelled structures that cannot be used as they are (no energies, no forces, unreadable)."""
