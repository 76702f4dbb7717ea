"""PyTorch reference timings for radlearn's fused AdamW (bench/cases/optim.ts), for a GPU
machine with torch installed (not run in CI). Times clip_grad_norm_ + torch.optim.AdamW
(fused=True when available, else foreach) on one flat CUDA parameter of 1M and 10M floats,
with CUDA events, and prints parameters/s and GB/s on the same 28 bytes/parameter count.

    python bench/torch/optim.py
"""
import torch


def bench(n: int, iterations: int = 30) -> None:
    p = torch.nn.Parameter(torch.randn(n, device="cuda"))
    p.grad = torch.randn(n, device="cuda") * 0.1
    try:
        opt = torch.optim.AdamW([p], lr=1e-3, weight_decay=0.01, fused=True)
        kind = "fused"
    except (RuntimeError, TypeError):
        opt = torch.optim.AdamW([p], lr=1e-3, weight_decay=0.01, foreach=True)
        kind = "foreach"
    for _ in range(3):
        torch.nn.utils.clip_grad_norm_([p], 1.0)
        opt.step()
    torch.cuda.synchronize()
    times = []
    for _ in range(iterations):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        norm = torch.nn.utils.clip_grad_norm_([p], 1.0)
        opt.step()
        norm.item()  # radlearn returns the norm to the host too
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    times.sort()
    ms = times[len(times) // 2]
    print(f"torch AdamW ({kind}) + clip_grad_norm_  {n / 1e6:g}M params  {ms:.3f} ms  "
          f"{n / ms * 1e3:.3e} params/s  {n * 28 / ms / 1e6:.1f} GB/s")


if __name__ == "__main__":
    for n in (1_000_000, 10_000_000):
        bench(n)
