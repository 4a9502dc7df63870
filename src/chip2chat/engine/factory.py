"""`get_replica`: a Replica from a model and a chip given by name, path or object (cached by name)."""

from __future__ import annotations

from functools import lru_cache

from chip2chat import args
from chip2chat.costs.device import Device
from chip2chat.engine.defaults import ENGINE
from chip2chat.engine.engines import serving_engine
from chip2chat.engine.plan import ParallelPlan
from chip2chat.engine.replica import Replica
from chip2chat.engine.speculative import Speculative, check_model
from chip2chat.hardware.calibration import CalibrationProfile
from chip2chat.hardware.load import load_hardware
from chip2chat.hardware.spec import Accelerator
from chip2chat.models.load import load_model
from chip2chat.models.transformer import Transformer


def get_replica(model: str | Transformer, hardware: str | Accelerator, tp: int, pp: int, ep: int,
                weight_dtype: str, kv_dtype: str, profile: CalibrationProfile | None = None,
                attention_dp: bool = False, engine: str = ENGINE, fidelity: str | None = None,
                speculative: Speculative | None = None, cuda_graphs: bool | None = None) -> Replica:
    """A Replica of the model on the chip, costed with the chip's own calibration profile (its
    `calibration` field) unless `profile` overrides it, under the serving `engine` (its measured
    kernels where the profile names kernel tables; engine/engines.py); `fidelity` None: the chip's
    (costs/device.py), or one named (e.g. "roofline"); `speculative` decoding (engine/speculative.py)
    or None; `cuda_graphs` whether the engine runs its steps in CUDA graphs (None: the engine's
    default, engine/engines.py; False: costs/measured.py says what changes). Cached for catalog
    names so repeated estimates cost microseconds."""
    args.instance("model", model, (str, Transformer), "a catalog model name, a config.json path or a Transformer")
    args.instance("hardware", hardware, (str, Accelerator),
                  "a catalog accelerator name, an accelerator YAML path or an Accelerator")
    if profile is not None:
        args.instance("profile", profile, (CalibrationProfile,), "a CalibrationProfile or None")
    served = serving_engine(engine)
    kernels = served.kernels
    if cuda_graphs is None:
        cuda_graphs = served.cuda_graphs
    args.instance("cuda_graphs", cuda_graphs, (bool,), "True, False or None (the engine's default)")
    if isinstance(model, str) and isinstance(hardware, str) and profile is None:
        return _cached_replica(model, hardware, tp, pp, ep, weight_dtype, kv_dtype, attention_dp, engine, fidelity,
                               speculative, cuda_graphs)
    m = load_model(model) if isinstance(model, str) else model
    hw = load_hardware(hardware)[1] if isinstance(hardware, str) else hardware
    if speculative is not None:
        check_model(speculative, m)
    device = Device(hw, profile, fidelity, kernels, block_scaled=m.spec.fp8_block_scaled and weight_dtype == "fp8",
                    cuda_graphs=cuda_graphs)
    return Replica(m, device, ParallelPlan(tp, pp, ep, attention_dp), weight_dtype, kv_dtype, speculative)


@lru_cache(maxsize=1024)
def _cached_replica(model: str, hardware: str, tp: int, pp: int, ep: int, weight_dtype: str,
                    kv_dtype: str, attention_dp: bool, engine: str, fidelity: str | None,
                    speculative: Speculative | None, cuda_graphs: bool) -> Replica:
    return get_replica(load_model(model), load_hardware(hardware)[1], tp, pp, ep, weight_dtype, kv_dtype, None,
                       attention_dp, engine, fidelity, speculative, cuda_graphs)
