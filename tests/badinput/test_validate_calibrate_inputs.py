"""Bad rows in the two CSVs users bring: `calibrate --from-raw` and `validate --data`.

Each case is one line naming the file, the row (its line number; the header is row 1) and the
column. A calibration that fits must never write a profile from numbers the chip cannot reach:
an efficiency of 1,112,000, an `inf` time or a header-only file once exited 0 with a profile.
"""

import pytest

from contract import assert_bad

RAW_HEADER = "kind,dtype,shape,flops,bytes,ranks,seconds"
GEMM = "gemm,bf16,8192x8192x8192,1.1e12,0,1,0.0016"  # 687 TFLOP/s: 69% of the H200's 989 bf16 peak
VALIDATION_HEADER = ("table,trtllm_version,model,gpu,num_gpus,tp,pp,precision,isl,osl,offered_qps,throughput_tok_s,"
                     "throughput_metric,req_per_s,mean_ttft_ms,mean_itl_ms,total_token_tput_tok_s,source")
GOOD = ("throughput_max_load,0.17,LLaMA v3.1 8B,H100 80GB HBM3,1,1,1,FP8,1000,1000,inf (all requests queued),"
        "15244.78,out,,,,,doc")


def _calibrate(cli, tmp_path, *rows: str, header: str = RAW_HEADER):
    path = tmp_path / "raw.csv"
    path.write_text("\n".join([header, *rows]) + "\n" if header or rows else "")
    out = tmp_path / "profile.yaml"
    result = cli("calibrate", "--hardware", "h200", "--from-raw", path, "--out", out)
    assert not out.exists(), "a profile was written from bad measurements"
    return result


def _validate(cli, tmp_path, *rows: str, header: str = VALIDATION_HEADER):
    path = tmp_path / "mine.csv"
    path.write_text("\n".join([header, *rows]) + "\n" if header or rows else "")
    return cli("validate", "--data", path, "--workers", "1")


# --- calibrate --from-raw: the file's shape -------------------------------------------------------

def test_calibrate_short_row_names_row_and_first_missing_column(cli, tmp_path):
    # csv.DictReader gave None for the missing fields: float(None) was a traceback
    assert_bad(_calibrate(cli, tmp_path, GEMM, "gemm,bf16,1x1x1,2"), 2, "raw.csv", "row 3", "column bytes",
               "4 fields")


def test_calibrate_header_only_has_no_measurements(cli, tmp_path):
    # once an "empty" fit that wrote the default profile and exited 0
    assert_bad(_calibrate(cli, tmp_path), 2, "raw.csv", "no measurements")


def test_calibrate_empty_file_expects_the_header(cli, tmp_path):
    assert_bad(_calibrate(cli, tmp_path, header=""), 2, "raw.csv", "empty file", RAW_HEADER)


def test_calibrate_missing_column_shows_the_expected_header(cli, tmp_path):
    assert_bad(_calibrate(cli, tmp_path, "gemm,bf16,x,1e12,0,1", header="kind,dtype,shape,flops,bytes,ranks"),
               2, "raw.csv", "row 1", "missing column 'seconds'", RAW_HEADER)


def test_calibrate_unquoted_comma_is_an_extra_field(cli, tmp_path):
    # "1,100,000,000" unquoted shifts every column after flops: caught, not read as flops = 1
    assert_bad(_calibrate(cli, tmp_path, "gemm,bf16,x,1,100,000,000,0,1,0.0016"), 2, "raw.csv", "row 2",
               "unquoted comma")


@pytest.mark.parametrize("column, value, mention", [
    ("seconds", "inf", "expected a finite number"),
    ("seconds", "nan", "expected a finite number"),
    ("flops", "inf", "expected a finite number"),
    ("bytes", "nan", "expected a finite number"),
    ("seconds", "0", "seconds > 0"),
    ("seconds", "fast", "expected a number"),
    ("bytes", "-1", "expected a number >= 0"),
    ("flops", "0", "needs its flops"),
    ("kind", "matmul", "expected one of gemm"),
    ("ranks", "two", "whole number"),
])
def test_calibrate_bad_value_names_row_and_column(cli, tmp_path, column, value, mention):
    fields = dict(zip(RAW_HEADER.split(","), GEMM.split(",")))
    fields[column] = value
    assert_bad(_calibrate(cli, tmp_path, GEMM, ",".join(fields.values())), 2, "raw.csv", "row 3",
               f"column {column}", mention)


def test_calibrate_copy_without_bytes_names_the_column(cli, tmp_path):
    # a memcpy is timed for the bytes it moves; 0 bytes would fit an efficiency of 0
    assert_bad(_calibrate(cli, tmp_path, "memcpy,bf16,1GiB,0,0,1,0.001"), 2, "row 2", "column bytes",
               "needs its bytes")


def test_calibrate_all_reduce_over_one_rank_is_rejected(cli, tmp_path):
    assert_bad(_calibrate(cli, tmp_path, "all_reduce,bf16,1GiB,0,1e9,1,0.01"), 2, "row 2", "column ranks",
               "2 or more ranks")


# --- calibrate --from-raw: numbers the chip cannot reach ----------------------------------------

def test_calibrate_gemm_above_peak_names_row_achieved_and_peak(cli, tmp_path):
    # 1.1 TFLOP in 1 us (seconds written in milliseconds?) is 1,112x the bf16 peak: an error, never a profile
    line = assert_bad(_calibrate(cli, tmp_path, GEMM, "gemm,bf16,8192^3,1.1e12,0,1,1e-6"), 2,
                      "raw.csv", "row 3", "1,100,000.0 TFLOP/s", "989.4 TFLOP/s", "wrong units")
    assert "efficiency 1,112" in line


def test_calibrate_copy_faster_than_hbm_is_rejected(cli, tmp_path):
    # 2 GB in 0.1 ms = 20 TB/s on a 4.8 TB/s H200
    assert_bad(_calibrate(cli, tmp_path, GEMM, "memcpy,bf16,1GiB,0,2e9,1,1e-4"), 2, "row 3", "memory bandwidth",
               "wrong units")


def test_calibrate_all_reduce_above_1_2x_the_link_is_rejected(cli, tmp_path):
    # collectives may reach a little over the per-direction peak (CalibrationProfile allows 1.2), not 39x
    assert_bad(_calibrate(cli, tmp_path, "all_reduce,bf16,1G,0,1e9,8,1e-4", "all_reduce,bf16,1M,0,1e6,8,1e-5"),
               2, "row 2", "1.2x", "link bandwidth", "wrong units")


def test_calibrate_all_reduce_faster_for_larger_messages_cannot_be_fitted(cli, tmp_path):
    # a line through these has a negative slope: once a negative collective_efficiency and a pydantic error
    assert_bad(_calibrate(cli, tmp_path, "all_reduce,bf16,1G,0,1e9,8,1e-2", "all_reduce,bf16,1M,0,1e6,8,2e-2"),
               2, "raw.csv", "all_reduce rows 2-3", "does not grow with the message size")


def test_calibrate_with_nothing_the_fit_uses_says_what_it_needs(cli, tmp_path):
    # decode attention alone sets no field: the "profile" would be the defaults under a fitted name
    assert_bad(_calibrate(cli, tmp_path, "attention_decode,bf16,x,1e6,1e6,1,1e-3"), 2, "raw.csv",
               "nothing to fit", "gemm rows of >= 1 GFLOP")


# --- validate --data -------------------------------------------------------------------------------

def test_validate_short_row_names_row_and_column(cli, tmp_path):
    assert_bad(_validate(cli, tmp_path, GOOD, "throughput_max_load,0.17,LLaMA v3.1 8B"), 2, "mine.csv", "row 3",
               "column gpu", "3 fields")


@pytest.mark.parametrize("column, value", [
    ("throughput_tok_s", "inf"), ("throughput_tok_s", "nan"), ("mean_ttft_ms", "inf"), ("req_per_s", "nan"),
])
def test_validate_non_finite_number_names_row_and_column(cli, tmp_path, column, value):
    # offered_qps may be "inf" (all requests queued at once); no measured figure may
    fields = dict(zip(VALIDATION_HEADER.split(","), GOOD.split(",")))
    fields[column] = value
    assert_bad(_validate(cli, tmp_path, ",".join(fields.values())), 2, "mine.csv", "row 2", f"column {column}",
               "finite")


def test_validate_header_only_has_no_rows(cli, tmp_path):
    assert_bad(_validate(cli, tmp_path), 2, "mine.csv", "no measurement rows")


def test_validate_empty_file_expects_the_header(cli, tmp_path):
    assert_bad(_validate(cli, tmp_path, header=""), 2, "mine.csv", "empty file", "expected the header")


def test_validate_unquoted_thousands_separator_is_caught(cli, tmp_path):
    # 15,244.78 unquoted would shift every later column and run the row with throughput 15
    assert_bad(_validate(cli, tmp_path, GOOD.replace("15244.78", "15,244.78")), 2, "mine.csv", "row 2",
               "19 fields", "unquoted comma")


def test_validate_missing_column_names_it(cli, tmp_path):
    assert_bad(_validate(cli, tmp_path, GOOD, header=VALIDATION_HEADER.replace(",source", "")), 2,
               "mine.csv", "row 1", "missing column 'source'")
