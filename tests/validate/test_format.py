"""The validation format says the setup in columns; the shipped files' words become columns at load only."""

import dataclasses
import math
import shutil

import pytest

from chip2chat.catalog import CATALOG_DIR
from chip2chat.validate.data import (
    ValidationDataError,
    read_measurements,
    shipped_files,
)
from chip2chat.validate.names import match_hardware, match_model
from chip2chat.validate.run import _load, _settings, predict

OLD_HEADER = ("table,trtllm_version,model,gpu,num_gpus,tp,pp,precision,isl,osl,offered_qps,throughput_tok_s,"
              "throughput_metric,req_per_s,mean_ttft_ms,mean_itl_ms,total_token_tput_tok_s,source")


def _shipped(predicate):
    return next(m for f in shipped_files() for m in read_measurements(f) if predicate(m))


def _write(tmp_path, header: str, *rows: str, name="mine.csv"):
    path = tmp_path / name
    path.write_text(header + "\n" + "".join(r + "\n" for r in rows))
    return path


def test_attention_dp_as_a_column_gives_the_old_text_switchs_prediction(tmp_path):
    # TRT-LLM 1.0's overview ran MoE models with enable_attention_dp: its shipped file says so in
    # words, mapped to the column at load; a user's row with the column set runs the same setup
    old = _shipped(lambda m: m.model == "Qwen3-30B-A3B" and m.tp == 2 and m.isl == 1000 and m.osl == 1000)
    assert old.attention_dp and old.kv_cache_fraction == 0.95 and old.num_requests == 3000
    row = (f"throughput_max_load,{old.model},{old.gpu},{old.tp},{old.precision},{old.isl},{old.osl},"
           f"{old.throughput_tok_s},my notes,true,0.95,3000,1.0 (PyTorch backend),"
           f"1 2 4 8 16 32 64 128 256 384 512 1024 2048 4096 8192")
    mine = read_measurements(_write(tmp_path, "table,model,gpu,tp,precision,isl,osl,throughput_tok_s,source,"
                                    "attention_dp,kv_cache_fraction,num_requests,engine_version,"
                                    "cuda_graph_batch_sizes", row))[0]
    ids = match_model(old.model), match_hardware(old.gpu)
    assert _settings(mine, *ids) == _settings(old, *ids) and _load(mine) == _load(old)
    assert _settings(mine, *ids)["attention_dp"] and _settings(mine, *ids)["ep"] == 2
    short = [dataclasses.replace(m, num_requests=64) for m in (old, mine)]  # the same setup, a quick run
    assert predict(short[0])[0]["predicted"] == predict(short[1])[0]["predicted"]


def test_words_in_a_users_source_switch_nothing(tmp_path):
    # the same row with enable_attention_dp and 0.95 in its source runs as plain TP, 0.90: only columns count
    old = _shipped(lambda m: m.model == "Qwen3-30B-A3B" and m.tp == 2)
    row = (f"throughput_max_load,1.0,{old.model},{old.gpu},2,2,1,{old.precision},{old.isl},{old.osl},inf,1,,,,,,"
           f"enable_attention_dp kv_cache_free_gpu_mem_fraction 0.95 500 requests")
    mine = read_measurements(_write(tmp_path, OLD_HEADER, row))[0]
    assert not mine.attention_dp and mine.kv_cache_fraction is None and mine.num_requests is None
    assert mine.expert_parallel == 1


def test_old_files_still_read_and_minimal_files_take_the_defaults(tmp_path):
    old = read_measurements(_write(tmp_path, OLD_HEADER, "online_serving,0.14.0,LLaMA 3.1 8B,H100 80GB HBM3,1,1,1,"
                                   "BF16,467,256,4,1001,out,4,23,7,2828,doc"))[0]
    assert (old.version, old.engine, old.offered_qps, old.mean_ttft_ms, old.pp) == ("0.14.0", "trtllm", 4.0, 23, 1)
    new = read_measurements(_write(tmp_path, "table,model,gpu,tp,precision,isl,osl,throughput_tok_s,source",
                                   "throughput_max_load,Llama-3.1-8B,H100,2,FP8,128,128,9000,mine", name="b.csv"))[0]
    assert (new.num_gpus, new.pp, new.ep, new.attention_dp, new.kv_cache_dtype) == (2, 1, None, False, "fp8")
    assert math.isinf(new.offered_qps) and new.num_requests is None and new.input_len_dist == ("fixed",)


def test_setup_columns_reach_the_simulation(tmp_path):
    header = ("table,model,gpu,tp,precision,isl,osl,throughput_tok_s,source,engine,engine_version,kv_dtype,"
              "kv_cache_fraction,concurrency,num_requests,input_len_dist,output_len_dist,dataset,mean_tpot_ms")
    m = read_measurements(_write(tmp_path, header, "online_serving,llama-3.1-8b,h100,1,BF16,1000,200,900,mine,vllm,"
                                 "0.10.1,fp8,0.8,16,320,uniform 900 1100,lognormal 0.5,random,12.5"))[0]
    s, load = _settings(m, "llama-3.1-8b", "h100-sxm"), _load(m)
    assert (s["engine"], s["kv_dtype"], s["weight_dtype"], s["gpu_memory_utilization"]) == ("vllm", "fp8", "bf16", 0.8)
    assert s["input_len"] == ("uniform", 900, 1100) and s["output_len"] == ("lognormal", 200.0, 0.5)
    assert load == dict(arrival="all_at_once", concurrency=16, rate_per_s=1.0, num_requests=320, seed=0)
    assert (m.version, m.dataset, m.mean_tpot_ms) == ("0.10.1", "random", 12.5)
    assert not {"enable_chunked_prefill", "mixed_batches", "num_scheduler_steps", "async_output_proc",
                "cuda_graph_batch_sizes"} & set(s)


def test_scheduling_columns_run_the_engines_scheduling_as_simulate_does(tmp_path):
    # vLLM 0.6.0 as SGLang's comparison ran it: V0 without chunked prefill, 10 scheduler steps
    from chip2chat.serving.simulate import simulate

    # (and its asynchronous output processing, on by default in 0.6.0)
    header = ("table,model,gpu,tp,precision,isl,osl,source,engine,enable_chunked_prefill,num_scheduler_steps,"
              "async_output_proc,offered_qps,num_requests,median_itl_ms,median_ttft_ms")
    m = read_measurements(_write(tmp_path, header, "online_serving,llama-3.1-8b,h100,1,BF16,200,200,mine,vllm,false,"
                                 "10,true,4,300,100,80"))[0]
    s = _settings(m, "llama-3.1-8b", "h100-sxm")
    assert (s["enable_chunked_prefill"], s["num_scheduler_steps"], s["async_output_proc"]) == (False, 10, True)
    predicted = {r["metric"]: r["predicted"] for r in predict(m)}
    direct = simulate("llama-3.1-8b", "h100", engine="vllm", enable_chunked_prefill=False, num_scheduler_steps=10,
                      async_output_proc=True, input_len=200, output_len=200, rate_per_s=4, num_requests=300,
                      seed=0).summary
    assert predicted["median_itl_ms"] == direct["median_itl_ms"] > 9 * direct["median_tpot_ms"]  # a chunk of 10 tokens
    assert predicted["median_ttft_ms"] == direct["median_ttft_ms"]


def test_cuda_graph_padding_is_a_column_and_the_v1_rows_say_the_overviews(tmp_path):
    # TensorRT-LLM 1.0's overview ran every model with cuda_graph_config enable_padding and batch
    # sizes 1, 2, 4, ..., 256, 384, 512, 1024, ..., 8192 (its llm_options.yml): mapped at load for
    # its shipped rows only; a user's row says it in the column (spaces or commas), as simulate takes it
    from chip2chat.serving.simulate import simulate

    v1 = _shipped(lambda m: m.version.startswith("1.0"))
    assert v1.cuda_graph_batch_sizes == (1, 2, 4, 8, 16, 32, 64, 128, 256, 384, 512, 1024, 2048, 4096, 8192)
    assert all(m.cuda_graph_batch_sizes is None for m in read_measurements(shipped_files()[0]))  # not the others
    header = "table,model,gpu,tp,precision,isl,osl,throughput_tok_s,source,cuda_graph_batch_sizes,num_requests"
    m = read_measurements(_write(tmp_path, header, "throughput_max_load,llama-3.1-8b,h100,1,BF16,500,100,900,mine,"
                                 "\"64,8, 16\",200"))[0]
    assert m.cuda_graph_batch_sizes == (8, 16, 64) and m.scheduling == {"cuda_graph_batch_sizes": (8, 16, 64)}
    predicted = predict(m)[0]["predicted"]
    s = _settings(m, "llama-3.1-8b", "h100-sxm")
    assert predicted == simulate(**s, **_load(m)).summary["output_throughput"]
    plain = dataclasses.replace(m, cuda_graph_batch_sizes=None)
    assert predicted < predict(plain)[0]["predicted"]  # padded decode steps cost more


def test_a_model_may_be_a_config_json_beside_the_csv(tmp_path):
    (tmp_path / "cfg").mkdir()
    shutil.copy(CATALOG_DIR / "models" / "llama-3.1-8b.json", tmp_path / "cfg" / "config.json")
    row = "online_serving,0.14.0,{},H100 80GB HBM3,1,1,1,BF16,467,256,4,1001,out,4,23,7,2828,doc,64"
    path = _write(tmp_path, OLD_HEADER + ",num_requests", row.format("cfg/config.json"), row.format("LLaMA 3.1 8B"))
    by_path, by_name = read_measurements(path)
    assert by_path.model == str((tmp_path / "cfg" / "config.json").resolve())
    a, b = predict(by_path), predict(by_name)
    assert a[0]["status"] == "ok" and [r["predicted"] for r in a] == pytest.approx([r["predicted"] for r in b])


def test_fixed_concurrency_one_row_predicts_the_single_request_latency(tmp_path):
    from chip2chat.engine.estimate import estimate

    m = read_measurements(_write(tmp_path, "table,model,gpu,tp,precision,isl,osl,throughput_tok_s,source,engine,"
                                 "concurrency,num_requests,mean_ttft_ms", "online_serving,llama-3.1-8b,h100,1,BF16,"
                                 "512,128,150,mine,vllm,1,8,12"))[0]
    ttft = next(r for r in predict(m) if r["metric"] == "mean_ttft_ms")["predicted"]
    assert ttft == pytest.approx(estimate("llama-3.1-8b", "h100", input_len=512, output_len=128).ttft_s * 1e3,
                                 rel=1e-9)


@pytest.mark.parametrize("column, value, message", [
    ("attention_dp", "maybe", "expected true or false"),
    ("kv_dtype", "fp9", "expected one of"),
    ("kv_cache_fraction", "1.5", r"expected a fraction in \(0, 1\]"),
    ("input_len_dist", "gamma 2", "expected fixed, uniform LOW HIGH or lognormal CV"),
    ("input_len_dist", "uniform 900 800", r"expected positive numbers \(uniform: LOW <= HIGH\)"),
    ("concurrency", "0", "expected a positive integer"),
    ("engine", "tgi", "expected one of trtllm, vllm, sglang"),
    ("mixed_batches", "sometimes", "expected true or false"),
    ("num_scheduler_steps", "0", "expected a positive integer"),
    ("async_output_proc", "2", "expected true or false"),
    ("cuda_graph_batch_sizes", "1 2 four", "expected batch sizes, whole numbers >= 1"),
    ("cuda_graph_batch_sizes", "0 8", "expected batch sizes, whole numbers >= 1"),
    ("num_scheduler_steps", "8", "multi-step scheduling needs enable_chunked_prefill false"),
])
def test_bad_setup_cells_name_file_row_column_and_what_is_allowed(tmp_path, column, value, message):
    path = _write(tmp_path, f"table,model,gpu,tp,precision,isl,osl,throughput_tok_s,source,{column}",
                  f"throughput_max_load,llama-3.1-8b,h100,1,BF16,1000,1000,900,mine,{value}")
    with pytest.raises(ValidationDataError, match=rf"mine.csv: row 2: column {column}: {message}"):
        read_measurements(path)


def test_an_online_row_needs_a_rate_or_a_concurrency(tmp_path):
    path = _write(tmp_path, "table,model,gpu,tp,precision,isl,osl,throughput_tok_s,source",
                  "online_serving,llama-3.1-8b,h100,1,BF16,1000,1000,900,mine")
    with pytest.raises(ValidationDataError, match="column offered_qps: an online_serving row needs its request rate"):
        read_measurements(path)
