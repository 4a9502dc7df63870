"""What a fleet costs beyond its chips, and a custom chip before its first unit (catalog/economics.yaml).

`load_prices(overrides)` reads the catalog once, applies a scenario's overrides by dotted path
(`nre.N3.software_stack: 300 MUSD`, `design_partner.markup: 0.3`) and returns the figures in USD,
with each one's kind, date and source for the report's assumptions panel.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from chip2chat.catalog import read_yaml
from chip2chat.errors import ConfigError
from chip2chat.units import UnitError, parse_quantity

FILE = "economics.yaml"
NRE_PARTS = ("architecture_and_design", "ip_licences", "eda", "mask_set", "tape_outs", "packaging_qualification",
             "software_stack")
"""The parts of a node's NRE entry; NRE = their sum with mask_set x tape_outs."""


@dataclass(frozen=True)
class Assumption:
    """One figure the plan's money rests on, as the report's assumptions panel shows it."""

    name: str
    value: str
    kind: str
    date: str
    source: str


@dataclass(frozen=True)
class Prices:
    nre_usd_by_node: dict[str, dict[str, float]]
    """Per process node, each NRE part in USD (tape_outs a count)."""
    partner_markup: float
    """A design partner's price over its manufacturing cost, as a fraction (0.5: sold at 1.5x)."""
    host_usd_per_chip: float
    """CPUs, DRAM, NICs, storage and chassis of the server, per accelerator."""
    network_usd_per_chip: float
    """Scale-out switches, optics and cables per accelerator."""
    operations_share_per_year: float
    """Staff, maintenance and spares per year over the hardware's capex."""
    assumptions: list[Assumption] = field(default_factory=list)

    def nre_usd(self, node: str) -> float:
        """A frontier accelerator's NRE on `node`: the parts summed, the mask set once per tape-out."""
        if node not in self.nre_usd_by_node:
            raise ConfigError(f"catalog {FILE}", f"nre.{node}",
                              f"no NRE entry for process node {node}; known: {', '.join(self.nre_usd_by_node)}")
        p = self.nre_usd_by_node[node]
        return sum(v for k, v in p.items() if k not in ("mask_set", "tape_outs")) + p["mask_set"] * p["tape_outs"]


def _money(entry, where: str) -> float:
    try:
        return parse_quantity(entry, "USD", example="40 MUSD")
    except UnitError as exc:
        raise ConfigError(f"catalog {FILE}", where, str(exc)) from None


def _fraction(entry, where: str) -> float:
    if isinstance(entry, bool) or not isinstance(entry, (int, float)) or not 0 <= entry <= 10:
        raise ConfigError(f"catalog {FILE}", where, f"expected a plain number from 0 to 10, got {entry!r}")
    return float(entry)


def _override(raw: dict, path: str, new) -> None:
    keys = path.split(".")
    node = raw
    for k in keys[:-1]:
        if not isinstance(node.get(k), dict):
            raise ConfigError("scenario", f"economics.{path}", f"no {FILE} entry {k!r} at this path")
        node = node[k]
    if keys[-1] not in node:
        known = ", ".join(k for k in node if k not in ("sources", "notes", "kind", "date", "confidence"))
        raise ConfigError("scenario", f"economics.{path}", f"no {FILE} entry {keys[-1]!r}; known: {known}")
    node[keys[-1]] = new


def load_prices(overrides: dict | None = None) -> Prices:
    """The economics catalog in USD, with `overrides` (dotted path -> value as the catalog writes it)."""
    raw = copy.deepcopy(read_yaml(FILE))
    for path, new in (overrides or {}).items():
        _override(raw, path, new)
    nre = {}
    for node, parts in raw["nre"].items():
        if not isinstance(parts, dict):
            continue  # sources, notes, kind, date
        nre[node] = {k: (_fraction(parts[k], f"nre.{node}.{k}") if k == "tape_outs" else
                         _money(parts[k], f"nre.{node}.{k}")) for k in NRE_PARTS}
    host, net, ops, partner = raw["server_host"], raw["scale_out_network"], raw["operations"], raw["design_partner"]
    prices = Prices(
        nre_usd_by_node=nre,
        partner_markup=_fraction(partner["markup"], "design_partner.markup"),
        host_usd_per_chip=_money(host["usd_per_server"], "server_host.usd_per_server") / host["chips_per_server"],
        network_usd_per_chip=_money(net["usd_per_chip"], "scale_out_network.usd_per_chip"),
        operations_share_per_year=_fraction(ops["share_of_hardware_capex_per_year"],
                                            "operations.share_of_hardware_capex_per_year"))
    given = set(overrides or {})

    def cited(name: str, value: str, entry: dict, prefix: str) -> Assumption:
        changed = any(g.startswith(prefix) for g in given)
        return Assumption(name, value, "scenario override" if changed else entry["kind"], str(entry["date"]),
                          "; ".join(entry["sources"]))

    assumptions = [
        cited("server host (CPUs, DRAM, NICs, storage, chassis) per chip", f"${prices.host_usd_per_chip:,.0f}", host,
              "server_host"),
        cited("scale-out network per chip", f"${prices.network_usd_per_chip:,.0f}", net, "scale_out_network"),
        cited("operations per year", f"{prices.operations_share_per_year:.0%} of hardware capex", ops, "operations"),
        cited("design partner markup over manufacturing cost", f"{prices.partner_markup:.0%}", partner,
              "design_partner"),
    ]
    assumptions += [cited(f"NRE of a frontier accelerator on {node}", f"${prices.nre_usd(node) / 1e6:,.0f}M",
                          raw["nre"], f"nre.{node}") for node in nre]
    return Prices(**{**prices.__dict__, "assumptions": assumptions})
