"""The benchmark suite as a pytest plugin: options, parametrization, skips, errors and the report.

Each test runs ``pytest benchmark_suite ...`` inside pytest (``pytester``) with fast
calculators: the tiny MACE model (``mace:PATH``) and test-only third-party plugins (two
Lennard-Jones potentials, one that returns NaN, one that returns NaN for odd-sized cells)
registered through a fake dist-info. Without ``--heo-dataset`` the tasks use the packaged
benchmark set; ``--heo-n-accuracy``/``--heo-n-fit``/``--heo-n-rattle`` keep those runs small,
``--heo-tasks`` picks the tasks of the one parametrized test (``benchmark_suite/test_tasks.py``).
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
#: The tasks these tests were written for; a task registered later has tests of its own.
THREE_TASKS = ("--heo-tasks", "accuracy,rattle_relax,substitution")
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

            def make_lj_soft(*, device="auto", dtype="float64", **kwargs):
                return LennardJones(sigma=2.0, epsilon=0.012, rc=5.0, smooth=True)

            class NaNOddCalculator(LennardJones):
                # Lennard-Jones, but NaN for every cell with an odd number of atoms

                def calculate(self, atoms=None, properties=None, system_changes=all_changes):
                    super().calculate(atoms, properties, system_changes)
                    if len(self.atoms) % 2:
                        self.results = {k: np.full_like(np.asarray(v, dtype=float), np.nan)
                                        for k, v in self.results.items()}

            def make_nan_odd(*, device="auto", dtype="float64", **kwargs):
                return NaNOddCalculator(sigma=2.0, epsilon=0.01, rc=5.0, smooth=True)
            """
        )
    )
    dist_info = root / "heo_bad_plugins-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text("Metadata-Version: 2.1\nName: heo-bad-plugins\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(
        "[heo_calc.calculators]\nlj-test = heo_bad_plugins:make_lj\nnan-test = heo_bad_plugins:make_nan\n"
        "lj-soft = heo_bad_plugins:make_lj_soft\nnan-odd = heo_bad_plugins:make_nan_odd\n"
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
    from benchmark_suite.registry import TASKS

    result = pytester.runpytest(str(SUITE), "-rs", *FAST)
    assert _outcomes(result) == {"skipped": len(TASKS)}
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
        *THREE_TASKS,
        "--collect-only",
        "-q",
    )
    result.stdout.fnmatch_lines(
        [
            "*test_tasks.py::test_task[[]accuracy-mace:tiny.model[]]",
            "*test_tasks.py::test_task[[]accuracy-mace-mp0[]]",
            "*test_tasks.py::test_task[[]accuracy-sevennet-0[]]",
            "*test_tasks.py::test_task[[]rattle_relax-mace:tiny.model[]]",
            "*test_tasks.py::test_task[[]substitution-sevennet-0[]]",
            "*9 tests collected*",
        ]
    )


def test_every_registered_task_runs_by_default_and_a_wrong_task_name_is_a_usage_error(pytester):
    from benchmark_suite.registry import TASKS

    result = pytester.runpytest(str(SUITE), "--calc", "sevennet-0", "--collect-only", "-q")
    result.stdout.fnmatch_lines([f"*{len(TASKS)} tests collected*"])
    for name in TASKS:
        assert f"test_task[{name}-sevennet-0]" in result.stdout.str()
    result = pytester.runpytest(str(SUITE), "--calc", "sevennet-0", "--heo-tasks", "nope", "--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--heo-tasks: unknown task(s) 'nope'; registered: accuracy*"])


def test_the_size_options_are_generated_from_the_task_records(pytester):
    from benchmark_suite.registry import TASKS

    result = pytester.runpytest("--calc", "sevennet-0", "--help")
    shown = " ".join(result.stdout.str().split())
    for spec in TASKS.values():
        for option in spec.options:
            assert f"{option.flag}=" in shown and f"{spec.name}: " in shown, option.flag
    assert "accuracy: test structures evaluated, a seeded sample (default: quick 64, full all)." in shown
    assert "seeds 0..N-1 per lattice and arrangement (default: quick 1, full 2)." in shown
    result = pytester.runpytest(str(SUITE), "--calc", "sevennet-0", "--heo-seeds", "0", "--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--heo-seeds must be >= 1, got 0*"])


def test_unavailable_model_skips_with_reason_and_fix_and_others_run(pytester, tiny_mace_file, tmp_path):
    report = tmp_path / "report"
    result = pytester.runpytest(
        str(SUITE),
        "--heo-tasks",
        "substitution",
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


def _first_content_line(markdown: str) -> str:
    return next(line for line in markdown.splitlines()[1:] if line.strip())


def test_without_dataset_the_packaged_set_runs_and_verdicts_open_the_summary(pytester, bad_plugins, tmp_path):
    """The design-card command (no --heo-dataset), made small: the accuracy task on the packaged set."""
    report = tmp_path / "report"
    result = pytester.runpytest(
        str(SUITE),
        "--heo-tasks",
        "accuracy",
        "--calc",
        "lj-test,lj-soft",
        "--heo-n-accuracy",
        "6",
        "--heo-n-fit",
        "24",
        "--heo-report",
        str(report),
        *FAST,
    )
    assert _outcomes(result) == {"passed": 2}, result.stdout.str()[-3000:]
    rows = pd.read_csv(report / "rows.csv")
    assert len(rows) == 12 and rows["id"].str.startswith("heo_lemat_dev-").all()
    markdown = (report / "summary.md").read_text()
    first = _first_content_line(markdown)
    assert first.startswith("- accuracy.energy_rmse_corrected: lj-soft vs lj-test: "), markdown[:500]
    assert first.rstrip().endswith("(6 structures)")
    verdicts = [line for line in markdown.splitlines() if line.startswith("- accuracy.") and " vs " in line]
    assert len(verdicts) == 7  # energy rmse/mae/median fitted, rmse/mae raw, force rmse/mae
    assert all(v.split("], ")[1].split(" (")[0] in {"better", "worse", "indistinguishable"} for v in verdicts)
    assert "packaged benchmark set heo_benchmark.extxyz.gz (LeMat-Bulk compatible_pbe, CC-BY-4.0)" in markdown
    metrics = pd.read_csv(report / "metrics.csv")
    for column in ("value", "low", "high", "difference", "difference_low", "difference_high", "verdict"):
        assert column in metrics, column
    assert (metrics["low"] <= metrics["value"] + 1e-9).all() and (
        metrics["value"] <= metrics["high"] + 1e-9
    ).all()
    soft = metrics[metrics["calculator"] == "lj-soft"]
    assert (soft["reference"] == "lj-test").all() and soft["verdict"].notna().all()
    assert metrics[metrics["calculator"] == "lj-test"]["verdict"].isna().all()  # the reference
    summary = json.loads((report / "summary.json").read_text())
    assert summary["verdicts"][0] == first[2:]
    assert set(summary["reference_fits"]) == {"lj-test", "lj-soft"}
    # the terminal shows the same summary, verdicts first
    result.stdout.fnmatch_lines(
        ["*HEO benchmark*", "# HEO benchmark", "", "- accuracy.energy_rmse_corrected*"]
    )


def test_calculator_returning_nan_for_some_structures_counts_them_failed(pytester, bad_plugins, tmp_path):
    report = tmp_path / "report"
    result = pytester.runpytest(
        str(SUITE),
        "--heo-tasks",
        "accuracy",
        "--calc",
        "lj-test,nan-odd",
        "--heo-n-accuracy",
        "12",
        "--heo-n-fit",
        "24",
        "--heo-report",
        str(report),
        *FAST,
    )
    assert _outcomes(result) == {"passed": 2}, result.stdout.str()[-3000:]
    rows = pd.read_csv(report / "rows.csv")
    nan_rows = rows[rows["calculator"] == "nan-odd"]
    odd = int((nan_rows["n_atoms"] % 2 == 1).sum())
    assert 0 < odd < len(nan_rows)  # the sample holds both kinds
    assert (nan_rows[nan_rows["n_atoms"] % 2 == 1]["status"] == "failed").all()
    metrics = pd.read_csv(report / "metrics.csv")
    force = metrics[(metrics["calculator"] == "nan-odd") & (metrics["metric"] == "force_rmse")].iloc[0]
    assert force["n_failed"] == odd and force["n"] == len(nan_rows) - odd
    assert np.isfinite(force[["value", "low", "high"]].astype(float)).all()
    assert force["low"] <= force["value"] <= force["high"]
    assert force["n_paired"] == len(nan_rows) - odd and force["n_unpaired"] == odd
    markdown = (report / "summary.md").read_text()
    assert f"nan-odd, accuracy: {odd} of {len(nan_rows)} structures failed" in markdown
    assert f"| nan-odd | {len(nan_rows)} ({odd}) |" in markdown


def test_calc_all_runs_the_available_calculators_and_reports_the_others_skipped(
    pytester, bad_plugins, tmp_path
):
    report = tmp_path / "report"
    result = pytester.runpytest(
        str(SUITE),
        "--heo-tasks",
        "accuracy",
        "--calc",
        "all",
        "-k",
        "lj-test",
        "--heo-n-accuracy",
        "3",
        "--heo-n-fit",
        "0",
        "--heo-report",
        str(report),
        *FAST,
    )
    assert _outcomes(result) == {"passed": 1}, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(["*heo-benchmark: calculators *lj-test*sevennet-0* (unavailable: *mace-mp0*"])
    summary = json.loads((report / "summary.json").read_text())
    assert "lj-test" in summary["context"]["calculators"] and "chgnet" in summary["context"]["calculators"]
    assert "mace-mp0" not in summary["context"]["calculators"]
    assert (
        "HEO_CALC_MODEL_DIR" in summary["skipped"]["mace-mp0"]
        or "not found" in summary["skipped"]["mace-mp0"]
    )
    markdown = (report / "summary.md").read_text()
    assert "| mace-mp0 | skipped: 'mace-mp0' is not available here: MACE weights" in markdown
    assert "| lj-test |" in markdown


def test_dataset_without_forces_runs_energy_metrics_and_says_why_forces_were_skipped(
    pytester, bad_plugins, tiny_dataset, tmp_path
):
    from ase.io import read

    structures = read(tiny_dataset, ":")
    for atoms in structures:
        del atoms.arrays["DFT_forces"]
    no_forces = tmp_path / "no-forces.extxyz"
    write(no_forces, structures, format="extxyz")
    report = tmp_path / "report"
    result = pytester.runpytest(
        str(SUITE),
        "--heo-tasks",
        "accuracy,rattle_relax",
        "--calc",
        "lj-test",
        "--heo-dataset",
        str(no_forces),
        "--heo-report",
        str(report),
        "-rs",
        *FAST,
    )
    assert _outcomes(result) == {"passed": 1, "skipped": 1}, result.stdout.str()[-3000:]
    result.stdout.fnmatch_lines(["*SKIPPED*no-forces.extxyz carries no DFT forces*"])
    metrics = pd.read_csv(report / "metrics.csv")
    assert set(metrics["metric"]) >= {"energy_rmse", "energy_rmse_corrected"}
    assert not metrics["metric"].str.startswith("force").any()
    assert np.isfinite(metrics[metrics["metric"] == "energy_rmse"]["value"]).all()
    markdown = (report / "summary.md").read_text()
    assert "accuracy.force_rmse skipped: the test structures carry no DFT forces" in markdown
    assert "rattle_relax skipped: " in markdown and "carries no DFT forces" in markdown


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.extxyz", "", "Empty file"),
        ("garbage.extxyz", "this is not a structure\n", "cannot read*as extended XYZ"),
        ("garbage.h5", "not hdf5", "cannot read*as HDF5"),
    ],
)
def test_empty_or_unreadable_dataset_is_a_usage_error_naming_the_file(
    pytester, tmp_path, name, content, problem
):
    path = tmp_path / name
    path.write_text(content)
    result = pytester.runpytest(str(SUITE), "--calc", "chgnet", "--heo-dataset", str(path), *FAST)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*--heo-dataset:*{problem}*"])
    assert str(path) in result.stderr.str()


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
        *THREE_TASKS,
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
    assert (rattle["sigma_A"] == 0.02).all()
    # two DFT-relaxed 8-atom cells, each relaxed in symmetry from a rattle and from DFT, and freely as supercells
    assert rattle["relaxation"].value_counts().to_dict() == {
        "symmetric": 2,
        "symmetric_from_dft": 2,
        "free": 2,
    }
    assert (rattle[rattle["relaxation"] == "free"]["n_atoms"] >= 16).all()
    assert (rattle[rattle["relaxation"] != "free"]["n_atoms"] == 8).all()
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
    metrics = pd.read_csv(report / "metrics.csv")
    tiny_force = metrics[(metrics["calculator"] == tiny) & (metrics["key"] == "accuracy.force_rmse")].iloc[0]
    assert tiny_force["n"] == 3 and tiny_force["n_failed"] == 0
    lattice = metrics[metrics["key"] == "substitution[rocksalt].lattice_parameter_median"]
    assert set(lattice["calculator"]) == {tiny, "lj-test", "nan-test"}
    assert (lattice[lattice["calculator"] != tiny]["reference"] == tiny).all()
    markdown = (report / "summary.md").read_text()
    assert "| nan-test |" in markdown and "## Substitution" in markdown
    assert "nan-test, accuracy: 3 of 3 structures failed" in markdown
    result.stdout.fnmatch_lines(["*HEO benchmark*", f"*report written to {report}*"])


def test_pytest_benchmark_records_metrics_in_extra_info(pytester, tiny_mace_file, tmp_path):
    output = tmp_path / "bench.json"
    result = pytester.runpytest(
        str(SUITE),
        "--heo-tasks",
        "substitution",
        "--calc",
        f"mace:{tiny_mace_file}",
        f"--benchmark-json={output}",
        *FAST,
    )
    assert _outcomes(result) == {"passed": 1}
    benchmarks = json.loads(output.read_text())["benchmarks"]
    assert [b["group"] for b in benchmarks] == ["substitution"]
    assert benchmarks[0]["stats"]["rounds"] == 1
    extra = benchmarks[0]["extra_info"]
    assert extra["n"] == 4 and "substitution.converged_fraction" in extra


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
        *THREE_TASKS,
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
