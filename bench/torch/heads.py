"""PyTorch reference timings for radlearn's linear layer (bench/cases/heads.ts), for a GPU
machine with torch installed (not run in CI). Times nn.functional.linear forward and its
backward (dX, dW, db) in float32 with TF32 disabled (radlearn's CUDA GEMM is plain FP32
FFMA), with CUDA events, and prints GFLOP/s (forward 2*N*in*out, backward 4*N*in*out).

    python bench/torch/heads.py
"""
import torch

from timing import median_ms  # bench/torch/timing.py (the script's folder is on sys.path)

torch.backends.cuda.matmul.allow_tf32 = False



def bench(rows: int, inf: int, outf: int) -> None:
    x = torch.randn(rows, inf, device="cuda", requires_grad=True)
    w = torch.randn(outf, inf, device="cuda", requires_grad=True)
    b = torch.randn(outf, device="cuda", requires_grad=True)
    dy = torch.randn(rows, outf, device="cuda")
    fwd = median_ms(lambda: torch.nn.functional.linear(x, w, b))
    y = torch.nn.functional.linear(x, w, b)
    bwd = median_ms(lambda: torch.autograd.grad(y, (x, w, b), dy, retain_graph=True))
    flops = rows * inf * outf
    print(f"torch linear {rows}x{inf}->{outf}: forward {fwd:.3f} ms {2 * flops / fwd / 1e6:.1f} GFLOP/s, "
          f"backward {bwd:.3f} ms {4 * flops / bwd / 1e6:.1f} GFLOP/s")


if __name__ == "__main__":
    for shape in ((4096, 768, 14), (4096, 768, 512), (1024, 1024, 1024)):
        bench(*shape)
