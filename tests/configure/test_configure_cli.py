"""`chip2chat configure`: the table, the choice, the launch files, the picture, JSON, one-line errors."""

import json
import subprocess
import sys

SMALL = ["--model", "llama-3.1-8b", "--hardware", "h100", "--slo-ttft-ms", "200", "--slo-tpot-ms", "20",
         "--tensor-parallel-sizes", "1,2", "--pipeline-parallel-sizes", "1", "--finalists", "1"]


def run(*args):
    return subprocess.run([sys.executable, "-m", "chip2chat.cli", "configure", *args], capture_output=True, text=True)


def test_the_table_the_choice_and_the_launch_files(tmp_path):
    # reason: the command answers the question in one call: table, choice, files, picture
    p = run(*SMALL, "--gpus", "2", "--engine", "sglang", "--launch-dir", str(tmp_path / "launch"),
            "--png", str(tmp_path / "front.png"))
    assert p.returncode == 0, p.stderr
    assert "simulated finalists" in p.stdout and "best aggregated:" in p.stdout and "chosen:" in p.stdout
    written = sorted(f.name for f in (tmp_path / "launch").iterdir())
    assert written and written[0] in ("dynamo.sh", "launch.sh")
    assert "sglang" in (tmp_path / "launch" / written[0]).read_text()
    assert (tmp_path / "front.png").read_bytes()[:4] == b"\x89PNG"


def test_json_has_the_choice_the_finalists_and_the_launch_files():
    # reason: scripts read the answer as JSON; a rate gets copies of the best unit
    p = run(*SMALL, "--request-rate", "20", "--engine", "trtllm", "--json")
    assert p.returncode == 0, p.stderr
    d = json.loads(p.stdout)
    assert d["best"]["meets_slo"] and d["best"]["units"] >= 1 and d["best"]["total_gpus"] >= 1
    assert d["finalists"] and any(name.endswith((".yml", ".yaml")) for name in d["launch"])


def test_a_bad_option_is_one_line():
    # reason: house rule: bad input is one line naming the option, never a traceback
    p = run(*SMALL, "--gpus", "2", "--tensor-parallel-sizes", "one")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    lines = [ln for ln in p.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "--tensor-parallel-sizes" in lines[0]
