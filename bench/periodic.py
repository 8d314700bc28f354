"""A task that runs on a thread of its own every few tenths of a second, from `start` to `stop`."""

from __future__ import annotations

import threading
import time
from typing import Self


class Periodic:
    """Calls `tick` every `interval` seconds from `start` until `stop`; `started` is the monotonic
    time of `start`, for loads that keep a rate."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.started = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def tick(self) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.tick()

    def start(self) -> Self:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
