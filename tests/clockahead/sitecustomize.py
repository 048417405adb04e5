"""A host whose wall clock runs ahead, for the multi-host tests: on PYTHONPATH, Python imports this at start-up.

`time.time`, `time.time_ns` and `datetime.datetime.now/utcnow/today` read
LESSONQC_TEST_CLOCK_AHEAD_S seconds ahead in this process and every Python process it starts;
the monotonic clock is untouched, as with a real wall-clock skew. (libfaketime hangs Python
3.11's timed waits, and a time namespace cannot move the wall clock.)
"""
from __future__ import annotations

import datetime as _datetime
import os
import time

AHEAD_S = float(os.environ.get("LESSONQC_TEST_CLOCK_AHEAD_S") or 0)
_time, _time_ns, _base = time.time, time.time_ns, _datetime.datetime


def _ahead() -> float:
    return _time() + AHEAD_S


class _AheadDatetime(_base):
    """datetime whose notion of now is AHEAD_S later (no instance dict: C extensions check the size)."""

    __slots__ = ()

    @classmethod
    def now(cls, tz=None):  # noqa: ANN001, ANN206 - datetime's signature
        return cls.fromtimestamp(_ahead(), tz)

    @classmethod
    def utcnow(cls):  # noqa: ANN206
        return cls.now(_datetime.timezone.utc).replace(tzinfo=None)

    @classmethod
    def today(cls):  # noqa: ANN206
        return cls.now()


if AHEAD_S:
    time.time = _ahead
    time.time_ns = lambda: _time_ns() + int(AHEAD_S * 1e9)
    _datetime.datetime = _AheadDatetime
