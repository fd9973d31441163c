"""The one clock of kap12.

SpiffWorkflow's timer events call ``datetime.now(timezone.utc)`` directly. Tests, catch-up after
downtime and auditors' re-execution all need to control what "now" is, so the engine owns a clock
and points SpiffWorkflow's timer module at it, in this one place.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone, tzinfo

import SpiffWorkflow.bpmn.specs.event_definitions.timer as _spiff_timer


class Clock:
    """Wall-clock time, unless frozen or shifted (tests, replays)."""

    def __init__(self) -> None:
        self._fixed: datetime | None = None
        self._offset = timedelta(0)
        self._local = threading.local()

    def now(self) -> datetime:
        pinned = getattr(self._local, "pinned", None)
        if pinned is not None:
            return pinned
        if self._fixed is not None:
            return self._fixed
        return datetime.now(timezone.utc) + self._offset

    def set(self, when: datetime) -> None:
        """Freeze time at ``when`` (timezone-aware)."""
        if when.tzinfo is None:
            raise ValueError("Clock.set needs a timezone-aware datetime")
        self._fixed = when.astimezone(timezone.utc)

    def advance(self, delta: timedelta) -> None:
        if self._fixed is not None:
            self._fixed += delta
        else:
            self._offset += delta

    def unfreeze(self) -> None:
        self._fixed, self._offset = None, timedelta(0)

    class _Pin:
        def __init__(self, clock: "Clock", when: datetime) -> None:
            self.clock, self.when = clock, when
            self.before: datetime | None = None

        def __enter__(self) -> datetime:
            self.before = getattr(self.clock._local, "pinned", None)
            self.clock._local.pinned = self.when
            return self.when

        def __exit__(self, *exc: object) -> None:
            self.clock._local.pinned = self.before

    def pinned(self, when: datetime) -> "_Pin":
        """Within this block, on this thread, now() is ``when``: a step runs at the one moment it
        records (its timers' due times are counted from it, to the microsecond, as re-execution
        of its history will count them), and re-execution runs each step at its recorded time."""
        return Clock._Pin(self, when)


SYSTEM_CLOCK = Clock()
_active = SYSTEM_CLOCK


def use_clock(clock: Clock) -> None:
    """Make ``clock`` the one SpiffWorkflow's timers read."""
    global _active
    _active = clock


def active_clock() -> Clock:
    return _active


class _EngineDatetime(datetime):
    """A datetime whose now() asks the engine's clock; everything else is datetime's."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        current = _active.now()
        return current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)


_spiff_timer.datetime = _EngineDatetime
