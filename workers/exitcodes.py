"""Documented exit codes of the `lessonqc` CLI (docs/cli.md lists them), by verdict and by error."""
from __future__ import annotations

from collections.abc import Iterable

import redis

from models.errors import ModelError
from pipelines.errors import InputUnreadable, LessonQCError

PASS = 0
REVIEW = 1
FAIL = 2
ERROR = 3      # at least one input could not be checked (verdict error: unreadable, missing, over limits)
USAGE = 4      # bad command line, unknown/invalid profile, missing tool or model, refused path, farm unreachable
INTERNAL = 5   # an unexpected fault in LessonQC itself (a bug: please report)

BY_VERDICT = {"pass": PASS, "review": REVIEW, "fail": FAIL, "error": ERROR}
VERDICT_ORDER = ("pass", "review", "fail", "error")  # better to worse

# Errors LessonQC expects (exit USAGE): its own, the model store's, a wait that ran out, the farm's Redis.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (LessonQCError, ModelError, TimeoutError, redis.RedisError)


def worst(verdicts: Iterable[str]) -> str:
    """The worst of some verdicts ("pass" for none)."""
    return max(verdicts, key=VERDICT_ORDER.index, default="pass")


def for_verdicts(verdicts: Iterable[str]) -> int:
    """Exit code of a run that produced these verdicts: the worst decides."""
    return BY_VERDICT[worst(verdicts)]


def for_error(exc: BaseException) -> int | None:
    """Exit code of an error raised out of a command; None when it is not expected (INTERNAL)."""
    if isinstance(exc, InputUnreadable):
        return ERROR
    return USAGE if isinstance(exc, EXPECTED_ERRORS) else None
