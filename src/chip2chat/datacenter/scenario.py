"""A planning scenario (YAML): demand by year, the service and its SLO, fleet options, the site.

Every field is typed and documented; a bad file names the field path (e.g.
`demand.years[2].daily_users`) and what was expected.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from typing import Annotated

from pydantic import AfterValidator, Field, field_serializer, field_validator, model_validator

from chip2chat.engine.defaults import ENGINE
from chip2chat.engine.engines import SERVING_ENGINES
from chip2chat.errors import StrictModel, validated
from chip2chat.hardware.spec import Accelerator, Watts
from chip2chat.units import quantity
from chip2chat.datacenter.site import SiteEnergy
from chip2chat.serving.config import SchedulerConfig
from chip2chat.serving.config import Slo as ServingSlo
from chip2chat.userfiles import read_mapping
from chip2chat.voice.scenario import VoiceSpec
from chip2chat.workload.sessions import PrefixSharing


class _Strict(StrictModel):
    """inf and nan are no numbers a plan can use (`pue: .inf` gave infinite MW): StrictModel refuses them."""


class DemandYear(_Strict):
    year: int = Field(ge=2000, le=2100)
    daily_users: float = Field(gt=0)
    """Daily active users that year."""
    voice_share: float = Field(default=0.0, ge=0, le=1)
    """Share of that year's users who talk to the assistant through a voice-first device (they
    take `demand.voice_turns_multiplier` times as many turns a day)."""


class LoadCurve(_Strict):
    peak_to_mean: float = Field(default=2.0, ge=1, le=24)
    """Busiest hour over the daily mean (used when `hourly` is not given)."""
    hourly: list[float] | None = Field(default=None, min_length=24, max_length=24)
    """24 relative weights, hour 0 = midnight local time; overrides peak_to_mean."""

    def weights(self):
        """1,440 per-minute load factors with mean 1 (the workload's daily curve shape)."""
        from chip2chat.workload.arrivals import daily_curve_weights

        return daily_curve_weights(self.peak_to_mean, self.hourly)


class Demand(_Strict):
    years: list[DemandYear] = Field(min_length=1)
    sessions_per_user_per_day: float = Field(gt=0)
    turns_per_session: float = Field(gt=0)
    input_tokens_per_turn: int | None = Field(default=None, gt=0)
    """Prompt tokens per LLM call (system prompt + history + the user's words); from `voice` if omitted."""
    output_tokens_per_turn: int | None = Field(default=None, gt=0)
    """Answer tokens per LLM call; from `voice` if omitted."""
    load_curve: LoadCurve = LoadCurve()
    voice_turns_multiplier: float = Field(default=1.0, ge=1, le=100)
    """Turns a day of a voice-device user over a text user's (a voice-first device brings more turns)."""

    def daily_requests(self, year: DemandYear) -> float:
        """LLM calls a day that year: users x sessions x turns, voice users' turns multiplied."""
        voice = 1.0 + year.voice_share * (self.voice_turns_multiplier - 1.0)
        return year.daily_users * self.sessions_per_user_per_day * self.turns_per_session * voice

    @field_validator("years")
    @classmethod
    def _one_row_per_year(cls, years: list[DemandYear]) -> list[DemandYear]:
        seen: dict[int, int] = {}
        for i, y in enumerate(years):
            if y.year in seen:
                raise ValueError(f"year {y.year} is given twice (years[{seen[y.year]}] and years[{i}]); "
                                 f"give each year once")
            seen[y.year] = i
        return sorted(years, key=lambda y: y.year)


class Slo(_Strict):
    """The service's latency objectives, as the scenario file writes them."""

    p99_ttft_ms: float = Field(gt=0)
    p99_tpot_ms: float = Field(gt=0)

    def objective(self) -> ServingSlo:
        """The SLO the serving simulation sizes a replica against (and counts goodput with)."""
        return ServingSlo(ttft_ms=self.p99_ttft_ms, tpot_ms=self.p99_tpot_ms)


def _known_engine(value: str) -> str:
    if value not in SERVING_ENGINES:
        raise ValueError(f"unknown serving engine {value!r}; known: {', '.join(SERVING_ENGINES)}")
    return value


EngineName = Annotated[str, AfterValidator(_known_engine)]
"""A serving engine's name (engine/engines.py)."""


DEFAULT_TURN_GAP_S = 20.0
"""Seconds between a session's turns when no voice turn says (a typed chat's read-and-reply)."""


class PrefixCache(_Strict):
    """Automatic prefix caching, on by default as in vLLM V1: prompt blocks that an earlier request
    left in a replica's KV cache are not prefilled again (workload/sessions.py says which prompts
    share what; a KV-aware router sends each prompt where most of it is cached)."""

    enabled: bool = True
    shared_prefix_tokens: int | None = Field(default=None, ge=0, le=1_000_000)
    """The system prompt every LLM call starts with; default: voice.system_prompt_tokens, else 0."""
    history_tokens: int | None = Field(default=None, ge=0, le=1_000_000)
    """Conversation a later turn of a session shares with its previous turn; default:
    voice.history_tokens, else 0."""
    turn_gap: Annotated[float, quantity("s", 0.0, 3600.0, example="20 s")] | None = None
    """Time from a session's turn to its next, with its unit ('20 s'); default: the voice turn
    (the user's utterance, the end-of-speech silence and the spoken answer), else 20 s."""

    @field_serializer("turn_gap")
    def _with_unit(self, value: float | None) -> str | None:
        return None if value is None else f"{value:g} s"  # read back as written


class Service(_Strict):
    model: str
    weight_dtype: str = "fp8"
    kv_dtype: str = "fp8"
    engine: EngineName = ENGINE
    """The serving engine every option runs unless it names its own (engine/engines.py: trtllm,
    vllm, sglang): its measured kernels where the chip has tables, its scheduler and host time."""
    slo: Slo
    prefix_cache: PrefixCache = PrefixCache()


class DecodeChip(_Strict):
    """A second kind of chip an option may use (heterogeneous disaggregation): the configuration
    search may decode on it with prefill on the option's chip, or run either chip alone; the plan
    weighs deployments by what their chips cost and prices each year's fleet chip by chip."""

    hardware: str | Accelerator
    """A catalog accelerator, the path of an accelerator YAML, or the chip itself."""
    unit_price_usd: float | None = Field(default=None, gt=0)
    """What one costs; default: its catalog price."""
    tdp_w: Watts | None = Field(default=None, alias="tdp")
    """Board power to plan with, in place of the chip's (e.g. `tdp: 1000 W`)."""


class FleetOption(_Strict):
    name: str
    hardware: str | Accelerator | None = None
    """A catalog accelerator, the path of an accelerator YAML, or the chip itself (a mapping in the
    accelerator catalog's format, or an Accelerator from Python)."""
    design: str | None = None
    """A chip design YAML (a path, or a name in catalog/designs/), priced by the silicon model."""
    tp: int = Field(default=1, ge=1)
    pp: int = Field(default=1, ge=1)
    unit_price_usd: float | None = Field(default=None, gt=0)
    """What one accelerator costs to buy; default: a catalog chip's `price`, a design's modelled
    manufacturing cost plus the design partner's markup (datacenter/nre.py)."""
    nre_usd: float | None = Field(default=None, ge=0)
    """A design's non-recurring engineering in USD; default: the economics catalog's entry for its
    process node (0: already paid, e.g. a second fleet of the same chip)."""
    design_partner: bool = True
    """A design built with a design-services partner, who sells the units at its markup
    (economics.yaml design_partner); false: the owner buys wafers, HBM and packaging itself."""
    tdp_w: Watts | None = Field(default=None, alias="tdp")
    """Board power to plan with, in place of the chip's (required for a chip whose TDP is
    unpublished: its power, racks and energy are unknown otherwise), e.g. `tdp: 1000 W`."""
    max_num_seqs: int | None = Field(default=None, ge=1)
    """Engine knob (vLLM's --max-num-seqs); default: serving.config.SchedulerConfig's."""
    max_num_batched_tokens: int | None = Field(default=None, ge=1)
    """Engine knob (vLLM's --max-num-batched-tokens); default: SchedulerConfig's."""
    engine: EngineName | None = None
    """The serving engine of this option; None: the service's."""
    decode: DecodeChip | None = None
    """A second chip for decode replicas (prefill on this option's chip), e.g. `decode: {hardware:
    h200}`; only with the configuration search (sizing.search)."""

    def scheduling(self) -> SchedulerConfig:
        """The engine knobs the option gives, every other one at its one default."""
        given = {"max_num_seqs": self.max_num_seqs, "max_num_batched_tokens": self.max_num_batched_tokens}
        return SchedulerConfig(**{k: v for k, v in given.items() if v is not None})

    @model_validator(mode="after")
    def _one_chip(self) -> "FleetOption":
        self.scheduling()  # the knobs must agree with each other (checked with the file)
        if (self.hardware is None) == (self.design is None):
            raise ValueError("give exactly one of hardware (a catalog chip) or design (a chip design file)")
        if self.hardware is not None and self.nre_usd is not None:
            raise ValueError("nre_usd is for a design; a catalog chip's price already includes its vendor's NRE")
        return self


class Site(_Strict):
    catalog: str | None = None
    """A site of catalog/sites.yaml to start from; the fields below override it."""
    pue: float | None = Field(default=None, ge=1)
    rack_power_kw: float | None = Field(default=None, gt=0)
    electricity_usd_per_mwh: float | None = Field(default=None, gt=0)
    grid_carbon_g_per_kwh: float | None = Field(default=None, ge=0)
    facility_capex_usd_per_mw: float | None = Field(default=None, gt=0)
    facility_amortization_years: float | None = Field(default=None, gt=0)
    chip_amortization_years: float | None = Field(default=None, gt=0)
    server_overhead: float | None = Field(default=None, ge=1)
    """Server power over accelerator power (CPUs, NICs, fans, power supplies)."""
    chips_per_server: int = Field(default=8, ge=1)
    servers_per_rack_max: int = Field(default=4, ge=1)
    """Rack space: four 8-GPU HGX/DGX servers (8-10U each) per rack, as NVIDIA's DGX SuperPOD
    reference architecture places them; power may allow fewer."""
    energy: "SiteEnergy | None" = None
    """Power schedule by year, grid, cooling, supply options and carbon target; each field given
    replaces the catalog site's (datacenter/site.py SiteEnergy)."""

    @model_validator(mode="after")
    def _known_or_complete(self) -> "Site":
        """A catalog site that exists, or every figure given (checked with the file, not later)."""
        from chip2chat.datacenter.site import SITE_FIELDS, catalog_sites

        if self.catalog is not None:
            known = list(catalog_sites())
            if self.catalog not in known:
                close = difflib.get_close_matches(self.catalog, known, n=1)
                raise ValueError(f"unknown site {self.catalog!r}{f' (closest: {close[0]})' if close else ''}; "
                                 f"catalog sites: {', '.join(known)}")
            return self
        missing = [name for name in SITE_FIELDS if getattr(self, name) is None]
        if missing:
            raise ValueError(f"{missing[0]} is missing: give it, or start from a catalog site (catalog: "
                             f"{next(iter(catalog_sites()))})")
        return self


class Headroom(_Strict):
    """Capacity held back at the year's peak (datacenter/capacity.py)."""

    target_utilization: Annotated[float, quantity("1", 0.05, 1.0, example="80 %")] = 1.0
    """Share of its SLO capacity a replica may carry at the peak, with its unit ('80 %'); default 100 %."""
    spare_replicas: int = Field(default=0, ge=0, le=10_000)
    """Replicas (whole prefill:decode units where disaggregated) kept spare for maintenance: 1 is N+1."""

    @field_serializer("target_utilization")
    def _with_unit(self, value: float) -> str:
        return f"{value * 100:g} %"  # read back as written


class Sizing(_Strict):
    search: bool = True
    """Size each option at its best serving configuration (configure/: parallel plan, EP and
    attention DP, batching, disaggregation), its own tp/pp among the candidates; false: at its tp/pp."""
    requests_per_point: int = Field(default=1200, ge=100)
    """Requests of each simulation (at least; 300 per replica of a larger deployment)."""
    tolerance: float = Field(default=0.02, gt=0, le=0.5)
    """Relative width of the request-rate bracket at which the capacity bisection stops."""
    finalists: int = Field(default=2, ge=1, le=10)
    """Configurations of each mode (aggregated, disaggregated) simulated per option after the screen."""
    headroom: Headroom = Headroom()
    seed: int = 0

    @model_validator(mode="before")
    @classmethod
    def _no_grid(cls, raw):
        if isinstance(raw, dict) and "grid_points" in raw:
            raise ValueError("grid_points is gone: capacity is found by bisection on the request rate; remove it "
                             "(sizing.tolerance sets the bisection's precision)")
        return raw


class Scenario(_Strict):
    name: str
    description: str = ""
    demand: Demand
    service: Service
    options: list[FleetOption] = Field(min_length=1)
    site: Site
    sizing: Sizing = Sizing()
    compare_sites: list[Site] = []
    """Other sites to re-cost the same fleets at (their PUE, electricity, facility capex, carbon):
    the break-even is answered at each; the fleet is sized once, at `site`."""
    economics: dict[str, str | float | int] = {}
    """catalog/economics.yaml figures to replace, by dotted path (e.g. `nre.N3.software_stack: 300 MUSD`,
    `design_partner.markup: 0.3`, `scale_out_network.usd_per_chip: 3000 USD`)."""
    voice: VoiceSpec | None = None
    """Optional voice pipeline (checked with the rest of the file): it sets the tokens per turn the
    demand omits, and the report gains time to first audio per configuration and network."""

    @model_validator(mode="after")
    def _tokens_known(self) -> "Scenario":
        if self.voice is None and (self.demand.input_tokens_per_turn is None or self.demand.output_tokens_per_turn is None):
            raise ValueError("demand.input_tokens_per_turn and demand.output_tokens_per_turn are needed "
                             "(or a voice section that sets them)")
        return self

    @model_validator(mode="after")
    def _prefix_within_prompt(self) -> "Scenario":
        shared, history = self._prefix_tokens()
        prompt = self.tokens_per_turn()[0]
        if self.service.prefix_cache.enabled and shared + history > prompt:
            raise ValueError(f"service.prefix_cache: shared_prefix_tokens + history_tokens = {shared} + {history} "
                             f"tokens, more than the {prompt}-token prompt of a turn; lower them or raise the "
                             f"prompt (demand.input_tokens_per_turn)")
        return self

    def _prefix_tokens(self) -> tuple[int, int]:
        """(system prompt, shared history) tokens: the prefix cache's, else the voice turn's, else 0."""
        pc, v = self.service.prefix_cache, self.voice
        shared = pc.shared_prefix_tokens if pc.shared_prefix_tokens is not None else (v.system_prompt_tokens if v else 0)
        history = pc.history_tokens if pc.history_tokens is not None else (v.history_tokens if v else 0)
        return shared, history

    def prefix_sharing(self) -> PrefixSharing | None:
        """What the LLM calls' prompts share, for the serving simulation; None without prefix caching
        or without anything shared."""
        shared, history = self._prefix_tokens()
        if not self.service.prefix_cache.enabled or shared + history == 0:
            return None
        gap = self.service.prefix_cache.turn_gap
        if gap is None and self.voice is not None:
            from chip2chat.voice.pipeline import TOKENS_PER_SPOKEN_SECOND

            v = self.voice
            gap = v.utterance_seconds + (v.end_of_speech_silence or 0.0) + v.response_tokens / TOKENS_PER_SPOKEN_SECOND
        return PrefixSharing(shared, history, max(1.0, self.demand.turns_per_session),
                             DEFAULT_TURN_GAP_S if gap is None else gap)

    def tokens_per_turn(self) -> tuple[int, int]:
        """(input, output) tokens of one LLM call: the demand's, else the voice turn's."""
        if self.demand.input_tokens_per_turn is not None and self.demand.output_tokens_per_turn is not None:
            return self.demand.input_tokens_per_turn, self.demand.output_tokens_per_turn
        v = self.voice
        return (self.demand.input_tokens_per_turn or v.prompt_tokens,
                self.demand.output_tokens_per_turn or v.response_tokens)


def load_scenario(path: str | Path) -> Scenario:
    return validated(Scenario, read_mapping(path, "a scenario"), str(path))
