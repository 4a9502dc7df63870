"""The picture of a configuration search: tokens/s/GPU against tokens/s/user.

Grey: every screened candidate where the analytic screen puts it, its front dotted. Coloured: the
simulated finalists at their capacity within the SLO (circles aggregated, triangles
disaggregated), the Pareto front of those that met it joined by a line, the chosen configuration
starred. The dashed line is the TPOT objective's user speed (1000 / p99 TPOT ms): every finalist
lies to its right.
"""

from __future__ import annotations

from pathlib import Path

MARKERS = {"aggregated": "o", "disaggregated": "^"}


def plot_configure_front(result, path):
    """Write the PNG (or any format matplotlib knows by the suffix) of `result`, a ConfigureResult,
    to `path`; a binary file object gets a PNG (the HTML report inlines it)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.8), dpi=120)
    FigureCanvasAgg(fig)  # no pyplot: no global figure state
    ax = fig.add_subplot()
    screened = result.screened
    if not screened.empty:
        ax.plot(screened["tokens_per_s_per_user"], screened["tokens_per_s_per_gpu"], ".", c="0.75", ms=3,
                label="screened (analytic)")
        edge = screened[screened["pareto"]].sort_values("tokens_per_s_per_user")
        ax.plot(edge["tokens_per_s_per_user"], edge["tokens_per_s_per_gpu"], ":", c="0.5", lw=1, label="analytic front")
    front = result.front
    for mode, marker in MARKERS.items():
        rows = front[(front["mode"] == mode) & front["meets_slo"]] if not front.empty else front
        if len(rows):
            ax.plot(rows["tokens_per_s_per_user"], rows["tokens_per_s_per_gpu"], marker, ls="none", ms=7,
                    label=f"{mode} (simulated)")
    on = front[front["pareto"]].sort_values("tokens_per_s_per_user") if not front.empty else front
    if len(on):
        ax.plot(on["tokens_per_s_per_user"], on["tokens_per_s_per_gpu"], "-", c="tab:red", lw=1.2, label="Pareto front")
    if result.best is not None:
        ax.plot([result.best.tokens_per_s_per_user], [result.best.tokens_per_s_per_gpu], "*", c="gold", mec="k",
                ms=15, label=f"chosen: {result.best.candidate.label()}")
    if result.slo.tpot_ms:
        ax.axvline(1e3 / result.slo.tpot_ms, ls="--", c="0.4", lw=1, label=f"p99 TPOT {result.slo.tpot_ms:g} ms")
    ax.set_xlabel("tokens/s/user (1 / mean TPOT)")
    ax.set_ylabel("output tokens/s/GPU")
    ax.set_title(f"{result.model} ({result.weight_dtype}), {result.engine}", fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    if hasattr(path, "write"):
        fig.savefig(path, format="png")
        return path
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
