"""Progress log lines: the estimate after the first steps, periodic lines only when asked."""

from __future__ import annotations

from ternembed.distill.progress_log import ProgressLog


def _run(periodic: bool) -> list[str]:
    lines: list[str] = []
    now = [0.0]
    log = ProgressLog(100, 0, periodic, every=60.0, write=lines.append, clock=lambda: now[0])
    for done in range(1, 101):
        now[0] += 2.0  # two seconds a step: 200 s in all
        log.step(done, 16.0)
    return lines


def test_estimate_once_then_a_line_a_minute_when_periodic():
    lines = _run(periodic=True)
    assert lines[0] == "estimated training time: 3m20s (2.00 s/step, 100 steps)"
    assert lines[1:] == [
        "step 30/100 (30%), 16 items/s, 2m20s left",
        "step 60/100 (60%), 16 items/s, 1m20s left",
        "step 90/100 (90%), 16 items/s, 0m20s left",
    ]


def test_only_the_estimate_beside_a_progress_bar():
    assert _run(periodic=False) == ["estimated training time: 3m20s (2.00 s/step, 100 steps)"]
