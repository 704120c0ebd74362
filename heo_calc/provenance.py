"""Which model made a number: one identity per calculator, and the one hashing helper of the package.

The registry stamps every calculator it builds (:func:`stamp_provenance`, in
``calc.parameters``); :func:`model_identity` turns that stamp into the record every output
carries:

* ``name``: the registry name (``heo-ft``, ``sevennet:model.pth``, ``mace-mp0``);
* ``backend``: the backend family its module declares (``sevennet``, ``mace``, ``chgnet``,
  ``committee``), else the calculator's class;
* ``model_file``: the weights file as the backend was given it (a path), or the pretrained
  name for weights shipped inside a package (``7net-0`` for SevenNet-0); weights shipped
  inside heo-relax as their path in the package (``heo_calc/models/heo-ft.pth``), so that no
  report carries the install location of the machine it ran on;
* ``model_sha256``: SHA-256 of the bytes of that file (pretrained names resolved to the
  file inside their package), ``None`` for a model without a file;
* ``dtype``: the dtype its weights run in (``float32``, ``float64``);
* ``versions``: installed versions of ``heo-relax``, ``torch``, ``ase`` and the backend's
  package (``sevenn``, ``mace-torch``, ``chgnet``);
* ``device``: where it ran (``cpu``, ``cuda``, ``cuda:0``);
* ``members``: for a committee, the identity of each member (in order).

:func:`identity_key` condenses the fields that decide the numbers into a short key for
caches and ``--resume`` checks; :func:`flat_identity` spreads an identity over flat
``model_*`` string fields for CSV columns and extxyz ``atoms.info`` (which holds no nested
dicts).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import os
import threading
from pathlib import Path
from typing import Any, Final

from ase.calculators.calculator import Calculator

_VERSION_PACKAGES = ("heo-relax", "torch", "ase", "mace-torch", "sevenn", "chgnet")
#: Packages whose version every identity records.
CORE_PACKAGES: Final = ("heo-relax", "torch", "ase")
#: The package each backend family's numbers come from.
BACKEND_PACKAGES: Final[dict[str, str]] = {"sevennet": "sevenn", "mace": "mace-torch", "chgnet": "chgnet"}
#: Characters of :func:`identity_key` and of the short SHA-256 in messages.
SHORT: Final = 12

_HASHES: dict[tuple[str, int, int, int], str] = {}
_HASHES_LOCK = threading.Lock()


def sha256_of_file(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file's bytes, read in 1 MiB blocks.

    Cached per (resolved path, size in bytes, modification time in ns, inode): a file
    rewritten in place or replaced by a rename is hashed again, an unchanged one once per
    process. Raises :class:`FileNotFoundError` for a missing file.
    """
    resolved = Path(path).expanduser().resolve()
    stat = resolved.stat()
    key = (str(resolved), stat.st_size, stat.st_mtime_ns, stat.st_ino)
    with _HASHES_LOCK:
        if key in _HASHES:
            return _HASHES[key]
    digest = hashlib.sha256()
    with open(resolved, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    with _HASHES_LOCK:
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def short_hash(record: Any, length: int = SHORT) -> str:
    """A cache key: the first ``length`` characters of the SHA-256 of ``record`` (sorted-key JSON), in base32.

    Lowercase base32 (``a-z``, ``2-7``) rather than hex, so that a key practically never reads
    as a number where files are parsed loosely (extxyz ``info`` turns ``123456`` or ``12e45``
    into numbers); 12 characters are 60 bits.
    """
    text = json.dumps(record, sort_keys=True, default=str)
    return base64.b32encode(hashlib.sha256(text.encode()).digest()).decode().lower()[:length]


def package_versions(packages: tuple[str, ...] = _VERSION_PACKAGES) -> dict[str, str]:
    """Installed versions of ``packages`` (default: those that decide any calculator's numbers); absent ones left out."""
    versions = {}
    for package in packages:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def describe_backend(calculator: Calculator) -> dict[str, Any]:
    """Backend class, model file and dtype of a backend calculator, as far as it tells."""
    backend = f"{type(calculator).__module__}.{type(calculator).__name__}"
    from heo_calc.backends._dtype import parameter_dtype

    model_file = getattr(calculator, "model_paths", None)  # MACECalculator
    model_file = model_file[0] if isinstance(model_file, list | tuple) and model_file else model_file
    dtype = parameter_dtype(calculator)
    dtype = str(dtype).removeprefix("torch.") if dtype is not None else None
    if dtype is None:  # no torch model of its own (a committee): what its backend declares
        from heo_calc.backends.capabilities import capabilities_of

        declared = capabilities_of(calculator)
        dtype = declared.dtype if declared is not None else None
    return {"backend": backend, "model_file": str(model_file) if model_file else None, "dtype": dtype}


def _model_file_of_name(name: str) -> str | None:
    """The model file a registry name stands for: the path of ``SCHEME:PATH``, a shipped file, a pretrained name."""
    if name.partition(":")[1]:
        return name.partition(":")[2]
    from heo_calc.backends.chgnet import chgnet_weights_path
    from heo_calc.backends.heo_ft import SHIPPED_MODELS, heo_ft_weights_path
    from heo_calc.backends.sevennet import SEVENNET_KEYWORDS

    if name in SHIPPED_MODELS:
        return str(heo_ft_weights_path(name))
    if name in SEVENNET_KEYWORDS:
        return SEVENNET_KEYWORDS[name]  # resolved inside the sevenn package when hashed
    if name == "chgnet":
        path = chgnet_weights_path()
        return str(path) if path is not None else None
    return None


def stamp_provenance(calculator: Calculator, *, name: str, requested_dtype: str) -> None:
    """Record in ``calculator.parameters`` which model, file, dtype and versions produced results."""
    description = describe_backend(calculator)
    if description["model_file"] is None or name.partition(":")[1]:
        description["model_file"] = _model_file_of_name(name) or description["model_file"]
    parameters = getattr(calculator, "parameters", None)
    if parameters is None:
        calculator.parameters = parameters = {}
    parameters.update(
        {
            "heo_calc_name": name,
            "backend": description["backend"],
            "model_file": description["model_file"],
            "dtype": description["dtype"] or requested_dtype,
            "versions": package_versions(),
        }
    )


#: The folder of this package: weights inside it are recorded relative to its parent.
_PACKAGE_DIR = Path(__file__).resolve().parent


def portable_model_file(model_file: str | None) -> str | None:
    """``model_file`` as recorded: a file shipped inside heo-relax as ``heo_calc/...``, anything else as given."""
    if not model_file:
        return model_file
    try:
        inside = Path(model_file).expanduser().resolve().relative_to(_PACKAGE_DIR)
    except (ValueError, OSError):
        return model_file
    return f"{_PACKAGE_DIR.name}/{inside.as_posix()}"


def resolve_model_file(model_file: str | None) -> Path | None:
    """The file behind a recorded ``model_file``: the path itself, a file shipped in heo-relax
    (``heo_calc/models/heo-ft.pth``, wherever it is installed), or a sevenn pretrained name's file; else ``None``."""
    if not model_file:
        return None
    shipped = _PACKAGE_DIR.parent / model_file
    if model_file.startswith(f"{_PACKAGE_DIR.name}/") and shipped.is_file():
        return shipped
    path = Path(model_file).expanduser()
    if path.is_file():
        return path
    from heo_calc.backends.sevennet import SEVENNET_KEYWORDS, sevennet_pretrained_path

    if model_file in SEVENNET_KEYWORDS.values():
        return sevennet_pretrained_path(model_file)
    return None


def _device_of(calculator: Calculator) -> str | None:
    from heo_calc.backends.capabilities import backend_of

    device = getattr(backend_of(calculator), "device", None)
    return str(device) if device is not None else None


def _family(calculator: Calculator, parameters: dict[str, Any]) -> str:
    from heo_calc.backends.capabilities import capabilities_of

    declared = capabilities_of(calculator)
    if declared is not None:
        return declared.backend
    return str(parameters.get("backend") or describe_backend(calculator)["backend"])


def model_identity(calculator: Calculator, name: str | None = None) -> dict[str, Any]:
    """The identity of ``calculator`` (fields in the module docstring) under its registry ``name``.

    ``name`` defaults to the name the registry stamped. A calculator the registry did not
    build (any ASE calculator) is described as far as it tells; a committee's members are
    described one by one (``members``). Hashes the model file (cached: :func:`sha256_of_file`).
    """
    parameters = dict(getattr(calculator, "parameters", None) or {})
    if "heo_calc_name" not in parameters:
        parameters.update(describe_backend(calculator))
    name = name or str(parameters.get("heo_calc_name") or type(calculator).__name__)
    model_file = parameters.get("model_file")
    resolved = resolve_model_file(model_file)
    backend = _family(calculator, parameters)
    packages = (*CORE_PACKAGES, *([BACKEND_PACKAGES[backend]] if backend in BACKEND_PACKAGES else []))
    identity: dict[str, Any] = {
        "name": name,
        "backend": backend,
        "model_file": portable_model_file(model_file),
        "model_sha256": sha256_of_file(resolved) if resolved is not None else None,
        "dtype": parameters.get("dtype"),
        "versions": package_versions(packages),
        "device": _device_of(calculator),
    }
    members = getattr(calculator, "members", None)
    if isinstance(members, list | tuple) and members:
        identity["members"] = [model_identity(member) for member in members]
        identity["device"] = identity["device"] or identity["members"][0]["device"]
        for member in identity["members"]:  # the members' backend packages too
            identity["versions"] |= member["versions"]
    return identity


def identity_key(identity: dict[str, Any]) -> str:
    """A short stable key (:func:`short_hash`, 12 characters) of the fields of ``identity`` that decide the numbers.

    Those are the registry name, the model file's SHA-256 and the dtype (and, for a
    committee, the key of every member). Deliberately *not* the device, the model file's
    path nor the package versions: a cache filled on a GPU serves a CPU run, a moved or
    copied file with the same bytes is the same model, and upgrading torch does not discard
    hours of relaxations (the versions are still written beside every result, to compare by
    eye). Other weights under the same name, i.e. a file rewritten in place, a new heo-ft,
    give another key. A model without a file (a third-party analytic calculator) is keyed by
    its name and dtype alone.
    """
    decisive = {
        "name": identity.get("name"),
        "model_sha256": identity.get("model_sha256"),
        "dtype": identity.get("dtype"),
    }
    if identity.get("members"):
        decisive["members"] = [identity_key(member) for member in identity["members"]]
    return short_hash(decisive)


def describe_identity(identity: dict[str, Any]) -> str:
    """One line for messages and reports: ``name (model file, sha256 1a2b3c4d5e6f, float32)``."""
    if identity.get("members"):
        inner = "; ".join(describe_identity(member) for member in identity["members"])
        return f"{identity.get('name')} [{inner}]"
    sha = identity.get("model_sha256")
    parts = [
        str(identity.get("model_file") or "no model file"),
        f"sha256 {sha[:SHORT]}" if sha else "no checksum",
        str(identity.get("dtype") or "dtype unknown"),
    ]
    return f"{identity.get('name')} ({', '.join(parts)})"


def flat_identity(identity: dict[str, Any]) -> dict[str, str]:
    """``identity`` as flat string fields for CSV columns and extxyz ``atoms.info``.

    Keys: ``model_name``, ``model_backend``, ``model_file``, ``model_sha256``,
    ``model_dtype``, ``model_device``, ``model_versions`` (``package=version;...``) and
    ``model_key`` (:func:`identity_key`). For a committee, ``model_file`` and
    ``model_sha256`` list the members' in order, separated by ``;``, and ``model_members``
    their names. Missing values are ``none`` (an empty value would break an extxyz comment line).
    """
    members = identity.get("members") or []

    def field(key: str) -> str:
        values = [member.get(key) for member in members] if members else [identity.get(key)]
        return ";".join(str(value) if value is not None else "none" for value in values)

    versions = ";".join(f"{k}={v}" for k, v in sorted((identity.get("versions") or {}).items()))
    flat = {
        "model_name": str(identity.get("name") or "none"),
        "model_backend": str(identity.get("backend") or "none"),
        "model_file": field("model_file"),
        "model_sha256": field("model_sha256"),
        "model_dtype": str(identity.get("dtype") or "none"),
        "model_device": str(identity.get("device") or "none"),
        "model_versions": versions or "none",
        "model_key": identity_key(identity),
    }
    if members:
        flat["model_members"] = ";".join(str(member.get("name")) for member in members)
    return flat


#: The identity columns added to per-row CSV tables (the full record goes into each command's JSON).
IDENTITY_COLUMNS: Final = ("model_name", "model_file", "model_sha256", "model_dtype", "model_key")


def identity_columns(identity: dict[str, Any]) -> dict[str, str]:
    """The :data:`IDENTITY_COLUMNS` of ``identity`` (a subset of :func:`flat_identity`)."""
    flat = flat_identity(identity)
    return {column: flat[column] for column in IDENTITY_COLUMNS}
