"""Where aiconfigurator-core's measured kernel tables are, and reading them (calibration data only).

aiconfigurator-core (NVIDIA, Apache-2.0, pypi.org/project/aiconfigurator-core; `pip install
'chip2chat[kernels]'`) ships kernel timings as parquet files at
aiconfigurator_core/systems/data/<chip>/<op>/<engine>/<engine version>/<table>.parquet, one row per
timed call (`latency` in milliseconds, CUDA events; github.com/ai-dynamo/aiconfigurator, collector/).
Only the kernel tables named in TABLES (and NCCL's) are read, at paths built here. The package's
end-to-end measurements (systems/silicon_sample.csv, systems/support_matrix/) are validation-type
data and are never opened (tests/calibrate/test_kernel_tables.py blocks them while extracting).

The engine version of each table is the one aiconfigurator itself serves: the `current` version of
systems/query_versions.yaml for the chip and engine, or, where that version has no such table, the
newest older one that has it ("backward fill", as query_versions.yaml describes). A --data folder
may hold CSV files with the same columns instead of parquet (the test fixtures do).
"""

from __future__ import annotations

import hashlib
import importlib.util
import re
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

import pandas as pd
import yaml

from chip2chat.errors import Chip2ChatError

PACKAGE = "aiconfigurator-core"
NEEDS_EXTRA = "needs the kernels extra: pip install 'chip2chat[kernels]' (or --data DIR)"
CHIPS = {
    "a100_sxm": "a100-sxm-80gb",
    "h100_sxm": "h100-sxm",
    "h200_sxm": "h200-sxm",
    "b200_sxm": "b200",
    "b300_sxm": "b300",
    "gb200": "gb200",
    "gb300": "gb300",
    "l40s": "l40s",
    "rtx_pro_6000_server": "rtx-pro-6000",
}
"""aiconfigurator's chip folder -> chip2chat catalog id. The other folders (a100_pcie, a30, b60,
h100_pcie, l4) hold no GEMM, attention or MoE tables of these engines, or no catalog chip."""
TABLES = {
    "gemm": ("gemm", "gemm_perf"),
    "decode_attention": ("attention", "generation_attention_perf"),
    "context_attention": ("attention", "context_attention_perf"),
    "moe": ("moe", "moe_perf"),
    "custom_allreduce": ("comm", "custom_allreduce_perf"),
}
"""What chip2chat reads -> (op folder, table name)."""
NCCL = ("comm", "nccl", "nccl_perf")


@dataclass
class KernelSource:
    """The systems/data folder of one aiconfigurator-core, and the record of every file read."""

    data: Path
    version: str
    current: dict
    """query_versions.yaml: {'defaults': {engine: {'current': v}}, 'overrides': {chip: {...}}}."""
    read_files: dict = field(default_factory=dict)

    def chips(self) -> list[str]:
        return sorted(p.name for p in self.data.iterdir() if p.is_dir())

    def read(self, chip: str, table: str, engine: str) -> tuple[str, pd.DataFrame] | None:
        """(engine version, rows) of one of TABLES for a chip and engine, or None if not measured."""
        op, name = TABLES[table]
        current = self._current(chip, engine)
        for version in _newest_first(self.data / chip / op / engine):
            if current is not None and _version_key(version) > _version_key(current):
                continue
            rows = self._read(chip, op, engine, version, name)
            if rows is not None:
                return version, rows
        return None

    def read_nccl(self, chip: str) -> tuple[str, pd.DataFrame] | None:
        """(NCCL version, rows) of the newest NCCL table measured on the chip."""
        op, folder, name = NCCL
        for version in _newest_first(self.data / chip / op / folder):
            rows = self._read(chip, op, folder, version, name)
            if rows is not None:
                return version, rows
        return None

    def _current(self, chip: str, engine: str) -> str | None:
        slots = self.current.get("overrides", {}).get(chip, {}).get(engine) or \
            self.current.get("defaults", {}).get(engine) or {}
        return slots.get("current")

    def _read(self, chip: str, op: str, engine: str, version: str, name: str) -> pd.DataFrame | None:
        folder = self.data / chip / op / engine / version
        for suffix, reader in ((".parquet", _read_parquet), (".csv", pd.read_csv)):
            path = folder / (name + suffix)
            if path.is_file():
                self._record(path, folder / "collection_meta.yaml")
                return reader(path)
        return None

    def _record(self, path: Path, meta: Path) -> None:
        relative = path.relative_to(self.data.parents[2]).as_posix()  # aiconfigurator_core/systems/data/...
        provenance = (yaml.safe_load(meta.read_text()) or {}).get("provenance", "") if meta.is_file() else ""
        self.read_files[relative] = {"package": PACKAGE, "version": self.version,
                                     "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                                     "bytes": path.stat().st_size, "provenance": provenance}


def locate(data: str | Path | None = None) -> KernelSource:
    """The installed aiconfigurator-core's tables, or those of an unpacked systems/data folder."""
    if data is None:
        spec = importlib.util.find_spec("aiconfigurator_core")  # found without importing its extension
        if spec is None or not spec.submodule_search_locations:
            raise Chip2ChatError(NEEDS_EXTRA)
        folder = Path(list(spec.submodule_search_locations)[0]) / "systems" / "data"
        version = metadata.version(PACKAGE)
    else:
        folder = Path(data)
        version = _unpacked_version(folder)
    if not folder.is_dir():
        raise Chip2ChatError(f"{folder}: not a folder; --data takes aiconfigurator_core/systems/data of an "
                             f"unpacked {PACKAGE} wheel")
    versions = folder.parent / "query_versions.yaml"
    current = yaml.safe_load(versions.read_text()) if versions.is_file() else {}
    return KernelSource(folder, version, current or {})


def catalog_chips(source: KernelSource, known: list[str], note) -> dict[str, str]:
    """aiconfigurator folder -> catalog id of the chips to extract; `note` hears of every other."""
    chips = {}
    for folder in source.chips():
        chip = CHIPS.get(folder)
        if chip is None:
            note(f"skipping {folder}: no chip2chat catalog chip is mapped to it")
        elif chip not in known:
            note(f"skipping {folder}: {chip} is not in the catalog (catalog/accelerators.yaml)")
        else:
            chips[folder] = chip
    return chips


def _read_parquet(path: Path) -> pd.DataFrame:
    if importlib.util.find_spec("pyarrow") is None:
        raise Chip2ChatError(f"{path}: reading parquet needs pyarrow; {NEEDS_EXTRA}")
    return pd.read_parquet(path)


def _unpacked_version(data: Path) -> str:
    """The version in the METADATA of an unpacked wheel that holds `data`, else 'unknown'."""
    root = data.parent.parent.parent  # <root>/aiconfigurator_core/systems/data
    for meta in sorted(root.glob("aiconfigurator_core-*.dist-info/METADATA")):
        found = re.search(r"^Version: (\S+)", meta.read_text(), re.M)
        if found:
            return found.group(1)
    return "unknown"


def _newest_first(folder: Path) -> list[str]:
    return sorted((p.name for p in folder.iterdir() if p.is_dir()), key=_version_key, reverse=True) \
        if folder.is_dir() else []


def _version_key(version: str) -> tuple:
    """Sort key of an engine version: '1.3.0rc20' < '1.3.0' < '1.3.0.post1' < '1.10.0'."""
    found = re.match(r"(\d+(?:\.\d+)*)(?:rc(\d+))?(?:\.post(\d+))?", version)
    if not found:
        return ((), 0, 0)
    release = tuple(int(x) for x in found.group(1).split("."))
    release += (0,) * (4 - len(release))
    return (release, int(found.group(2)) if found.group(2) else 10**9, int(found.group(3) or 0))
