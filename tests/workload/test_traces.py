"""Trace readers: the shipped samples parse, and every kind of bad file stops with file, line and field."""

from __future__ import annotations

import json

import numpy as np
import pytest

from chip2chat.catalog import CATALOG_DIR
from chip2chat.errors import Chip2ChatError
from chip2chat.workload import TraceError, Workload, read_trace

SAMPLES = CATALOG_DIR / "traces"
AZURE_HEADER = "TIMESTAMP,ContextTokens,GeneratedTokens"
BURSTGPT_HEADER = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type"


def _write(tmp_path, name: str, lines: list[str]):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def _check_well_formed(workload: Workload) -> None:
    assert workload.arrival_s[0] == 0.0
    assert np.all(np.diff(workload.arrival_s) >= 0)
    assert workload.input_len.min() >= 1 and workload.output_len.min() >= 1


def test_azure_sample_parses_all_200_rows():
    workload = read_trace(SAMPLES / "azure_sample.csv", "azure")
    assert len(workload) == 200
    _check_well_formed(workload)
    # Generated as lognormal ~1000 in / ~250 out: a parse that mixed the columns up would fail this.
    assert 500 < workload.input_len.mean() < 2000
    assert 100 < workload.output_len.mean() < 500
    assert workload.prefix_hashes is None


def test_burstgpt_sample_skips_and_counts_its_7_failed_rows():
    workload = read_trace(SAMPLES / "burstgpt_sample.csv", "burstgpt")
    assert len(workload) == 193
    assert "skipped 7 failed rows" in workload.source
    _check_well_formed(workload)


def test_mooncake_sample_parses_and_keeps_shared_prefixes():
    workload = read_trace(SAMPLES / "mooncake_sample.jsonl", "mooncake")
    assert len(workload) == 200
    _check_well_formed(workload)
    assert workload.hash_block_size == 512
    hashes = workload.prefix_hashes
    assert hashes is not None and len(hashes) == 200
    # Multi-turn conversations: a later turn starts with the whole blocks of the turn before it, so
    # many requests repeat 4 or more leading blocks of an earlier request (system prompts are 2 or 3).
    seen: set[tuple[int, ...]] = set()
    repeating = 0
    for ids in hashes:
        repeating += ids[:4] in seen and len(ids) >= 4
        seen.update(ids[:k] for k in range(1, len(ids) + 1))
    assert repeating >= 50
    # Each hash id stands for one 512-token block of the prompt.
    assert all(len(h) == -(-n // 512) for h, n in zip(hashes, workload.input_len))


def test_azure_timestamps_with_seven_fractional_digits_become_seconds_since_first(tmp_path):
    path = _write(tmp_path, "t.csv", [AZURE_HEADER,
                                      "2023-11-16 18:15:46.6805900,100,10",
                                      "2023-11-16 18:15:48.1805900,200,20",
                                      "2023-11-16 18:16:46.6805900,300,30"])
    workload = read_trace(path, "azure")
    assert workload.arrival_s.tolist() == pytest.approx([0.0, 1.5, 60.0])
    assert workload.input_len.tolist() == [100, 200, 300]


def test_unsorted_rows_are_sorted_stably_with_their_lengths(tmp_path):
    path = _write(tmp_path, "b.csv", [BURSTGPT_HEADER,
                                      "10,ChatGPT,1,11,12,API log",
                                      "5,ChatGPT,2,22,24,API log",
                                      "10,GPT-4,3,33,36,API log",
                                      "7,ChatGPT,4,44,48,API log"])
    workload = read_trace(path, "burstgpt")
    assert workload.arrival_s.tolist() == [0.0, 2.0, 5.0, 5.0]
    assert workload.input_len.tolist() == [2, 4, 1, 3]  # the two rows at t=10 keep the file order
    assert workload.output_len.tolist() == [22, 44, 11, 33]


def test_malformed_row_names_file_line_and_field(tmp_path):
    rows = [AZURE_HEADER] + [f"2023-11-16 18:15:{10 + i:02d}.0000000,100,10" for i in range(20)]
    rows[16] = "2023-11-16 18:15:59.0000000,abc,10"  # line 17 of the file
    path = _write(tmp_path, "trace.csv", rows)
    with pytest.raises(TraceError) as caught:
        read_trace(path, "azure")
    message = str(caught.value)
    assert message == f"{path}: line 17: field ContextTokens: expected a positive integer, got 'abc'"
    assert "\n" not in message


@pytest.mark.parametrize("fmt, lines, line, field", [
    ("azure", [AZURE_HEADER, "yesterday,100,10"], 2, "TIMESTAMP"),
    ("azure", [AZURE_HEADER, "2023-11-16 18:15:46.6805900,100,0"], 2, "GeneratedTokens"),
    ("burstgpt", [BURSTGPT_HEADER, "1,ChatGPT,10,5,15,API log", "soon,ChatGPT,10,5,15,API log"], 3, "Timestamp"),
    ("burstgpt", [BURSTGPT_HEADER, "1,ChatGPT,-4,5,1,API log"], 2, "Request tokens"),
    ("mooncake", ['{"timestamp": 0, "input_length": 10, "output_length": 5, "hash_ids": [1]}',
                  '{"timestamp": 5, "input_length": 10.5, "output_length": 5, "hash_ids": [1]}'], 2, "input_length"),
    ("mooncake", ['{"timestamp": 0, "input_length": 10, "output_length": 5, "hash_ids": "x"}'], 1, "hash_ids"),
    ("mooncake", ['{"timestamp": 0, "input_length": 10, "hash_ids": [1]}'], 1, "output_length"),
])
def test_each_bad_value_is_reported_with_its_line_and_field(tmp_path, fmt, lines, line, field):
    path = _write(tmp_path, "bad.txt", lines)
    with pytest.raises(TraceError, match=f"bad.txt: line {line}: field {field}: "):
        read_trace(path, fmt)


def test_a_bad_row_after_good_ones_returns_nothing(tmp_path):
    lines = [BURSTGPT_HEADER] + ["1,ChatGPT,10,5,15,API log"] * 500 + ["2,ChatGPT,10,five,15,API log"]
    with pytest.raises(TraceError, match="line 502: field Response tokens"):
        read_trace(_write(tmp_path, "b.csv", lines), "burstgpt")


def test_invalid_json_line_is_reported(tmp_path):
    path = _write(tmp_path, "m.jsonl", ['{"timestamp": 0, "input_length": 10, "output_length": 5, "hash_ids": []}',
                                        '{"timestamp": 1, "input_length": 10,'])
    with pytest.raises(TraceError, match="m.jsonl: line 2: not valid JSON"):
        read_trace(path, "mooncake")


def test_missing_column_names_the_column_and_the_expected_header(tmp_path):
    path = _write(tmp_path, "a.csv", ["TIMESTAMP,ContextTokens", "2023-11-16 18:15:46.6805900,100"])
    with pytest.raises(TraceError) as caught:
        read_trace(path, "azure")
    assert "missing column 'GeneratedTokens'" in str(caught.value)
    assert AZURE_HEADER in str(caught.value)


def test_empty_traces_say_so(tmp_path):
    with pytest.raises(TraceError, match="empty file"):
        read_trace(_write(tmp_path, "e.csv", []), "azure")
    with pytest.raises(TraceError, match="no requests"):
        read_trace(_write(tmp_path, "h.csv", [AZURE_HEADER]), "azure")
    with pytest.raises(TraceError, match="no requests"):
        read_trace(_write(tmp_path, "e.jsonl", [""]), "mooncake")


def test_a_trace_of_only_failed_requests_says_how_many_failed(tmp_path):
    path = _write(tmp_path, "f.csv", [BURSTGPT_HEADER, "1,ChatGPT,10,0,10,API log", "2,ChatGPT,10,0,10,API log"])
    with pytest.raises(TraceError, match="no successful requests.*2 failed rows"):
        read_trace(path, "burstgpt")


def test_unknown_format_and_missing_file_are_clear(tmp_path):
    with pytest.raises(Chip2ChatError, match="azure, burstgpt, mooncake"):
        read_trace(SAMPLES / "azure_sample.csv", "sharegpt")
    with pytest.raises(Chip2ChatError, match="nope.csv: <file>: no such file"):
        read_trace(tmp_path / "nope.csv", "azure")


def test_mooncake_timestamps_are_milliseconds_and_hashes_follow_their_request(tmp_path):
    records = [{"timestamp": 5000, "input_length": 600, "output_length": 7, "hash_ids": [1, 2]},
               {"timestamp": 1000, "input_length": 100, "output_length": 3, "hash_ids": [9]}]
    path = _write(tmp_path, "m.jsonl", [json.dumps(r) for r in records])
    workload = read_trace(path, "mooncake")
    assert workload.arrival_s.tolist() == [0.0, 4.0]
    assert workload.prefix_hashes == ((9,), (1, 2))
