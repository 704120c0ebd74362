"""Task 2: rattle DFT-relaxed test structures and relax them back (in distribution)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.heo_benchmark


def test_rattle_relax(heo_calc_name, heo_calculator, heo_dataset, heo_session, heo_run, heo_skip_task):
    from benchmark_suite.data import relaxed_references
    from benchmark_suite.tasks import run_rattle_relax

    profile = heo_session.options.profile
    if not heo_dataset.n_with_forces:
        heo_skip_task(
            "rattle_relax",
            f"{heo_dataset.path} carries no DFT forces: the task needs them to find the DFT-relaxed structures",
        )
    references = relaxed_references(
        heo_dataset,
        n=profile.rattle_n_structures,
        max_force_threshold=profile.relaxed_max_force,
        min_atoms=profile.rattle_min_atoms,
        max_atoms=profile.rattle_max_atoms,
    )
    if not references:
        heo_skip_task(
            "rattle_relax",
            f"no test-split structure of {heo_dataset.path} with max |F| < {profile.relaxed_max_force} eV/Å "
            f"and <= {profile.rattle_max_atoms} atoms",
        )
    result = heo_run(
        "rattle_relax",
        lambda: run_rattle_relax(
            heo_calculator,
            heo_calc_name,
            references,
            sigma=profile.rattle_sigma,
            fmax=profile.fmax,
            engine=heo_session.options.relax_engine,
            max_steps=profile.max_steps,
            symprec=profile.symprec,
        ),
    )
    assert len(result.rows) == len(references)
