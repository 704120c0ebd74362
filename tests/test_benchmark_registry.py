"""benchmark_suite.registry is the single source of the tasks: metrics, report, plots and profiles read it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark_suite import registry
from benchmark_suite.catalogue import METRICS
from benchmark_suite.metrics import metric_table, task_metrics
from benchmark_suite.profiles import PROFILES, profile
from benchmark_suite.report import build_report, markdown_report, rows_table, write_report
from benchmark_suite.statistics import EVALUATION_METRICS, mean_metric
from benchmark_suite.task_spec import Plot, SizeOption, TaskMetric, TaskSpec
from benchmark_suite.tasks import TaskResult

SUITE = Path(__file__).resolve().parents[1] / "benchmark_suite"
CALCULATORS = ("model-a", "model-b")


def _all_metrics(spec: TaskSpec) -> list[TaskMetric]:
    """Every metric of ``spec``, grouped ones for two lattices, before the column filter."""
    probe = pd.DataFrame({"task": [spec.name] * 2, "lattice": ["rocksalt", "spinel"]})
    return list(spec.metrics(probe) if callable(spec.metrics) else spec.metrics)


def synthetic_rows(spec: TaskSpec, n: int = 6, seed: int = 0) -> pd.DataFrame:
    """Rows of ``spec``'s task for two calculators with a random value in every column its metrics read.

    One set of ``n`` structures per kind of row (``TaskMetric.where``), two structures per
    formula, half on each of two lattices; the descriptive columns the sections read.
    """
    rng = np.random.default_rng(seed)
    metrics = _all_metrics(spec)
    columns = sorted({c for m in metrics for c in m.metric.columns} | {"energy_error"})
    kinds = list(dict.fromkeys(m.where for m in metrics)) or [None]
    rows = []
    for calculator in CALCULATORS:
        for where in kinds:
            for i in range(n):
                row = {
                    "task": spec.name,
                    "calculator": calculator,
                    "id": f"s{i}" if where is None else f"s{i}:{where[1]}",
                    "status": "ok",
                    "formula": f"F{i // 2}",
                    "lattice": ("rocksalt", "spinel")[i % 2],
                    "formula_target": "(ABCDE)O",
                    "a_exp_A": 4.22,
                    "a_exp_citation": "a citation",
                    "reference_calc": "yardstick",
                    **{column: float(rng.uniform(0.1, 1.0)) for column in columns},
                    "n_force_components": float(3 * rng.integers(4, 20)),
                    "steps": float(rng.integers(1, 50)),
                }
                if where is not None:
                    row[where[0]] = where[1]
                rows.append(row)
    return pd.DataFrame(rows)


def _records(table: pd.DataFrame) -> list[TaskResult]:
    return [
        TaskResult(str(task), str(calculator), rows.reset_index(drop=True), wall_time_s=1.0)
        for (task, calculator), rows in table.groupby(["task", "calculator"], sort=False)
    ]


def test_every_registered_metric_key_reaches_the_metric_table_and_the_markdown(tmp_path):
    table = pd.concat([synthetic_rows(spec, seed=k) for k, spec in enumerate(registry.TASKS.values())])
    report = build_report(_records(table), calculators=list(CALCULATORS), skipped={}, context={"worst_k": 2})
    markdown = markdown_report(report)
    keys = set(report.metrics["key"])
    for spec in registry.TASKS.values():
        expected = [m.key for m in task_metrics(spec.name, table[table["task"] == spec.name])]
        assert expected, spec.name
        for key in expected:
            assert key in keys, key
            assert f"- {key}: model-b vs model-a:" in markdown, key
        assert f"## {spec.title}" in markdown
        for key, header in spec.headline:
            assert key in keys and header in markdown, key
    assert not report.skipped_metrics
    paths = write_report(tmp_path, report)
    written = pd.read_csv(paths["metrics_csv"])
    assert set(written["key"]) == keys
    plots = {plot.file for spec in registry.TASKS.values() for plot in spec.plots}
    assert "rattle_rmsd.png" in plots and (tmp_path / "rattle_rmsd.png").is_file()
    assert (tmp_path / "relax_steps.png").is_file()


@dataclass(frozen=True)
class ToySizes:
    """Sizes of the toy task: structures per run."""

    toy_n_structures: int


def _toy_section(report, worst_k: int) -> str:
    return "## Toy task\n\nThe toy section."


def _toy_plot(plt, records, table):
    rows = table[table["task"] == "toy"] if "task" in table else table[:0]
    if not len(rows):
        return None
    figure, axis = plt.subplots()
    axis.plot(rows["x"].to_numpy(float))
    return figure


TOY = TaskSpec[ToySizes](
    name="toy",
    title="Toy task",
    metrics=(
        TaskMetric("toy", mean_metric("x", name="x_mean", unit="Å", direction="lower"), "x mean (Å)", 2),
    ),
    headline=(("toy.x_mean", "toy x mean (Å)"),),
    section=_toy_section,
    plots=(Plot("toy.png", _toy_plot),),
    sizes={"quick": ToySizes(3), "full": ToySizes(30)},
    options=(SizeOption("toy_n_structures", "--heo-toy-n", "toy structures", minimum=1),),
    context=("toy_n_structures",),
    count_in_headline=True,
    relaxations=True,
)


def test_a_toy_task_registered_in_the_registry_alone_is_measured_reported_plotted_and_sized(
    monkeypatch, tmp_path
):
    """metrics.py, report.py, plots.py and profiles.py learn of a new task from its record only."""
    monkeypatch.setitem(registry.TASKS, "toy", TOY)
    table = pd.concat([synthetic_rows(TOY), synthetic_rows(registry.TASKS["accuracy"])], ignore_index=True)
    metrics, skipped = metric_table(table, list(CALCULATORS))
    assert "toy.x_mean" in set(metrics["key"]) and not skipped
    report = build_report(_records(table), calculators=list(CALCULATORS), skipped={}, context={})
    assert list(dict.fromkeys(rows_table(report.records)["task"])) == ["accuracy", "toy"]
    markdown = markdown_report(report)
    assert "- toy.x_mean: model-b vs model-a:" in markdown
    header = next(line for line in markdown.splitlines() if line.startswith("| calculator | accuracy n"))
    assert "| toy n (failed) |" in header and "| toy x mean (Å) |" in header
    assert "## Toy task\n\nThe toy section." in markdown
    assert markdown.index("## Accuracy") < markdown.index("## Toy task")
    write_report(tmp_path, report)
    assert (tmp_path / "toy.png").is_file() and (tmp_path / "relax_steps.png").is_file()
    quick = profile("quick")
    assert quick.sizes(TOY) == ToySizes(3) and quick.sizes("toy").toy_n_structures == 3
    assert quick.with_overrides(sizes={"toy": {"toy_n_structures": 5}}).sizes(TOY).toy_n_structures == 5
    assert quick.context()["toy_n_structures"] == 3
    assert "toy_n_structures" not in PROFILES["quick"].context()  # made before the toy was registered


def test_a_task_without_a_section_gets_its_title_and_metric_table(monkeypatch):
    monkeypatch.setitem(registry.TASKS, "toy", TaskSpec("toy", "Toy task", metrics=TOY.metrics))
    table = synthetic_rows(TOY)
    markdown = markdown_report(
        build_report(_records(table), calculators=list(CALCULATORS), skipped={}, context={})
    )
    section = markdown[markdown.index("## Toy task") :]
    assert section.splitlines()[2].startswith("| calculator | n | failed | x mean (Å) |")


def test_the_readers_of_the_registry_name_no_task():
    """Only the task modules and the registry name a task: the suite's plumbing and the scripts read records."""
    readers = [SUITE / m for m in ("metrics.py", "report.py", "plots.py", "profiles.py", "plugin.py")]
    readers += [SUITE / m for m in ("session.py", "task_spec.py", "catalogue.py", "test_tasks.py")]
    readers += [SUITE.parent / "benchmarks" / m for m in ("merge_reports.py", "benchmark_tables.py")]
    for path in readers:
        source = path.read_text(encoding="utf-8")
        for name in registry.TASKS:
            assert f'"{name}' not in source and f"'{name}" not in source, (path.name, name)
            assert f"{name}_" not in source, (path.name, name)


def test_every_size_option_sets_a_field_of_its_tasks_sizes_in_every_profile():
    flags = [option.flag for spec in registry.TASKS.values() for option in spec.options]
    assert len(flags) == len(set(flags))
    for spec in registry.TASKS.values():
        assert spec.run is not None and set(spec.sizes) == {"quick", "full"}
        for option in spec.options:
            assert option.flag.startswith("--heo-")
            for sizes in spec.sizes.values():
                assert hasattr(sizes, option.field), (spec.name, option.field)


def test_profiles_give_each_task_its_typed_sizes_and_record_the_same_context_as_before():
    quick, full = PROFILES["quick"], PROFILES["full"]
    accuracy, rattle, substitution = (registry.TASKS[n] for n in ("accuracy", "rattle_relax", "substitution"))
    assert quick.sizes(accuracy).accuracy_n_test == 64
    assert (quick.sizes(rattle).symmetric_n_structures, quick.sizes(rattle).rattle_min_atoms) == (16, 16)
    assert quick.sizes(substitution).substitution_sites == {
        "rocksalt": 20,
        "spinel": 30,
        "fluorite": 10,
        "perovskite": 10,
    }
    assert (full.sizes(accuracy).accuracy_n_test, full.sizes(substitution).substitution_seeds) == (
        None,
        (0, 1),
    )
    assert (full.relax.fmax, full.relax.max_steps) == (0.02, 1000)
    changed = quick.with_overrides(
        fmax=0.01, sizes={"rattle_relax": {"rattle_sigma": 0.1}, "accuracy": {"accuracy_n_test": None}}
    )
    assert (
        changed.sizes(rattle).rattle_sigma,
        changed.relax.fmax,
        changed.sizes(accuracy).accuracy_n_test,
    ) == (
        0.1,
        0.01,
        64,
    )
    assert quick.sizes(rattle).rattle_sigma == 0.05
    with pytest.raises(TypeError):
        quick.with_overrides(sizes={"accuracy": {"no_such_size": 1}})
    with pytest.raises(TypeError):
        quick.with_overrides(no_such_setting=1)
    with pytest.raises(KeyError, match="no sizes of task 'nope'"):
        quick.sizes("nope")
    with pytest.raises(AttributeError):
        _ = quick.accuracy_n_test  # no search across tasks by field name
    # The keys --heo-resume compares (run.json) and summary.json records: those before the task
    # records held their inputs, and every registered task's context.
    assert set(quick.context()) == {"fmax", "max_steps", "symprec"} | {
        key for spec in registry.TASKS.values() for key in spec.context
    }
    assert set(quick.context()) >= {
        "fmax",
        "max_steps",
        "rattle_sigma",
        "accuracy_n_test",
        "accuracy_n_fit",
        "rattle_n_structures",
        "symmetric_n_structures",
        "symmetric_max_atoms",
        "rattle_strain",
        "symprec",
        "substitution_seeds",
    }
    assert quick.context()["substitution_seeds"] == [0]


def test_the_catalogue_moved_into_the_benchmark_and_keeps_heo_calcs_evaluation_metrics():
    assert len(METRICS) == 11
    for name, metric in EVALUATION_METRICS.items():
        assert METRICS[name] is metric
    assert {"rmsd_median", "steps_median", "converged_fraction", "lattice_parameter_median"} <= set(METRICS)
    assert not {"rmsd_median", "lattice_parameter_median"} & set(EVALUATION_METRICS)
    with pytest.raises(KeyError, match="registered: accuracy, rattle_relax, substitution.*"):
        registry.task_spec("nope")
