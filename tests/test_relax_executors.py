"""Relaxations and screens on executors: a real Dask LocalCluster (2 worker processes), local processes, and failures.

The calculator is the cheap analytic ``toy-ionic`` (tests/toy_ionic.py), registered by entry
point like a third-party package so that every worker process builds it by name.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import toy_ionic
from ase.io import write

from heo_calc.cli import main
from heo_calc.model import open_model
from heo_calc.relax import relax_many
from heo_calc.screening import ScreenSettings, parse_cations, run_screen
from heo_calc.structures import rocksalt_heo_supercell

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    with toy_ionic.installed(tmp_path_factory.mktemp("toy-ionic")) as name:
        yield name


@pytest.fixture(scope="module")
def cluster(toy):
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local_cluster:
        yield local_cluster


def _cells(n: int = 4):
    cells = [rocksalt_heo_supercell(("Mg", "Ni"), repeat=1, seed=seed, rattle=0.08) for seed in range(n)]
    for seed, atoms in enumerate(cells):
        atoms.info["name"] = f"cell-{seed}"
    return cells


def test_relax_many_on_a_dask_cluster_matches_this_process_and_builds_one_model_per_worker(toy, cluster):
    here = relax_many(_cells(), toy, progress=False)
    with distributed.Client(cluster) as client:
        by_client = relax_many(_cells(), open_model(toy, executor=client), progress=False)
        by_executor = relax_many(_cells(), open_model(toy, executor=client.get_executor()), progress=False)
        builds = client.run(toy_ionic.builds_in_this_process)
    for results in (by_client, by_executor):
        assert [r.name for r in results] == [r.name for r in here]
        assert [r.n_steps for r in results] == [r.n_steps for r in here]
        np.testing.assert_allclose([r.energy for r in results], [r.energy for r in here], rtol=0, atol=1e-9)
    # two calls of four structures each: every worker built its model once and kept it
    assert len(builds) == 2 and all(count == 1 for _, count in builds.values())


def test_a_screen_on_the_cluster_equals_the_screen_in_this_process(toy, cluster, tmp_path):
    settings = ScreenSettings(lattice="rocksalt", calculator=toy, realizations=2, sites=12)
    compositions = [parse_cations("Mg,Ni"), parse_cations("Co,Cu,Zn")]
    here = run_screen(compositions, settings, tmp_path / "here", progress=False)
    with distributed.Client(cluster) as client:
        there = run_screen(compositions, settings, tmp_path / "cluster", executor=client, progress=False)
    assert there.engine.startswith("executor") and here.engine == "this process"
    for a, b in zip(here.records, there.records):
        for x, y in zip(a.realizations, b.realizations):
            assert (x.composition, x.seed, x.n_steps, x.status) == (
                y.composition,
                y.seed,
                y.n_steps,
                y.status,
            )
            assert x.mixing_energy_meV_per_atom == pytest.approx(y.mixing_energy_meV_per_atom, abs=1e-6)
            assert x.a_pseudo_cubic_A == pytest.approx(y.a_pseudo_cubic_A, abs=1e-9)


def test_heo_calc_relax_runs_on_a_dask_scheduler(toy, cluster, tmp_path, capsys):
    write(tmp_path / "in.extxyz", _cells(2))
    out = tmp_path / "out"
    options = ["relax", str(tmp_path / "in.extxyz"), "--calc", toy, "--out", str(out), "-q"]
    assert main([*options, "--dask-scheduler", cluster.scheduler_address]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert [row["status"] for row in summary["results"]] == ["ok", "ok"]
    assert main([*options, "--dask-scheduler", cluster.scheduler_address, "--workers", "2"]) == 2
    assert "drop --workers" in capsys.readouterr().err


def test_heo_calc_relax_with_two_worker_processes_relaxes_correctly(toy, tmp_path):
    cells = _cells(2)
    write(tmp_path / "in.extxyz", cells)
    assert (
        main(
            [
                "relax",
                str(tmp_path / "in.extxyz"),
                "--calc",
                toy,
                "--out",
                str(tmp_path),
                "-q",
                "--workers",
                "2",
            ]
        )
        == 0
    )
    rows = json.loads((tmp_path / "summary.json").read_text())["results"]
    expected = relax_many(cells, toy, progress=False)
    assert [row["name"] for row in rows] == ["cell-0", "cell-1"]
    assert [row["n_steps"] for row in rows] == [r.n_steps for r in expected]
    np.testing.assert_allclose(
        [row["energy_eV"] for row in rows], [r.energy for r in expected], rtol=0, atol=1e-9
    )


def test_an_error_of_the_callers_callback_is_not_taken_for_a_broken_executor(toy):
    def refuse(result):
        raise ValueError("disk full")

    with ThreadPoolExecutor(1) as pool, pytest.raises(ValueError, match="disk full"):
        relax_many(_cells(2), open_model(toy, executor=pool), on_result=refuse, progress=False)


def test_an_unreachable_scheduler_is_a_clear_error():
    from heo_calc.relax.clusters import ClusterUnavailableError, dask_executor

    unreachable = "tcp://127.0.0.1:9"
    with (
        pytest.raises(ClusterUnavailableError, match=f"cannot reach a Dask scheduler at '{unreachable}'"),
        dask_executor(unreachable, timeout_s=1),
    ):
        pass
