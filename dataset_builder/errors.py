"""Exceptions of dataset_builder; each message names the problem and the fix.

The CLI turns every :class:`~heo_base.errors.HEODataError` (the base of :class:`DatasetError`
and of the HDF5 format's :class:`~heo_base.errors.DatasetFileError`) and :class:`OSError` into one line
``heo-dataset: error: …`` and exit status 2.
"""

from __future__ import annotations

from heo_base.errors import HEODataError


class DatasetError(HEODataError):
    """Base class of every error dataset_builder raises on purpose."""


class SourceError(DatasetError):
    """A source that cannot be read (missing, unreadable, unknown format)."""


class MissingColumnError(SourceError, KeyError):
    """A parquet source without a column the LeMat-Bulk schema requires."""

    def __init__(self, column: str, source: str) -> None:
        self.column = column
        self.source = source
        super().__init__(
            f"{source} has no column {column!r}, which the LeMat-Bulk schema requires; "
            "pass LeMat-Bulk parquet shards (config compatible_pbe) or an extended-XYZ file"
        )

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class HubUnavailableError(SourceError):
    """The Hugging Face hub cannot be used (``huggingface_hub`` missing or offline)."""


class FilterConfigError(DatasetError, ValueError):
    """Filter or split settings that make no sense (unknown element, negative tolerance)."""


class EmptyDatasetError(DatasetError):
    """No structure passed the filter, so there is nothing to write."""
