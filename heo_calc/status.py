"""The one set of status words of results (evaluations, relaxations, screens, benchmark rows)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    """How the work on one structure ended; the values are what files and tables show.

    ``ok``: done (an evaluation that returned finite numbers, a relaxation that
    converged); ``not_converged``: a relaxation that ran out of steps; ``failed``: an
    error, recorded beside the result.
    """

    OK = "ok"
    NOT_CONVERGED = "not_converged"
    FAILED = "failed"
