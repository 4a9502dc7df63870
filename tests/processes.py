"""Child processes of a command under test, read from /proc (for the Ctrl-C and kill tests)."""

from __future__ import annotations

import os
import signal
import time

HAS_PROC = os.path.isdir("/proc/self")


def descendants(pid: int) -> set[int]:
    """Every process started by `pid`, its children's children included."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def running(pid: int) -> bool:
    """Alive and not a zombie (a killed process whose parent has not reaped it is dead)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(condition, timeout_s: float) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def default_sigint() -> None:
    """preexec_fn of a child: a runner that ignores SIGINT (nohup, a background job) would pass that
    on, and Python only turns SIGINT into KeyboardInterrupt when it starts with the default action."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
