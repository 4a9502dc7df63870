"""The 24/7 carbon-free energy (CFE) score of a supply mix, and its target as linear rows of the mix LP.

The score is Google's hourly CFE score: in each hour the carbon-free energy a site consumes counts
up to that hour's load, and surplus in one hour earns nothing in another:

    CFE score = sum_t w_t min(load_t, carbon-free supply_t) / sum_t w_t load_t

(Google, "24/7 Carbon-Free Energy: Methodologies and Metrics", Feb. 2021,
https://sustainability.google/reports/24x7-carbon-free-energy-methodologies-metrics/; Google's
regional CFE% dataset states the same rule: "calculated for every hour ... what percentage of the
energy we consumed during an hour that is carbon-free", counting "the carbon-free energy that's
already supplied by the grid, in addition to the investments we have made in renewable energy in
that location", https://console.cloud.google.com/marketplace/product/bigquery-public-datasets/regional-cfe;
surplus certificates "carry no hourly value once the score is capped at 100%",
https://www.renewabl.com/hourly-cfe-score-estimator.)

Carbon-free supply in hour t: the PPA energy used on site, the grid import times the grid's
carbon-free share that hour (`grid_cfe_share`, default 0: grid energy never counts), generators
that burn no carbon (none of the catalog's gas options), and battery discharge only as far as the
battery was charged with carbon-free energy. The battery's clean energy is tracked as a second
state of charge q_t inside its real one (the same round trip; clean charge <= charge, clean
discharge <= discharge, q_t <= state of charge, cyclic over the typical day), so stored grid energy
never turns carbon-free. Per hour, with matched energy m_t <= load_t:

    m_t + clean charge_t <= PPA used_t + grid share_t x grid_t + clean generators_t + clean discharge_t

and a target is sum_t w_t m_t >= target x sum_t w_t load_t: all linear, in the mix LP itself.

Caveat: the LP sees one typical day per month, so every windless night or cloudy week is averaged
away; the wind and solar needed for a high target (and its cost) are optimistic against real
weather years, more so the closer the target is to 100 %.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

from chip2chat.energy.grid import NEXT_HOUR
from chip2chat.errors import Chip2ChatError


def check_target(target: float | None) -> None:
    if target is not None and not 0.0 <= target <= 1.0:
        raise Chip2ChatError(f"supply mix: cfe_target {target:g} is outside 0..1 (the share of the load matched "
                             f"by carbon-free energy hour by hour, e.g. 0.9 for 90 %)")


def grid_share(share, n: int) -> np.ndarray:
    """The grid's carbon-free share per hour, flattened: (12, 24) in 0..1, or None for 0."""
    if share is None:
        return np.zeros(n)
    a = np.asarray(share, dtype=float)
    if a.shape != (12, 24) or not np.isfinite(a).all() or (a < 0).any() or (a > 1).any():
        raise Chip2ChatError(f"supply mix: grid_cfe_share must be (12, 24) shares in 0..1 by month and hour, got "
                             f"shape {a.shape}" + ("" if a.shape != (12, 24) else f", range {a.min():g}..{a.max():g}"))
    return a.ravel()


def score(load, w, clean, battery=None) -> float:
    """The CFE score of a dispatch: `clean` (n,) MW of carbon-free supply before the battery;
    `battery`: (charge, discharge, state, round trip) or None. The battery's discharge counts as
    carbon-free as far as a clean state of charge within its state can supply it, the most the
    dispatch allows (a small LP)."""
    total = float((w * load).sum())
    if not total > 0:
        return float("nan")
    if battery is None:
        return max(0.0, float((w * np.minimum(load, np.maximum(clean, 0.0))).sum()) / total)
    charge, discharge, state, round_trip = battery
    n = len(load)
    hours = np.arange(n)
    # variables (n each): matched m, clean charge cc, clean discharge cd, clean state q
    eye = sparse.identity(n, format="csr")
    shift = sparse.csr_matrix((np.ones(n), (hours, NEXT_HOUR)), shape=(n, n))
    a_ub = sparse.hstack([eye, eye, -eye, sparse.csr_matrix((n, n))])  # m + cc - cd <= clean
    a_eq = sparse.hstack([sparse.csr_matrix((n, n)), -round_trip * eye, eye, shift - eye])  # q' = q + rt cc - cd
    bounds = [(0.0, max(0.0, v)) for v in np.concatenate([load, charge, discharge, state])]
    cost = np.zeros(4 * n)
    cost[:n] = -w
    res = linprog(cost, A_ub=a_ub.tocsr(), b_ub=np.maximum(clean, 0.0), A_eq=a_eq.tocsr(), b_eq=np.zeros(n),
                  bounds=bounds, method="highs")
    if res.status != 0:
        raise Chip2ChatError(f"supply mix: the CFE score's LP stopped: {res.message}")
    return max(0.0, -float(res.fun) / total)


def infeasible_message(target: float, best: float) -> str:
    """One line: the CFE target asked and `best`, the most the options and limits allow (with the
    carbon target, if any)."""
    reach = max(0.0, min(best, target))  # never '-0.0%'
    return (f"supply mix: 24/7 carbon-free target {target:.1%} of the load cannot be met: the options and limits "
            f"given reach at most {reach:.1%} hour by hour; lower cfe_target or allow more carbon-free supply (PPAs, "
            f"a battery, a cleaner grid)")
