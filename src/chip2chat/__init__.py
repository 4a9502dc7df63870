"""chip2chat: plan and co-design the stack behind a voice AI service.

    import chip2chat as c2c
    r = c2c.estimate(model="llama-3.1-70b", hardware="h200", tp=8, batch=64, input_len=1024, output_len=256)
"""

from chip2chat.engine.estimate import Estimate, estimate
from chip2chat.errors import Chip2ChatError
from chip2chat.hardware.load import load_hardware
from chip2chat.models.load import load_model

__all__ = ["Chip2ChatError", "Estimate", "estimate", "load_hardware", "load_model"]
__version__ = "0.1.0"
