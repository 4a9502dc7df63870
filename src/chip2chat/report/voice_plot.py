"""A picture of the voice comparison: stacked stage medians per configuration and network (PNG)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def plot_voice(df: pd.DataFrame, path: str | Path) -> Path:
    from matplotlib.figure import Figure

    stages = [c for c in df.columns if c.endswith("_ms") and c not in ("p50_ms", "p90_ms", "p99_ms")]
    labels = [f"{r.configuration}\n{r.network}" for r in df.itertuples()]
    fig = Figure(figsize=(max(8, 0.55 * len(df)), 5.5), layout="constrained")
    ax = fig.subplots()
    bottom = pd.Series(0.0, index=df.index)
    for stage in stages:
        if df[stage].sum() == 0:
            continue
        ax.bar(labels, df[stage], bottom=bottom, label=stage.removesuffix("_ms").replace("_", " "))
        bottom += df[stage]
    ax.scatter(labels, df["p99_ms"], marker="_", s=300, color="black", label="p99 (all stages)", zorder=3)
    ax.axhline(500, color="red", linestyle="--", linewidth=1, label="500 ms voice budget")
    ax.set_ylabel("time to first audio, median stages (ms)")
    ax.tick_params(axis="x", labelsize=7, rotation=90)
    ax.legend(fontsize=7, ncols=3)
    out = Path(path)
    fig.savefig(out, dpi=120)
    return out
