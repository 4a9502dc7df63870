"""Crash-safe store of sweep results: one DuckDB row per finished point, keyed by its hash.

Every `add` is its own committed transaction (DuckDB writes it to its write-ahead log before
returning), so a sweep killed at any moment keeps every point it finished; the next run reads
`done_keys()` and skips them. Points that raised are stored too (with `error` set) and count as
done: an evaluator is a pure function, so running it again would fail the same way.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Iterable

import pandas as pd

from chip2chat.errors import Chip2ChatError

_SCHEMA = """CREATE TABLE IF NOT EXISTS results (
    key TEXT PRIMARY KEY, point JSON, result JSON, error TEXT, seconds DOUBLE, finished_at DOUBLE)"""
_INSERT = "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?)"

Row = tuple[str, dict, "dict | None", "str | None", float]
"""(key, point, result, error, seconds)."""


def _duckdb():
    try:
        import duckdb
    except ImportError:
        raise Chip2ChatError("the results store needs duckdb: pip install duckdb") from None
    return duckdb


class ResultStore:
    """`<out_dir>/results.duckdb`, table `results`. Only one process may hold it open at a time."""

    def __init__(self, out_dir: str | Path):
        self.path = Path(out_dir) / "results.duckdb"
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise Chip2ChatError(f"{folder}: cannot create the sweep's results folder: {exc.strerror or exc}") from None
        duckdb = _duckdb()
        try:
            self._con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            raise _open_error(folder, str(exc)) from None
        self._con.execute(_SCHEMA)

    def done_keys(self) -> set[str]:
        """Keys of every stored point, including those that ended in an error."""
        return {k for (k,) in self._con.execute("SELECT key FROM results").fetchall()}

    def add(self, key: str, point: dict, result: dict | None, error: str | None, seconds: float) -> None:
        """Store one finished point, committed before this returns."""
        self._con.execute(_INSERT, _encode((key, point, result, error, seconds)))

    def add_many(self, rows: Iterable[Row]) -> None:
        """Store many finished points in one transaction (all or none)."""
        encoded = [_encode(row) for row in rows]
        if not encoded:
            return
        # one bulk INSERT from a DataFrame: executemany goes row by row (~3 ms a row in DuckDB)
        batch = pd.DataFrame(encoded, columns=["key", "point", "result", "error", "seconds", "finished_at"])
        self._con.execute("BEGIN TRANSACTION")
        try:
            self._con.register("_batch", batch)
            self._con.execute("INSERT OR REPLACE INTO results SELECT key, point::JSON, result::JSON, error, seconds, "
                              "finished_at FROM _batch")
            self._con.unregister("_batch")
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise

    def frame(self) -> pd.DataFrame:
        """One row per point: key, point columns (dotted names), result columns, error, seconds.

        A result column whose name clashes with a point column is renamed `result.<name>`.
        Rows come in the order they finished.
        """
        rows = self._con.execute(
            "SELECT key, point, result, error, seconds FROM results ORDER BY finished_at, key").fetchall()
        keys = [r[0] for r in rows]
        points = pd.json_normalize([json.loads(r[1]) for r in rows], sep=".")
        results = pd.json_normalize([json.loads(r[2]) if r[2] else {} for r in rows], sep=".")
        results = results.rename(columns={c: f"result.{c}" for c in results.columns if c in points.columns})
        tail = pd.DataFrame({"error": [r[3] for r in rows], "seconds": [r[4] for r in rows]})
        head = pd.DataFrame({"key": keys})
        return pd.concat([head, points, results, tail], axis=1)

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _open_error(folder: Path, message: str) -> Chip2ChatError:
    """DuckDB's error on opening the store as one line about the folder. Only one process may
    write a DuckDB file: a second sweep into the same folder finds it locked."""
    if "lock" in message.lower():
        pid = re.search(r"PID (\d+)", message)
        holder = f" (process {pid.group(1)})" if pid else ""
        return Chip2ChatError(f"{folder}: in use by another sweep{holder}; wait for it to finish, or give another "
                              "--out folder")
    reason = re.search(r'Cannot open file "[^"]*": (.+)$', message)
    why = reason.group(1) if reason else " ".join(message.split())
    return Chip2ChatError(f"{folder}: cannot write the sweep's results store there ({why}); give a writable --out folder")


def _encode(row: Row) -> tuple:
    key, point, result, error, seconds = row
    result_json = None if result is None else json.dumps(result, default=_plain)
    return key, json.dumps(point, default=_plain), result_json, error, float(seconds), time.time()


def _plain(value):
    """numpy scalars (np.float64, np.int32, ...) as Python numbers, so evaluators may return them."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"result value {value!r} of type {type(value).__name__} is not a number or string")
