"""open_clip-style contrastive loss in PyTorch eager: the GPU baseline for bench/cases/contrastive.ts.

    python bench/torch/contrastive.py [--batches 4096,32768,262144] [--dim 512] [--iters 10] [--json]

For each batch size and dtype (float32, bfloat16) it times, with CUDA events, one forward + backward
of the symmetric InfoNCE loss exactly as open_clip's ClipLoss computes it:
    logits = a * normalize(x) @ normalize(t).T ;  loss = (CE(logits, arange) + CE(logits.T, arange)) / 2
with autograd, embeddings as leaf tensors requiring grad, a = exp(log(1/0.07)) as a parameter.
It also reports peak allocated memory (torch.cuda.max_memory_allocated) above the inputs, and
whether the run went out of memory (the B x B logits and their gradients do not fit at large B).
GFLOP/s count 8 B^2 D, as radlearn's bench does. Not run in CI; no torch on the dev machine.
Run it on the same GPU, in the same session, as `npm run bench -- --filter contrastive`.
"""

import argparse
import json
import math

import torch
import torch.nn.functional as F


def clip_loss(x, t, logit_scale):
    u = F.normalize(x, dim=-1)
    v = F.normalize(t, dim=-1)
    logits = logit_scale.exp() * u @ v.T
    labels = torch.arange(x.shape[0], device=x.device)
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


def bench(batch, dim, dtype, iters):
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    gen = torch.Generator(device="cuda").manual_seed(0)
    x = torch.randn(batch, dim, device="cuda", dtype=dtype, generator=gen).requires_grad_()
    t = torch.randn(batch, dim, device="cuda", dtype=dtype, generator=gen).requires_grad_()
    logit_scale = torch.nn.Parameter(torch.tensor(math.log(1 / 0.07), device="cuda"))
    base = torch.cuda.memory_allocated()

    def step():
        x.grad = t.grad = logit_scale.grad = None
        loss = clip_loss(x, t, logit_scale)
        loss.backward()
        return loss

    try:
        step()  # warm-up (cuBLAS handles, autotuning)
        torch.cuda.synchronize()
        times = []
        for _ in range(iters):
            start = torch.cuda.Event(enable_timing=True)
            stop = torch.cuda.Event(enable_timing=True)
            start.record()
            step()
            stop.record()
            torch.cuda.synchronize()
            times.append(start.elapsed_time(stop))
    except torch.cuda.OutOfMemoryError:
        return {"op": "open_clip loss (torch eager)", "dtype": str(dtype), "batch": batch, "dim": dim, "oom": True}
    times.sort()
    median = times[len(times) // 2]
    return {
        "op": "open_clip loss (torch eager)",
        "dtype": str(dtype).replace("torch.", ""),
        "batch": batch,
        "dim": dim,
        "median_ms": median,
        "p90_ms": times[min(len(times) - 1, math.ceil(0.9 * len(times)) - 1)],
        "gflops": 8 * batch * batch * dim / (median * 1e6),
        "peak_extra_mb": (torch.cuda.max_memory_allocated() - base) / 2**20,
        "oom": False,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", default="4096,32768,262144")
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    print(f"# torch {torch.__version__} on {torch.cuda.get_device_name()}")
    for batch in [int(b) for b in args.batches.split(",")]:
        for dtype in (torch.float32, torch.bfloat16):
            result = bench(batch, args.dim, dtype, args.iters if batch <= 32768 else 2)
            if args.json:
                print(json.dumps(result))
            elif result["oom"]:
                print(f"{result['op']:32} {result['dtype']:16} B={batch:<7} D={args.dim:<5} out of memory")
            else:
                print(
                    f"{result['op']:32} {result['dtype']:10} B={batch:<7} D={args.dim:<5} "
                    f"{result['median_ms']:10.3f} ms  {result['gflops']:10.1f} GFLOP/s  peak +{result['peak_extra_mb']:.0f} MiB"
                )


if __name__ == "__main__":
    main()
