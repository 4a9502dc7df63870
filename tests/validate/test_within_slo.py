"""The throughput a rate sweep carries within an SLO, measured and predicted, and the per-source-metric summary."""

import pandas as pd
import pytest

from chip2chat.validate.run import METRIC_COLUMNS, SLOS, summarize, within_slo


def _rows(line: int, qps: float, measured: dict, predicted: dict) -> list[dict]:
    base = dict(file="f.csv", line=line, source="S", engine="vllm", table="online_serving", model="m",
                architecture="dense", gpu="g", hardware="h", num_gpus=1, tp=1, pp=1, precision="BF16", isl=1000,
                osl=200, offered_qps=qps, status="ok", reason="")
    return [dict(base, metric=k, measured=measured[k], predicted=predicted[k],
                 error_pct=(predicted[k] / measured[k] - 1) * 100) for k in measured]


def test_the_sweeps_best_rate_within_each_slo_is_compared():
    # measured: 1 qps meets both SLOs, 4 qps only the server one (TTFT 900 ms > 450), 8 qps none;
    # predicted (too optimistic): 4 qps meets both, 8 qps the server one
    sweep = []
    for line, qps, m, p in ((2, 1, (200, 100, 20), (210, 60, 15)), (3, 4, (800, 900, 30), (820, 300, 25)),
                            (4, 8, (1200, 5000, 90), (1500, 1500, 38))):
        sweep += _rows(line, qps, *[dict(throughput_tok_s=t, mean_ttft_ms=ttft, mean_itl_ms=itl)
                                    for t, ttft, itl in (m, p)])
    df = pd.DataFrame(sweep, columns=METRIC_COLUMNS)
    got = within_slo(df).set_index("slo")
    assert SLOS["interactive"] == (450.0, 40.0)
    # interactive: measured best 200 (1 qps), predicted best 820 (4 qps): +310%
    assert got.loc["interactive", "measured"] == 200 and got.loc["interactive", "predicted"] == 820
    assert got.loc["interactive", "error_pct"] == pytest.approx(310.0)
    # server (2 s, 200 ms): measured best 800 (4 qps), predicted best 1500 (8 qps): +87.5%
    assert got.loc["server", "error_pct"] == pytest.approx(87.5)
    s = summarize(df)
    assert set(s["per_source_metric"]) == {"S / throughput_tok_s", "S / mean_ttft_ms", "S / mean_itl_ms"}
    assert s["throughput_within_slo"]["S / server"]["n"] == 1
