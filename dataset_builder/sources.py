"""Where structures come from: the Hugging Face hub, local LeMat-Bulk parquet, or extxyz.

``--source`` is one of

* ``hf`` - ``LeMaterial/LeMat-Bulk``, config ``compatible_pbe``, read from the hub;
* a parquet file, a directory (searched recursively for ``*.parquet``) or a glob of
  LeMat-Bulk shards;
* an extended-XYZ file (``.extxyz``/``.xyz``).
"""

from __future__ import annotations

import glob
import logging
from pathlib import Path
from typing import Any, Final

from dataset_builder.errors import HubUnavailableError, SourceError
from dataset_builder.extxyz_source import scan_extxyz
from dataset_builder.heo_filter import HEOFilter
from dataset_builder.lemat_parquet import scan_lemat_parquet
from dataset_builder.scan import ScanResult

logger = logging.getLogger(__name__)

HF_SOURCE: Final[str] = "hf"
HF_DATASET: Final[str] = "LeMaterial/LeMat-Bulk"
HF_CONFIG: Final[str] = "compatible_pbe"
EXTXYZ_SUFFIXES: Final[frozenset[str]] = frozenset({".extxyz", ".xyz"})

_DOWNLOAD_HINT: Final[str] = (
    "download the parquet shards once (e.g. `huggingface-cli download {dataset} --repo-type dataset "
    "--include '{config}/*' --local-dir DIR` on a machine with internet) and pass --source DIR"
)


def hf_parquet_files(dataset: str = HF_DATASET, config: str = HF_CONFIG) -> tuple[Any, list[str]]:
    """The hub filesystem and the parquet shards of one dataset config.

    We read the shards directly with ``HfFileSystem`` + pyarrow rather than with
    ``datasets`` streaming: parquet is columnar, so pyarrow fetches (by HTTP range
    requests) only the column chunks the scan asks for - ``elements`` for every row
    group, the heavy per-site columns only for row groups holding HEO candidates -
    whereas ``datasets`` streaming downloads and decodes every column of every row.

    Raises:
        HubUnavailableError: ``huggingface_hub`` is not installed (optional extra
            ``heo-relax[hf]``) or the hub is unreachable.
    """
    hint = _DOWNLOAD_HINT.format(dataset=dataset, config=config)
    try:
        fs = _hf_filesystem()
    except ImportError as error:
        raise HubUnavailableError(
            f"cannot read {dataset} (config {config}) from the Hugging Face hub: huggingface_hub is not "
            f"installed (optional extra: pip install 'heo-relax[hf]'); or {hint}"
        ) from error
    pattern = f"datasets/{dataset}/{config}/**/*.parquet"
    try:
        files = sorted(fs.glob(pattern))
    except OSError as error:  # requests' ConnectionError, HfHubHTTPError, offline mode: all OSError
        raise HubUnavailableError(
            f"cannot read {dataset} (config {config}): the Hugging Face hub is unreachable "
            f"({type(error).__name__}: {error}); {hint}"
        ) from error
    if not files:
        raise HubUnavailableError(f"found no parquet shards of {dataset} config {config} on the hub; {hint}")
    logger.info("reading %d parquet shards of %s/%s from the hub", len(files), dataset, config)
    return fs, files


def _hf_filesystem() -> Any:
    """An ``huggingface_hub.HfFileSystem`` (raises ImportError when not installed)."""
    from huggingface_hub import HfFileSystem

    return HfFileSystem()


def _local_parquet_files(source: str) -> list[str] | None:
    """Parquet files named by ``source`` (file, directory or glob), or None for a non-parquet file."""
    if glob.has_magic(source):
        files = sorted(glob.glob(source, recursive=True))
        if not files:
            raise SourceError(f"--source {source!r} matches no files")
        return files
    path = Path(source)
    if not path.exists():
        raise SourceError(
            f"source {source} does not exist; pass 'hf', a LeMat-Bulk parquet file, directory or glob, "
            "or an extended-XYZ file"
        )
    if path.is_dir():
        files = sorted(str(p) for p in path.rglob("*.parquet"))
        if not files:
            raise SourceError(f"directory {source} holds no .parquet files")
        return files
    if path.suffix.lower() in EXTXYZ_SUFFIXES:
        return None
    with path.open("rb") as handle:
        magic = handle.read(4)
    if path.suffix.lower() == ".parquet" or magic == b"PAR1":
        return [str(path)]
    raise SourceError(f"cannot tell the format of {source}: expected a .parquet file or an .extxyz/.xyz file")


def describe_source(source: str) -> str:
    """Human-readable name of ``source`` for the file attributes."""
    if source == HF_SOURCE:
        return f"hf://datasets/{HF_DATASET} (config {HF_CONFIG})"
    return str(source)


def scan_source(
    source: str,
    *,
    heo_filter: HEOFilter,
    energy_key: str | None = None,
    forces_key: str | None = None,
    progress: bool = True,
) -> ScanResult:
    """Read ``source`` (``hf``, parquet file/dir/glob, or extxyz) through ``heo_filter``.

    ``energy_key``/``forces_key`` name the energy (eV) and forces (eV/Å) columns of a
    parquet source (default ``energy`` and ``forces``) or the info/arrays keys of an
    extxyz source (default: detected).
    """
    if source == HF_SOURCE:
        fs, files = hf_parquet_files()
        return scan_lemat_parquet(
            files,
            heo_filter=heo_filter,
            filesystem=fs,
            energy_key=energy_key or "energy",
            forces_key=forces_key or "forces",
            progress=progress,
        )
    files = _local_parquet_files(source)
    if files is None:
        return scan_extxyz(
            source, heo_filter=heo_filter, energy_key=energy_key, forces_key=forces_key, progress=progress
        )
    return scan_lemat_parquet(
        files,
        heo_filter=heo_filter,
        energy_key=energy_key or "energy",
        forces_key=forces_key or "forces",
        progress=progress,
    )
