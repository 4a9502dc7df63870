"""Names as benchmark tables, nvidia-smi and people write them resolve to the right catalog entry,
or to none; never to a sibling part, never to the first of two chips (issue 13)."""

import pytest

from chip2chat.catalog import MixedChipsError, find_everywhere, looks_like_path
from chip2chat.hardware.load import load_hardware
from chip2chat.models.load import load_model
from chip2chat.validate.data import read_measurements, shipped_files
from chip2chat.validate.names import match_hardware, match_model


@pytest.mark.parametrize("written, wanted", [
    # MLPerf accelerator_model_name values (vendor first, form factor and memory joined by hyphens)
    ("NVIDIA H100-SXM-80GB", "h100-sxm"),
    ("NVIDIA H100-SXM5-80GB", "h100-sxm"),
    ("NVIDIA H200-SXM-141GB", "h200-sxm"),
    ("NVIDIA B200-SXM-180GB", "b200"),
    ("NVIDIA GB200", "gb200"),
    ("NVIDIA H100-NVL-94GB", "h100-nvl"),
    ("NVIDIA H100-PCIe-80GB", "h100-pcie"),
    ("NVIDIA H200-NVL-141GB", "h200-nvl"),
    ("AMD Instinct MI300X-NPS1-SPX-192GB-750W", "mi300x"),  # partition modes and power dropped
    ("AMD Instinct MI355X 288GB HBM3e", "mi355x"),
    ("GB300-288GB", "gb300"),                              # 288 GB physical vs 279 GiB sold: within 10%
    # nvidia-smi device names
    ("NVIDIA H100 80GB HBM3", "h100-sxm"),
    ("NVIDIA H100 NVL", "h100-nvl"),
    ("NVIDIA H100 PCIe", "h100-pcie"),
    ("NVIDIA H200", "h200-sxm"),
    ("NVIDIA H200 NVL", "h200-nvl"),
    # counts in front
    ("8x MI300X", "mi300x"),
    ("8xH200", "h200-sxm"),
])
def test_vendor_and_mlperf_names_resolve_to_the_right_entry(written, wanted):
    assert match_hardware(written) == wanted
    assert load_hardware(written)[0] == wanted  # the same rule for every command, not only validate


def test_plain_h100_and_h200_are_the_sxm_parts():
    # the catalog's rule: no form factor in the name means the SXM part, as in NVIDIA's own tables
    assert [match_hardware(n) for n in ("H100", "H100 80GB", "H200", "H200 141GB")] == \
        ["h100-sxm", "h100-sxm", "h200-sxm", "h200-sxm"]


@pytest.mark.parametrize("written", ["H100 PCIe", "H100 NVL", "H100-PCIe-80GB", "H100 NVL 94GB"])
def test_a_form_factor_word_is_never_dropped(written):
    # "H100 PCIe" used to lose its last word and become the 700 W SXM part
    assert match_hardware(written) != "h100-sxm"
    assert match_hardware("A100 PCIe") is None  # no A100 PCIe entry: unknown, not the SXM A100


@pytest.mark.parametrize("written", ["A100 40GB", "H100 94GB", "GH200 144GB", "MI300X 256GB"])
def test_a_memory_size_that_disagrees_with_the_entry_is_another_part(written):
    # a different memory size is a different SKU (A100 40GB, the 144 GB GH200): unknown, not the catalog's
    assert match_hardware(written) is None


@pytest.mark.parametrize("written, both", [
    ("MI300X + MI325X", ("mi300x", "mi325x")),
    ("8x MI300X, 8x MI325X", ("mi300x", "mi325x")),
    ("H100/H200", ("h100-sxm", "h200-sxm")),
    ("H200 & B200", ("h200-sxm", "b200")),
    ("MI300X and MI325X", ("mi300x", "mi325x")),
])
def test_a_mixed_cluster_is_refused_naming_both_chips(written, both):
    for lookup in (match_hardware, load_hardware):
        with pytest.raises(MixedChipsError) as err:
            lookup(written)
        message = str(err.value)
        assert "\n" not in message and "mixed cluster" in message and "one chip per option" in message
        assert all(chip in message for chip in both)


def test_a_chip_joined_with_an_unknown_one_is_still_mixed():
    with pytest.raises(MixedChipsError, match=r"h100-sxm and 'L4' \(not in the catalog\)"):
        match_hardware("H100 + L4")


def test_the_same_chip_written_twice_is_that_chip():
    assert match_hardware("8x H100, 8x H100 SXM") == "h100-sxm"
    assert match_hardware("B300 / Blackwell Ultra") == "b300"  # two aliases of one entry


def test_every_shipped_validation_gpu_keeps_its_chip():
    # the reference predictions depend on these mappings (test_reference.py)
    wanted = {"A100-SXM4-80GB": "a100-sxm-80gb", "B200 180GB": "b200", "GB200 192GB": "gb200",
              "GH200 480GB": "gh200", "H100 80GB HBM3": "h100-sxm", "H100 SXM 80GB": "h100-sxm",
              "H200 131GB HBM3": "h200-sxm", "H200 141GB HBM3": "h200-sxm", "H200 SXM 141GB": "h200-sxm",
              "L40S": "l40s", "MI300X": "mi300x",
              "RTX 6000 Pro Blackwell Server Edition": "rtx-pro-6000"}
    gpus = {m.gpu for f in shipped_files() for m in read_measurements(f)}
    assert gpus <= set(wanted)
    assert {g: match_hardware(g) for g in gpus} == {g: wanted[g] for g in gpus}


@pytest.mark.parametrize("written", ["DeepSeek-R1-0528", "deepseek-ai/DeepSeek-R1-0528", "DeepSeek-R1",
                                     "deepseek-ai/DeepSeek-R1", "DeepSeek R1"])
def test_deepseek_r1_names_are_known(written):
    assert match_model(written) == "deepseek-r1"
    assert load_model(written).name == "deepseek-r1"  # a repo id is a name, not a missing file


@pytest.mark.parametrize("written, wanted", [
    ("meta-llama/Llama-3.1-70B-Instruct", "llama-3.1-70b"),  # organisation of a repo id dropped
    ("Llama-3.3-70B-Instruct-FP8", "llama-3.3-70b"),        # trailing Instruct / precision dropped
    ("Qwen3 32B FP8", "qwen3-32b"),
    ("DeepSeek R1 Distill Llama 70B", None),                 # a distilled Llama is not DeepSeek-R1
    ("DeepSeek-R1-Distill-Qwen-32B", None),
])
def test_model_names_drop_only_words_that_qualify_a_release(written, wanted):
    assert match_model(written) == wanted


def test_one_slash_names_are_names_unless_they_exist(tmp_path):
    assert not looks_like_path("deepseek-ai/DeepSeek-R1") and not looks_like_path("H100/H200")
    assert looks_like_path("./models/x") and looks_like_path("a/b/c") and looks_like_path("cfg.json")
    (tmp_path / "org").mkdir()
    assert looks_like_path(str(tmp_path / "org"))


def test_catalog_show_reads_names_by_the_same_rules():
    assert [(k, key) for k, key, _ in find_everywhere("NVIDIA H100-NVL-94GB")] == [("accelerators", "h100-nvl")]
    assert [(k, key) for k, key, _ in find_everywhere("deepseek-ai/DeepSeek-R1-0528")] == [("models", "deepseek-r1")]


def test_a_mixed_cluster_error_survives_a_process_pool():
    # validate runs rows in a pool: the error must come back whole, not as a TypeError
    import pickle

    err = pickle.loads(pickle.dumps(MixedChipsError("MI300X + MI325X", ["mi300x", "mi325x"])))
    assert isinstance(err, MixedChipsError) and str(err).startswith("'MI300X + MI325X' is a mixed cluster")


def test_a_row_naming_two_chips_is_skipped_with_the_reason_not_the_whole_run(tmp_path):
    # a mixed MI300X+MI325X cluster used to map silently to the first name
    from chip2chat.validate.run import validate

    header = ("table,trtllm_version,model,gpu,num_gpus,tp,pp,precision,isl,osl,offered_qps,throughput_tok_s,"
              "throughput_metric,req_per_s,mean_ttft_ms,mean_itl_ms,total_token_tput_tok_s,source\n")
    row = "throughput_max_load,0.17,LLaMA v3.1 8B,{gpu},1,1,1,FP8,128,128,inf,29526.04,out,,,,,doc\n"
    path = tmp_path / "rows.csv"
    path.write_text(header + row.format(gpu="MI300X + MI325X") + row.format(gpu="H200 141GB HBM3"))
    df = validate([str(path)], workers=1)
    assert df["status"].tolist() == ["skipped", "ok"]
    assert "MI300X" in df["reason"].iloc[0] and "MI325X" in df["reason"].iloc[0]
