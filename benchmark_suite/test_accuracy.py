"""Task 1: energy, force (and stress) accuracy on the dataset's test split, per calculator."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.heo_benchmark


def test_accuracy(heo_calc_name, heo_calculator, heo_dataset, heo_session, heo_run, heo_skip_task):
    from benchmark_suite.data import element_coverage_sample, sample
    from benchmark_suite.tasks import run_accuracy

    profile = heo_session.options.profile
    test = sample(heo_dataset.split("test"), profile.accuracy_n_test)
    pool = [
        atoms
        for atoms in heo_dataset.split("train") + heo_dataset.split("valid")
        if profile.accuracy_fit_max_atoms is None or len(atoms) <= profile.accuracy_fit_max_atoms
    ]
    fit = element_coverage_sample(pool, profile.accuracy_n_fit) if profile.accuracy_n_fit != 0 else []
    if not test:
        heo_skip_task("accuracy", f"{heo_dataset.path} has no test-split structures")
    result = heo_run(
        "accuracy", lambda: run_accuracy(heo_calculator, heo_calc_name, test, fit, worst_k=profile.worst_k)
    )
    assert len(result.rows) == len(test)
