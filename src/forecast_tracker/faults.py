"""Crash points for the crash tests: kill this process at a named step, so a test can prove that a
crash exactly there loses nothing, every time (a kill after a guessed delay lands anywhere, or
nowhere). Set FORECAST_TRACKER_CRASH_AT=NAME:N to SIGKILL the process the Nth time it passes NAME.
Unset (always, outside those tests), a crash point costs one dictionary lookup."""

from __future__ import annotations

import os

_passed: dict[str, int] = {}


def crash_point(name: str) -> None:
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
