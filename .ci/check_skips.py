"""Fail when a test skipped for want of the HEO dev data (CI has ../shared/data, so none may).

Usage: ``python3 .ci/check_skips.py JUNIT_XML``: reads pytest's ``--junitxml`` report, prints
every test skipped with a reason that starts with :data:`DEV_DATA_SKIP` (the reason
``tests/conftest.py`` gives) and exits 1 if there is any; exits 0 otherwise. Standard library only.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree

#: The start of the skip reason of a test that needs the dev data (same text as in tests/conftest.py).
DEV_DATA_SKIP = "needs the HEO dev data ../shared/data/heo_lemat_dev.extxyz"


def data_skips(junit_xml: str) -> list[str]:
    """``classname::name: reason`` of every test in the report skipped for want of the dev data."""
    found = []
    for case in ElementTree.parse(junit_xml).getroot().iter("testcase"):
        for skipped in case.iter("skipped"):
            reason = skipped.get("message", "")
            if DEV_DATA_SKIP in reason:
                found.append(f"{case.get('classname')}::{case.get('name')}: {reason}")
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python3 .ci/check_skips.py JUNIT_XML", file=sys.stderr)
        return 2
    found = data_skips(argv[0])
    for line in found:
        print(line)
    if found:
        print(
            f"{len(found)} test(s) skipped for want of the dev data; CI must run them: "
            "put heo_lemat_dev.extxyz in ../shared/data",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
