"""The bisection on the request rate (configure/capacity.py) that sizes every finalist.

Tested on made-up latency curves (any shape, monotone or not, so the properties do not lean on the
simulator being well behaved) and once on the simulator itself.
"""

import math

from hypothesis import given
from hypothesis import strategies as st

from chip2chat.configure.capacity import LOWEST, START, meets, slo_capacity
from chip2chat.serving.config import Slo
from chip2chat.serving.simulate import simulate
from chip2chat.workload import synthetic

SATURATED = 40.0


def curve(knee: float, wiggle: float, seed: int):
    """A run function: p99 latencies grow with the rate past a knee, with a deterministic wiggle
    (a noisy simulator) that may make them non-monotone; `None` is the saturated run."""
    def run(rate):
        if rate is None:
            return {"request_throughput": SATURATED}
        load = rate / SATURATED
        noise = 1 + wiggle * math.sin(seed + 97.0 * load)
        return {"p99_ttft_ms": 100 * noise / max(1e-3, knee - load) ** 0.5,
                "p99_tpot_ms": 10 * noise * (1 + load ** 4 / knee), "overload": "" if load < 1 else "queue grows"}
    return run


knees = st.floats(0.2, 1.2)
wiggles = st.floats(0.0, 0.3)
seeds = st.integers(0, 1000)
limits = st.tuples(st.floats(100, 600), st.floats(8, 40))


@given(knees, wiggles, seeds, limits)
def test_the_rate_returned_was_simulated_and_met_the_slo(knee, wiggle, seed, limit):
    # reason: the answer a user gets must be a run that met the SLO, whatever the curve's shape
    run = curve(knee, wiggle, seed)
    slo = Slo(*limit)
    cap = slo_capacity(run, slo)
    if cap.rate_per_s is None:
        assert cap.summary is None and not any(met for _, met in cap.probes)
    else:
        assert (cap.rate_per_s, True) in cap.probes
        assert cap.summary == run(cap.rate_per_s) and meets(cap.summary, slo)


@given(knees, wiggles, seeds, limits, st.floats(1.0, 2.0), st.floats(1.0, 2.0))
def test_a_looser_slo_never_gets_a_lower_capacity(knee, wiggle, seed, limit, loosen_ttft, loosen_tpot):
    # reason: "a looser SLO never needs more GPUs" rests on this, even for a non-monotone simulator
    run = curve(knee, wiggle, seed)
    tight = slo_capacity(run, Slo(*limit))
    loose = slo_capacity(run, Slo(limit[0] * loosen_ttft, limit[1] * loosen_tpot))
    assert (loose.rate_per_s or 0.0) >= (tight.rate_per_s or 0.0)


@given(knees, seeds)
def test_the_bracket_is_within_tolerance_in_a_handful_of_runs(knee, seed):
    # reason: each probe is a whole simulation; the search must stay near 7 to 9 of them
    run = curve(knee, 0.0, seed)
    cap = slo_capacity(run, Slo(300, 30), tolerance=0.02)
    halvings = math.ceil(math.log2(START / LOWEST))
    bisections = math.ceil(math.log2(math.log(1.1 / START) / math.log(1.02)))  # the first bracket is 1.1/START wide
    assert len(cap.probes) <= 1 + halvings + bisections
    if cap.rate_per_s is not None:
        failed_above = [r for r, met in cap.probes if not met and r > cap.rate_per_s]
        upper = min(failed_above, default=1.1 * SATURATED)
        assert upper / cap.rate_per_s <= 1.02 + 1e-9


def test_an_slo_missed_at_every_load_gives_no_capacity():
    # reason: a deployment that cannot meet the SLO even nearly idle must say so, not return a rate
    cap = slo_capacity(curve(0.5, 0.0, 0), Slo(ttft_ms=1.0))
    assert cap.rate_per_s is None and cap.summary is None and cap.saturated_rate_per_s == SATURATED


def test_an_overloaded_run_does_not_meet_the_slo():
    # reason: a growing queue's latencies measure the run's length, not the system
    assert not meets({"p99_ttft_ms": 1.0, "p99_tpot_ms": 1.0, "overload": "the offered load is 120%"}, Slo(300, 30))


def test_on_the_simulator_the_capacity_run_meets_the_slo_and_the_next_probe_up_misses_it():
    # reason: end to end on a real deployment (Llama-3.1-8B on one H100), the found rate is tight
    slo = Slo(ttft_ms=200, tpot_ms=20)

    def run(rate):
        workload = synthetic(600, rate or 1.0, arrival="poisson" if rate else "all_at_once", seed=0)
        return simulate("llama-3.1-8b", "h100", workload=workload, slo=slo).summary

    cap = slo_capacity(run, slo)
    assert cap.rate_per_s is not None and meets(cap.summary, slo)
    assert 0.3 * cap.saturated_rate_per_s < cap.rate_per_s < 1.1 * cap.saturated_rate_per_s
    above = [r for r, met in cap.probes if not met and r > cap.rate_per_s]
    assert above and min(above) <= 1.02 * cap.rate_per_s
