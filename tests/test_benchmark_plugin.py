"""The benchmark suite as a pytest plugin: options, parametrization, skips, errors and the report.

Each test runs ``pytest benchmark_suite ...`` inside pytest (``pytester``) with fast
calculators: the tiny MACE model (``mace:PATH``) and test-only third-party plugins (a
Lennard-Jones potential, and one that returns NaN) registered through a fake dist-info.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from ase.io import write

pytest_plugins = ["pytester"]

SUITE = Path(__file__).resolve().parents[1] / "benchmark_suite"
FAST = ("--heo-max-steps", "15", "-p", "no:cacheprovider", "-W", "ignore::UserWarning")


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HEO_CALC_OFFLINE", "1")
    monkeypatch.setenv("HEO_CALC_MODEL_DIR", str(tmp_path / "no-models"))


@pytest.fixture
def bad_plugins(tmp_path, monkeypatch):
    """Installed-looking distribution registering 'lj-test' (plain ASE LJ) and 'nan-test' (NaN forces)."""
    root = tmp_path / "plugins"
    root.mkdir()
    (root / "heo_bad_plugins.py").write_text(
        textwrap.dedent(
            """
            import numpy as np
            from ase.calculators.calculator import Calculator, all_changes
            from ase.calculators.lj import LennardJones

            def make_lj(*, device="auto", dtype="float64", **kwargs):
                return LennardJones(sigma=2.0, epsilon=0.01, rc=5.0, smooth=True)

            class NaNCalculator(Calculator):
                implemented_properties = ["energy", "free_energy", "forces", "stress"]

                def calculate(self, atoms=None, properties=None, system_changes=all_changes):
                    super().calculate(atoms, properties, system_changes)
                    n = len(self.atoms)
                    self.results = {"energy": float("nan"), "free_energy": float("nan"),
                                    "forces": np.full((n, 3), np.nan), "stress": np.zeros(6)}

            def make_nan(*, device="auto", dtype="float64", **kwargs):
                return NaNCalculator()
            """
        )
    )
    dist_info = root / "heo_bad_plugins-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: heo-bad-plugins\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(
        "[heo_calc.calculators]\nlj-test = heo_bad_plugins:make_lj\nnan-test = heo_bad_plugins:make_nan\n"
    )
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    yield root
    sys.modules.pop("heo_bad_plugins", None)


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory) -> Path:
    """12 labelled 8-atom rock-salt HEO cells with stored splits; two test cells are 'DFT-relaxed'."""
    from heo_calc.structures import rocksalt_heo_supercell

    rng = np.random.default_rng(0)
    structures = []
    for seed in range(12):
        relaxed = seed in (9, 10)
        atoms = rocksalt_heo_supercell(repeat=1, seed=seed, rattle=0.0 if relaxed else 0.03)
        atoms.info["DFT_energy"] = -5.0 * len(atoms) + rng.normal(scale=0.1)
        atoms.arrays["DFT_forces"] = (
            np.zeros((len(atoms), 3)) if relaxed else rng.normal(scale=0.1, size=(8, 3))
        )
        atoms.info["split"] = "train" if seed < 6 else "valid" if seed < 9 else "test"
        structures.append(atoms)
    path = tmp_path_factory.mktemp("heo-data") / "tiny.extxyz"
    write(path, structures, format="extxyz")
    return path


def _outcomes(result) -> dict[str, int]:
    return {k: v for k, v in result.parseoutcomes().items() if k in {"passed", "failed", "skipped", "errors"}}


def test_options_are_registered(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(
        [
            "*HEO benchmark suite*",
            "*--calc*NAMES*",
            "*--heo-dataset*",
            "*--reference-calc*",
            "*--profile*",
            "*--heo-report*",
        ]
    )


def test_without_calc_the_tasks_skip_with_the_fix(pytester):
    result = pytester.runpytest(str(SUITE), "-rs", *FAST)
    assert _outcomes(result) == {"skipped": 3}
    result.stdout.fnmatch_lines(["*no calculators given*--calc NAME*"])


def test_unknown_name_is_a_usage_error_listing_the_names(pytester):
    result = pytester.runpytest(str(SUITE), "--calc", "sevennet-0,no-such-model", *FAST)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*unknown calculator name(s) 'no-such-model'*Available:*sevennet-0*mace:PATH*"]
    )
    result = pytester.runpytest(str(SUITE), "--calc", "chgnet", "--reference-calc", "nope", *FAST)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--reference-calc: unknown calculator*'nope'*"])


def test_missing_dataset_file_is_a_usage_error(pytester, tmp_path):
    result = pytester.runpytest(str(SUITE), "--calc", "chgnet", "--heo-dataset", str(tmp_path / "absent.h5"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--heo-dataset*absent.h5 is not a file*"])


def test_every_task_is_parametrized_over_the_calculators(pytester, tiny_mace_file):
    result = pytester.runpytest(
        str(SUITE),
        "--calc",
        f"mace:{tiny_mace_file}",
        "--calc",
        "mace-mp0,sevennet-0",
        "--collect-only",
        "-q",
    )
    result.stdout.fnmatch_lines(
        [
            "*test_accuracy.py::test_accuracy[[]mace:tiny.model[]]",
            "*test_accuracy.py::test_accuracy[[]mace-mp0[]]",
            "*test_accuracy.py::test_accuracy[[]sevennet-0[]]",
            "*test_rattle_relax.py::test_rattle_relax[[]mace:tiny.model[]]",
            "*test_substitution.py::test_substitution[[]sevennet-0[]]",
            "*9 tests collected*",
        ]
    )


def test_unavailable_model_skips_with_reason_and_fix_and_others_run(pytester, tiny_mace_file, tmp_path):
    report = tmp_path / "report"
    result = pytester.runpytest(
        str(SUITE / "test_substitution.py"),
        "--calc",
        f"mace-mp0,mace:{tiny_mace_file}",
        "--heo-report",
        str(report),
        "-rs",
        *FAST,
    )
    assert _outcomes(result) == {"passed": 1, "skipped": 1}
    result.stdout.fnmatch_lines(
        [
            "*SKIPPED*'mace-mp0' is not available here*2023-12-03-mace-128-L1_epoch-199.model*HEO_CALC_MODEL_DIR*"
        ]
    )
    summary = json.loads((report / "summary.json").read_text())
    assert "HEO_CALC_MODEL_DIR" in summary["skipped"]["mace-mp0"]
    assert "skipped:" in (report / "summary.md").read_text()


def test_no_dataset_skips_dataset_tasks_and_substitution_still_runs(pytester, tiny_mace_file):
    result = pytester.runpytest(str(SUITE), "--calc", f"mace:{tiny_mace_file}", "-rs", *FAST)
    assert _outcomes(result) == {"passed": 1, "skipped": 2}
    result.stdout.fnmatch_lines(["*no --heo-dataset given*"])
    result.stdout.fnmatch_lines(["*HEO benchmark*", "*| mace:*tiny.model |*"])


def test_full_run_writes_the_report_and_bad_models_become_failed_rows(
    pytester, tiny_mace_file, tiny_dataset, bad_plugins, tmp_path
):
    report = tmp_path / "report"
    tiny = f"mace:{tiny_mace_file}"
    result = pytester.runpytest(
        str(SUITE),
        "--calc",
        f"{tiny},lj-test,nan-test",
        "--heo-dataset",
        str(tiny_dataset),
        "--reference-calc",
        tiny,
        "--heo-report",
        str(report),
        "--heo-rattle-sigma",
        "0.02",
        *FAST,
    )
    assert _outcomes(result) == {"passed": 9}, result.stdout.str()[-3000:]
    for name in (
        "rows.csv",
        "rows.json",
        "summary.json",
        "summary.md",
        "parity_energy.png",
        "relax_steps.png",
    ):
        assert (report / name).is_file(), name
    assert not list(report.glob("*.tmp")) and not list(report.glob(".*.tmp"))
    rows = pd.read_csv(report / "rows.csv")
    assert set(rows["task"]) == {"accuracy", "rattle_relax", "substitution"}
    assert set(rows["calculator"]) == {tiny, "lj-test", "nan-test"}
    accuracy = rows[(rows["task"] == "accuracy") & (rows["calculator"] == tiny)]
    assert len(accuracy) == 3 and (accuracy["status"] == "ok").all()
    assert np.isfinite(accuracy["force_rmse"]).all() and np.isfinite(accuracy["energy_error_corrected"]).all()
    rattle = rows[(rows["task"] == "rattle_relax") & (rows["calculator"] == tiny)]
    assert len(rattle) == 2 and (rattle["n_atoms"] >= 16).all() and (rattle["sigma_A"] == 0.02).all()
    substitution = rows[(rows["task"] == "substitution") & (rows["calculator"] == tiny)]
    assert len(substitution) == 4  # quick: four lattices, SQS, one seed
    rocksalt = substitution[substitution["lattice"] == "rocksalt"]
    assert (rocksalt["status"] != "failed").all() and np.isfinite(rocksalt["energy_ref_per_atom"]).all()
    # the tiny model covers only O, Mg, Co, Ni, Cu, Zn: other lattices fail, cleanly
    assert (substitution[substitution["lattice"] != "rocksalt"]["status"] == "failed").all()
    assert substitution["error"].str.contains("does not cover").any()
    nan_rows = rows[rows["calculator"] == "nan-test"]
    assert (nan_rows["status"] == "failed").all()
    lj_relaxed = rows[(rows["calculator"] == "lj-test") & (rows["task"] != "accuracy")]
    assert (lj_relaxed["status"] != "converged").any() or (lj_relaxed["rmsd_A"].fillna(1) > 0.1).any()
    summary = json.loads((report / "summary.json").read_text())
    assert summary["context"]["profile"] == "quick"
    assert summary["summaries"]["accuracy"][tiny]["n"] == 3
    markdown = (report / "summary.md").read_text()
    assert "| nan-test |" in markdown and "## Substitution" in markdown
    result.stdout.fnmatch_lines(["*HEO benchmark*", f"*report written to {report}*"])


def test_pytest_benchmark_records_metrics_in_extra_info(pytester, tiny_mace_file, tmp_path):
    output = tmp_path / "bench.json"
    result = pytester.runpytest(
        str(SUITE / "test_substitution.py"),
        "--calc",
        f"mace:{tiny_mace_file}",
        f"--benchmark-json={output}",
        *FAST,
    )
    assert _outcomes(result) == {"passed": 1}
    benchmarks = json.loads(output.read_text())["benchmarks"]
    assert [b["group"] for b in benchmarks] == ["substitution"]
    assert benchmarks[0]["stats"]["rounds"] == 1
    assert benchmarks[0]["extra_info"]["n"] == 4 and "converged_fraction" in benchmarks[0]["extra_info"]


def test_project_test_run_does_not_collect_the_benchmark_tasks():
    import tomllib

    config = tomllib.loads((SUITE.parent / "pyproject.toml").read_text())
    assert config["tool"]["pytest"]["ini_options"]["testpaths"] == ["tests"]
    assert config["project"]["entry-points"]["pytest11"] == {"heo_benchmark": "benchmark_suite.plugin"}


def test_xdist_workers_write_parts_and_the_controller_writes_one_report(
    pytester, tiny_dataset, bad_plugins, tmp_path
):
    pytest.importorskip("xdist")
    report = tmp_path / "report"
    result = pytester.runpytest_subprocess(
        str(SUITE),
        "-n",
        "2",
        "--calc",
        "lj-test,nan-test",
        "--heo-dataset",
        str(tiny_dataset),
        "--heo-report",
        str(report),
        *FAST,
    )
    assert _outcomes(result) == {"passed": 6}, result.stdout.str()[-3000:]
    rows = pd.read_csv(report / "rows.csv")
    assert sorted(set(zip(rows["task"], rows["calculator"]))) == sorted(
        (task, calc)
        for task in ("accuracy", "rattle_relax", "substitution")
        for calc in ("lj-test", "nan-test")
    )
    assert (rows[rows["calculator"] == "nan-test"]["status"] == "failed").all()
