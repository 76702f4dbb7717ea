#!/usr/bin/env python3
"""PyTorch references for radlearn's training arithmetic (tests/unit/torch, bench/torch).

Each command exports a model with scripts/export-encoder.py into OUT and writes what radlearn needs to
repeat the computation, plus PyTorch's results, as raw little-endian files listed in OUT/spec.json:

  check    prints "ok" when torch, torchvision and onnx import (else the missing module, exit 1)
  gradients MODEL OUT
           parameter gradients of L = sum(output * P) for a fixed input and a random P, computed by
           autograd in float64 (the reference) and in float32 (PyTorch's own rounding, for the record)
  trajectory MODEL OUT --steps N
           N fine-tuning steps of the encoder under a linear head: multi-label BCE with logits (masked
           entries and uncertain -1 targets ignored), clip_grad_norm_, torch.optim.AdamW with weight decay
           on matrices only, warmup + cosine learning rate; per-step losses and final parameters in float64
  timing   MODEL OUT --threads T --batch B --size S
           PyTorch CPU eager median milliseconds of one training step (forward, backward, AdamW) in float32

MODEL: resnet18, densenet121, vit (a small torchvision VisionTransformer with a non-zero head), vit_s16
(ViT-S/16 without its head), vit_b_16 (full size, 224 pixels, non-zero head), bert (a small BertModel-shaped
encoder; padded rows and token type ids) or bert_base (the same at BERT-base size).
"""
from __future__ import annotations

import argparse
import copy
import importlib.util
import json
import math
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def check() -> int:
    missing = []
    for module in ("numpy", "torch", "torchvision", "onnx"):
        try:
            __import__(module)
        except Exception as e:  # noqa: BLE001 (any failure to import means the module is unusable)
            missing.append(f"{module} ({type(e).__name__}: {e})")
    if missing:
        print("missing: " + ", ".join(missing))
        return 1
    import torch

    print(f"ok torch {torch.__version__}")
    return 0


def exporter():
    spec = importlib.util.spec_from_file_location("export_encoder", REPO / "scripts" / "export-encoder.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --------------------------------------------------------------------------------------------------
# Models and inputs
# --------------------------------------------------------------------------------------------------


def randomize_batchnorm(model, gen) -> None:
    """Non-trivial running statistics and affine parameters, so BatchNorm's gradients are tested."""
    import torch

    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=gen))
                m.weight.copy_(1.0 + 0.1 * torch.randn(m.weight.shape, generator=gen))
                m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))


def build(name: str, ee, seed: int, size: int):
    """(model, export kwargs, kind)."""
    import torch
    import torchvision

    gen = torch.Generator().manual_seed(seed + 1)
    if name in ("resnet18", "densenet121"):
        model = ee.torchvision_encoder(name, weights="random", seed=seed)
        randomize_batchnorm(model, gen)
        return model, dict(kind="image", size=size), "image"
    if name == "vit":
        torch.manual_seed(seed)
        model = torchvision.models.VisionTransformer(
            image_size=size, patch_size=8, num_layers=2, num_heads=4, hidden_dim=64, mlp_dim=128, num_classes=10
        )
        # torchvision starts the head at zero, which makes every gradient below it zero
        with torch.no_grad():
            model.heads.head.weight.normal_(0.0, 0.1, generator=gen)
            model.heads.head.bias.normal_(0.0, 0.1, generator=gen)
        return model, dict(kind="image", size=size), "image"
    if name == "vit_b_16":
        # full size, 224 pixels; torchvision starts the head at zero, so it is drawn non-zero
        torch.manual_seed(seed)
        model = torchvision.models.vit_b_16(weights=None)
        with torch.no_grad():
            model.heads.head.weight.normal_(0.0, 0.02, generator=gen)
            model.heads.head.bias.normal_(0.0, 0.02, generator=gen)
        return model, dict(kind="image", size=224), "image"
    if name == "bert_base":
        torch.manual_seed(seed)
        model = ee.BertShapedModel()
        return model, dict(kind="text", tokenizer_json=ee.demo_tokenizer(), token_type_ids=True, max_length=512), "text"
    if name == "vit_s16":
        # ViT-S/16 (DeiT-S, DINOv2 ViT-S): width 384, 12 layers, 6 heads; the head removed
        torch.manual_seed(seed)
        model = torchvision.models.VisionTransformer(
            image_size=size, patch_size=16, num_layers=12, num_heads=6, hidden_dim=384, mlp_dim=1536
        )
        model.heads = torch.nn.Identity()
        return model, dict(kind="image", size=size), "image"
    if name == "bert":
        torch.manual_seed(seed)
        model = ee.demo_bert()
        return model, dict(kind="text", tokenizer_json=ee.demo_tokenizer(), token_type_ids=True, max_length=32), "text"
    raise SystemExit(f"unknown model {name}")


def make_inputs(kind: str, batch: int, size: int, vocab: int, gen, seq: int = 12):
    """Image: [batch, 3, size, size] normal. Text: [batch, seq] ids with row i padded after seq - i * seq / 4
    tokens (row 0 full), token types 1 on the second half of the real tokens."""
    import torch

    if kind == "image":
        return {"pixel_values": torch.randn(batch, 3, size, size, generator=gen)}
    t = seq
    ids = torch.randint(5, vocab, (batch, t), generator=gen)
    ids[:, 0] = 2  # [CLS]
    mask = torch.ones(batch, t, dtype=torch.int64)
    types = torch.zeros(batch, t, dtype=torch.int64)
    for i in range(batch):
        real = max(3, t - (i * t) // 4)
        mask[i, real:] = 0
        ids[i, real:] = 0
        ids[i, real - 1] = 3  # [SEP]
        types[i, real // 2 : real] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def write(out: Path, name: str, tensor, dtype: str) -> dict:
    import numpy as np

    arr = tensor.detach().cpu().numpy().astype({"float32": "<f4", "float64": "<f8", "int64": "<i8"}[dtype])
    arr.tofile(out / f"{name}.bin")
    return {"name": name, "file": f"{name}.bin", "dtype": dtype, "dims": list(arr.shape)}


def write_flat(out: Path, file: str, tensors: dict, dtype: str) -> list:
    """Tensors concatenated in one file; returns their [name, offset, shape] index."""
    import numpy as np

    index, chunks, offset = [], [], 0
    for name, t in tensors.items():
        a = t.detach().cpu().numpy().astype(np.float64 if dtype == "float64" else np.float32).ravel()
        index.append({"name": name, "offset": offset, "shape": list(t.shape)})
        chunks.append(a)
        offset += a.size
    np.concatenate(chunks).astype("<f8" if dtype == "float64" else "<f4").tofile(out / file)
    return index


# --------------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------------


def gradients(name: str, out: Path, seed: int, batch: int, size: int, seq: int) -> dict:
    import torch

    ee = exporter()
    model, options, kind = build(name, ee, seed, size)
    size = options.get("size") or size
    ee.export_encoder(model, str(out / "model.onnx"), **options)
    gen = torch.Generator().manual_seed(seed + 2)
    inputs = make_inputs(kind, batch, size, ee._vocab_size(model), gen, seq)
    model.eval()
    args = list(inputs.values())
    with torch.no_grad():
        dim = model(*args).shape[1] if kind == "image" else model(*args)[1].shape[1]
    projection = torch.randn(batch, dim, generator=gen)

    def grads(dtype):
        m = copy.deepcopy(model).to(dtype)
        x = [a.to(dtype) if a.is_floating_point() else a for a in args]
        y = m(*x) if kind == "image" else m(*x)[1]
        (y * projection.to(dtype)).sum().backward()
        return y, {n: p.grad if p.grad is not None else torch.zeros_like(p) for n, p in m.named_parameters()}

    (y64, g64), (_, g32) = grads(torch.float64), grads(torch.float32)
    return {
        "model": name,
        "output": "embedding",
        "output64": write(out, "output64", y64, "float64"),
        "inputs": [write(out, k, v, "float32" if v.is_floating_point() else "int64") for k, v in inputs.items()],
        "projection": write(out, "projection", projection, "float32"),
        "reference": {"file": "grad64.bin", "dtype": "float64", "tensors": write_flat(out, "grad64.bin", g64, "float64")},
        "torch32": {"file": "grad32.bin", "dtype": "float32", "tensors": write_flat(out, "grad32.bin", g32, "float32")},
    }


def cosine_lr(step: int, total: int, lr: float, warmup: int, min_ratio: float) -> float:
    """Linear warmup, then a half cosine to min_ratio * lr (radlearn's optim schedule)."""
    if warmup > 0 and step < warmup:
        return lr * (step + 1) / warmup
    span = max(1, total - warmup)
    progress = min(1.0, max(0.0, (step - warmup) / span))
    return lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress)))


def trajectory(name: str, out: Path, seed: int, batch: int, size: int, steps: int, hyper: dict) -> dict:
    import torch

    ee = exporter()
    model, options, kind = build(name, ee, seed, size)
    ee.export_encoder(model, str(out / "model.onnx"), **options)
    if kind != "image":
        raise SystemExit("trajectory: image models only")
    gen = torch.Generator().manual_seed(seed + 3)
    labels = 5
    with torch.no_grad():
        dim = model.eval()(torch.zeros(1, 3, size, size)).shape[1]
    images = torch.randn(steps, batch, 3, size, size, generator=gen)
    targets = (torch.rand(steps, batch, labels, generator=gen) < 0.4).float()
    targets[torch.rand(steps, batch, labels, generator=gen) < 0.15] = -1.0  # uncertain: ignored
    mask = (torch.rand(steps, batch, labels, generator=gen) >= 0.1).float()  # missing labels
    bound = 1 / math.sqrt(dim)
    head_w = (torch.rand(labels, dim, generator=gen) * 2 - 1) * bound
    head_b = torch.zeros(labels)

    # float64 PyTorch from the exported float32 values; 'batch': BatchNorm normalises with each chunk's
    # statistics and updates its running statistics (model.train()), as radlearn's gradient caching
    # runs the encoder chunk by chunk
    batch_stats = hyper.get("batchNorm", "frozen") == "batch"
    encoder = copy.deepcopy(model).double().train(batch_stats)
    chunk = hyper["chunkSize"]
    head = torch.nn.Linear(dim, labels).double()
    with torch.no_grad():
        head.weight.copy_(head_w)
        head.bias.copy_(head_b)
    named = [(f"image_encoder.{n}", p) for n, p in encoder.named_parameters()] + [
        ("classifier.fc.weight", head.weight),
        ("classifier.fc.bias", head.bias),
    ]
    # radlearn: weight decay on matrices and convolution kernels only; the head at headLrScale x lr
    groups = []
    for in_head in (False, True):
        for decay in (True, False):
            params = [p for n, p in named if n.startswith("classifier.") == in_head and (p.dim() >= 2) == decay]
            scale = hyper["headLrScale"] if in_head else 1.0
            groups.append({"params": params, "weight_decay": hyper["weightDecay"] if decay else 0.0, "scale": scale})
    optimizer = torch.optim.AdamW(
        groups,
        lr=hyper["lr"],
        betas=(hyper["beta1"], hyper["beta2"]),
        eps=hyper["eps"],
    )
    losses, norms, lrs = [], [], []
    warmup = min(hyper["warmupSteps"], steps // 2)
    for step in range(steps):
        lr = cosine_lr(step, steps, hyper["lr"], warmup, hyper["minLrRatio"])
        for group in optimizer.param_groups:
            group["lr"] = lr * group["scale"]
        optimizer.zero_grad(set_to_none=True)
        x = images[step].double()
        logits = head(torch.cat([encoder(x[c : c + chunk]) for c in range(0, batch, chunk)]))
        t = targets[step].double()
        valid = mask[step].double() * (t >= 0).double()
        bce = torch.nn.functional.binary_cross_entropy_with_logits(logits, t.clamp(min=0), reduction="none")
        loss = (bce * valid).sum() / valid.sum()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_([p for _, p in named], hyper["maxGradNorm"])
        optimizer.step()
        losses.append(loss.item())
        norms.append(float(norm))
        lrs.append(lr)
    final = {n: p for n, p in named}
    if batch_stats:
        final.update({f"image_encoder.{n}": b for n, b in encoder.named_buffers() if "running_" in n})
    return {
        "model": name,
        "output": "embedding",
        "steps": steps,
        "batch": batch,
        "labels": labels,
        "dim": dim,
        "hyper": hyper,
        "images": write(out, "images", images, "float32"),
        "targets": write(out, "targets", targets, "float32"),
        "mask": write(out, "mask", mask, "float32"),
        "head": {"weight": write(out, "head_weight", head_w, "float32"), "bias": write(out, "head_bias", head_b, "float32")},
        "losses": losses,
        "gradNorms": norms,
        "lrs": lrs,
        "final": {"file": "final64.bin", "dtype": "float64", "tensors": write_flat(out, "final64.bin", final, "float64")},
    }


def timing(name: str, out: Path, seed: int, batch: int, size: int, threads: int, runs: int, export: bool) -> dict:
    """Median ms of one float32 training step: forward, L = sum(output * P), backward, AdamW (eager,
    eval-mode modules as radlearn's frozen-BatchNorm training graph). OMP_WAIT_POLICY comes from the
    environment."""
    import os

    import torch

    torch.set_num_threads(threads)
    ee = exporter()
    model, options, kind = build(name, ee, seed, size)
    if export:
        ee.export_encoder(model, str(out / "model.onnx"), **options)
    gen = torch.Generator().manual_seed(seed + 2)
    inputs = make_inputs(kind, batch, size, ee._vocab_size(model), gen)
    args = list(inputs.values())
    model.eval()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-6)
    with torch.no_grad():
        dim = model(*args).shape[1] if kind == "image" else model(*args)[1].shape[1]
    projection = torch.randn(batch, dim, generator=gen)

    def step():
        optimizer.zero_grad(set_to_none=True)
        y = model(*args) if kind == "image" else model(*args)[1]
        (y * projection).sum().backward()
        optimizer.step()

    for _ in range(2):
        step()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return {
        "model": name,
        "output": "embedding",
        "inputs": [write(out, k, v, "float32" if v.is_floating_point() else "int64") for k, v in inputs.items()],
        "projection": write(out, "projection", projection, "float32"),
        "torchThreads": torch.get_num_threads(),
        "ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY", "(unset)"),
        "samplesMs": samples,
        "medianMs": samples[len(samples) // 2],
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["check", "gradients", "trajectory", "timing"])
    ap.add_argument("model", nargs="?")
    ap.add_argument("out", nargs="?", type=Path)
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--seq", type=int, default=12, help="text: tokens per row")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--hyper", default="{}", help="trajectory: AdamW and schedule settings (JSON)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--skip-export", action="store_true", help="timing: model.onnx is already in OUT")
    args = ap.parse_args()
    if args.command == "check":
        return check()
    import torch

    torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.command == "gradients":
        spec = gradients(args.model, args.out, args.seed, args.batch, args.size, args.seq)
    elif args.command == "trajectory":
        hyper = dict(lr=1e-3, beta1=0.9, beta2=0.98, eps=1e-6, weightDecay=0.05, maxGradNorm=1.0, warmupSteps=3, minLrRatio=0.1,
                     headLrScale=2.0, chunkSize=2, batchNorm="frozen")
        hyper.update(json.loads(args.hyper))
        spec = trajectory(args.model, args.out, args.seed, args.batch, args.size, args.steps, hyper)
    else:
        spec = timing(args.model, args.out, args.seed, args.batch, args.size, args.threads, args.runs, not args.skip_export)
    spec["torch"] = torch.__version__
    (args.out / "spec.json").write_text(json.dumps(spec, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
