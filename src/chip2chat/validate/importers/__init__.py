"""Benchmark tools' own result files as validation rows: what users already measure.

`chip2chat validate --data FILE` reads, besides the CSV format (validate/data.py), the files these
tools write, in the shape they write them:

- `vllm bench serve --save-result` (vllm/benchmarks/serve.py; benchmarks/benchmark_serving.py
  before it): one JSON object (vllm.py);
- SGLang `python -m sglang.bench_serving --output-file` (python/sglang/bench_serving.py): JSONL, one
  object per run appended (sglang.py);
- `trtllm-bench throughput|latency --report_json` (tensorrt_llm/bench/dataclasses/reporting.py):
  one JSON object of sections engine, world_info, request_info, performance, streaming_metrics
  (trtllm.py);
- genai-perf `profile_export_genai_perf.json` (its JSON exporter: the metrics plus input_config) and
  `profile_export_genai_perf.csv` (genai_perf.py).

Each importer turns a run into one row of the CSV format's columns (data.COLUMNS), so an imported
run and the same run written as CSV (`write_measurements`) are one setup. What a tool does not
record (the GPU, often the parallelism and precision) comes from `setup`: the `--setup KEY=VALUE`
options (any format column), which also override what the file says; vLLM's own
`--metadata KEY=VALUE` pairs land in its JSON and are read as columns too. A run that lacks a
required column stops with the file, the column and how to give it.
"""

from __future__ import annotations

import json
from pathlib import Path

from chip2chat.validate.data import COLUMNS, REQUIRED, ValidationDataError
from chip2chat.validate.importers import genai_perf, sglang, trtllm, vllm

TOOLS = {"vllm": vllm.row, "sglang": sglang.row, "trtllm-bench": trtllm.row, "genai-perf": genai_perf.row}
"""Tool name -> function(run, path) giving the run's row (columns it knows)."""


def detect(path: Path) -> str | None:
    """The tool that wrote the file, or None for the CSV format (or a file none of them wrote; a
    missing file or a folder too: the CSV reader says what it is)."""
    if not path.is_file():
        return None
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return "sglang"
    if suffix == ".csv":
        with open(path, encoding="utf-8", errors="replace") as f:
            first = f.readline()
        return "genai-perf" if first.startswith("Metric,") else None
    if suffix != ".json":
        return None
    run = _json(path)
    if not isinstance(run, dict):
        raise ValidationDataError(f"{path}: expected one JSON object (a benchmark tool's result), got "
                                  f"{type(run).__name__}")
    if "performance" in run and "world_info" in run:
        return "trtllm-bench"
    if "time_to_first_token" in run or "request_throughput" in run and isinstance(run["request_throughput"], dict):
        return "genai-perf"
    if "output_throughput" in run:
        return "vllm"
    raise ValidationDataError(f"{path}: not a result file of vllm bench serve, SGLang bench_serving, trtllm-bench "
                              f"or genai-perf (keys: {', '.join(list(run)[:8])})")


def import_rows(path: str | Path, tool: str, setup: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The file's runs as rows of format columns, `setup` applied; checked for the required columns."""
    p = Path(path)
    runs = _runs(p, tool)
    rows = []
    for run in runs:
        row = {k: "" if v is None else str(v) for k, v in TOOLS[tool](run, p).items()}
        row.update(setup or {})
        missing = [c for c in (*REQUIRED, "engine") if not row.get(c, "").strip()]
        if missing:
            raise ValidationDataError(
                f"{p}: the {tool} result does not say {', '.join(missing)}: give "
                + " ".join(f"--setup {c}=VALUE" for c in missing)
                + (" (or vllm bench serve --metadata " + " ".join(f"{c}=VALUE" for c in missing) + ")"
                   if tool == "vllm" else ""))
        rows.append(row)
    return rows


def check_setup(setup: dict[str, str]) -> dict[str, str]:
    """--setup keys must be format columns."""
    for key in setup:
        if key not in COLUMNS:
            raise ValidationDataError(f"--setup {key}=...: {key!r} is not a column of the validation format; "
                                      f"known: {', '.join(COLUMNS)}")
    return setup


def _runs(p: Path, tool: str) -> list:
    if tool == "sglang":
        runs = []
        with open(p, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                if line.strip():
                    try:
                        runs.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise ValidationDataError(f"{p}: line {number}: not JSON ({exc.msg})") from None
        if not runs:
            raise ValidationDataError(f"{p}: no runs (an empty JSONL file)")
        return runs
    if tool == "genai-perf" and p.suffix.lower() == ".csv":
        return [genai_perf.read_csv(p)]
    return [_json(p)]


def _json(p: Path):
    try:
        with open(p, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise ValidationDataError(f"{p}: not JSON (line {exc.lineno}: {exc.msg})") from None
    except OSError as exc:
        raise ValidationDataError(f"{p}: cannot be read ({exc.strerror})") from None
