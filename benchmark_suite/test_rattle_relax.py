"""Task 2: relax DFT-relaxed test structures the way DFT did (in their symmetry), and freely apart."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.heo_benchmark


def test_rattle_relax(heo_calc_name, heo_calculator, heo_dataset, heo_session, heo_run, heo_skip_task):
    from benchmark_suite.data import free_relaxation_supercells, relaxed_cells
    from benchmark_suite.tasks import RattleSettings, run_rattle_relax

    profile = heo_session.options.profile
    if not heo_dataset.n_with_forces:
        heo_skip_task(
            "rattle_relax",
            f"{heo_dataset.path} carries no DFT forces: the task needs them to find the DFT-relaxed structures",
        )
    cells = relaxed_cells(
        heo_dataset,
        n=profile.symmetric_n_structures,
        max_force_threshold=profile.relaxed_max_force,
        max_atoms=profile.symmetric_max_atoms,
    )
    supercells = free_relaxation_supercells(
        cells,
        n=profile.rattle_n_structures,
        min_atoms=profile.rattle_min_atoms,
        max_atoms=profile.rattle_max_atoms,
    )
    if not cells and not supercells:
        heo_skip_task(
            "rattle_relax",
            f"no test-split structure of {heo_dataset.path} with max |F| < {profile.relaxed_max_force} eV/Å "
            f"and <= {profile.symmetric_max_atoms or profile.rattle_max_atoms} atoms",
        )
    settings = RattleSettings(
        sigma=profile.rattle_sigma,
        strain=profile.rattle_strain,
        fmax=profile.fmax,
        symmetric_fmax=profile.symmetric_fmax,
        max_steps=profile.max_steps,
        engine=heo_session.options.relax_engine,
        symprec=profile.symprec,
    )
    result = heo_run(
        "rattle_relax",
        lambda: run_rattle_relax(
            heo_calculator,
            heo_calc_name,
            cells,
            supercells,
            settings,
            heo_session.journal("rattle_relax", heo_calc_name),
        ),
    )
    assert len(result.rows) == 2 * len(cells) + len(supercells)
