"""Shipped data files and forgiving name lookup.

Data lives beside this file: accelerators.yaml, memory.yaml, models/*.json (+ models/index.yaml),
calibration/*.yaml, sites.yaml, voice.yaml, silicon.yaml, designs/*.yaml, scenarios/*.yaml. Each
entry cites its sources. This module only finds entries, by the name rules written above
find_entry (exact names and aliases, accelerator names with qualifiers, mixed chips refused); the
loaders in chip2chat.hardware, chip2chat.models, chip2chat.silicon, chip2chat.voice and
chip2chat.datacenter validate them.
CATALOGS names every catalog a user can list (`chip2chat catalog list KIND`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import yaml

from chip2chat.errors import Chip2ChatError, ConfigError, NotFoundError
from chip2chat.units import parse_quantity

CATALOG_DIR = Path(__file__).parent


def normalise(name: str) -> str:
    """'LLaMA v3.1 70B' -> 'llama3170b'; 'H200 141GB HBM3' -> 'h200141gbhbm3'."""
    s = name.lower().replace("meta-", "")
    s = re.sub(r"\bv(?=\d)", "", s)  # 'v3.1' -> '3.1'
    return re.sub(r"[^a-z0-9]", "", s)


@lru_cache(maxsize=None)
def read_yaml(relative: str) -> dict[str, Any]:
    path = CATALOG_DIR / relative
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise ConfigError(str(path), "<root>", "expected a mapping of entries")
    return data


# How a name finds its entry (find_entry, find_everywhere):
# 1. Exactly: the name is an entry's id, display name or alias once case, spaces and punctuation
#    are ignored (normalise). Aliases in the YAML do most of the work, MLPerf and nvidia-smi names
#    included. A chip with no form factor in its name is the part the catalog calls by that name:
#    "H100" and "H200" are the SXM parts (as NVIDIA's own tables and nvidia-smi's "NVIDIA H100 80GB
#    HBM3" mean); the PCIe and NVL cards are separate entries, reached only by their own names.
# 2. Accelerators, read as one chip with qualifiers: the name is cut into words at spaces, hyphens
#    and underscores; a leading vendor word (NVIDIA, AMD, Instinct, Intel, Google, AWS), a count
#    (8x) and the words that only qualify a part are dropped: a memory size (80GB, 141GiB), a
#    memory kind (HBM3e), a power (750W), an AMD partition mode (NPS1, SPX). The rest must then
#    match exactly, so "AMD Instinct MI300X-NPS1-SPX-192GB-750W" is mi300x. A word that names
#    another part (PCIe, NVL, SXM5, OAM, NVL72) is never dropped: "H100 PCIe" is the H100 PCIe
#    entry or nothing, never the SXM part. A memory size in the name must agree with the entry's
#    capacity within 10% ("GB200 192GB" is the 186 GiB GB200; "A100 40GB" is not the 80 GB A100).
# 3. Accelerators joined by '+', ',', '/', '&', ';' or ' and ' are read part by part: parts that
#    name one chip give that chip; parts that name different chips (or a chip and something the
#    catalog does not know) are a mixed cluster, refused with MixedChipsError.
# 4. Models: a Hugging Face repo id is read without its organisation ('deepseek-ai/DeepSeek-R1'),
#    and trailing words that only say how a release was tuned or stored are dropped (Instruct,
#    Chat, Base, HF, FP8, BF16, FP4, NVFP4, INT4, AWQ, GPTQ...): "Llama-3.3-70B-Instruct-FP8" is
#    llama-3.3-70b. Any other word stays: "DeepSeek R1 Distill Llama 70B" is not deepseek-r1.
# Nothing else: no edit distance, no prefixes; a name that fits no rule is unknown and the error
# lists the closest ids.

ACCELERATORS, MODELS = "accelerators.yaml", "models/index.yaml"
SIZE_TOLERANCE = 0.10
"""How far a memory size written in a chip's name may be from the entry's capacity (B200 sold as
180 GB is often written with its 192 GB of physical HBM: 6.7%)."""

_JOINERS = re.compile(r"\s*[+,;&/]\s*|\s+and\s+", re.IGNORECASE)
_COUNT = re.compile(r"^\s*\d+\s*[x×]\s*", re.IGNORECASE)
_VENDOR_WORDS = {"nvidia", "amd", "instinct", "intel", "google", "aws", "amazon"}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)(gib|gb|g|tb)(?:x\d+)?")
_QUALIFIER = re.compile(r"(?:hbm|gddr|lpddr)\d*[a-z]?x?|\d+w|nps\d|[sdqc]px|\d+x|x\d+")
_MODEL_QUALIFIERS = {"instruct", "chat", "base", "hf", "it", "fp8", "bf16", "fp16", "fp4", "nvfp4", "mxfp4", "int8",
                     "int4", "w8a8", "w4a16", "awq", "gptq", "dynamic"}


class MixedChipsError(Chip2ChatError):
    """An accelerator name that joins different chips ('MI300X + MI325X')."""

    def __init__(self, name: str, parts: list[str]):
        super().__init__(f"{name!r} is a mixed cluster of {' and '.join(parts)}: chip2chat serves a model on "
                         f"one kind of chip at a time; give one chip per option (or per row)")
        self.name, self.parts = name, parts

    def __reduce__(self):  # crosses process pools (validate, sweeps) with its own arguments
        return self.__class__, (self.name, self.parts)


def _names(key: str, entry: Any) -> list[str]:
    names = [key, entry.get("name"), *entry.get("aliases", [])] if isinstance(entry, dict) else [key]
    return [n for n in names if isinstance(n, str) and n]


@lru_cache(maxsize=None)
def _index(relative: str) -> dict[str, str]:
    """normalised id, display name or alias -> id, for one catalog file (the first entry wins)."""
    index: dict[str, str] = {}
    for key, entry in read_yaml(relative).items():
        for n in _names(key, entry):
            index.setdefault(normalise(n), key)
    return index


def _chip_words(part: str) -> tuple[str, list[float]]:
    """('h100 nvl', [94.0]) for 'NVIDIA H100-NVL-94GB': the words that name the part, and the
    memory sizes (GB or GiB, as written) the name states."""
    words = re.findall(r"[a-z0-9.]+", _COUNT.sub("", part.lower()))
    while words and words[0] in _VENDOR_WORDS:
        words = words[1:]
    kept, sizes = [], []
    for w in words:
        size = _SIZE.fullmatch(w)
        if size:
            sizes.append(float(size.group(1)) * (1024 if size.group(2) == "tb" else 1))
        elif not _QUALIFIER.fullmatch(w):
            kept.append(w)
    return " ".join(kept), sizes


def _capacity_agrees(entry: dict, sizes: list[float]) -> bool:
    if not sizes:
        return True
    capacity_gib = parse_quantity(entry["memory"]["capacity"], "B") / 2**30
    return all(abs(s / capacity_gib - 1) <= SIZE_TOLERANCE for s in sizes)


def _one_chip(name: str) -> str | None:
    """Rules 1-2 for one chip: its id, or None."""
    index = _index(ACCELERATORS)
    key = index.get(normalise(name))
    if key is None:
        words, sizes = _chip_words(name)
        key = index.get(normalise(words)) if words else None
        if key is not None and not _capacity_agrees(read_yaml(ACCELERATORS)[key], sizes):
            key = None
    return key


def _chip_key(name: str) -> str | None:
    """The accelerator id for `name` (rules 1-3), None when unknown; MixedChipsError for a name
    that joins different chips."""
    if not _JOINERS.search(name) or normalise(name) in _index(ACCELERATORS):
        return _one_chip(name)
    parts = [p for p in _JOINERS.split(name) if p.strip() and _chip_words(p)[0]]
    keys = [_one_chip(p) for p in parts]
    if all(k is None for k in keys):
        return None
    if len(set(keys)) == 1:
        return keys[0]
    shown = list(dict.fromkeys(k if k else f"{p.strip()!r} (not in the catalog)" for p, k in zip(parts, keys)))
    raise MixedChipsError(name, shown)


def _model_key(name: str) -> str | None:
    """The model id for `name` (rules 1 and 4), None when unknown."""
    index = _index(MODELS)
    if name.count("/") == 1 and normalise(name) not in index:
        name = name.split("/")[1]
    words = re.split(r"[\s_-]+", name.strip())
    while words and words[-1].lower() in _MODEL_QUALIFIERS and normalise(" ".join(words)) not in index:
        words = words[:-1]
    return index.get(normalise(" ".join(words)))


_READINGS: dict[str, Callable[[str], str | None]] = {ACCELERATORS: _chip_key, MODELS: _model_key}
"""Catalog file -> how a name is read there; other files match ids, names and aliases exactly."""


def _key_in(relative: str, name: str) -> str | None:
    reading = _READINGS.get(relative)
    return reading(name) if reading else _index(relative).get(normalise(name))


def find_entry(kind: str, relative: str, name: str) -> tuple[str, dict[str, Any]]:
    """Look `name` up by id, display name or alias (case, spaces and punctuation ignored), and for
    accelerators and models by the rules above; NotFoundError naming the closest ids when unknown,
    MixedChipsError for a name that joins different chips."""
    entries = read_yaml(relative)
    key = _key_in(relative, name)
    if key is None:
        raise NotFoundError(kind, name, list(entries))
    return key, entries[key]


_ONE_SLASH_NAME = re.compile(r"^[^/.~][^/]*/[^/]+$")


def looks_like_path(name: str) -> bool:
    """Whether `name` is a file or folder rather than a catalog name. A name with one slash and no
    leading '.', '~' or '/' that does not exist on disk is a name: a Hugging Face repo id
    ('deepseek-ai/DeepSeek-R1') or chips written together ('H100/H200')."""
    if name.endswith((".json", ".yaml", ".yml")) or Path(name).exists():
        return True
    return "/" in name and not _ONE_SLASH_NAME.match(name)


@dataclass(frozen=True)
class Catalog:
    """One listable catalog: where its entries live and how to read them as {id: entry}."""

    title: str
    """What an entry is, for table titles and errors ('accelerator')."""
    source: str
    """The file or folder under catalog/ that holds it."""
    entries: Callable[[], dict[str, dict]]


def _file(relative: str, skip: tuple[str, ...] = ()) -> Callable[[], dict[str, dict]]:
    return lambda: {k: v for k, v in read_yaml(relative).items() if k not in skip}


def _section(relative: str, key: str) -> Callable[[], dict[str, dict]]:
    return lambda: dict(read_yaml(relative)[key])


def _folder(folder: str) -> Callable[[], dict[str, dict]]:
    """One entry per YAML file of `folder`, keyed by the file name without .yaml."""
    return lambda: {p.stem: read_yaml(f"{folder}/{p.name}") for p in sorted((CATALOG_DIR / folder).glob("*.yaml"))}


CATALOGS: dict[str, Catalog] = {
    "accelerators": Catalog("accelerator", "accelerators.yaml", _file("accelerators.yaml")),
    "memory": Catalog("memory", "memory.yaml", _file("memory.yaml")),
    "models": Catalog("model", "models/index.yaml", _file("models/index.yaml")),
    "sites": Catalog("site", "sites.yaml", _file("sites.yaml", skip=("servers",))),
    "servers": Catalog("server", "sites.yaml servers", _section("sites.yaml", "servers")),
    "devices": Catalog("device", "voice.yaml devices", _section("voice.yaml", "devices")),
    "networks": Catalog("network", "voice.yaml networks", _section("voice.yaml", "networks")),
    "speech-models": Catalog("speech model", "voice.yaml speech_models", _section("voice.yaml", "speech_models")),
    "designs": Catalog("chip design", "designs/*.yaml", _folder("designs")),
    "process-nodes": Catalog("process node", "silicon.yaml process_nodes", _section("silicon.yaml", "process_nodes")),
    "scenarios": Catalog("scenario", "scenarios/*.yaml", _folder("scenarios")),
}
"""Kind -> catalog, in the order `chip2chat catalog list` prints them."""


def catalog_kind(kind: str) -> str:
    """The key of CATALOGS that `kind` names ('speech_models' and 'Speech models' name
    'speech-models'), or a one-line error listing the kinds."""
    if not isinstance(kind, str):
        raise Chip2ChatError(f"catalog kind: expected one of {', '.join(CATALOGS)}, got {kind!r}")
    wanted = re.sub(r"[\s_]+", "-", kind.strip().lower())
    if wanted not in CATALOGS:
        raise Chip2ChatError(f"unknown catalog kind {kind!r}; kinds: {', '.join(CATALOGS)}")
    return wanted


def find_everywhere(name: str, kinds: list[str] | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """Every (kind, id, entry) whose id, display name or alias is `name` (case, spaces and
    punctuation ignored), in CATALOGS order; when none is, the accelerator or model that `name`
    reads as (find_entry's rules); an empty list when nothing matches."""
    wanted = normalise(name)
    kinds = [catalog_kind(k) for k in kinds] if kinds else list(CATALOGS)
    found = [(kind, key, entry) for kind in kinds for key, entry in CATALOGS[kind].entries().items()
             if any(normalise(n) == wanted for n in _names(key, entry))]
    if found:
        return found
    for kind in kinds:
        source = CATALOGS[kind].source
        key = _key_in(source, name) if source in _READINGS else None
        if key is not None:
            found.append((kind, key, CATALOGS[kind].entries()[key]))
    return found
