"""A grading run's progress: one line per finished submission, with an estimate of the time left."""

from __future__ import annotations

import threading
import time
from typing import TextIO

__all__ = ["Progress", "clock"]


def clock(seconds: float) -> str:
    """``m:ss`` (or ``h:mm:ss``) for a number of seconds."""
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Progress:
    """Counts finished submissions out of ``total`` and reports each on ``stream``.

    The estimate assumes the submissions left take as long, on average, as those finished so far
    (with several jobs, the run's throughput so far). Thread-safe: jobs report as they finish.
    """

    def __init__(self, total: int, stream: TextIO | None, label: str = "") -> None:
        self.total, self.stream, self.label = total, stream, label
        self.finished = 0
        self._start = time.monotonic()
        self._lock = threading.Lock()

    def left(self, elapsed: float) -> float:
        """Seconds the run probably still needs, after ``elapsed`` seconds."""
        if self.finished == 0:
            return float("nan")
        return elapsed / self.finished * (self.total - self.finished)

    def done(self, what: str) -> None:
        """One more submission finished; ``what`` says which, and how it went."""
        with self._lock:
            self.finished += 1
            elapsed = time.monotonic() - self._start
            if self.stream is None:
                return
            bar_width = 20
            filled = round(bar_width * self.finished / max(self.total, 1))
            bar = "#" * filled + "." * (bar_width - filled)
            print(f"{self.label}[{bar}] {self.finished}/{self.total}  {clock(elapsed)} elapsed, "
                  f"about {clock(self.left(elapsed))} left  {what}", file=self.stream, flush=True)
