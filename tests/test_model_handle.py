"""The one model handle (:func:`heo_calc.model.open_model`) and ``relax_many(structures, model, options)``.

The model is the cheap analytic ``toy-ionic`` (tests/toy_ionic.py), registered by name like a
third-party backend, on 8-atom rock-salt cells.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import toy_ionic
from ase import Atoms

from heo_calc.backends.capabilities import covered_atomic_numbers
from heo_calc.errors import UnknownCalculatorError
from heo_calc.model import ModelHandle, open_model
from heo_calc.provenance import identity_key, model_identity
from heo_calc.registry import get_calculator
from heo_calc.relax import RelaxOptions, relax_many

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    with toy_ionic.installed(tmp_path_factory.mktemp("toy-ionic")) as name:
        yield name


def _cells(n: int = 2) -> list[Atoms]:
    return toy_ionic.named_cells(n)


def test_a_handle_builds_its_model_once_and_answers_for_it(toy):
    builds = toy_ionic.BUILDS
    with open_model(toy, device="cpu") as model:
        assert (model.name, model.device, model.where, model.runs_here) == (toy, "cpu", "this process", True)
        assert builds == toy_ionic.BUILDS  # a name is checked at once, built on first use
        calculator = model.calculator()
        assert model.calculator() is calculator
        assert builds + 1 == toy_ionic.BUILDS
        assert model.identity() == model_identity(get_calculator(toy, device="cpu"), toy)
        assert model.covered_numbers() == covered_atomic_numbers(calculator)
        assert not model.batches()


def test_a_calculator_object_runs_here_as_it_is(toy):
    calculator = get_calculator(toy, device="cpu")
    model = open_model(calculator)
    assert (model.name, model.device, model.label) == (None, "cpu", type(calculator).__name__)
    assert model.calculator() is calculator
    assert open_model(model) is model  # a handle is returned as it is


@pytest.mark.parametrize(
    ("model", "options", "message"),
    [
        ("no-such-model", {}, "no calculator named 'no-such-model'"),
        ("TOY", {"device": "gpu"}, "unknown device 'gpu'; choose one of auto, cpu, cuda"),
        ("TOY", {"workers": 0}, "workers must be >= 1 worker process, got 0"),
        (
            "TOY",
            {"workers": 2, "dask_scheduler": "tcp://nowhere:8786"},
            "give one of executor, workers and dask_scheduler, not workers and dask_scheduler",
        ),
        ("OBJECT", {"workers": 2}, "need the calculator as a registry name"),
    ],
)
def test_bad_requests_fail_before_anything_is_built_or_started(toy, model, options, message):
    model = {"TOY": toy, "OBJECT": get_calculator(toy, device="cpu")}.get(model, model)
    builds = toy_ionic.BUILDS
    with pytest.raises((ValueError, UnknownCalculatorError), match=re.escape(message)):
        open_model(model, **options)
    assert builds == toy_ionic.BUILDS


def test_on_worker_processes_the_workers_answer_and_closing_stops_them(toy):
    with open_model(toy, device="cpu") as here:
        expected = (identity_key(here.identity()), here.covered_numbers())
        sequential = relax_many(_cells(), here, progress=False)
    with open_model(toy, device="cpu", workers=2) as model:
        assert (model.where, model.runs_here) == ("2 local worker processes", False)
        assert (identity_key(model.identity()), model.covered_numbers()) == expected
        first = relax_many(_cells(), model, progress=False)
        again = relax_many(_cells(), model, progress=False)  # relax_many does not close a handle it is given
        pool = model.executor
    with pytest.raises(RuntimeError, match="shutdown"):
        pool.submit(print)
    for results in (first, again):
        assert [r.n_steps for r in results] == [r.n_steps for r in sequential]
        np.testing.assert_allclose([r.energy for r in results], [r.energy for r in sequential], atol=1e-8)


def test_an_executor_given_by_the_caller_is_not_closed_with_the_handle(toy):
    with ThreadPoolExecutor(max_workers=1) as pool:
        with open_model(toy, executor=pool) as model:
            assert model.where == "executor ThreadPoolExecutor"
            (result,) = relax_many(_cells(1), model, progress=False)
        assert result.status == "ok"
        assert pool.submit(lambda: 42).result() == 42


def test_options_and_the_old_keywords_give_the_same_relaxation(toy):
    options = RelaxOptions(fmax=0.01, max_steps=50, optimizer="fire")
    with open_model(toy, device="cpu") as model:
        new = relax_many(_cells(), model, options, progress=False)
    with pytest.warns(
        DeprecationWarning, match=r"pass relax_many\(structures, model, RelaxOptions\(\.\.\.\)\)"
    ):
        old = relax_many(_cells(), toy, fmax=0.01, max_steps=50, optimizer="fire", progress=False)
    with pytest.warns(DeprecationWarning, match=r"open_model\(name, device=\.\.\.\)"):
        relax_many(_cells(1), toy, device="cpu", progress=False)
    assert [r.n_steps for r in old] == [r.n_steps for r in new]
    np.testing.assert_allclose([r.energy for r in old], [r.energy for r in new], atol=1e-10)


def test_the_old_keywords_are_refused_where_they_would_be_ambiguous(toy):
    with open_model(toy, device="cpu") as model:
        with pytest.raises(TypeError, match="give the relaxation settings once"):
            relax_many(_cells(1), model, RelaxOptions(), fmax=0.1)
        with pytest.raises(TypeError, match=r"device: where the model runs is set by open_model\(\)"):
            relax_many(_cells(1), model, device="cpu")
        with pytest.raises(TypeError, match="unexpected keyword arguments: fmx"):
            relax_many(_cells(1), model, fmx=0.1)


#: Modules that open models: through the handle only (heo_calc.model is where models are built).
OPENERS = [
    "heo_calc/cli/relax.py",
    "heo_calc/relax",
    "heo_calc/screening",
    "benchmark_suite",
]


def test_relax_screen_and_benchmark_open_models_only_through_the_handle():
    """No second place decides which model, where, and with which identity."""
    offenders = []
    for opener in OPENERS:
        path = ROOT / opener
        for source in [path] if path.is_file() else sorted(path.rglob("*.py")):
            text = source.read_text(encoding="utf-8")
            for forbidden in ("get_calculator(", "model_identity(", "dask_executor(", "local_processes("):
                if forbidden in text:
                    offenders.append(f"{source.relative_to(ROOT)}: {forbidden}")
    assert offenders == []
    assert "open_model" in (ROOT / "heo_calc/cli/relax.py").read_text()
    assert "open_model" in (ROOT / "heo_calc/screening/runner.py").read_text()
    assert "open_model" in (ROOT / "benchmark_suite/session.py").read_text()


def test_a_run_record_of_an_older_version_still_resumes(tmp_path):
    """relax.json and screen.json written before the settings held RelaxOptions lack its newer fields."""
    from heo_calc.relax.store import RelaxRunSettings, RelaxStore

    settings = RelaxRunSettings("toy-ionic", "abc123", 2, RelaxOptions(fmax=0.05, max_steps=500))
    old = {
        k: v
        for k, v in settings.decisive().items()
        if k not in ("initial_hessian", "keep_symmetry", "symprec")
    }
    assert set(old) == {
        "calculator",
        "inputs",
        "n_structures",
        "fmax",
        "max_steps",
        "optimizer",
        "relax_cell",
    }
    (tmp_path / "relax.json").write_text(json.dumps({"settings": old, "model": {}, "model_key": "x"}))
    store = RelaxStore(tmp_path)
    store.check(settings, resume=True)  # the older run used the defaults of the fields it lacks
    changed = RelaxRunSettings(
        "toy-ionic", "abc123", 2, RelaxOptions(fmax=0.05, max_steps=500, keep_symmetry=True)
    )
    with pytest.raises(ValueError, match="keep_symmetry: False there, True now"):
        store.check(changed, resume=True)


def test_handles_are_what_the_relaxation_strategies_receive(toy):
    from heo_calc.relax.strategies import Lockstep, OnExecutor, Sequential, choose_strategy

    with open_model(toy, device="cpu") as model:
        assert isinstance(choose_strategy("auto", model), Sequential)
        assert isinstance(choose_strategy("lockstep", model), Lockstep)
        with pytest.raises(ValueError, match="unknown strategy 'fast'"):
            choose_strategy("fast", model)
    with ThreadPoolExecutor(max_workers=1) as pool:
        assert isinstance(choose_strategy("auto", open_model(toy, executor=pool)), OnExecutor)
    assert isinstance(model, ModelHandle)
