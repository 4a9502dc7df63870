"""`chip2chat calibrate --from-kernel-tables`: aiconfigurator-core's measured kernel tables ->
catalog/kernels/ (tables.npz, index.json, sources.json), checked on held-back shapes.

For every chip of kernel_source.CHIPS that is in chip2chat's catalog and every engine measured on
it: GEMM, decode and context attention and MoE tables as efficiency grids (kernel_grids.py), and
all-reduce times as measured (the engine's custom kernels and NCCL, bf16). The normalising peaks
are the catalog's (accelerators.yaml), written into index.json so that the reader
(hardware/kernels.py) divides by the same figures. Each table's error on held-back shapes goes
into index.json and is printed: all-reduce holds back every other message size. A table faster
than the chip can go (kernel_grids.faster_than_chip) is left out and the same chip's table under
another engine stands in (`_stand_in`; index.json `left_out` says which and why).

Kernel measurements are calibration data: nothing here reads an end-to-end result, of
aiconfigurator or of chip2chat's validation rows.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from chip2chat.calibrate.kernel_grids import (BEYOND_CACHE, FAMILIES, MAX_FASTER_THAN_CHIP, ROOFLINE_SLACK,
                                              UNPUBLISHED_CACHE_BYTES, check, faster_than_chip)
from chip2chat.calibrate.kernel_source import PACKAGE, KernelSource, catalog_chips, locate
from chip2chat.hardware.kernels import ENGINES, KERNELS_DIR, log_log
from chip2chat.hardware.load import hardware_ids, load_hardware

FORMAT = 1
COMPUTE = ("bf16", "fp8", "fp4")  # the rates kernels.WEIGHT_FORMATS runs at
ELEMENT_BYTES = 2  # all-reduce message_size counts bf16/half elements (aiconfigurator collector/)


@dataclass(frozen=True)
class HeldBack:
    """The error of one table on the measured shapes it was not built from."""

    family: str
    chip: str
    engine: str
    variant: str
    errors: np.ndarray
    """|predicted / measured - 1| per held-back shape."""

    def row(self) -> list:
        return [self.family, self.chip, self.engine, self.variant, *summary(self.errors)]


def summary(errors: np.ndarray) -> tuple[int, float | None, float | None]:
    """(count, median, 90th percentile) of relative errors."""
    if len(errors) == 0:
        return 0, None, None
    return len(errors), round(float(np.median(errors)), 4), round(float(np.quantile(errors, 0.9)), 4)


class _Packer:
    """Tables of one family end to end in one array; index.json says where each starts."""

    def __init__(self):
        self.parts: dict[str, list[np.ndarray]] = {}

    def put(self, family: str, values: np.ndarray) -> int:
        parts = self.parts.setdefault(family, [])
        offset = sum(p.size for p in parts)
        parts.append(values.ravel())
        return offset

    def arrays(self) -> dict[str, np.ndarray]:
        return {family: np.concatenate(parts) for family, parts in self.parts.items()}


def normalisation(chip: str) -> dict:
    """The catalog figures a chip's tables are relative to (dense peak per compute rate, memory)."""
    hw = load_hardware(chip)[1]
    return {"peak_flops": {d: hw.flops_for(d)[0] for d in COMPUTE},
            "bandwidth_bytes_per_s": hw.memory.bandwidth_bytes_per_s}


def from_kernel_tables(data: str | None, out: str | None, say=print) -> list[HeldBack]:
    """The command: derive the tables of the installed aiconfigurator-core (or of `data`) into
    `out` (catalog/kernels/ by default) and say each family's held-back error per chip and engine."""
    target = Path(out) if out else KERNELS_DIR
    report = extract(locate(data), target, note=say)
    say("held-back error |predicted / measured - 1| on measured shapes each table was not built from:")
    say(f"{'family':<18} {'chip':<14} {'engine':<7} {'shapes':>7} {'median':>7} {'p90':>7}")
    for family, chip, engine, n, median, p90 in pooled(report):
        say(f"{family:<18} {chip:<14} {engine:<7} {n:>7} {_percent(median):>7} {_percent(p90):>7}")
    say(f"wrote tables.npz, index.json and sources.json in {target} (per-table errors: index.json held_back)")
    return report


def _percent(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def extract(source: KernelSource, out: Path = KERNELS_DIR, note=print) -> list[HeldBack]:
    """Write the derived tables of `source` into `out`; returns every table's held-back error."""
    packer, chips, report = _Packer(), {}, []
    for folder, chip in catalog_chips(source, hardware_ids(), note).items():
        entry = {"source": folder, "normalisation": normalisation(chip), "versions": {}, "tables": {},
                 "allreduce": {}}
        left_out: list[tuple[str, str, str, float]] = []
        for engine in ENGINES:
            report += _engine_tables(source, folder, chip, engine, entry, packer, left_out)
            report += _allreduce(source.read(folder, "custom_allreduce", engine), chip, engine, entry, packer)
        _stand_in(chip, entry, left_out, note)
        nccl = source.read_nccl(folder)
        report += _allreduce(nccl, chip, "nccl", entry, packer)
        if entry["tables"]:
            chips[chip] = entry
        else:
            note(f"skipping {folder}: no GEMM, attention or MoE table of {', '.join(ENGINES)}")
    _write(out, packer, chips, source, report)
    return report


def cache_bytes(chip: str) -> float:
    """The chip's on-chip cache (catalog `sram`), or UNPUBLISHED_CACHE_BYTES where it has none."""
    return load_hardware(chip)[1].sram_bytes or UNPUBLISHED_CACHE_BYTES


def _engine_tables(source: KernelSource, folder: str, chip: str, engine: str, entry: dict,
                   packer: _Packer, left_out: list) -> list[HeldBack]:
    """The engine's tables of every family into `entry`; a variant faster than the chip can go
    (kernel_grids.faster_than_chip) is appended to `left_out` instead, as (engine, family,
    variant, share of its beyond-cache rows that beat the roofline)."""
    report = []
    bandwidth, cache = entry["normalisation"]["bandwidth_bytes_per_s"], cache_bytes(chip)
    for name, family in FAMILIES.items():
        found = source.read(folder, name, engine)
        if found is None:
            continue
        version, raw = found
        rows = family.prepare(raw, entry["normalisation"])
        if family.bounded:
            shares = {v: faster_than_chip(g, cache, bandwidth) for v, g in rows.groupby("variant")}
            bad = {v: share for v, share in shares.items() if share > MAX_FASTER_THAN_CHIP}
            left_out += [(engine, name, v, share) for v, share in sorted(bad.items())]
            rows = rows[~rows.variant.isin(bad)]
        grids, errors = check(family, rows)
        if not grids:
            continue
        entry["versions"].setdefault(engine, {})[name] = version
        stored = entry["tables"].setdefault(engine, {}).setdefault(name, {})
        for variant, grid in sorted(grids.items()):
            stored[variant] = [packer.put(name, grid.q), round(grid.lo, 6), round(grid.hi, 6)]
            report.append(HeldBack(name, chip, engine, variant, errors.get(variant, np.array([]))))
    return report


def _stand_in(chip: str, entry: dict, left_out: list, note) -> None:
    """For each table left out as faster than the chip, the same family and variant as measured on
    the chip under another engine (the first of ENGINES that has its own) takes its place under
    the engine's name; where none has it, the variant stays unmeasured and the roofline times it.
    Either way index.json says so in the chip's `left_out`, with the reason."""
    for engine, family, variant, share in left_out:
        reason = (f"{share:.0%} of its rows beyond {BEYOND_CACHE:g}x the on-chip cache beat the roofline by more "
                  f"than {ROOFLINE_SLACK - 1:.0%}")
        own = [e for e in ENGINES if e != engine and variant in entry["tables"].get(e, {}).get(family, {})
               and variant not in entry.get("left_out", {}).get(e, {}).get(family, {})]
        record = {"reason": reason, "stand_in": own[0] if own else None}
        if own:
            stored = entry["tables"].setdefault(engine, {}).setdefault(family, {})
            stored[variant] = entry["tables"][own[0]][family][variant]
            record["version"] = entry["versions"][own[0]][family]
        entry.setdefault("left_out", {}).setdefault(engine, {}).setdefault(family, {})[variant] = record
        note(f"{chip} {engine} {family} {variant}: left out, {reason}; "
             + (f"{own[0]}'s table stands in" if own else "the roofline times it"))


def _allreduce(found: tuple[str, pd.DataFrame] | None, chip: str, owner: str, entry: dict,
               packer: _Packer) -> list[HeldBack]:
    """Store the all-reduce points of one engine (or NCCL): kernel -> ranks -> (bytes, seconds)."""
    if found is None:
        return []
    version, raw = found
    d = raw[raw.op_name == "all_reduce"] if "op_name" in raw else raw
    dtype = "nccl_dtype" if "nccl_dtype" in d else "allreduce_dtype"
    d = d[d[dtype].isin(["half", "bfloat16"])]
    d = d.assign(nbytes=d.message_size * ELEMENT_BYTES).groupby(["kernel_source", "num_gpus", "nbytes"],
                                                                 as_index=False).latency.min()
    report = []
    for (kernel, ranks), g in d.groupby(["kernel_source", "num_gpus"]):
        nbytes, seconds = g.nbytes.to_numpy(float), g.latency.to_numpy(float) * 1e-3
        if len(nbytes) < 2:
            continue
        name = "nccl" if owner == "nccl" else kernel
        offset = packer.put("allreduce", np.concatenate([nbytes, seconds]).astype(np.float32))
        entry["allreduce"].setdefault(owner, {}).setdefault(name, {})[str(ranks)] = [offset, len(nbytes)]
        entry["versions"].setdefault(owner, {})["allreduce"] = version
        report.append(HeldBack("allreduce", chip, owner, f"{name}/{ranks}", _every_other(nbytes, seconds)))
    return report


def _every_other(nbytes: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Errors on every other message size, predicted from the others as the reader interpolates."""
    if len(nbytes) < 5:
        return np.array([])
    predicted = log_log(nbytes[1:-1:2], nbytes[0::2], seconds[0::2])
    return np.abs(predicted / seconds[1:-1:2] - 1.0)


def _write(out: Path, packer: _Packer, chips: dict, source: KernelSource, report: list[HeldBack]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    _save_npz(out / "tables.npz", packer.arrays())
    index = {"format": FORMAT,
             "source": {"package": PACKAGE, "version": source.version, "license": "Apache-2.0",
                        "files": "sources.json"},
             "axes": {name: {axis: [float(v) for v in values] for axis, values in family.axes.items()}
                      for name, family in FAMILIES.items()},
             "chips": chips,
             "held_back": {"columns": ["family", "chip", "engine", "variant", "n", "median", "p90"],
                           "rows": [r.row() for r in report]}}
    (out / "index.json").write_text(json.dumps(index, separators=(",", ":")) + "\n")
    sources = {"package": PACKAGE, "version": source.version, "files": source.read_files}
    (out / "sources.json").write_text(json.dumps(sources, indent=1, sort_keys=True) + "\n")


def _save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez_compressed with a fixed date on every member, so that the same source gives the
    same bytes (np.load reads it as any .npz)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, values in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, values, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, member.getvalue(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)


def pooled(report: list[HeldBack]) -> list[list]:
    """Held-back error per family, chip and engine (every variant's shapes together)."""
    groups: dict[tuple, list[np.ndarray]] = {}
    for r in report:
        groups.setdefault((r.family, r.chip, r.engine), []).append(r.errors)
    return [[*key, *summary(np.concatenate(parts))] for key, parts in groups.items()]
