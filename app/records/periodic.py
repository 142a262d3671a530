"""A background thread that runs one pass of some upkeep every interval.

Retention (app.records.retention) and audit checkpoints (app.records.checkpoints) run
this way in the serving process's primary worker; a pass that fails is logged and
tried again at the next interval, so the thread outlives any one bad pass.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from app.errors import StoreUnavailable

log = logging.getLogger(__name__)


class PeriodicWorker:
    """Calls ``run_once`` after ``first_delay`` seconds and then every ``interval``."""

    name = "periodic"

    def __init__(self, interval: timedelta, first_delay: float) -> None:
        self.interval = interval
        self.first_delay = first_delay
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> object:
        raise NotImplementedError

    def describe(self) -> str:
        """The log line at start: what runs how often."""
        return f"every {self.interval}"

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()
        log.info("%s: %s", self.name, self.describe())

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _loop(self) -> None:
        wait = self.first_delay
        while not self._stop.wait(wait):
            try:
                self.run_once()
            except StoreUnavailable as exc:
                log.warning("%s: store unavailable, trying again later: %s", self.name, exc)
            # log.exception keeps the traceback: the thread must outlive any one bad pass.
            except Exception:
                log.exception("%s: unexpected error; trying again later", self.name)
            wait = self.interval.total_seconds()
