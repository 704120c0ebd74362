"""The calculator registry: names, entry points, provenance and errors."""

from __future__ import annotations

import shutil
import sys
import textwrap
import urllib.error

import numpy as np
import pytest

from heo_calc import available_calculators, get_calculator
from heo_calc.errors import ModelWeightsNotFoundError, UnknownCalculatorError

BUILT_IN = {"heo-ft", "mace-mp0", "mace-mp0-small", "mace-mp0-large", "mace-omat", "sevennet-0", "chgnet"}


def test_available_calculators_lists_every_built_in_with_reasons():
    rows = {row.name: row for row in available_calculators()}
    assert set(rows) >= BUILT_IN
    assert rows["sevennet-0"].available and rows["chgnet"].available
    mace = rows["mace-mp0"]
    assert not mace.available
    assert "2023-12-03-mace-128-L1_epoch-199.model" in mace.reason and "HEO_CALC_MODEL_DIR" in mace.reason


def test_unknown_name_lists_the_registered_names():
    with pytest.raises(UnknownCalculatorError, match="no calculator named 'nope'") as caught:
        get_calculator("nope")
    assert "sevennet-0" in str(caught.value) and "mace:PATH" in str(caught.value)


def test_mace_mp0_offline_gives_a_clear_error(monkeypatch, tmp_path):
    from mace.calculators import foundations_models

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setenv("HEO_CALC_MODEL_DIR", str(tmp_path))
    monkeypatch.setenv("HEO_CALC_OFFLINE", "0")
    monkeypatch.setattr(foundations_models, "download_mace_mp_checkpoint", refuse)
    with pytest.raises(ModelWeightsNotFoundError) as caught:
        get_calculator("mace-mp0")
    message = str(caught.value)
    assert "2023-12-03-mace-128-L1_epoch-199.model" in message
    assert str(tmp_path) in message and "HEO_CALC_MODEL_DIR" in message
    assert "download failed" in message and "URLError" in message


def test_tiny_mace_loads_through_path_scheme(tiny_mace_file, rattled_heo_64):
    calculator = get_calculator(f"mace:{tiny_mace_file}", device="cpu")
    atoms = rattled_heo_64.copy()
    atoms.calc = calculator
    assert np.isfinite(atoms.get_potential_energy())
    assert calculator.parameters["heo_calc_name"] == f"mace:{tiny_mace_file}"
    assert calculator.parameters["model_file"] == str(tiny_mace_file)
    assert calculator.parameters["dtype"] == "float64"
    assert "torch" in calculator.parameters["versions"]


def test_tiny_mace_loads_as_mace_mp0_from_model_dir(tiny_mace_file, tmp_path, monkeypatch, rattled_heo_64):
    shutil.copy(tiny_mace_file, tmp_path / "2023-12-03-mace-128-L1_epoch-199.model")
    monkeypatch.setenv("HEO_CALC_MODEL_DIR", str(tmp_path))
    calculator = get_calculator("mace-mp0", device="cpu")
    reference = get_calculator(f"mace:{tiny_mace_file}", device="cpu")
    energies = []
    for calc in (calculator, reference):
        atoms = rattled_heo_64.copy()
        atoms.calc = calc
        energies.append(atoms.get_potential_energy())
    assert energies[0] == pytest.approx(energies[1], abs=1e-10)
    assert {row.name: row.available for row in available_calculators()}["mace-mp0"]


def test_missing_local_model_file_names_the_path(tmp_path):
    with pytest.raises(ModelWeightsNotFoundError, match="does not exist"):
        get_calculator(f"mace:{tmp_path / 'absent.model'}")
    with pytest.raises(ModelWeightsNotFoundError, match="absent.pth"):
        get_calculator(f"sevennet:{tmp_path / 'absent.pth'}")


@pytest.fixture
def third_party_distribution(tmp_path, monkeypatch):
    """A test-only installed distribution that registers 'lj-test' in heo_calc.calculators."""
    (tmp_path / "heo_lj_plugin.py").write_text(
        textwrap.dedent(
            """
            from ase.calculators.lj import LennardJones

            def make_lj(*, device="auto", dtype="float64", **kwargs):
                return LennardJones(sigma=2.0, epsilon=0.01, rc=5.0, smooth=True)
            """
        )
    )
    dist_info = tmp_path / "heo_lj_plugin-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: heo-lj-plugin\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text("[heo_calc.calculators]\nlj-test = heo_lj_plugin:make_lj\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "lj-test"
    sys.modules.pop("heo_lj_plugin", None)


def test_third_party_entry_point_is_found_and_used(third_party_distribution, rattled_heo_64):
    rows = {row.name: row for row in available_calculators()}
    assert rows["lj-test"].available and rows["lj-test"].provider == "heo-lj-plugin"
    calculator = get_calculator("lj-test")
    atoms = rattled_heo_64.copy()
    atoms.calc = calculator
    assert type(calculator).__name__ == "LennardJones"
    assert np.isfinite(atoms.get_forces()).all()
    assert calculator.parameters["heo_calc_name"] == "lj-test"


def test_models_of_different_dtypes_work_in_one_process(tiny_mace_file, rattled_heo_64):
    """A float64 MACE model built first must not break a float32 SevenNet model after it."""
    import torch

    before = torch.get_default_dtype()
    mace = get_calculator(f"mace:{tiny_mace_file}", device="cpu", dtype="float64")
    assert torch.get_default_dtype() == before
    sevennet = get_calculator("sevennet-0", device="cpu")
    for calc in (mace, sevennet, mace):
        atoms = rattled_heo_64.copy()
        atoms.calc = calc
        assert np.isfinite(atoms.get_forces()).all()
    assert torch.get_default_dtype() == before


def test_our_mace_download_table_matches_mace_torch():
    """The file names listing uses without importing mace-torch are mace-torch's own."""
    from mace.calculators import foundations_models
    from mace.tools.utils import get_cache_dir

    from heo_calc.backends.mace import MACE_FOUNDATION_URLS, MACE_FOUNDATIONS, mace_cache_dir

    for key in MACE_FOUNDATIONS.values():
        assert MACE_FOUNDATION_URLS[key] == foundations_models.mace_mp_urls[key]
    assert mace_cache_dir() == get_cache_dir()


def test_listing_imports_no_backend_and_prints_no_warnings():
    """`heo-calc list` names every calculator without importing torch, mace-torch, sevenn or chgnet."""
    import subprocess

    script = (
        "import sys; from heo_calc.cli import main; main(['list']); "
        "print('IMPORTED', sorted(m for m in ('torch', 'mace', 'sevenn', 'chgnet', 'e3nn') if m in sys.modules))"
    )
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert completed.returncode == 0, completed.stderr
    assert "IMPORTED []" in completed.stdout
    assert "sevennet-0" in completed.stdout and "mace-mp0" in completed.stdout
    assert completed.stderr == ""
