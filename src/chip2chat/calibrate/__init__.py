"""Calibration: measure a chip with microbenchmarks and fit its efficiency profile.

`measure` (needs PyTorch: `pip install chip2chat[calibrate]`) times GEMMs, memory copies,
attention and all-reduce; `fit` (pure numpy) turns those raw measurements into a
CalibrationProfile. Only microbenchmarks go in: the fitting never sees validation data.
"""
