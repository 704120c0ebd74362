"""The base layer of heo-relax: what every other package of the project may import.

It imports nothing of ours (import-linter checks it, see ``pyproject.toml``):

* :mod:`heo_base.atomic_write`: write files by temporary file + rename.
* :mod:`heo_base.labels`: where DFT labels live on an ASE ``Atoms`` and how structures are named.
* :mod:`heo_base.labelled_data`: read labelled structures (HDF5 or extxyz), write training files.
* :mod:`heo_base.dataset_file`, :mod:`heo_base.structure_table`, :mod:`heo_base.splits`: the
  heo-dataset HDF5 format, its in-memory table and the formula-grouped splits.
* :mod:`heo_base.units`: unit conversions beyond ASE's.
* :mod:`heo_base.markdown`: the one markdown table writer.
* :mod:`heo_base.errors`: the data errors.
"""
