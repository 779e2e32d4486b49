"""forecast-tracker: hold forecasts to account, tying every probability change to its evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.3.0"
__all__ = ["Tracker", "InputError", "TrackerError", "__version__"]

from .errors import InputError, TrackerError

if TYPE_CHECKING:
    from .api import Tracker


def __getattr__(name: str):
    if name == "Tracker":
        from .api import Tracker

        return Tracker
    raise AttributeError(name)
