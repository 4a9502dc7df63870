"""Backends that map an evaluator over points and yield the points as they finish.

Both yield lists of outcomes `(point, result, error, seconds)`, each list the points that finished
since the last one (one at a time in-process; those a pool or Ray returns together), so the sweep
stores them at once and together: `result` is the evaluator's flat dict, or None when it raised,
and then `error` is a one-line message; the sweep goes on either way. At most a few points per
worker are in flight at once, so a million-point sweep does not queue a million tasks and an
interrupted one leaves little work behind.

Pool workers never outlive the sweep: on Ctrl-C (the sweep gets KeyboardInterrupt, the workers
ignore SIGINT), on an error or when the consumer stops early, the pool's processes are killed at
once; when the sweep itself is killed (SIGKILL), each worker dies with it (Linux: the kernel's
parent-death signal; elsewhere, and as a fallback, a thread that watches the parent).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Callable, Iterable, Iterator

from chip2chat.errors import Chip2ChatError

Outcome = tuple[dict, "dict | None", "str | None", float]
"""(point, result, error, seconds)."""

_IN_FLIGHT_PER_WORKER = 4
"""Enough queued work to hide the round trip to a worker, few enough to stop promptly."""


def call_point(fn: Callable[[dict], dict], point: dict) -> tuple[dict | None, str | None, float]:
    """Run `fn(point)` and time it; an exception becomes a one-line error instead of a crash."""
    start = time.perf_counter()
    try:
        result, error = _flat_result(fn(point)), None
    except Exception as exc:  # the evaluator's bug or a point it cannot handle: record, go on
        result, error = None, one_line(exc)
    return result, error, time.perf_counter() - start


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:500] if text else type(exc).__name__


def _flat_result(result) -> dict:
    """Check the evaluator's contract: a flat dict of numbers, strings, booleans or None."""
    if not isinstance(result, dict):
        raise TypeError(f"evaluator returned {type(result).__name__}, not a dict of results")
    flat = {}
    for name, value in result.items():
        if hasattr(value, "item") and not isinstance(value, (str, bytes)):
            value = value.item()  # numpy scalar -> Python number
        if value is not None and not isinstance(value, (int, float, str, bool)):
            raise TypeError(f"result {name!r} is a {type(value).__name__}; return flat numbers or strings")
        flat[str(name)] = value
    return flat


def run_local(fn: Callable[[dict], dict], points: Iterable[dict], workers: int = 1) -> Iterator[list[Outcome]]:
    """In this process (workers=1), or in a process pool; `fn` must be importable by module path.

    On Ctrl-C the points that had finished are still yielded (to be stored) before
    KeyboardInterrupt goes on; the points in progress are dropped with their workers."""
    if workers <= 1:
        for point in points:
            yield [(point, *call_point(fn, point))]
        return
    todo = iter(points)
    pending: dict = {}
    # SIGINT stays blocked while the workers are forked, so none of them can get it before its
    # initializer has set it to be ignored; a Ctrl-C in that moment reaches this process after
    can_block = hasattr(signal, "pthread_sigmask") and threading.current_thread() is threading.main_thread()
    blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT}) if can_block else None
    context = multiprocessing.get_context()
    forked = context.get_start_method() == "fork"  # else a server process is the workers' parent
    pool, finished_all = None, False
    try:
        try:
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_start,
                                       initargs=(os.getpid() if forked else None,))
            _submit(pool, fn, todo, pending, workers)
        finally:
            if blocked is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        while pending:
            try:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            except KeyboardInterrupt:
                done = [f for f in pending if f.done() and not f.cancelled() and f.exception() is None]
                if done:
                    yield [(pending.pop(future), *future.result()) for future in done]
                raise
            yield [(pending.pop(future), *future.result()) for future in finished]
            _submit(pool, fn, todo, pending, workers)
        finished_all = True
    finally:
        if pool is not None:
            if not finished_all:
                _kill_workers(pool)
            pool.shutdown(wait=True, cancel_futures=True)


def _submit(pool: ProcessPoolExecutor, fn: Callable, todo: Iterator[dict], pending: dict, workers: int) -> None:
    while len(pending) < workers * _IN_FLIGHT_PER_WORKER and (point := next(todo, None)) is not None:
        pending[pool.submit(call_point, fn, point)] = point


def _kill_workers(pool: ProcessPoolExecutor) -> None:
    """SIGKILL the pool's processes: a point in progress may take minutes, and Ctrl-C must not wait
    for it. (`_processes` is the executor's own table of workers; Python 3.14 has kill_workers().)"""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.kill()


def _worker_start(sweep_pid: int | None) -> None:
    """Pool initializer: ignore Ctrl-C (the sweep stops the pool) and die with the parent: the
    sweep (`sweep_pid`, when it forked the worker) or the server process that started it, which
    ends with the sweep."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):  # not on Windows
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            PR_SET_PDEATHSIG = 1  # linux/prctl.h: signal sent to this process when its parent dies
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
        except (OSError, AttributeError):
            pass  # no libc prctl: the watchdog below still ends this worker
    parent = os.getppid()
    if sweep_pid is not None and parent != sweep_pid:
        os._exit(1)  # the sweep died before the signal was armed
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True, name="chip2chat-parent-watch").start()


def _watch_parent(parent: int, every_s: float = 0.5) -> None:
    """End this process once its parent is gone (it is then re-parented, so getppid changes)."""
    while True:
        time.sleep(every_s)
        if os.getppid() != parent:
            os._exit(1)


def _import_ray():
    try:
        import ray
    except ImportError:
        raise Chip2ChatError("the ray backend needs Ray: pip install 'chip2chat[ray]' (or use --backend local)") from None
    return ray


def run_ray(fn: Callable[[dict], dict], points: Iterable[dict], address: str | None = None,
            num_cpus: int | None = None) -> Iterator[list[Outcome]]:
    """On Ray: a local one (num_cpus CPUs) when `address` is None, else the cluster at `address`.

    An already initialised Ray is used as it is. Ray is shut down at the end only if this call
    started it (for a cluster, that disconnects; the cluster keeps running).
    """
    ray = _import_ray()
    started = not ray.is_initialized()
    if started and address is None:
        # workers get this interpreter's sys.path, as forked pool workers do, so an evaluator
        # defined outside installed packages (a script's folder, a test) imports there too
        runtime_env = {"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}}
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, runtime_env=runtime_env)
    elif started:
        ray.init(address=address, log_to_driver=False)
    pending: dict = {}
    try:
        remote_call = ray.remote(call_point)
        fn_ref = ray.put(fn)  # ship the evaluator once, not with every task
        window = int(ray.cluster_resources().get("CPU", 1)) * _IN_FLIGHT_PER_WORKER
        todo = iter(points)
        while True:
            while len(pending) < window and (point := next(todo, None)) is not None:
                pending[remote_call.remote(fn_ref, point)] = point
            if not pending:
                return
            ray.wait(list(pending), num_returns=1)
            ready, _ = ray.wait(list(pending), num_returns=len(pending), timeout=0)  # all that are done
            finished = []
            for ref in ready:
                point = pending.pop(ref)
                try:
                    finished.append((point, *ray.get(ref)))
                except ray.exceptions.RayError as exc:
                    # not the point's fault (evaluator not importable on the worker, worker killed
                    # after Ray's retries): stop without storing it, so a rerun tries it again
                    if finished:
                        yield finished
                    raise Chip2ChatError(f"Ray could not evaluate a point: {one_line(exc)}; finished points "
                                         "are stored, rerun to resume (on a cluster, ship the evaluator's "
                                         "module with a runtime_env)") from exc
            yield finished
    finally:
        for ref in pending:
            ray.cancel(ref)
        if started:
            ray.shutdown()
