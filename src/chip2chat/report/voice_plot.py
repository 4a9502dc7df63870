"""A picture of the voice comparison: stacked stage medians per configuration and network (PNG).

A configuration that cannot run (its models do not fit in memory) gets no bar but a grey
'does not fit' label at its place, so the comparison keeps every configuration in view.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

BUDGET_MS = 500  # a voice agent's usual time-to-first-audio target


def plot_path(path: str | Path) -> Path:
    """Where the plot will go: `path`, or `path`/voice.png for a folder; its folder is created and its
    extension must be a format matplotlib writes (a one-line error otherwise, before any work)."""
    from matplotlib.backend_bases import FigureCanvasBase

    from chip2chat.errors import ConfigError

    out = Path(path)
    if out.is_dir() or str(path).endswith(("/", "\\")):
        out = out / "voice.png"
    formats = FigureCanvasBase.get_supported_filetypes()
    if out.suffix.lower().lstrip(".") not in formats:
        raise ConfigError("--plot", str(path), f"{out.suffix or 'no extension'} is not an image format; use one of "
                          f"{', '.join('.' + f for f in sorted(formats))}")
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def plot_voice(df: pd.DataFrame, path: str | Path) -> Path:
    from matplotlib.figure import Figure

    stages = [c for c in df.columns if c.endswith("_ms") and c not in ("p50_ms", "p90_ms", "p99_ms")]
    fits = df["fits"].astype(bool) if "fits" in df else pd.Series(True, index=df.index)
    labels = [f"{r.configuration}\n{r.network}" for r in df.itertuples()]
    fig = Figure(figsize=(max(8, 0.55 * len(df)), 5.5), layout="constrained")
    ax = fig.subplots()
    heights = df[stages].where(fits, 0.0).fillna(0.0)
    bottom = pd.Series(0.0, index=df.index)
    for stage in stages:
        if heights[stage].sum() == 0:
            continue
        ax.bar(labels, heights[stage], bottom=bottom, label=stage.removesuffix("_ms").replace("_", " "))
        bottom += heights[stage]
    ok = fits.to_numpy()
    ax.scatter([lab for lab, f in zip(labels, ok) if f], df.loc[fits, "p99_ms"], marker="_", s=300, color="black",
               label="p99 (all stages)", zorder=3)
    top = float(df.loc[fits, "p99_ms"].max()) if ok.any() else BUDGET_MS
    for lab, f in zip(labels, ok):
        if not f:
            ax.text(lab, 0.05 * max(top, BUDGET_MS), "does not fit", rotation=90, ha="center", va="bottom",
                    fontsize=8, color="dimgray")
    ax.axhline(BUDGET_MS, color="red", linestyle="--", linewidth=1, label=f"{BUDGET_MS} ms voice budget")
    ax.set_ylabel("time to first audio, median stages (ms)")
    ax.tick_params(axis="x", labelsize=7, rotation=90)
    ax.legend(fontsize=7, ncols=3)
    out = Path(path)
    fig.savefig(out, dpi=120)
    return out
