"""Build a documented HDF5 dataset of high-entropy oxides from LeMat-Bulk.

``dataset_builder.read(path, split=None)`` returns ASE Atoms with ``REF_`` labels; it is
imported lazily (with h5py and ASE) so that ``heo-dataset --help`` stays instant.
"""

from __future__ import annotations

from typing import Any

from heo_base.splits import SPLIT_NAMES, assign_splits_by_formula

__all__ = ["SPLIT_NAMES", "assign_splits_by_formula", "read", "write"]


def __getattr__(name: str) -> Any:
    if name in {"read", "write"}:
        from heo_base import dataset_file

        return getattr(dataset_file, name)
    raise AttributeError(f"module 'dataset_builder' has no attribute {name!r}")
