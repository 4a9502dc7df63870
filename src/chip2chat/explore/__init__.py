"""Design-space exploration: many independent points, a resumable store, Pareto fronts.

    from chip2chat.explore import load_sweep, run_sweep
    frame = run_sweep(load_sweep("sweep.yaml"), "out/", backend="ray", num_cpus=8)
    frame[frame.pareto]

Heavy optional libraries (duckdb, ray, matplotlib) are imported only where they are used.
"""

from chip2chat.explore.evaluate import EVALUATORS, register
from chip2chat.explore.space import Param, RandomSpec, SweepSpec, load_sweep, point_key
from chip2chat.explore.sweep import run_sweep

__all__ = ["EVALUATORS", "Param", "RandomSpec", "SweepSpec", "load_sweep", "point_key", "register", "run_sweep"]
