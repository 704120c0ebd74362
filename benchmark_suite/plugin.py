"""pytest plugin (``pytest11`` entry point ``heo_benchmark``): benchmark calculators on HEO tasks.

``pytest benchmark_suite --calc sevennet-0,chgnet --heo-dataset heo.h5 --heo-report out/``

This module is imported by every pytest run of the project, so it imports nothing heavy
at module level and does nothing unless ``--calc`` is given: heo_calc, torch and pandas
are imported inside the hooks and fixtures that need them.

* Options (group ``heo-benchmark``): ``--calc``, ``--heo-dataset``, ``--reference-calc``,
  ``--profile``, ``--heo-report`` and a few ``--heo-*`` tuning options. ``--calc``,
  ``--profile`` and ``--reference-calc`` also exist as ``--heo-calc``, ``--heo-profile``
  and ``--heo-reference-calc`` (the only spelling left if another plugin owns the short one).
* Every test that uses the ``heo_calc_name`` fixture is parametrized over ``--calc``; an
  unknown name is a usage error listing the registered names; a calculator that cannot be
  loaded here (e.g. ``mace-mp0`` without its weights offline) skips its tests with the
  reason and the fix while the others run. ``--calc all`` runs every calculator that
  ``heo-calc list`` reports available and lists the others as skipped, with the reason.
* Without ``--heo-dataset`` the dataset tasks use the benchmark set packaged with the suite
  (:func:`benchmark_suite.data.packaged_set`); a given file that is empty or unreadable is a
  usage error naming it.
* Results: each task writes its rows to a part file in a rows directory; the controller
  process merges them at session finish into ``--heo-report DIR`` (CSV, JSON, markdown,
  PNG) and prints the summary table. Under pytest-xdist (``-n``) the controller creates
  the rows directory and passes it to the workers, so the report is written once, by the
  controller.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from benchmark_suite.session import BenchmarkSession

SESSION_KEY = pytest.StashKey["BenchmarkSession | None"]()
OWNS_ROWS_KEY = pytest.StashKey[bool]()
MARKDOWN_KEY = pytest.StashKey[str]()
PATHS_KEY = pytest.StashKey[dict]()

NO_CALC_REASON = (
    "no calculators given: run `pytest benchmark_suite --calc NAME[,NAME...]` "
    "(`heo-calc list` prints the registered names)"
)
ALL = "all"


def _add(group: pytest.OptionGroup, names: tuple[str, ...], **kwargs: Any) -> None:
    """Add an option; if another plugin already owns a spelling, keep only the ``--heo-`` one."""
    try:
        group.addoption(*names, **kwargs)
    except ValueError:
        group.addoption(*[n for n in names if n.startswith("--heo-")], **kwargs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("heo-benchmark", "HEO benchmark suite (pytest benchmark_suite --calc ...)")
    _add_run_options(group)
    _add_size_options(group)
    _add_relaxation_options(group)


def _add_run_options(group: pytest.OptionGroup) -> None:
    """What runs: calculators, data, reference calculator, profile, report."""
    _add(
        group,
        ("--calc", "--heo-calc"),
        dest="heo_calc",
        action="append",
        default=[],
        metavar="NAMES",
        help="comma-separated calculator names from heo_calc's registry (or mace:PATH, sevennet:PATH), or "
        "`all` (every calculator `heo-calc list` reports available; the others are reported as skipped); "
        "every benchmark task runs for each; the first is the reference of the paired comparisons. "
        "Repeatable.",
    )
    group.addoption(
        "--heo-dataset",
        dest="heo_dataset",
        default=None,
        metavar="PATH",
        help="labelled HEO data: a heo-dataset .h5 file (its test split is used) or an extxyz file "
        "(.extxyz.gz too) with DFT_/REF_ energies and, ideally, forces (split by formula, seed 0, "
        "80/10/10, unless every structure has info['split']). Default: the benchmark set packaged "
        "with the suite (LeMat-Bulk HEO test split, CC-BY-4.0).",
    )
    _add(
        group,
        ("--reference-calc", "--heo-reference-calc"),
        dest="heo_reference_calc",
        default=None,
        metavar="NAME",
        help="calculator that evaluates every final substitution structure, a common energy yardstick "
        "(default: none).",
    )
    _add(
        group,
        ("--profile", "--heo-profile"),
        dest="heo_profile",
        default="quick",
        choices=("quick", "full"),
        help="quick (default; minutes on a laptop CPU) or full (the real benchmark).",
    )
    group.addoption(
        "--heo-report",
        dest="heo_report",
        default=None,
        metavar="DIR",
        help="write rows.csv, rows.json, summary.json, summary.md and PNG plots here at the end; each "
        "finished task and chunk of structures is kept in DIR/parts as it ends.",
    )
    group.addoption(
        "--heo-resume",
        dest="heo_resume",
        action="store_true",
        default=False,
        help="with --heo-report DIR of an interrupted run: reuse its finished (task, calculator) results "
        "and structures and run only the rest; refused when the options or a model's weights differ.",
    )


def _add_size_options(group: pytest.OptionGroup) -> None:
    """How many structures: overrides of the profile's sample sizes, rattle and seeds."""
    group.addoption(
        "--heo-n-accuracy",
        dest="heo_n_accuracy",
        type=int,
        default=None,
        metavar="N",
        help="accuracy: test structures evaluated, a seeded sample (default: quick 64, full all).",
    )
    group.addoption(
        "--heo-n-fit",
        dest="heo_n_fit",
        type=int,
        default=None,
        metavar="N",
        help="accuracy: train/valid structures for the per-element energy-reference fit, chosen to cover "
        "every element (default: quick 192, full all; 0 fits on the test structures, in-sample).",
    )
    group.addoption(
        "--heo-n-rattle",
        dest="heo_n_rattle",
        type=int,
        default=None,
        metavar="N",
        help="rattle-relax, free relaxation: DFT-relaxed test structures as rattled supercells, a seeded "
        "sample (default: quick 8, full every one within the profile's size bound).",
    )
    group.addoption(
        "--heo-n-symmetric",
        dest="heo_n_symmetric",
        type=int,
        default=None,
        metavar="N",
        help="rattle-relax, in symmetry (the headline): DFT-relaxed stored test cells, a seeded sample "
        "(default: quick 16 of <= 20 atoms, full every one).",
    )
    group.addoption(
        "--heo-rattle-sigma",
        dest="heo_rattle_sigma",
        type=float,
        default=None,
        metavar="Å",
        help="standard deviation of the rattle in Å (default 0.05).",
    )
    group.addoption(
        "--heo-seeds",
        dest="heo_seeds",
        type=int,
        default=None,
        metavar="N",
        help="substitution seeds 0..N-1 per lattice and arrangement (default: quick 1, full 3).",
    )


def _add_relaxation_options(group: pytest.OptionGroup) -> None:
    """How structures are relaxed and where the models run."""
    group.addoption(
        "--heo-fmax",
        dest="heo_fmax",
        type=float,
        default=None,
        metavar="eV/Å",
        help="relaxation threshold (default: quick 0.05, full 0.02).",
    )
    group.addoption(
        "--heo-max-steps",
        dest="heo_max_steps",
        type=int,
        default=None,
        metavar="N",
        help="optimizer steps per relaxation (default: quick 200, full 1000).",
    )
    group.addoption(
        "--heo-sqs",
        dest="heo_sqs",
        default="swap",
        choices=("swap", "sqsgenerator"),
        help="SQS search: swap (default, built in, deterministic) or sqsgenerator (needs the package).",
    )
    group.addoption(
        "--heo-relax-engine",
        dest="heo_relax_engine",
        choices=["fast", "sequential"],
        default="fast",
        help="relaxation engine: heo_calc's fast engine (worker processes on CPU, batched on GPU; default) "
        "or the plain sequential ASE loop, for comparison.",
    )
    group.addoption(
        "--heo-device",
        dest="heo_device",
        default="auto",
        choices=("auto", "cpu", "cuda"),
        help="device for every calculator (default auto: GPU if visible).",
    )


def _split_names(values: list[str]) -> list[str]:
    names: list[str] = []
    for value in values:
        for name in value.split(","):
            if name.strip() and name.strip() not in names:
                names.append(name.strip())
    return names


def _check_names(names: list[str], option: str) -> None:
    from heo_calc.registry import PATH_SCHEMES, calculator_names

    registered = calculator_names()
    unknown = [n for n in names if n not in registered and n.partition(":")[0] not in PATH_SCHEMES]
    if unknown:
        raise pytest.UsageError(
            f"{option}: unknown calculator name(s) {', '.join(repr(n) for n in unknown)}. "
            f"Available: {', '.join(registered)} (and {', '.join(f'{s}:PATH' for s in PATH_SCHEMES)} "
            f"for local model files, or {ALL!r})."
        )


def _expand_all(names: list[str]) -> tuple[list[str], tuple[tuple[str, str], ...]]:
    """``all`` replaced by every calculator ``heo-calc list`` reports available; the others with reasons."""
    if ALL not in names:
        return names, ()
    from heo_calc.registry import available_calculators

    statuses = available_calculators()
    available = [s.name for s in statuses if s.available]
    expanded: list[str] = []
    for name in names:
        expanded += [n for n in (available if name == ALL else [name]) if n not in expanded]
    unavailable = tuple(
        (s.name, f"{s.name!r} is not available here: {s.reason}")
        for s in statuses
        if not s.available and s.name not in expanded
    )
    return expanded, unavailable


def _read_dataset(option: str | None):
    """The ``--heo-dataset`` file, read now so that a bad file is a usage error naming it (or None)."""
    if option is None:
        return None
    from benchmark_suite.data import load_dataset
    from heo_base.errors import HEODataError

    path = Path(option)
    if not path.is_file():
        raise pytest.UsageError(f"--heo-dataset: {option} is not a file")
    try:
        return load_dataset(path.resolve())
    except (HEODataError, OSError, ValueError, UnicodeDecodeError) as error:
        message = str(error) if path.name in str(error) else f"{path}: {error}"
        raise pytest.UsageError(f"--heo-dataset: {message}") from error


def _profile(config: pytest.Config):
    from benchmark_suite.profiles import PROFILES

    seeds = config.getoption("heo_seeds")
    sigma = config.getoption("heo_rattle_sigma")
    if sigma is not None and sigma < 0:
        raise pytest.UsageError(f"--heo-rattle-sigma must be >= 0 Å, got {sigma}")
    for option in ("heo_n_accuracy", "heo_n_rattle", "heo_n_symmetric", "heo_n_fit"):
        value = config.getoption(option)
        if value is not None and value < (0 if option == "heo_n_fit" else 1):
            raise pytest.UsageError(f"--{option.replace('_', '-')} must be a positive count, got {value}")
    return PROFILES[config.getoption("heo_profile")].with_overrides(
        rattle_sigma=sigma,
        substitution_seeds=tuple(range(seeds)) if seeds is not None else None,
        fmax=config.getoption("heo_fmax"),
        max_steps=config.getoption("heo_max_steps"),
        accuracy_n_test=config.getoption("heo_n_accuracy"),
        accuracy_n_fit=config.getoption("heo_n_fit"),
        rattle_n_structures=config.getoption("heo_n_rattle"),
        symmetric_n_structures=config.getoption("heo_n_symmetric"),
    )


#: Folder of the report directory where each finished task's rows are stored as it ends.
PARTS_DIR = "parts"


def _prepare_parts(rows_dir: Path, options: Any, *, resume: bool) -> None:
    """Start ``rows_dir`` afresh, or check that a resumed run has the same options and weights."""
    from benchmark_suite.session import RUN_FILE, check_resumable, write_run_record

    if not resume:
        shutil.rmtree(rows_dir, ignore_errors=True)
    elif not (rows_dir / RUN_FILE).is_file():
        raise pytest.UsageError(
            f"--heo-resume: {rows_dir} holds no interrupted run ({RUN_FILE} is missing); run without "
            "--heo-resume to start one"
        )
    else:
        problem = check_resumable(rows_dir, options)
        if problem:
            raise pytest.UsageError(f"--heo-resume: {problem}")
    rows_dir.mkdir(parents=True, exist_ok=True)
    write_run_record(rows_dir, options)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "heo_benchmark: a task of the HEO benchmark suite (benchmark_suite/)")
    config.stash[SESSION_KEY] = None
    given = config.getoption("heo_calc", default=[]) or []
    names = _split_names(given)
    if given and not names:  # `--calc ''`: asked for calculators and named none
        raise pytest.UsageError(
            f"--calc names no calculator (got {', '.join(repr(value) for value in given)}); "
            "give NAME[,NAME...] or `all` (`heo-calc list` prints the registered names)"
        )
    if not names:
        return
    from benchmark_suite.session import BenchmarkOptions, BenchmarkSession

    _check_names([n for n in names if n != ALL], "--calc")
    names, unavailable = _expand_all(names)
    reference = config.getoption("heo_reference_calc")
    if reference:
        _check_names([reference], "--reference-calc")
    dataset = _read_dataset(config.getoption("heo_dataset"))
    report = config.getoption("heo_report")
    if config.getoption("heo_resume") and not report:
        raise pytest.UsageError("--heo-resume needs --heo-report DIR: the folder of the run to resume")
    options = BenchmarkOptions(
        resume=bool(config.getoption("heo_resume")),
        calculators=tuple(names),
        dataset=dataset.path if dataset is not None else None,
        reference_calc=reference,
        profile=_profile(config),
        report_dir=Path(report).resolve() if report else None,
        device=config.getoption("heo_device"),
        sqs_method=config.getoption("heo_sqs"),
        relax_engine=config.getoption("heo_relax_engine"),
        unavailable=unavailable,
    )
    workerinput = getattr(config, "workerinput", None)
    if workerinput is not None and "heo_rows_dir" in workerinput:
        rows_dir, worker_id, owns = Path(workerinput["heo_rows_dir"]), str(workerinput["workerid"]), False
    elif report:
        # Kept beside the report: every finished (task, calculator) survives a killed run.
        rows_dir, worker_id, owns = Path(report).resolve() / PARTS_DIR, "main", False
        _prepare_parts(rows_dir, options, resume=bool(config.getoption("heo_resume")))
    else:
        rows_dir, worker_id, owns = Path(tempfile.mkdtemp(prefix="heo-benchmark-rows-")), "main", True
    session = BenchmarkSession(options, rows_dir, worker_id)
    if dataset is not None:
        session.use_dataset(dataset)
    if workerinput is None:  # the controller (or the only process) records what --calc all left out
        for name, reason in unavailable:
            session.record_skip(name, reason)
    config.stash[SESSION_KEY] = session
    config.stash[OWNS_ROWS_KEY] = owns


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """pytest-xdist: hand the controller's rows directory to each worker."""
    session = node.config.stash.get(SESSION_KEY, None)
    if session is not None:
        node.workerinput["heo_rows_dir"] = str(session.rows_dir)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    session = config.stash.get(SESSION_KEY, None)
    if session is None:
        return None
    options = session.options
    skipped = f" (unavailable: {', '.join(n for n, _ in options.unavailable)})" if options.unavailable else ""
    return [
        f"heo-benchmark: calculators {', '.join(options.calculators) or 'none'}{skipped}; "
        f"profile {options.profile.name}; dataset {options.dataset or 'packaged benchmark set'}; "
        f"reference {options.reference_calc or 'none'}; report {options.report_dir or 'none'}"
    ]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "heo_calc_name" not in metafunc.fixturenames:
        return
    session = metafunc.config.stash.get(SESSION_KEY, None)
    if session is None:
        metafunc.parametrize(
            "heo_calc_name",
            [pytest.param(None, marks=pytest.mark.skip(reason=NO_CALC_REASON))],
            ids=["no-calc"],
        )
        return
    names = list(session.options.calculators)
    metafunc.parametrize("heo_calc_name", names, ids=_test_ids(names))


def _test_ids(names: list[str]) -> list[str]:
    """Test ids: the name, with ``SCHEME:PATH`` shortened to ``SCHEME:FILENAME`` where unique."""
    short = [f"{n.partition(':')[0]}:{Path(n.partition(':')[2]).name}" if ":" in n else n for n in names]
    return short if len(set(short)) == len(short) else names


@pytest.fixture(scope="session")
def heo_session(request: pytest.FixtureRequest) -> BenchmarkSession:
    """The benchmark run of this process (options, caches, result writer)."""
    session = request.config.stash.get(SESSION_KEY, None)
    if session is None:
        pytest.skip(NO_CALC_REASON)
    return session


@pytest.fixture
def heo_calculator(heo_session: BenchmarkSession, heo_calc_name: str):
    """The calculator under test, loaded once per session; skips with the reason if unavailable."""
    from benchmark_suite.session import CalculatorUnavailable

    try:
        return heo_session.calculator(heo_calc_name)
    except CalculatorUnavailable as error:
        pytest.skip(str(error))


@pytest.fixture(scope="session")
def heo_dataset(heo_session: BenchmarkSession):
    """The labelled HEO dataset: ``--heo-dataset`` or the packaged benchmark set."""
    try:
        return heo_session.dataset()
    except FileNotFoundError as error:  # the packaged set is missing: a broken install
        pytest.skip(str(error))


@pytest.fixture
def heo_skip_task(heo_session: BenchmarkSession):
    """``heo_skip_task(task, reason)``: skip this test and say in the report why ``task`` did not run."""

    def skip(task: str, reason: str):
        heo_session.record_task_skip(task, reason)
        pytest.skip(reason)

    return skip


@pytest.fixture
def heo_run(request: pytest.FixtureRequest, heo_session: BenchmarkSession, heo_calc_name: str):
    """``heo_run(task, function)``: time ``function`` once (pytest-benchmark) and record its result.

    With ``--heo-resume``, a (task, calculator) the interrupted run finished is returned as it was.
    """
    from benchmark_suite.metrics import point_values

    def run(task: str, function):
        finished = heo_session.finished_result(task, heo_calc_name)
        if finished is not None:
            return finished
        try:
            benchmark = request.getfixturevalue("benchmark")
        except pytest.FixtureLookupError:  # pytest-benchmark not installed: just run it
            benchmark = None
        if benchmark is None:
            result = function()
        else:
            benchmark.group = task
            result = benchmark.pedantic(function, rounds=1, iterations=1)
            benchmark.extra_info.update(
                n=len(result.rows), n_failed=result.n_failed, **point_values(task, result.rows)
            )
        heo_session.record(result)
        if len(result.rows) and result.n_failed == len(result.rows):
            import warnings

            warnings.warn(
                f"{task}: every structure failed for {result.calculator} "
                f"(first error: {result.rows['error'].iloc[0]})",
                stacklevel=2,
            )
        return result

    return run


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    bench = config.stash.get(SESSION_KEY, None)
    if bench is None or hasattr(config, "workerinput"):
        return
    from benchmark_suite.report import build_report, markdown_report, write_report
    from benchmark_suite.session import collect_parts

    try:
        parts = collect_parts(bench.rows_dir)
        if not parts:
            return
        options = bench.options
        report = build_report(
            parts.records,
            calculators=[*options.calculators, *(n for n, _ in options.unavailable)],
            skipped=parts.skipped,
            context=options.context(),
            task_skips=parts.task_skips,
            identities=parts.identities,
        )
        if options.report_dir is not None:
            paths = write_report(options.report_dir, report)
            config.stash[PATHS_KEY] = {k: str(v) for k, v in paths.items()}
        config.stash[MARKDOWN_KEY] = markdown_report(report)
    finally:
        if config.stash.get(OWNS_ROWS_KEY, False):
            shutil.rmtree(bench.rows_dir, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    markdown = config.stash.get(MARKDOWN_KEY, None)
    if not markdown:
        return
    terminalreporter.write_sep("=", "HEO benchmark")
    terminalreporter.write_line(markdown)
    paths = config.stash.get(PATHS_KEY, None)
    if paths:
        terminalreporter.write_line(f"report written to {Path(paths['summary_md']).parent}")
