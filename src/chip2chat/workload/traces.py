"""Read public LLM request traces into a `Workload`.

Formats (each as published; see catalog/traces/ for small synthetic samples of each):

- "azure": the Azure LLM inference trace 2023 (and 2024), CSV with header
  `TIMESTAMP,ContextTokens,GeneratedTokens`; TIMESTAMP is a datetime such as
  "2023-11-16 18:15:46.6805900" (seven fractional digits; we keep microseconds).
- "burstgpt": BurstGPT, CSV with header `Timestamp,Model,Request tokens,Response tokens,Total tokens,
  Log Type`; Timestamp in seconds. Rows with `Response tokens` = 0 are requests that failed (the
  BurstGPT README says so): they are skipped, and the count is written into `Workload.source`.
- "mooncake": Mooncake (FAST'25) JSONL, one object per line:
  {"timestamp": ms, "input_length": int, "output_length": int, "hash_ids": [int, ...]}; each hash id
  names one 512-token block of the prompt, so equal leading ids mean a shared prompt prefix.

Arrival times are made relative to the earliest request, and rows are sorted by arrival (stable, so
equal times keep the file's order). Every row is checked before anything is returned: one bad row
stops the read with a `TraceError` that names the file, the 1-based line and the field, because a
simulation of a half-read trace would look plausible and be wrong. Readers loop over rows in Python;
that is a few seconds for the multi-million-row traces, once per run.
"""

from __future__ import annotations

import json
import math
import os
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from chip2chat.errors import Chip2ChatError
from chip2chat.userfiles import csv_rows, text_lines
from chip2chat.workload.errors import TraceError
from chip2chat.workload.workload import MOONCAKE_BLOCK_TOKENS, Workload

AZURE_HEADER = ("TIMESTAMP", "ContextTokens", "GeneratedTokens")
BURSTGPT_HEADER = ("Timestamp", "Model", "Request tokens", "Response tokens", "Total tokens", "Log Type")
MOONCAKE_FIELDS = ("timestamp", "input_length", "output_length", "hash_ids")


def read_trace(path: str | os.PathLike, fmt: str) -> Workload:
    """The requests of the trace at `path`, in format "azure", "burstgpt" or "mooncake"."""
    if fmt not in _READERS:
        raise Chip2ChatError(f"trace format must be one of {', '.join(_READERS)}, got {fmt!r}")
    return _READERS[fmt](Path(path), str(path))


def _read_azure(path: Path, name: str) -> Workload:
    stamps, inputs, outputs = [], [], []
    for line, row in _csv_rows(path, name, "azure", required=AZURE_HEADER, header=AZURE_HEADER):
        stamps.append(_datetime(row["TIMESTAMP"], name, line, "TIMESTAMP"))
        inputs.append(_count(row["ContextTokens"], name, line, "ContextTokens", minimum=1))
        outputs.append(_count(row["GeneratedTokens"], name, line, "GeneratedTokens", minimum=1))
    if not stamps:
        raise TraceError(name, "no requests in the trace (only a header)")
    first = min(stamps)
    arrival = [(stamp - first).total_seconds() for stamp in stamps]
    return _workload(arrival, inputs, outputs, None, f"azure trace {name} ({len(stamps)} requests)")


def _read_burstgpt(path: Path, name: str) -> Workload:
    required = ("Timestamp", "Request tokens", "Response tokens")
    arrival, inputs, outputs = [], [], []
    failed = 0
    for line, row in _csv_rows(path, name, "burstgpt", required=required, header=BURSTGPT_HEADER):
        timestamp = _seconds(row["Timestamp"], name, line, "Timestamp")
        request = _count(row["Request tokens"], name, line, "Request tokens", minimum=1)
        response = _count(row["Response tokens"], name, line, "Response tokens", minimum=0)
        if response == 0:
            failed += 1
            continue
        arrival.append(timestamp)
        inputs.append(request)
        outputs.append(response)
    if not arrival:
        detail = f" ({failed} failed rows with Response tokens = 0)" if failed else " (only a header)"
        raise TraceError(name, f"no successful requests in the trace{detail}")
    source = (f"burstgpt trace {name} ({len(arrival)} requests; skipped {failed} failed rows "
              f"with Response tokens = 0)")
    return _workload(arrival, inputs, outputs, None, source)


def _read_mooncake(path: Path, name: str) -> Workload:
    arrival, inputs, outputs, hashes = [], [], [], []
    for line, text in enumerate(text_lines(path, "a trace in the mooncake format (JSON lines)"), start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TraceError(name, f"not valid JSON ({exc.msg} at column {exc.colno})", line) from None
        except RecursionError:
            raise TraceError(name, "not valid JSON (nested too deeply)", line) from None
        if not isinstance(record, dict):
            raise TraceError(name, f"expected a JSON object, got {type(record).__name__}", line)
        missing = [field for field in MOONCAKE_FIELDS if field not in record]
        if missing:
            raise TraceError(name, f"missing (each line needs {', '.join(MOONCAKE_FIELDS)})", line, missing[0])
        arrival.append(_json_number(record["timestamp"], name, line, "timestamp") / 1000.0)
        inputs.append(_json_count(record["input_length"], name, line, "input_length", minimum=1))
        outputs.append(_json_count(record["output_length"], name, line, "output_length", minimum=1))
        hashes.append(_hash_ids(record["hash_ids"], name, line))
    if not arrival:
        raise TraceError(name, "no requests in the trace (empty file)")
    return _workload(arrival, inputs, outputs, hashes, f"mooncake trace {name} ({len(arrival)} requests)")


def _workload(arrival, inputs, outputs, hashes, source: str) -> Workload:
    """Sort by arrival (stable), shift to start at 0 and build the Workload."""
    arrival_s = np.asarray(arrival, dtype=np.float64)
    order = np.argsort(arrival_s, kind="stable")
    arrival_s = arrival_s[order]
    arrival_s -= arrival_s[0]
    prefix = tuple(hashes[i] for i in order) if hashes is not None else None
    return Workload(arrival_s=arrival_s, input_len=np.asarray(inputs, dtype=np.int64)[order],
                    output_len=np.asarray(outputs, dtype=np.int64)[order], prefix_hashes=prefix,
                    hash_block_size=MOONCAKE_BLOCK_TOKENS, source=source)


def _csv_rows(path: Path, name: str, fmt: str, required: tuple[str, ...], header: tuple[str, ...]):
    """(line number, {column: text}) for each non-blank data row, after checking the header and
    that each row has every field (userfiles.csv_rows, with the trace's own wording)."""
    def error(problem: str, line: int | None, column: str | None) -> TraceError:
        return TraceError(name, problem, line, column)

    return csv_rows(path, f"a trace in the {fmt} format (CSV)", required, header, error=error)


def _count(text: str, name: str, line: int, field: str, minimum: int) -> int:
    """A token count written as an integer ("412"; "412.0" from spreadsheet exports is accepted)."""
    kind = "a positive integer" if minimum == 1 else "an integer >= 0"
    stripped = text.strip()
    try:
        value = int(stripped)
    except ValueError:
        try:
            number = float(stripped)
        except ValueError:
            raise TraceError(name, f"expected {kind}, got {text!r}", line, field) from None
        if not number.is_integer():
            raise TraceError(name, f"expected {kind}, got {text!r}", line, field) from None
        value = int(number)
    if value < minimum:
        raise TraceError(name, f"expected {kind}, got {text!r}", line, field)
    return value


def _seconds(text: str, name: str, line: int, field: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise TraceError(name, f"expected a time in seconds, got {text!r}", line, field) from None
    if not math.isfinite(value):
        raise TraceError(name, f"expected a finite time in seconds, got {text!r}", line, field)
    return value


def _datetime(text: str, name: str, line: int, field: str) -> datetime:
    """"2023-11-16 18:15:46.6805900" -> datetime; a zone, if written, is converted to naive UTC."""
    try:
        stamp = datetime.fromisoformat(text.strip())
    except ValueError:
        raise TraceError(name, f"expected a date and time like '2023-11-16 18:15:46.6805900', got {text!r}",
                         line, field) from None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(timezone.utc).replace(tzinfo=None)
    return stamp


def _json_number(value, name: str, line: int, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or (isinstance(value, float) and not math.isfinite(value)) or value < 0:
        raise TraceError(name, f"expected a number of milliseconds >= 0, got {value!r}", line, field)
    return float(value)


def _json_count(value, name: str, line: int, field: str, minimum: int) -> int:
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole or value < minimum:
        raise TraceError(name, f"expected a positive integer, got {value!r}", line, field)
    return int(value)


def _hash_ids(value, name: str, line: int) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise TraceError(name, f"expected a list of integers, got {value!r}", line, "hash_ids")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int) or item < 0:
            raise TraceError(name, f"expected a list of integers >= 0, found {item!r}", line, "hash_ids")
    return tuple(value)


_READERS = {"azure": _read_azure, "burstgpt": _read_burstgpt, "mooncake": _read_mooncake}
