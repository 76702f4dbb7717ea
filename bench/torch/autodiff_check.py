#!/usr/bin/env python3
"""Compare radlearn's ONNX autodiff with PyTorch autograd on full-size encoders.

For each model (torchvision ResNet-18, DenseNet-121, ViT-B/16 with random weights, and a BERT-base
shaped text encoder written here), the script

  1. builds the model with random weights (seeded) and exports it to ONNX (opset 17) such that
     BatchNorm stays in inference form and is NOT folded into the convolutions (the parameters keep
     their PyTorch names), dropout removed;
  2. draws an input batch and a random projection P of the output, and computes with autograd
     the gradient of L = sum(output * P) with respect to every parameter;
  3. runs radlearn (node + tsx from this checkout): differentiate() the exported model, one
     TrainingSession step with grad_<output> = P, gradients into one flat buffer;
  4. compares per parameter: relative error ||g_radlearn - g_torch|| / ||g_torch||.

Both sides compute in float32 (PyTorch on CPU by default so both use the same arithmetic; --device cuda
works too, with TF32 disabled). Expected: every parameter <= 1e-3, typically ~1e-5.

Requires: torch, torchvision, numpy, onnx (for the exporter), and node >= 20 with this repository's
dependencies installed (npm ci). Usage:

    python bench/torch/autodiff_check.py [--models resnet18,densenet121,vit_b_16,bert] [--batch 2]
                                         [--device cpu|cuda] [--results bench/RESULTS.md]

It prints a markdown table; --results appends it (with the date and versions) to that file.
"""
from __future__ import annotations

import argparse
import datetime
import inspect
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[2]

# --------------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------------


class BertLikeEncoder(nn.Module):
    """BERT-base shaped encoder (post-norm, GELU, learned positions, token types, tanh pooler)."""

    def __init__(self, vocab=30522, dim=768, depth=12, heads=12, hidden=3072, max_len=512):
        super().__init__()
        self.heads = heads
        self.word_embeddings = nn.Embedding(vocab, dim)
        self.position_embeddings = nn.Embedding(max_len, dim)
        self.token_type_embeddings = nn.Embedding(2, dim)
        self.embeddings_norm = nn.LayerNorm(dim, eps=1e-12)
        self.layers = nn.ModuleList()
        for _ in range(depth):
            self.layers.append(
                nn.ModuleDict(
                    dict(
                        query=nn.Linear(dim, dim),
                        key=nn.Linear(dim, dim),
                        value=nn.Linear(dim, dim),
                        attn_out=nn.Linear(dim, dim),
                        attn_norm=nn.LayerNorm(dim, eps=1e-12),
                        fc1=nn.Linear(dim, hidden),
                        fc2=nn.Linear(hidden, dim),
                        out_norm=nn.LayerNorm(dim, eps=1e-12),
                    )
                )
            )
        self.pooler = nn.Linear(dim, dim)

    def forward(self, input_ids, attention_mask):
        n, t = input_ids.shape
        positions = torch.arange(t, device=input_ids.device).unsqueeze(0)
        x = self.word_embeddings(input_ids) + self.position_embeddings(positions) + self.token_type_embeddings(torch.zeros_like(input_ids))
        x = self.embeddings_norm(x)
        bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * -10000.0
        d = x.shape[-1]
        hd = d // self.heads
        for layer in self.layers:
            def split(v):
                return v.view(n, t, self.heads, hd).transpose(1, 2)

            q, k, v = split(layer["query"](x)), split(layer["key"](x)), split(layer["value"](x))
            scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + bias
            ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(n, t, d)
            x = layer["attn_norm"](x + layer["attn_out"](ctx))
            x = layer["out_norm"](x + layer["fc2"](F.gelu(layer["fc1"](x))))
        return torch.tanh(self.pooler(x[:, 0]))


def build(name: str):
    import torchvision

    if name == "resnet18":
        return torchvision.models.resnet18(weights=None), "image"
    if name == "densenet121":
        return torchvision.models.densenet121(weights=None), "image"
    if name == "vit_b_16":
        return torchvision.models.vit_b_16(weights=None), "image"
    if name == "bert":
        return BertLikeEncoder(), "text"
    raise SystemExit(f"unknown model {name}")


def prepare_for_export(model: nn.Module) -> nn.Module:
    """Training mode (so the exporter's eval-mode Conv+BN folding does not run), but every BatchNorm in
    eval mode (inference-form BatchNormalization with running statistics) and every Dropout removed."""
    model.train()
    for parent in model.modules():
        for child_name, child in list(parent.named_children()):
            if isinstance(child, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)):
                setattr(parent, child_name, nn.Identity())
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            m.eval()
        if isinstance(m, nn.MultiheadAttention):
            m.dropout = 0.0
    if hasattr(model, "dropout") and isinstance(getattr(model, "dropout"), float):
        model.dropout = 0.0
    return model


def randomize_batchnorm_statistics(model: nn.Module, gen: torch.Generator) -> None:
    """Non-trivial running statistics and affine parameters, so the BatchNorm gradients are tested."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.copy_(0.1 * torch.randn(m.running_mean.shape, generator=gen))
                m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=gen))
                if m.weight is not None:
                    m.weight.copy_(1.0 + 0.1 * torch.randn(m.weight.shape, generator=gen))
                    m.bias.copy_(0.1 * torch.randn(m.bias.shape, generator=gen))


def make_inputs(kind: str, batch: int, gen: torch.Generator):
    if kind == "image":
        return {"image": torch.randn(batch, 3, 224, 224, generator=gen)}
    t = 128
    ids = torch.randint(1, 30522, (batch, t), generator=gen)
    mask = torch.ones(batch, t, dtype=torch.int64)
    for i in range(batch):
        real = int(t * (0.5 + 0.5 * (i + 1) / batch))
        mask[i, real:] = 0
        ids[i, real:] = 0
    return {"input_ids": ids, "attention_mask": mask}


# --------------------------------------------------------------------------------------------------
# radlearn side (node + tsx, run from this checkout)
# --------------------------------------------------------------------------------------------------

RUNNER = r"""
import { readFileSync, writeFileSync } from 'node:fs';
import { TrainingSession, differentiate, loadModel, readParameters } from '__REPO__/src/index.js';

const dir = process.argv[2];
const spec = JSON.parse(readFileSync(`${dir}/spec.json`, 'utf8'));
const model = loadModel(`${dir}/model.onnx`);
const training = differentiate(model, { parameters: spec.parameters, outputs: [spec.output], modelPath: `${dir}/model.onnx` });
const read = (file, dtype) => {
  const bytes = readFileSync(`${dir}/${file}`);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  return dtype === 'int64' ? new BigInt64Array(buffer) : new Float32Array(buffer);
};
const inputs = {};
for (const i of spec.inputs) inputs[i.name] = { type: i.dtype, data: read(i.file, i.dtype), dims: i.dims };
const projection = { type: 'float32', data: read('projection.bin', 'float32'), dims: spec.outputDims };
const session = await TrainingSession.create(training, { intraOpNumThreads: spec.threads });
const gradients = new Float32Array(training.layout.size);
const started = performance.now();
await session.step({ parameters: readParameters(model, training.layout), gradients, inputs, outputGrads: { [spec.output]: projection } });
const stepMs = performance.now() - started;
await session.release();
writeFileSync(`${dir}/radlearn_gradients.bin`, new Uint8Array(gradients.buffer));
writeFileSync(`${dir}/radlearn_layout.json`, JSON.stringify({ layout: training.layout, nodes: training.model.graph.node.length, forwardNodes: training.forwardNodeCount, stepMs }));
"""


def run_radlearn(workdir: Path, threads: int) -> tuple[dict, np.ndarray]:
    runner = workdir / "runner.mts"
    runner.write_text(RUNNER.replace("__REPO__", REPO.as_posix()))
    tsx = REPO / "node_modules" / ".bin" / "tsx"
    if not tsx.exists():
        raise SystemExit(f"{tsx} not found: run `npm ci` in {REPO} first")
    subprocess.run([str(tsx), str(runner), str(workdir)], check=True, cwd=REPO)
    info = json.loads((workdir / "radlearn_layout.json").read_text())
    grads = np.fromfile(workdir / "radlearn_gradients.bin", dtype=np.float32)
    return info, grads


# --------------------------------------------------------------------------------------------------
# Comparison
# --------------------------------------------------------------------------------------------------


def check(name: str, batch: int, device: str, threads: int, seed: int) -> dict:
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model, kind = build(name)
    randomize_batchnorm_statistics(model, gen)
    model = prepare_for_export(model).float()
    inputs = make_inputs(kind, batch, gen)
    names = list(inputs.keys())

    workdir = Path(tempfile.mkdtemp(prefix=f"radlearn-autodiff-{name}-"))
    try:
        # Export from CPU copies (the exporter traces; the weights go into the file).
        export_args = tuple(inputs[k] for k in names)
        export_kwargs = dict(
            input_names=names,
            output_names=["output"],
            opset_version=17,
            training=torch.onnx.TrainingMode.TRAINING,
            do_constant_folding=False,
            dynamic_axes={**{k: {0: "batch"} for k in names}, "output": {0: "batch"}},
        )
        # torch >= 2.5 has a second (dynamo) exporter, the default from 2.9; the TorchScript one keeps
        # parameter names on the initializers and honours `training`.
        if "dynamo" in inspect.signature(torch.onnx.export).parameters:
            export_kwargs["dynamo"] = False
        torch.onnx.export(model, export_args, str(workdir / "model.onnx"), **export_kwargs)

        # PyTorch reference gradients.
        model_dev = model.to(device)
        if device == "cuda":
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        dev_inputs = [inputs[k].to(device) for k in names]
        model_dev.zero_grad(set_to_none=True)
        out = model_dev(*dev_inputs)
        projection = torch.randn(out.shape, generator=gen).to(device)
        (out * projection).sum().backward()
        torch_grads = {n: p.grad.detach().float().cpu().numpy() for n, p in model_dev.named_parameters() if p.grad is not None}

        # radlearn: parameters are the ONNX initializers that carry a PyTorch parameter's name.
        import onnx

        onnx_model = onnx.load(str(workdir / "model.onnx"))
        initializers = {t.name for t in onnx_model.graph.initializer}
        shared = [n for n in torch_grads if n in initializers]
        missing = [n for n in torch_grads if n not in initializers]
        spec = {
            "parameters": shared,
            "output": "output",
            "outputDims": list(out.shape),
            "threads": threads,
            "inputs": [],
        }
        for k in names:
            arr = inputs[k].cpu().numpy()
            dtype = "int64" if arr.dtype == np.int64 else "float32"
            arr.astype(np.int64 if dtype == "int64" else np.float32).tofile(workdir / f"{k}.bin")
            spec["inputs"].append({"name": k, "dtype": dtype, "dims": list(arr.shape), "file": f"{k}.bin"})
        projection.detach().float().cpu().numpy().tofile(workdir / "projection.bin")
        (workdir / "spec.json").write_text(json.dumps(spec))
        info, flat = run_radlearn(workdir, threads)

        rows = []
        for p in info["layout"]["parameters"]:
            g = flat[p["offset"] : p["offset"] + p["size"]].reshape(p["shape"])
            ref = torch_grads[p["name"]]
            if ref.shape != g.shape:
                raise SystemExit(f"{name}: shape mismatch for {p['name']}: radlearn {g.shape}, torch {ref.shape}")
            denom = max(float(np.linalg.norm(ref)), 1e-30)
            rows.append((p["name"], float(np.linalg.norm(g - ref)) / denom, float(np.linalg.norm(ref))))
        worst = max(rows, key=lambda r: r[1])
        return {
            "model": name,
            "parameters": len(rows),
            "not_compared": missing,
            "worst": worst,
            "median": float(np.median([r[1] for r in rows])),
            "rows": rows,
            "training_nodes": info["nodes"],
            "forward_nodes": info["forwardNodes"],
            "step_ms": info["stepMs"],
        }
    finally:
        if os.environ.get("KEEP_WORKDIR"):
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="resnet18,densenet121,vit_b_16,bert")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 4)
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--tolerance", type=float, default=1e-3)
    ap.add_argument("--results", type=Path, help="append the markdown table to this file")
    args = ap.parse_args()

    results = [check(m.strip(), args.batch, args.device, args.threads, args.seed) for m in args.models.split(",") if m.strip()]
    lines = [
        f"### radlearn autodiff vs PyTorch autograd ({datetime.date.today().isoformat()}, torch {torch.__version__}, {platform.machine()}, reference on {args.device})",
        "",
        "| model | parameters compared | median rel. error | worst rel. error (parameter) | training graph nodes (forward) | radlearn step ms | not compared |",
        "|---|---|---|---|---|---|---|",
    ]
    ok = True
    for r in results:
        name, err, _ = r["worst"]
        ok &= err <= args.tolerance
        lines.append(
            f"| {r['model']} | {r['parameters']} | {r['median']:.2e} | {err:.2e} ({name}) | {r['training_nodes']} ({r['forward_nodes']}) | {r['step_ms']:.0f} | {', '.join(r['not_compared']) or '-'} |"
        )
    lines.append("")
    lines.append(f"All parameters within {args.tolerance:g}: {'yes' if ok else 'NO'}")
    text = "\n".join(lines)
    print(text)
    if args.results:
        with open(args.results, "a", encoding="utf-8") as f:
            f.write("\n" + text + "\n")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
