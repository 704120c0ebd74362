"""pytest plugin (``pytest11`` entry point ``heo_benchmark``): benchmark calculators on HEO tasks.

``pytest benchmark_suite --calc sevennet-0,chgnet --heo-dataset heo.h5 --heo-report out/``

This module is imported by every pytest run of the project, so it imports nothing heavy
at module level and does nothing unless ``--calc`` is given: heo_calc, torch and pandas
are imported inside the hooks and fixtures that need them.

* Options (group ``heo-benchmark``): ``--calc``, ``--heo-dataset``, ``--reference-calc``,
  ``--profile``, ``--heo-report``, ``--heo-tasks`` and a few ``--heo-*`` tuning options; each
  task's size options are generated from its record (``TaskSpec.options``), and only added when
  ``--calc`` or ``--help`` is given (importing the records costs seconds). ``--calc``,
  ``--profile`` and ``--reference-calc`` also exist as ``--heo-calc``, ``--heo-profile``
  and ``--heo-reference-calc`` (the only spelling left if another plugin owns the short one).
* One test (``benchmark_suite/test_tasks.py``) is parametrized over the registered tasks
  (``heo_task``, or ``--heo-tasks``) and over ``--calc`` (``heo_calc_name``); an
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

from heo_base.types import DEVICES, RELAX_ENGINES

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
        help="calculator that evaluates the final structures of the tasks that use one, a common energy "
        "yardstick (default: none).",
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
        "--heo-tasks",
        dest="heo_tasks",
        default=None,
        metavar="NAMES",
        help="comma-separated benchmark tasks to run (default: every registered task).",
    )
    group.addoption(
        "--heo-resume",
        dest="heo_resume",
        action="store_true",
        default=False,
        help="with --heo-report DIR of an interrupted run: reuse its finished (task, calculator) results "
        "and structures and run only the rest; refused when the options or a model's weights differ.",
    )


def _task_options_wanted(config: pytest.Config) -> bool:
    """Whether this run needs the tasks' size options: calculators are given, or help is asked for."""
    known = config.known_args_namespace
    return bool(getattr(known, "heo_calc", None)) or bool(getattr(known, "help", False))


def _add_size_options(parser: pytest.Parser) -> None:
    """Every registered task's size options (``TaskSpec.options``), defaults from the profiles."""
    from benchmark_suite.registry import TASKS

    group = parser.getgroup("heo-benchmark")
    for spec in TASKS.values():
        for option in spec.options:
            defaults = ", ".join(
                f"{profile} {_shown(getattr(sizes, option.field))}" for profile, sizes in spec.sizes.items()
            )
            group.addoption(
                option.flag,
                dest=option.dest,
                type=option.type,
                default=None,
                metavar=option.metavar,
                help=f"{spec.name}: {option.help} (default: {defaults}).",
            )


def _shown(value: object) -> str:
    """A default as the help shows it (``None``: all; a range of seeds: its length)."""
    if value is None:
        return "all"
    if isinstance(value, tuple) and value == tuple(range(len(value))):
        return str(len(value))
    return str(value)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    """Add the tasks' size options once the early parse shows they are needed (``--calc`` or ``--help``).

    Importing the task records costs seconds (pandas, ASE); a project test run without
    ``--calc`` does not pay it. pytest parses the command line in full after this hook.
    """
    if _task_options_wanted(early_config):
        _add_size_options(parser)


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
        choices=RELAX_ENGINES,
        default="fast",
        help="relaxation engine: heo_calc's fast engine (in this process on a CPU, batched on a GPU; default) "
        "or the plain sequential ASE loop, for comparison.",
    )
    group.addoption(
        "--heo-device",
        dest="heo_device",
        default="auto",
        choices=DEVICES,
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
    """The ``--profile`` with the shared overrides and every task's size options applied."""
    from benchmark_suite.profiles import PROFILES
    from benchmark_suite.registry import TASKS

    sizes: dict[str, dict[str, object]] = {}
    for spec in TASKS.values():
        for option in spec.options:
            given = config.getoption(option.dest, None)
            if given is None:
                continue
            try:
                sizes.setdefault(spec.name, {})[option.field] = option.value(given)
            except ValueError as error:
                raise pytest.UsageError(str(error)) from None
    return PROFILES[config.getoption("heo_profile")].with_overrides(
        fmax=config.getoption("heo_fmax"), max_steps=config.getoption("heo_max_steps"), sizes=sizes
    )


def _tasks(config: pytest.Config) -> list[str]:
    """``--heo-tasks`` (checked against the registry), or every registered task."""
    from benchmark_suite.registry import TASKS

    chosen = _split_names([config.getoption("heo_tasks") or ""]) or list(TASKS)
    unknown = [name for name in chosen if name not in TASKS]
    if unknown:
        raise pytest.UsageError(
            f"--heo-tasks: unknown task(s) {', '.join(map(repr, unknown))}; registered: {', '.join(TASKS)}"
        )
    return chosen


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
        tasks=tuple(_tasks(config)),
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
    session = metafunc.config.stash.get(SESSION_KEY, None)
    if "heo_task" in metafunc.fixturenames:
        from benchmark_suite.registry import TASKS

        tasks = list(session.options.tasks) if session is not None else list(TASKS)
        metafunc.parametrize("heo_task", tasks, ids=tasks)
    if "heo_calc_name" not in metafunc.fixturenames:
        return
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
def heo_model(heo_session: BenchmarkSession, heo_calc_name: str):
    """The model under test (:class:`heo_calc.model.ModelHandle`), opened once per session; skips with the reason if unavailable."""
    from benchmark_suite.session import CalculatorUnavailable

    try:
        return heo_session.model(heo_calc_name)
    except CalculatorUnavailable as error:
        pytest.skip(str(error))


@pytest.fixture
def heo_calculator(heo_model):
    """The ASE calculator of the model under test (``heo_model.calculator()``), for your own benchmark tests."""
    return heo_model.calculator()


@pytest.fixture(scope="session")
def heo_dataset(heo_session: BenchmarkSession):
    """The labelled HEO dataset: ``--heo-dataset`` or the packaged benchmark set."""
    try:
        return heo_session.dataset()
    except FileNotFoundError as error:  # the packaged set is missing: a broken install
        pytest.skip(str(error))


@pytest.fixture
def heo_task_inputs(heo_session: BenchmarkSession, heo_task: str, heo_skip_task):
    """The inputs of ``heo_task`` for this session (prepared once); skips the task with the reason if it cannot run."""
    from benchmark_suite.task_spec import TaskSkip

    try:
        return heo_session.task_inputs(heo_task)
    except TaskSkip as error:
        heo_skip_task(heo_task, str(error))
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
