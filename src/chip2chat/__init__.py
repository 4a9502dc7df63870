"""chip2chat: plan and co-design the stack behind a voice AI service.

    import chip2chat as c2c
    r = c2c.estimate(model="llama-3.1-70b", hardware="h200", tp=8, batch=64, input_len=1024, output_len=256)
    sim = c2c.simulate(model="llama-3.1-8b", hardware="h100", rate_per_s=20, num_requests=100_000, seed=0)
"""

from chip2chat.engine.estimate import Estimate, estimate
from chip2chat.errors import Chip2ChatError
from chip2chat.hardware.load import load_hardware
from chip2chat.models.load import load_model
from chip2chat.serving.simulate import SimulationResult, simulate

__all__ = ["Chip2ChatError", "Estimate", "SimulationResult", "estimate", "load_hardware", "load_model", "simulate"]
__version__ = "0.1.0"
