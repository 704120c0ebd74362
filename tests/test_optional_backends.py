"""Optional backends: without chgnet (the extra heo-relax[chgnet]) the rest works and chgnet says what to install.

The missing package is simulated with ``sys.modules["chgnet"] = None``, under which
``importlib.util.find_spec("chgnet")`` answers ``None`` and ``import chgnet`` raises, as in an
environment that never installed it.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from ase.io import write

from heo_calc.cli import main
from heo_calc.errors import ModelUnavailableError
from heo_calc.structures import rocksalt_heo_supercell

HINT = "pip install 'heo-relax[chgnet]'"


@pytest.fixture
def without_chgnet(monkeypatch):
    monkeypatch.setitem(sys.modules, "chgnet", None)


def test_list_without_chgnet_names_the_extra_and_keeps_the_rest(without_chgnet, capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in lines[1:]}
    assert rows["chgnet"].split()[1] == "no"
    assert HINT in rows["chgnet"]  # within the 100 characters the table shows
    assert rows["heo-ft"].split()[1] == "yes" and rows["sevennet-0"].split()[1] == "yes"


def test_get_calculator_without_chgnet_raises_the_install_hint(without_chgnet):
    from heo_calc import get_calculator

    with pytest.raises(ModelUnavailableError) as caught:
        get_calculator("chgnet", device="cpu")
    assert HINT in str(caught.value)


def test_relax_with_calc_chgnet_without_chgnet_is_one_line_not_a_traceback(tmp_path):
    write(tmp_path / "in.extxyz", rocksalt_heo_supercell(repeat=1, seed=0))
    program = (
        "import sys; sys.modules['chgnet'] = None\n"
        "from heo_calc.cli import main\n"
        f"sys.exit(main(['relax', {str(tmp_path / 'in.extxyz')!r}, '--calc', 'chgnet', "
        f"'--out', {str(tmp_path / 'out')!r}, '-q', '--device', 'cpu']))"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert completed.returncode == 2, completed.stderr
    assert "Traceback" not in completed.stderr
    assert HINT in completed.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
