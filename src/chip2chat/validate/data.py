"""Published measurements to validate against: reading and checking the CSV format.

The format is the shared TensorRT-LLM table's (`catalog/validation/trtllm_perf.csv`), with an
optional `engine` column naming the serving engine of each row (trtllm, vllm, sglang:
engine/engines.py; `trtllm_version` then holds that engine's version). Without the column, or
where it is empty, a row is TensorRT-LLM's, as every shipped file's is (their `trtllm_version`
column says so). A bad file stops with the file, the row (1-based line number) and the column
that is wrong: a short row, text where a number goes, a number that is not finite and positive
(offered_qps alone may be "inf": all requests queued at once), an unknown engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from chip2chat.catalog import CATALOG_DIR
from chip2chat.engine.engines import SERVING_ENGINES
from chip2chat.errors import Chip2ChatError
from chip2chat.userfiles import csv_rows, number_cell

COLUMNS = ("table", "trtllm_version", "model", "gpu", "num_gpus", "tp", "pp", "precision", "isl", "osl",
           "offered_qps", "throughput_tok_s", "throughput_metric", "req_per_s", "mean_ttft_ms", "mean_itl_ms",
           "total_token_tput_tok_s", "source")
TABLES = ("throughput_max_load", "online_serving")
PRECISIONS = ("FP16", "BF16", "FP8", "FP4", "NVFP4", "MXFP4", "INT8", "INT4")
VALIDATION_DIR = CATALOG_DIR / "validation"


class ValidationDataError(Chip2ChatError):
    """A malformed validation CSV: names the file, the row and the column."""


@dataclass(frozen=True)
class Measurement:
    file: str
    line: int
    table: str
    version: str
    model: str
    gpu: str
    num_gpus: int
    tp: int
    pp: int
    precision: str
    isl: int
    osl: int
    offered_qps: float  # math.inf: all requests queued at once
    throughput_tok_s: float
    req_per_s: float | None
    mean_ttft_ms: float | None
    mean_itl_ms: float | None
    source: str
    engine: str = "trtllm"
    """The serving engine that ran the row (engine/engines.py)."""


def shipped_files() -> list[Path]:
    return sorted(VALIDATION_DIR.glob("*.csv"))


def read_measurements(path: str | Path) -> list[Measurement]:
    p = Path(path)

    def error(problem: str, line: int | None, column: str | None) -> ValidationDataError:
        where = "" if line is None else f"row {line}: " + (f"column {column}: " if column else "")
        return ValidationDataError(f"{p}: {where}{problem}")

    rows = [_row(p, line, raw) for line, raw in
            csv_rows(p, "a validation CSV (the columns of catalog/validation/trtllm_perf.csv)", COLUMNS,
                     error=error)]
    if not rows:
        raise ValidationDataError(f"{p}: no measurement rows (only a header)")
    return rows


def _row(p: Path, line: int, raw: dict) -> Measurement:
    def fail(column: str, problem: str):
        raise ValidationDataError(f"{p}: row {line}: column {column}: {problem}, got {raw.get(column)!r}")

    def integer(column: str) -> int:
        try:
            value = int(raw[column].strip())
        except ValueError:
            fail(column, "expected a positive integer")
        if value < 1:
            fail(column, "expected a positive integer")
        return value

    def number(column: str, optional: bool = False) -> float | None:
        if not raw[column].strip() and optional:
            return None
        try:
            value = number_cell(raw[column])
        except ValueError as exc:
            fail(column, str(exc))
        if not value > 0:
            fail(column, "expected a positive number")
        return value

    table = raw["table"].strip()
    if table not in TABLES:
        fail("table", f"expected one of {', '.join(TABLES)}")
    precision = raw["precision"].strip().upper()
    if precision not in PRECISIONS:
        fail("precision", f"expected one of {', '.join(PRECISIONS)}")
    # "inf ..." (all requests queued at once) is the one infinite value the format allows
    qps = math.inf if raw["offered_qps"].strip().lower().startswith("inf") else number("offered_qps")
    tp, pp, num_gpus = integer("tp"), integer("pp"), integer("num_gpus")
    if tp * pp != num_gpus:
        fail("num_gpus", f"expected tp x pp = {tp * pp}")
    for column in ("model", "gpu", "source"):
        if not raw[column].strip():
            fail(column, "must not be empty")
    engine = (raw.get("engine") or "").strip().lower() or "trtllm"  # the format's own: trtllm_version
    if engine not in SERVING_ENGINES:
        fail("engine", f"expected one of {', '.join(SERVING_ENGINES)} (empty: trtllm)")
    return Measurement(file=str(p), line=line, table=table, version=raw["trtllm_version"].strip(),
                       model=raw["model"].strip(), gpu=raw["gpu"].strip(), num_gpus=num_gpus, tp=tp, pp=pp,
                       precision=precision, isl=integer("isl"), osl=integer("osl"), offered_qps=qps,
                       throughput_tok_s=number("throughput_tok_s"), req_per_s=number("req_per_s", True),
                       mean_ttft_ms=number("mean_ttft_ms", True), mean_itl_ms=number("mean_itl_ms", True),
                       source=raw["source"].strip(), engine=engine)
