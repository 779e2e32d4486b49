"""Crash points for the crash and concurrency tests: kill this process at a named step, so a test can
prove that a crash exactly there loses nothing, every time (a kill after a guessed delay lands
anywhere, or nowhere). Set FORECAST_TRACKER_CRASH_AT=NAME:N to SIGKILL the process the Nth time it
passes NAME, or FORECAST_TRACKER_PAUSE_AT=NAME:FILE to wait there (at most PAUSE_LIMIT seconds) until
FILE exists, so other commands can run while this one stands exactly there. Unset (always, outside
those tests), a crash point costs two dictionary lookups."""

from __future__ import annotations

import os

_passed: dict[str, int] = {}


PAUSE_LIMIT = 120.0


def crash_point(name: str) -> None:
    pause = os.environ.get("FORECAST_TRACKER_PAUSE_AT")
    if pause and pause.partition(":")[0] == name:
        import time

        release, waited = pause.partition(":")[2], 0.0
        while not os.path.exists(release) and waited < PAUSE_LIMIT:
            time.sleep(0.05)
            waited += 0.05
    target = os.environ.get("FORECAST_TRACKER_CRASH_AT")
    if not target:
        return
    where, _, count = target.partition(":")
    if where != name:
        return
    _passed[name] = _passed.get(name, 0) + 1
    if _passed[name] == int(count or 1):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
