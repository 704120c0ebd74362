"""CI's checks on the test run itself: no test may skip for want of the dev data, which CI has."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import DEV_DATA_SKIP, require_dev_data

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / ".ci" / "check_skips.py"


def _junit(tmp_path: Path, *reasons: str) -> Path:
    cases = "".join(
        f'<testcase classname="tests.test_x" name="test_{i}"><skipped type="pytest.skip" message="{reason}"/>'
        "</testcase>"
        for i, reason in enumerate(reasons)
    )
    path = tmp_path / "junit.xml"
    path.write_text(
        f'<testsuites><testsuite name="pytest"><testcase classname="tests.test_x" name="ok"/>{cases}'
        "</testsuite></testsuites>"
    )
    return path


def _check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), str(path)], capture_output=True, text=True)


def test_a_data_skip_fails_ci_and_names_the_test(tmp_path):
    report = _junit(tmp_path, "sqsgenerator is not installed", f"{DEV_DATA_SKIP} (not found at /x)")
    completed = _check(report)
    assert completed.returncode == 1
    assert completed.stdout.splitlines() == [f"tests.test_x::test_1: {DEV_DATA_SKIP} (not found at /x)"]
    assert "1 test(s) skipped for want of the dev data" in completed.stderr


def test_other_skips_pass(tmp_path):
    assert (
        _check(_junit(tmp_path, "sqsgenerator is not installed", "the backend declares no stress")).returncode
        == 0
    )


def test_the_check_and_the_fixture_use_the_same_reason():
    assert f'DEV_DATA_SKIP = "{DEV_DATA_SKIP}"' in CHECK.read_text()


def test_the_dev_data_fixture_skips_with_that_reason(tmp_path):
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_dev_data(tmp_path / "heo_lemat_dev.extxyz")
    assert str(skipped.value.msg) == f"{DEV_DATA_SKIP} (not found at {tmp_path / 'heo_lemat_dev.extxyz'})"
    (tmp_path / "heo_lemat_dev.extxyz").write_text("")
    assert require_dev_data(tmp_path / "heo_lemat_dev.extxyz") == tmp_path / "heo_lemat_dev.extxyz"


def test_the_check_reads_pytests_own_junit_report(tmp_path):
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n\n"
        "def test_data():\n"
        f"    pytest.skip({DEV_DATA_SKIP + ' (not found at /x)'!r})\n\n"
        "def test_other():\n"
        "    pytest.skip('an optional package is missing')\n\n"
        "def test_ok():\n"
        "    pass\n"
    )
    report = tmp_path / "junit.xml"
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(tmp_path),
        "-p",
        "no:cacheprovider",
        f"--junitxml={report}",
    ]
    subprocess.run(
        [*command, "--rootdir", str(tmp_path), "-q"], cwd=tmp_path, capture_output=True, check=True
    )
    completed = _check(report)
    assert completed.returncode == 1
    assert completed.stdout.splitlines() == [f"test_sample::test_data: {DEV_DATA_SKIP} (not found at /x)"]
