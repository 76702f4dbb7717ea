"""PyTorch/torchvision baseline for bench/cases/augment.ts (run on a GPU machine; not run in CI).

What a PyTorch user would write for DINO multi-crop views of 512x512 uint16 radiographs on the
GPU: torchvision.transforms.v2 per image (RandomResizedCrop with antialias, horizontal flip,
brightness/contrast, Gaussian blur, normalisation), 2 x 224 global + 8 x 96 local crops.
Timed with CUDA events; prints images/s and output GB/s for comparison with radlearn's
`augment (cuda kernels)` rows.

    python bench/torch/augment.py --batch 256 --iters 10
"""
import argparse

import torch
from torchvision.transforms import v2


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--iters", type=int, default=10)
    parser.add_argument("--single", action="store_true", help="one 224 crop (0.32, 1) + flip only")
    args = parser.parse_args()
    device = torch.device("cuda")
    torch.manual_seed(0)
    images = torch.randint(0, 65535, (args.batch, 1, 512, 512), dtype=torch.int32, device=device).float() / 65535.0

    common = [v2.RandomHorizontalFlip(0.5)]
    if not args.single:
        common += [
            v2.RandomApply([v2.ColorJitter(brightness=0.4, contrast=0.4)], p=0.8),
            v2.RandomApply([v2.GaussianBlur(kernel_size=13, sigma=(0.1, 2.0))], p=0.5),
        ]
    tail = [v2.Normalize(mean=[0.5], std=[0.25])]
    global_view = v2.Compose([v2.RandomResizedCrop(224, scale=(0.32, 1.0), antialias=True), *common, *tail])
    local_view = v2.Compose([v2.RandomResizedCrop(96, scale=(0.05, 0.32), antialias=True), *common, *tail])
    counts = [(global_view, 1)] if args.single else [(global_view, 2), (local_view, 8)]
    out_bytes = args.batch * sum(n * (224 * 224 if t is global_view else 96 * 96) * 4 for t, n in counts)

    def run() -> None:
        for transform, n in counts:
            views = [transform(images[i]) for i in range(args.batch) for _ in range(n)]
            torch.stack(views)

    run()
    torch.cuda.synchronize()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    times = []
    for _ in range(args.iters):
        start.record()
        run()
        stop.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(stop))
    times.sort()
    ms = times[len(times) // 2]
    print(f"torchvision v2 per-image on {torch.cuda.get_device_name()}: {ms:.2f} ms per batch of {args.batch}, "
          f"{args.batch / ms * 1e3:.0f} images/s, {out_bytes / ms / 1e6:.1f} GB/s output")


if __name__ == "__main__":
    main()
