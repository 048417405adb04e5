"""The farm's clock: Redis's, so that every host stamps and judges job times on one clock.

A host whose own wall clock is off (no NTP, a VM resumed from a snapshot) would otherwise
stamp job state in the future or the past, and its sweeper and dramatiq's dead-worker check
would judge the other hosts by it: a host 5 minutes ahead finds every job stale and every
other worker dead (their messages run again). The offset to Redis's TIME is measured every
`farm.clock_refresh_s` (one round trip, half of it taken as the delay); while Redis does not
answer, the last offset is kept.
"""
from __future__ import annotations

import threading
import time

import redis


class RedisClock:
    """Wall-clock seconds on Redis's clock, from this host's clock and a measured offset."""

    def __init__(self, client: redis.Redis, refresh_s: float):
        self.client = client
        self.refresh_s = refresh_s
        self.offset = 0.0
        self._measured = float("-inf")  # time.monotonic() of the last try
        self._lock = threading.Lock()

    def time(self) -> float:
        if time.monotonic() - self._measured >= self.refresh_s:
            self._measure()
        return time.time() + self.offset

    def _measure(self) -> None:
        with self._lock:
            if time.monotonic() - self._measured < self.refresh_s:
                return  # another thread just did
            self._measured = time.monotonic()
            try:
                before = time.time()
                seconds, micros = self.client.time()
                after = time.time()
            except redis.RedisError:
                return
            self.offset = int(seconds) + int(micros) / 1e6 - (before + after) / 2
