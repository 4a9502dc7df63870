"""What one accelerator of a fleet option costs its buyer, and what a custom chip costs before its first unit.

A catalog chip costs its market price (accelerators.yaml `price`: value, kind, date, source), or
the option's `unit_price_usd`. A custom design costs its manufacturing cost (the silicon model:
dies / yield + HBM + package + test) plus the design partner's markup, and its non-recurring
engineering (NRE, catalog/economics.yaml by process node) is spread over the chips it is bought
for: unit cost = manufacturing x (1 + markup) + NRE / volume (`custom_unit_cost`).

In a plan the NRE is a yearly program cost, NRE / chip life, in every year: a chip program keeps
designing the generation that replaces its fleet when that fleet is retired, so its design cost
recurs once per chip life. Then a year's cost per custom chip is exactly
`custom_unit_cost(..., volume=chips)` amortized over the same life.
"""

from __future__ import annotations

from dataclasses import dataclass

from chip2chat.datacenter.prices import Prices
from chip2chat.errors import Chip2ChatError


@dataclass(frozen=True)
class ChipPrice:
    unit_price_usd: float
    """What one unit costs the buyer, NRE excluded."""
    kind: str
    """list, street or estimate (catalog), 'scenario' (the option's unit_price_usd), or 'modelled'
    (a design's manufacturing cost plus the partner's markup)."""
    source: str
    nre_usd: float = 0.0
    """The design's NRE (0 for a catalog chip)."""
    manufacturing_usd: float | None = None
    """A design's modelled manufacturing cost, before the partner's markup."""
    markup: float = 0.0
    node: str | None = None


def custom_unit_cost(manufacturing_usd: float, markup: float, nre_usd: float, volume: float) -> float:
    """Cost of one custom chip: manufacturing + the partner's margin + its share of the NRE over `volume` chips."""
    if volume <= 0:
        raise ValueError(f"volume must be positive, got {volume!r}")
    return manufacturing_usd * (1.0 + markup) + nre_usd / volume


def catalog_price(hw, given_usd: float | None, where: str = "") -> ChipPrice:
    """A catalog (or user) chip's price: the option's unit_price_usd, else the chip's own `price`."""
    if given_usd is not None:
        return ChipPrice(given_usd, "scenario", f"{where}.unit_price_usd")
    if hw.price is None:  # the plan prefixes the option ("options[2] (GB200 x72): unit_price_usd: ...")
        raise Chip2ChatError(f"unit_price_usd: {hw.name} has no price in the accelerator catalog: give "
                             f"unit_price_usd (what one accelerator costs, e.g. unit_price_usd: 30000)")
    return ChipPrice(hw.price.usd, hw.price.kind, f"{hw.price.source} ({hw.price.date})")


def design_price(node: str, manufacturing_usd: float, prices: Prices, *, given_usd: float | None = None,
                 nre_usd: float | None = None, partner: bool = True) -> ChipPrice:
    """A custom design's price: manufacturing x (1 + the partner's markup), or the option's
    unit_price_usd; its NRE from the catalog's entry for its node unless the option gives one."""
    markup = prices.partner_markup if partner else 0.0
    nre = prices.nre_usd(node) if nre_usd is None else nre_usd
    if given_usd is not None:
        return ChipPrice(given_usd, "scenario", "the option's unit_price_usd", nre, manufacturing_usd, 0.0, node)
    source = (f"silicon model manufacturing cost ${manufacturing_usd:,.0f}"
              + (f" + {markup:.0%} design-partner markup" if markup else " (no design partner)"))
    return ChipPrice(manufacturing_usd * (1.0 + markup), "modelled", source, nre, manufacturing_usd, markup, node)
