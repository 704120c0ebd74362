"""Task 3: relax equimolar five-cation supercells of four parent lattices (out of distribution)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.heo_benchmark


def test_substitution(heo_calc_name, heo_calculator, heo_session, heo_run):
    from benchmark_suite.tasks import run_substitution

    profile = heo_session.options.profile
    generated = heo_session.substitution_structures()
    reference_calculator, reference_name = heo_session.reference_calculator()
    result = heo_run(
        "substitution",
        lambda: run_substitution(
            heo_calculator,
            heo_calc_name,
            generated,
            fmax=profile.fmax,
            engine=heo_session.options.relax_engine,
            max_steps=profile.max_steps,
            reference_calculator=reference_calculator,
            reference_name=reference_name,
            journal=heo_session.journal("substitution", heo_calc_name),
        ),
    )
    assert len(result.rows) == len(generated)
