"""Every registered benchmark task against every calculator of ``--calc``: one parametrized test.

The tasks are the records of :data:`benchmark_suite.registry.TASKS` (``--heo-tasks`` picks some);
each record prepares its inputs once per session (``TaskSpec.prepare``) and runs them for one
model (``TaskSpec.run``, with the :class:`heo_calc.model.ModelHandle` the session opened); the plugin records the rows for the report.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.heo_benchmark


def test_task(heo_task, heo_model, heo_session, heo_task_inputs, heo_run):
    from benchmark_suite.registry import task_spec

    spec = task_spec(heo_task)
    assert spec.run is not None, f"task {heo_task!r} has no run function"
    result = heo_run(heo_task, lambda: spec.run(heo_task_inputs, heo_model, heo_session))
    if spec.expected_rows is not None:
        assert len(result.rows) == spec.expected_rows(heo_task_inputs)
