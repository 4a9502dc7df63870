"""Microbenchmarks with PyTorch on the local accelerator (or the CPU, for testing).

Times are medians of repeated runs after warm-up, synchronised with the device. Each timing
becomes a RawMeasurement with the FLOP and bytes the kernel must do, so `fit` can divide.
"""

from __future__ import annotations

import statistics
import time

from chip2chat.calibrate.raw import RawMeasurement
from chip2chat.errors import Chip2ChatError

GEMM_SHAPES = [(m, n, k) for m in (1, 16, 64, 256, 1024, 4096, 8192) for n, k in
               ((4096, 4096), (8192, 8192), (14336, 4096), (4096, 14336), (1280, 8192))]
QUICK_GEMM_SHAPES = [(m, 256, 256) for m in (1, 16, 64, 256)] + [(512, 512, 512)]
COPY_BYTES = [2**p for p in range(20, 32)]  # 1 MiB .. 2 GiB
QUICK_COPY_BYTES = [2**p for p in range(16, 23)]


def _torch():
    try:
        import torch
    except ImportError:
        raise Chip2ChatError("calibration needs PyTorch: pip install 'chip2chat[calibrate]'") from None
    return torch


def _timer(torch, device: str, fn, repeats: int) -> float:
    for _ in range(2):
        fn()
    times = []
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(device: str = "cuda", quick: bool = False, repeats: int = 10) -> list[RawMeasurement]:
    torch = _torch()
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise Chip2ChatError("no CUDA device visible to PyTorch; use --device cpu to test the measuring code")
    rows: list[RawMeasurement] = []
    rows += _gemms(torch, device, quick, repeats)
    rows += _copies(torch, device, quick, repeats)
    rows += _attention(torch, device, quick, repeats)
    return rows


def _gemms(torch, device, quick, repeats):
    out = []
    dtypes = [("bf16", torch.bfloat16)]
    for m, n, k in QUICK_GEMM_SHAPES if quick else GEMM_SHAPES:
        for name, dt in dtypes:
            a = torch.randn(m, k, device=device, dtype=dt)
            b = torch.randn(k, n, device=device, dtype=dt)
            seconds = _timer(torch, device, lambda: a @ b, repeats)
            out.append(RawMeasurement("gemm", name, f"{m}x{n}x{k}", 2.0 * m * n * k, 2.0 * (m * k + k * n + m * n),
                                      1, seconds))
        if device.startswith("cuda") and hasattr(torch, "_scaled_mm") and hasattr(torch, "float8_e4m3fn") \
                and torch.cuda.get_device_capability()[0] >= 9 and m % 16 == 0:
            a8 = torch.randn(m, k, device=device).to(torch.float8_e4m3fn)
            b8 = torch.randn(n, k, device=device).to(torch.float8_e4m3fn).t()
            one = torch.ones((), device=device)
            seconds = _timer(torch, device, lambda: torch._scaled_mm(a8, b8, scale_a=one, scale_b=one,
                                                                     out_dtype=torch.bfloat16), repeats)
            out.append(RawMeasurement("gemm", "fp8", f"{m}x{n}x{k}", 2.0 * m * n * k, m * k + k * n + 2.0 * m * n,
                                      1, seconds))
    return out


def _copies(torch, device, quick, repeats):
    out = []
    for nbytes in QUICK_COPY_BYTES if quick else COPY_BYTES:
        src = torch.empty(nbytes // 2, device=device, dtype=torch.bfloat16)
        dst = torch.empty_like(src)
        seconds = _timer(torch, device, lambda: dst.copy_(src), repeats)
        out.append(RawMeasurement("memcpy", "bf16", f"{nbytes}", 0.0, 2.0 * nbytes, 1, seconds))  # read + write
    return out


def _attention(torch, device, quick, repeats):
    import torch.nn.functional as F

    out = []
    heads, dim = (4, 64) if quick else (32, 128)
    for seq in ((128, 256) if quick else (512, 2048, 8192)):
        q = torch.randn(1, heads, seq, dim, device=device, dtype=torch.bfloat16)
        seconds = _timer(torch, device, lambda: F.scaled_dot_product_attention(q, q, q, is_causal=True), repeats)
        flops = 4.0 * heads * dim * seq * (seq + 1) / 2
        out.append(RawMeasurement("attention_prefill", "bf16", f"1x{heads}x{seq}x{dim}", flops,
                                  4.0 * heads * seq * dim * 2, 1, seconds))
    for batch, ctx in (((2, 256),) if quick else ((1, 1024), (32, 1024), (128, 4096))):
        q = torch.randn(batch, heads, 1, dim, device=device, dtype=torch.bfloat16)
        kv = torch.randn(batch, heads, ctx, dim, device=device, dtype=torch.bfloat16)
        seconds = _timer(torch, device, lambda: F.scaled_dot_product_attention(q, kv, kv), repeats)
        out.append(RawMeasurement("attention_decode", "bf16", f"{batch}x{heads}x{ctx}x{dim}",
                                  4.0 * batch * heads * dim * ctx, 2.0 * 2 * batch * heads * ctx * dim, 1, seconds))
    return out


ALL_REDUCE_BYTES = [2**p for p in range(15, 31, 1)]  # 32 KiB .. 1 GiB


def measure_all_reduce(repeats: int = 10) -> list[RawMeasurement]:
    """NCCL all-reduce over every visible GPU (one process each); nothing on fewer than 2 GPUs."""
    torch = _torch()
    ranks = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if ranks < 2:
        return []
    import torch.multiprocessing as mp

    queue = mp.get_context("spawn").SimpleQueue()
    mp.spawn(_all_reduce_worker, args=(ranks, repeats, queue), nprocs=ranks, join=True)
    return [RawMeasurement("all_reduce", "bf16", str(n), 0.0, float(n), ranks, s) for n, s in queue.get()]


def _all_reduce_worker(rank: int, ranks: int, repeats: int, queue) -> None:  # pragma: no cover - needs GPUs
    import os

    import torch
    import torch.distributed as dist

    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29517")
    dist.init_process_group("nccl", rank=rank, world_size=ranks)
    torch.cuda.set_device(rank)
    results = []
    for nbytes in ALL_REDUCE_BYTES:
        x = torch.empty(nbytes // 2, device="cuda", dtype=torch.bfloat16)
        seconds = _timer(torch, "cuda", lambda: dist.all_reduce(x), repeats)
        results.append((nbytes, seconds))
    if rank == 0:
        queue.put(results)
    dist.destroy_process_group()
