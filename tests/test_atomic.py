"""Atomic output: the target appears whole or not at all."""

from __future__ import annotations

import pytest

from heo_base.atomic_write import atomic_output


def test_success_replaces_the_target(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with atomic_output(target) as temporary:
        temporary.write_text("new")
        assert not target.exists()
    assert target.read_text() == "new"
    assert list(target.parent.iterdir()) == [target]


def test_failure_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")

    def interrupted_write():
        with atomic_output(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        interrupted_write()
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]
