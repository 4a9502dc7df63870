"""Crash-safe store of sweep results: one DuckDB row per finished point, keyed by its hash.

Every add is one committed transaction (DuckDB writes it to its write-ahead log before
returning), so a sweep killed at any moment keeps every point or batch it finished; the next run
reads the stored keys and skips them. Points that raised are stored too (with `error` set) and
count as done: an evaluator is a pure function, so running it again would fail the same way.

Layout (store format 2), in `<out>/results.duckdb`:
  results     one row per point, in columns (a batch of points is one bulk insert):
                key UBIGINT          point_key's 16 hex digits as a number
                base UBIGINT         key of the row of `bases` that the point fills in
                error VARCHAR        the one-line error, or NULL
                seconds DOUBLE       evaluation time of the point (a batch's average)
                finished_at DOUBLE   Unix time the point (or its batch) was stored
                "point.<path>"       the point's value at each swept dotted path; NULL: not swept
                "result.<name>"      each result, typed BOOLEAN, BIGINT, DOUBLE or VARCHAR (JSON
                                     where a column holds values of several kinds); NULL: none
  bases       key UBIGINT (point_key of the JSON), point JSON: what a batch of points shares,
              each swept path null in it. A point is its base with its swept paths set.
  store_info  format INTEGER: 2
A key is stored once (a sweep adds only points not yet stored), so `results` has no index:
DuckDB's would cost more than the rest of an insert. A format 1 store (chip2chat before it: one
row per point with key TEXT, point JSON, result JSON) is converted to format 2 when opened.
"""

from __future__ import annotations

import json
import re
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from chip2chat.errors import Chip2ChatError
from chip2chat.explore.evaluate import Results
from chip2chat.explore.space import PointTable, hex_keys, plain_copy, point_key, set_path

FORMAT = 2
_SCHEMA = ("CREATE TABLE results (key UBIGINT, base UBIGINT, error VARCHAR, seconds DOUBLE, finished_at DOUBLE)",
           "CREATE TABLE bases (key UBIGINT PRIMARY KEY, point JSON)",
           f"CREATE TABLE store_info AS SELECT {FORMAT} AS format")
_KEY = re.compile("[0-9a-f]{16}")
_FEW_ROWS = 64
_FORMAT_1 = ["key", "point", "result", "error", "seconds", "finished_at"]
_SQL_TYPES = {"boolean": "BOOLEAN", "integer": "BIGINT", "floating": "DOUBLE", "mixed-integer-float": "DOUBLE",
              "string": "VARCHAR"}
"""pandas.api.types.infer_dtype's kind of a column -> its DuckDB type; any other kind is stored as JSON."""
_PANDAS_TYPES = {"BOOLEAN": "boolean", "BIGINT": "Int64", "DOUBLE": "float64", "VARCHAR": "str", "JSON": "str"}

Row = tuple[str, dict, "dict | None", "str | None", float]
"""(key, point, result, error, seconds)."""


def _duckdb():
    try:
        import duckdb
    except ImportError:
        raise Chip2ChatError("the results store needs duckdb: pip install duckdb") from None
    return duckdb


class ResultStore:
    """`<out_dir>/results.duckdb` (layout above). Only one process may hold it open at a time."""

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
        try:
            self._open_tables()
        except BaseException:
            self._con.close()
            raise

    def stored_keys(self) -> np.ndarray:
        """Keys (as numbers, PointTable.keys) of every stored point, including those that failed."""
        return self._con.execute("SELECT key FROM results").fetchnumpy()["key"].astype(np.uint64)

    def done_keys(self) -> set[str]:
        """point_key of every stored point, including those that ended in an error."""
        return set(hex_keys(self.stored_keys()))

    def add(self, key: str, point: dict, result: dict | None, error: str | None, seconds: float) -> None:
        """Store one finished point, committed before this returns."""
        self.add_many([(key, point, result, error, seconds)])

    def add_many(self, rows: Iterable[Row]) -> None:
        """Store finished points (each its own base) in one transaction (all or none)."""
        with self._transaction():
            self._add_rows(list(rows))

    def add_table(self, keys: np.ndarray, points: PointTable, results: Results, seconds) -> None:
        """Store points of a table (`keys`: their PointTable.keys; `seconds`: per point, or one for
        all) in one transaction (all or none)."""
        base = int(point_key(points.template), 16)
        batch = {"key": keys, **{f"point.{path}": points.series(path) for path in points.columns}}
        constants = {"base": base}
        if np.ndim(seconds):
            batch["seconds"] = np.asarray(seconds, dtype=float)
        else:
            constants["seconds"] = float(seconds)
        with self._transaction():
            if base not in self._bases:  # once per table and store, not per point
                self._con.execute("INSERT OR IGNORE INTO bases VALUES (?, ?)", [base, json.dumps(points.template)])
                self._bases.add(base)
            self._insert(batch, results, constants)

    def results(self) -> pd.DataFrame:
        """key (as numbers), the result columns, error and seconds of every stored point, in the
        order they were stored (the order they finished)."""
        names = [name for name in self._types if name.startswith("result.")]
        frame = self._select(["key", *names, "error", "seconds"])
        return frame.rename(columns={name: name[len("result."):] for name in names})

    def frame(self) -> pd.DataFrame:
        """One row per point: key, point columns (dotted names), result columns, error, seconds.

        A result column whose name clashes with a point column is renamed `result.<name>`.
        Rows come in the order they finished.
        """
        swept = [name for name in self._types if name.startswith("point.")]
        rows = self._select(["base", *swept]).astype(object)
        bases = {key: json.loads(text) for key, text in self._con.execute("SELECT key, point FROM bases").fetchall()}
        points = []
        for base, *values in rows.itertuples(index=False):
            point = plain_copy(bases[base])
            for name, value in zip(swept, values):
                if not (value is None or value is pd.NA or value != value):  # NULL: not swept in this point
                    set_path(point, name[len("point."):], value)
            points.append(point)
        results = self.results()
        return joined(hex_keys(results["key"].to_numpy()), pd.json_normalize(points, sep="."), results)

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- writing ---------------------------------------------------------------------------

    def _add_rows(self, rows: list[Row], finished_at: list[float] | None = None) -> None:
        if not rows:
            return
        if any(not _KEY.fullmatch(key) for key, *_ in rows):
            raise ValueError(f"keys are point_key's 16 hex digits, not {next(k for k, *_ in rows if not _KEY.fullmatch(k))!r}")
        keys = np.array([int(key, 16) for key, *_ in rows], dtype=np.uint64)
        results = Results.of([(result, error) for _, _, result, error, _ in rows], len(rows))
        bases = pd.DataFrame({"key": keys, "point": [json.dumps(point, default=_plain) for _, point, *_ in rows]})
        batch = {"key": keys, "base": keys, "seconds": np.array([float(row[4]) for row in rows])}
        if finished_at is not None:
            batch["finished_at"] = np.asarray(finished_at, dtype=float)
        self._con.register("_bases", bases)
        try:
            self._con.execute("INSERT OR IGNORE INTO bases SELECT key, point FROM _bases")
        finally:
            self._con.unregister("_bases")
        self._insert(batch, results, {})

    def _insert(self, batch: dict, results: Results, constants: dict) -> None:
        """One INSERT of `batch` (name -> a value per row), the results and `constants` (one value
        for every row). A failed point's result columns are NULL."""
        failed = np.array([error is not None for error in results.errors], dtype=bool)
        columns = {**batch, **{f"result.{name}": values for name, values in results.columns.items()}}
        if failed.any():
            columns["error"] = results.errors
        typed = [name for name in columns if name.startswith(("point.", "result."))]
        self._widen({name: _sql_type(_unfailed(columns[name], failed) if name.startswith("result.") else columns[name])
                     for name in typed})
        constants = {name: value for name, value in {"finished_at": time.time(), **constants}.items()
                     if name not in columns}
        names = ", ".join(_quoted(name) for name in [*columns, *constants])
        if len(failed) <= _FEW_ROWS:  # DuckDB reads a DataFrame in milliseconds, a few values in less
            values = [[_value(v, self._types.get(name)) for v in _listed(columns[name])] for name in columns]
            for name, column in zip(columns, values):
                if name.startswith("result.") and failed.any():
                    column[:] = [None if bad else v for v, bad in zip(column, failed.tolist())]
            row = f"({', '.join('?' * (len(columns) + len(constants)))})"
            self._con.execute(f"INSERT INTO results ({names}) VALUES {', '.join([row] * len(failed))}",
                              [v for row_values in zip(*values) for v in (*row_values, *constants.values())])
            return
        frame = pd.DataFrame({name: _as_type(pd.Series(values), self._types.get(name)) if name in typed else values
                              for name, values in columns.items()})
        for name in typed:
            if failed.any() and name.startswith("result."):
                frame[name] = frame[name].mask(failed)
        if "error" in frame:
            frame["error"] = frame["error"].astype("str")
        self._con.register("_batch", frame)
        try:
            self._con.execute(f"INSERT INTO results ({names}) SELECT *{', ?' * len(constants)} FROM _batch",
                              list(constants.values()))
        finally:
            self._con.unregister("_batch")

    def _widen(self, wanted: dict[str, str | None]) -> None:
        """Add the columns not yet in `results`; widen those whose type cannot hold the new values."""
        for name, sql in wanted.items():
            old = self._types.get(name)
            new = _wider(old, sql)
            if new is None or new == old:
                continue
            if old is None:
                self._con.execute(f"ALTER TABLE results ADD COLUMN {_quoted(name)} {new}")
            elif new == "JSON" and self._con.execute(f"SELECT count({_quoted(name)}) FROM results").fetchone()[0]:
                self._con.execute(f"ALTER TABLE results ALTER {_quoted(name)} TYPE JSON USING to_json({_quoted(name)})")
            else:  # BIGINT to DOUBLE, or a column with no value yet
                self._con.execute(f"ALTER TABLE results ALTER {_quoted(name)} TYPE {sql if new == 'JSON' else new}")
            self._types[name] = self._column_types()[name]

    @contextmanager
    def _transaction(self):
        self._con.execute("BEGIN TRANSACTION")
        try:
            yield
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            self._types = self._column_types()  # columns added in it are gone, and bases
            self._bases = set()
            raise

    # --- reading and opening ---------------------------------------------------------------

    def _select(self, names: list[str]) -> pd.DataFrame:
        # in the order stored (DuckDB keeps a table's insertion order; nothing is ever deleted)
        frame = self._con.execute(f"SELECT {', '.join(map(_quoted, names))} FROM results").df()
        for name in names:
            frame[name] = _decoded(frame[name], self._types.get(name))
        return frame

    def _column_types(self) -> dict[str, str]:
        return dict(self._con.execute("SELECT column_name, data_type FROM information_schema.columns "
                                      "WHERE table_schema = 'main' AND table_name = 'results' "
                                      "ORDER BY ordinal_position").fetchall())

    def _open_tables(self) -> None:
        tables = {name for (name,) in self._con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
        if "store_info" in tables:
            (found,) = self._con.execute("SELECT max(format) FROM store_info").fetchone()
            if found != FORMAT:
                raise Chip2ChatError(f"{self.path}: a results store of format {found}, which this chip2chat does not "
                                     f"read (it reads format {FORMAT}); give another --out folder")
        elif "results" in tables:
            self._types = self._column_types()
            if list(self._types) != _FORMAT_1:
                raise Chip2ChatError(f"{self.path}: not a chip2chat results store (its table 'results' has the "
                                     f"columns {', '.join(self._types)}); give another --out folder")
            self._convert_format_1()
        else:
            with self._transaction():
                for statement in _SCHEMA:
                    self._con.execute(statement)
        self._types = self._column_types()
        self._bases: set[int] = set()  # bases this store object has made sure of

    def _convert_format_1(self) -> None:
        """Rewrite a format 1 store (key TEXT, point JSON, result JSON per row) as format 2. The keys
        are the same hashes of the same points, so its points stay done."""
        old = self._con.execute(f"SELECT {', '.join(_FORMAT_1)} FROM results").fetchall()
        with self._transaction():
            self._con.execute("ALTER TABLE results RENAME TO results_format_1")
            for statement in _SCHEMA:
                self._con.execute(statement)
            self._types = self._column_types()
            rows = [(key, json.loads(point), None if result is None else json.loads(result), error, seconds)
                    for key, point, result, error, seconds, _ in old]
            self._add_rows(rows, [finished for *_, finished in old])
            self._con.execute("DROP TABLE results_format_1")


def joined(keys: np.ndarray, points: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """The frame of a sweep: key (hex), point columns, result columns (`result.<name>` where a point
    column has the name), error, seconds; `results` as ResultStore.results gives it, row for row."""
    results = results.drop(columns="key").reset_index(drop=True)
    values = results.drop(columns=["error", "seconds"])
    values = values.rename(columns={c: f"result.{c}" for c in values.columns if c in points.columns})
    head = pd.DataFrame({"key": pd.Series(keys, dtype="str")})
    return pd.concat([head, points.reset_index(drop=True), values, results[["error", "seconds"]]], axis=1)


def _sql_type(values) -> str | None:
    """The DuckDB type of a column's values (an array or a list); None when it has none."""
    if not len(values):
        return None
    kind = pd.api.types.infer_dtype(values, skipna=True)
    return "DOUBLE" if kind == "empty" else _SQL_TYPES.get(kind, "JSON")


def _unfailed(values, failed: np.ndarray):
    """The values of the points that did not fail."""
    if not failed.any():
        return values
    if isinstance(values, (np.ndarray, pd.Series)):
        return values[~failed]
    return [v for v, bad in zip(values, failed.tolist()) if not bad]


def _listed(values) -> list:
    return values.tolist() if hasattr(values, "tolist") else list(values)


def _value(value, sql: str | None):
    """A Python value for a column of type `sql`: NULL for a gap, JSON text for a JSON column."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    return json.dumps(value) if sql == "JSON" else value


def _wider(old: str | None, new: str | None) -> str | None:
    """The type of a column of type `old` that also holds values of type `new`."""
    if new is None or old == new:
        return old
    if old is None:
        return new
    return "DOUBLE" if {old, new} == {"BIGINT", "DOUBLE"} else "JSON"


def _as_type(values: pd.Series, sql: str | None) -> pd.Series:
    """`values` as the pandas type DuckDB reads as `sql` (JSON: each value as JSON text)."""
    if sql == "JSON":
        values = values.astype(object).map(lambda v: json.dumps(v, default=_plain), na_action="ignore")
    return values.astype(_PANDAS_TYPES[sql]) if sql else values


def _decoded(values: pd.Series, sql: str | None) -> pd.Series:
    """A column read back as json_normalize would have typed the values: whole numbers with a gap are
    floats, booleans with a gap objects, JSON text parsed."""
    if sql == "JSON":
        return values.map(json.loads, na_action="ignore").astype(object)
    gaps = values.isna().any()
    if values.dtype.name in ("Int64", "UInt64"):
        return values.astype(float if gaps else values.dtype.name.lower())
    if values.dtype.name == "boolean":
        return values.astype(object).where(values.notna(), np.nan) if gaps else values.astype(bool)
    return values


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


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


def _plain(value):
    """numpy scalars (np.float64, np.int32, ...) as Python numbers, so evaluators may return them."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"result value {value!r} of type {type(value).__name__} is not a number or string")
