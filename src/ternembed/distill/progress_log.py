"""Plain log lines about a run's progress: a time estimate once the first steps are timed, then a line
every interval (the only progress shown with ``--no-progress``, e.g. in a batch job's log)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

ESTIMATE_AFTER_STEPS = 5
LOG_EVERY_SECONDS = 60.0


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


class ProgressLog:
    """Writes the estimate and the periodic lines to ``write`` (stderr by default)."""

    def __init__(
        self,
        total_steps: int,
        start_step: int,
        periodic: bool,
        every: float = LOG_EVERY_SECONDS,
        write: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.start, self.periodic, self.every = total_steps, start_step, periodic, every
        self.write = write or (lambda line: print(line, file=sys.stderr, flush=True))
        self.clock = clock
        self.began = self.last = clock()
        self.estimated = False

    def step(self, done: int, items_per_second: float) -> None:
        """Call after optimizer step ``done`` (1-based)."""
        now = self.clock()
        per_step = (now - self.began) / max(1, done - self.start)
        left = per_step * (self.total - done)
        if not self.estimated and done - self.start >= min(ESTIMATE_AFTER_STEPS, self.total - self.start):
            self.estimated = True
            self.write(f"estimated training time: {_duration(per_step * (self.total - self.start))} "
                       f"({per_step:.2f} s/step, {self.total - self.start} steps)")  # fmt: skip
        if self.periodic and now - self.last >= self.every and done < self.total:
            self.last = now
            self.write(f"step {done}/{self.total} ({100 * done / self.total:.0f}%), {items_per_second:.0f} items/s, "
                       f"{_duration(left)} left")  # fmt: skip
