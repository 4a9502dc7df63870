"""A rich progress bar for sweeps: done / total, points per second and time left.

    with sweep_progress("hbm sweep") as update:
        run_sweep(spec, out, progress=update)

The rate counts only points finished in this run, so a resumed sweep does not claim the
points it skipped as speed. The bar is left on screen (or in the log) only when the work ends
normally: an error then stays the last and only line the command prints.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextmanager
def sweep_progress(description: str = "sweep", console: Console | None = None) -> Iterator[Callable[[int, int], None]]:
    """Yield `update(done, total)`, the `progress` callback that `run_sweep` takes."""
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]}"), TextColumn("eta {task.fields[eta]}"), TimeElapsedColumn())
    bar = Progress(*columns, console=console, transient=True)
    task = bar.add_task(description, total=None, rate="- pts/s", eta="-")
    first: list[tuple[int, float]] = []  # (done, time) of the first call

    def update(done: int, total: int) -> None:
        now = time.perf_counter()
        if not first:  # the bar appears with the first count, after the checks that may fail
            first.append((done, now))
            if bar.console.is_terminal:  # a log gets only the last state, printed below
                bar.start()
        rate = rate_per_s(first[0], (done, now))
        eta = format_seconds((total - done) / rate) if rate else "-"
        shown = f"{rate:,.1f} pts/s" if rate else "- pts/s"
        bar.update(task, completed=done, total=total, rate=shown, eta=eta)

    try:
        yield update
    finally:
        if bar.live.is_started:
            bar.stop()
    if first:
        bar.console.print(bar)  # not reached when the work raised


def rate_per_s(start: tuple[int, float], now: tuple[int, float]) -> float:
    """Points per second between two (done, time) samples; 0 before any time has passed."""
    elapsed = now[1] - start[1]
    return (now[0] - start[0]) / elapsed if elapsed > 0 else 0.0


def format_seconds(seconds: float) -> str:
    """h:mm:ss for the ETA column."""
    whole = int(round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
