"""Raw microbenchmark measurements: one row per timed kernel, in a small CSV format.

Columns: kind (gemm | memcpy | attention_prefill | attention_decode | all_reduce), dtype,
shape (free text, e.g. '4096x4096x4096'), flops, bytes, ranks, seconds. `bytes` is the
traffic the kernel must move (for all_reduce: the message size per rank).
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path

from chip2chat.errors import Chip2ChatError

KINDS = ("gemm", "memcpy", "attention_prefill", "attention_decode", "all_reduce")
FIELDS = ("kind", "dtype", "shape", "flops", "bytes", "ranks", "seconds")


@dataclass(frozen=True)
class RawMeasurement:
    kind: str
    dtype: str
    shape: str
    flops: float
    bytes: float
    ranks: int
    seconds: float


def write_raw(rows: list[RawMeasurement], path: str | Path) -> None:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        for r in rows:
            w.writerow(asdict(r))


def read_raw(path: str | Path) -> list[RawMeasurement]:
    p = Path(path)
    try:
        lines = p.read_text().splitlines()
    except FileNotFoundError:
        raise Chip2ChatError(f"{p}: no such file") from None
    reader = csv.DictReader(lines)
    missing = [c for c in FIELDS if c not in (reader.fieldnames or [])]
    if missing:
        raise Chip2ChatError(f"{p}: line 1: missing column(s) {', '.join(missing)}; expected {','.join(FIELDS)}")
    rows = []
    for line, raw in enumerate(reader, start=2):
        if raw["kind"] not in KINDS:
            raise Chip2ChatError(f"{p}: row {line}: column kind: expected one of {', '.join(KINDS)}, got {raw['kind']!r}")
        try:
            rows.append(RawMeasurement(kind=raw["kind"], dtype=raw["dtype"], shape=raw["shape"],
                                       flops=float(raw["flops"] or 0), bytes=float(raw["bytes"] or 0),
                                       ranks=int(raw["ranks"] or 1), seconds=float(raw["seconds"])))
        except ValueError as exc:
            raise Chip2ChatError(f"{p}: row {line}: {exc}") from None
        if not rows[-1].seconds > 0:
            raise Chip2ChatError(f"{p}: row {line}: column seconds: expected a positive number, got {raw['seconds']!r}")
    return rows
