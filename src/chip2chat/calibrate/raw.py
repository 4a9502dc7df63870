"""Raw microbenchmark measurements: one row per timed kernel, in a small CSV format.

Columns: kind (gemm | memcpy | attention_prefill | attention_decode | all_reduce), dtype,
shape (free text, e.g. '4096x4096x4096'), flops, bytes, ranks, seconds. `bytes` is the
traffic the kernel must move (for all_reduce: the message size per rank).

A bad file stops with the file, the row (its line number) and the column: a short row, text
where a number goes, a number that is not finite (inf, nan), a negative count, no seconds, a
kind without the work that kind does (NEEDS), an all-reduce over fewer than 2 ranks, or a file
with no measurements at all. Whether the numbers are plausible for the chip is the fit's check.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from chip2chat.errors import ConfigError
from chip2chat.userfiles import csv_rows, number_cell

KINDS = ("gemm", "memcpy", "attention_prefill", "attention_decode", "all_reduce")
FIELDS = ("kind", "dtype", "shape", "flops", "bytes", "ranks", "seconds")
NEEDS = {"gemm": "flops", "attention_prefill": "flops", "attention_decode": "bytes", "memcpy": "bytes",
         "all_reduce": "bytes"}
"""The column each kind cannot do without: a GEMM or prefill attention is timed for its FLOPs, a copy,
decode attention or all-reduce for the bytes it moves; zero there leaves nothing to divide."""
WHAT = "a calibration CSV with the header " + ",".join(FIELDS)


@dataclass(frozen=True)
class RawMeasurement:
    kind: str
    dtype: str
    shape: str
    flops: float
    bytes: float
    ranks: int
    seconds: float
    file: str = field(default="", compare=False)
    """The CSV the row was read from ('' for a kernel measured in this run)."""
    line: int = field(default=0, compare=False)

    @property
    def where(self) -> str:
        """Where the row came from, for messages: 'raw.csv: row 5', or the measured kernel."""
        return f"{self.file}: row {self.line}" if self.file else f"measured {self.kind} {self.dtype} {self.shape}"


def write_raw(rows: list[RawMeasurement], path: str | Path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(FIELDS)
        w.writerows([getattr(r, name) for name in FIELDS] for r in rows)


def read_raw(path: str | Path) -> list[RawMeasurement]:
    p = Path(path)
    rows = [_row(p, line, raw) for line, raw in csv_rows(p, WHAT, FIELDS)]
    if not rows:
        raise ConfigError(str(p), "<file>", f"no measurements (only a header); expected {WHAT} and one row "
                          f"per timed kernel")
    return rows


def _row(p: Path, line: int, raw: dict[str, str]) -> RawMeasurement:
    def fail(column: str, problem: str):
        raise ConfigError(str(p), f"row {line}: column {column}", f"{problem}, got {raw[column]!r}")

    def number(column: str, default: float | None = None) -> float:
        if not raw[column].strip() and default is not None:
            return default
        try:
            return number_cell(raw[column])
        except ValueError as exc:
            fail(column, str(exc))

    kind = raw["kind"].strip()
    if kind not in KINDS:
        fail("kind", f"expected one of {', '.join(KINDS)}")
    values = {"flops": number("flops", 0.0), "bytes": number("bytes", 0.0)}
    for column, value in values.items():
        if value < 0:
            fail(column, "expected a number >= 0")
    if not values[NEEDS[kind]] > 0:
        fail(NEEDS[kind], f"a {kind} row needs its {NEEDS[kind]} (> 0) to turn its time into a rate")
    try:
        ranks = int(raw["ranks"].strip() or 1)
    except ValueError:
        fail("ranks", "expected a whole number of ranks")
    if ranks < (2 if kind == "all_reduce" else 1):
        fail("ranks", "an all_reduce needs 2 or more ranks" if kind == "all_reduce" else "expected 1 or more")
    seconds = number("seconds")
    if not seconds > 0:
        fail("seconds", "expected a time in seconds > 0")
    return RawMeasurement(kind=kind, dtype=raw["dtype"].strip(), shape=raw["shape"].strip(), flops=values["flops"],
                          bytes=values["bytes"], ranks=ranks, seconds=seconds, file=str(p), line=line)
