"""What a "names no directory of this machine" check looks for, wherever the checkout lies."""

from __future__ import annotations

import os
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def machine_path_pattern(root: Path = ROOT, home: Path | None = None) -> re.Pattern[bytes]:
    """Bytes pattern of an absolute path into ``root`` (the checkout), its parent folder or ``home``.

    A folder that is the file system's root (a checkout at ``/heo-relax`` has ``/`` as parent)
    is no needle: ``/`` + separator would match every ``https://``. A match must start a path,
    so the folder's name inside a URL (``https://host/checkouts/``) or a longer path
    (``/data/checkouts/``) is not one.
    """
    home = Path.home() if home is None else home
    folders = {folder for folder in (root, root.parent, home) if folder != Path(folder.anchor)}
    needles = "|".join(re.escape(str(folder) + os.sep) for folder in sorted(folders, key=str))
    return re.compile(rb"(?<![\w.:/~-])(?:" + needles.encode() + rb")")
