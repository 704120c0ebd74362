"""One JSON line per calculator, appended as each finishes: the record files of the candidate scripts.

``candidate_validation.py`` and ``candidate_stiffness.py`` write their figures here; a
calculator already in the file is skipped, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path


def append_missing(out: Path, calculators: Sequence[str], figures: Callable[[str], dict]) -> None:
    """For every name of ``calculators`` not yet in ``out``: ``figures(name)`` appended as one JSON line, and printed."""
    out = Path(out)
    done = (
        {json.loads(line)["calculator"] for line in out.read_text().splitlines()} if out.is_file() else set()
    )
    for name in calculators:
        if name in done:
            continue
        record = figures(name)
        with out.open("a") as stream:
            stream.write(json.dumps(record) + "\n")
        print(json.dumps({key: value for key, value in record.items() if key != "identity"}), flush=True)
