#!/usr/bin/env python3
"""Export a PyTorch image or text encoder to ONNX the way radlearn fine-tunes it, and write its sidecar.

    python3 scripts/export-encoder.py --torchvision resnet18 --weights random --size 224 --out models/resnet18.onnx
    python3 scripts/export-encoder.py --torchvision vit_b_16 --weights vit_b_16.pth --out models/vit.onnx
    python3 scripts/export-encoder.py --module my_package.models:build_encoder --kwargs '{"depth": 12}' \
        --kind image --size 518 --mean 0.5307 0.5307 0.5307 --std 0.2583 0.2583 0.2583 --out models/mine.onnx
    python3 scripts/export-encoder.py --demo-bert --out models/bert.onnx       # a small BertModel-shaped encoder

The model file (`<name>.onnx`) holds:
  * the encoder in eval mode, dropout gone, BatchNorm in inference form (running statistics as
    initializers) and NOT folded into the convolutions, so every PyTorch parameter stays a named
    initializer with its PyTorch name (`layer1.0.conv1.weight`, `encoder.layer.0.attention.self.query.bias`);
  * one output `embedding` [N, D]: the classification head is removed (torchvision `fc`, `classifier`,
    `heads` become Identity) and text encoders are pooled in the graph (`pooler_output`, the CLS token,
    or the mask-weighted mean of the tokens);
  * a dynamic batch axis (and sequence axis for text), opset 17.
The sidecar (`<name>.radlearn.json`, schema in docs/encoders.md) says what the file alone does not:
kind, input and output names, channels, size, per-channel mean/std (applied by radlearn to pixels in
[0, 1]; they are not in the graph), pooling, and for text the tokenizer.json and maximum length.

As a library (the file name has a hyphen, so load it by path):

    import importlib.util
    spec = importlib.util.spec_from_file_location("export_encoder", "scripts/export-encoder.py")
    ee = importlib.util.module_from_spec(spec); spec.loader.exec_module(ee)
    model = ee.torchvision_encoder("resnet18", weights="random", seed=0)
    sidecar = ee.export_encoder(model, "models/resnet18.onnx", kind="image", size=224,
                                mean=ee.IMAGENET_MEAN, std=ee.IMAGENET_STD)

Needs torch (1.13 or later; the TorchScript exporter) and onnx.
"""
from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import json
import math
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]
OPSET = 17
OUTPUT = "embedding"
IMAGE_INPUT = "pixel_values"
TEXT_INPUTS = {"inputIds": "input_ids", "attentionMask": "attention_mask", "tokenTypeIds": "token_type_ids"}


class ExportError(Exception):
    """The model cannot be exported in the form radlearn trains (the message says why and what to change)."""


# --------------------------------------------------------------------------------------------------
# Encoders
# --------------------------------------------------------------------------------------------------

# The classification head of each torchvision family, replaced by Identity so the output is the embedding.
TORCHVISION_HEADS = (("resnet", "fc"), ("resnext", "fc"), ("wide_resnet", "fc"), ("densenet", "classifier"), ("vit_", "heads"))


def torchvision_encoder(name: str, weights: str = "random", seed: int = 0, keep_head: bool = False, **kwargs: Any) -> nn.Module:
    """A torchvision model as an encoder: `weights` is 'random' (seeded), a state_dict file, or
    'torchvision:<ENUM>' (e.g. torchvision:IMAGENET1K_V1; downloads unless cached). The head is
    removed unless keep_head."""
    import torchvision

    factory = getattr(torchvision.models, name, None)
    if factory is None or not callable(factory):
        raise ExportError(f"torchvision.models has no model {name!r}")
    torch.manual_seed(seed)
    if weights.startswith("torchvision:"):
        model = factory(weights=weights.split(":", 1)[1], **kwargs)
    else:
        model = factory(weights=None, **kwargs)
        if weights != "random":
            load_weights(model, weights)
    return model if keep_head else remove_head(model, name)


def remove_head(model: nn.Module, name: str = "") -> nn.Module:
    """Replaces the classification head (by torchvision family, else the attribute present) with Identity."""
    family = next((attr for prefix, attr in TORCHVISION_HEADS if name.startswith(prefix)), None)
    for attr in [family] if family else ["fc", "classifier", "heads", "head"]:
        if isinstance(getattr(model, attr, None), nn.Module):
            setattr(model, attr, nn.Identity())
            return model
    raise ExportError(f"{name or type(model).__name__}: no classification head (fc, classifier, heads or head) to remove")


def load_weights(model: nn.Module, path: str) -> None:
    """A state_dict (or a checkpoint holding one under 'state_dict' / 'model'), 'module.' prefixes stripped; strict."""
    state = torch.load(path, map_location="cpu")
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise ExportError(f"{path}: expected a state_dict (a dict of tensors), got {type(state).__name__}")
    state = {k[len("module.") :] if k.startswith("module.") else k: v for k, v in state.items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise ExportError(f"{path}: state_dict does not fit the model: missing {missing[:8]}, unexpected {unexpected[:8]}")


class BertShapedModel(nn.Module):
    """A module with Hugging Face `BertModel`'s structure, parameter names and arithmetic (post-norm
    layers, exact GELU, learned positions, token types, LayerNorm eps 1e-12, additive mask at the
    dtype's minimum, tanh pooler over [CLS]); it returns (last_hidden_state, pooler_output) as
    BertModel's output does at indices 0 and 1. transformers' own BertModel exports the same way."""

    def __init__(self, vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
                 max_position_embeddings=512, type_vocab_size=2, layer_norm_eps=1e-12, hidden_dropout_prob=0.1):
        super().__init__()
        self.num_attention_heads = num_attention_heads
        self.attention_head_size = hidden_size // num_attention_heads
        self.embeddings = nn.Module()
        self.embeddings.word_embeddings = nn.Embedding(vocab_size, hidden_size, padding_idx=0)
        self.embeddings.position_embeddings = nn.Embedding(max_position_embeddings, hidden_size)
        self.embeddings.token_type_embeddings = nn.Embedding(type_vocab_size, hidden_size)
        self.embeddings.LayerNorm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
        self.embeddings.dropout = nn.Dropout(hidden_dropout_prob)
        self.embeddings.register_buffer("position_ids", torch.arange(max_position_embeddings).expand((1, -1)), persistent=False)
        self.encoder = nn.Module()
        self.encoder.layer = nn.ModuleList()
        for _ in range(num_hidden_layers):
            layer = nn.Module()
            layer.attention = nn.Module()
            layer.attention.self = nn.Module()
            for part in ("query", "key", "value"):
                setattr(layer.attention.self, part, nn.Linear(hidden_size, hidden_size))
            layer.attention.self.dropout = nn.Dropout(hidden_dropout_prob)
            layer.attention.output = nn.Module()
            layer.attention.output.dense = nn.Linear(hidden_size, hidden_size)
            layer.attention.output.LayerNorm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
            layer.attention.output.dropout = nn.Dropout(hidden_dropout_prob)
            layer.intermediate = nn.Module()
            layer.intermediate.dense = nn.Linear(hidden_size, intermediate_size)
            layer.output = nn.Module()
            layer.output.dense = nn.Linear(intermediate_size, hidden_size)
            layer.output.LayerNorm = nn.LayerNorm(hidden_size, eps=layer_norm_eps)
            layer.output.dropout = nn.Dropout(hidden_dropout_prob)
            self.encoder.layer.append(layer)
        self.pooler = nn.Module()
        self.pooler.dense = nn.Linear(hidden_size, hidden_size)
        # BertPreTrainedModel._init_weights: N(0, 0.02) weights, zero biases, unit LayerNorm, zero padding row
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)
        with torch.no_grad():
            self.embeddings.word_embeddings.weight[0].zero_()

    def forward(self, input_ids, attention_mask=None, token_type_ids=None):
        n, t = input_ids.shape
        e = self.embeddings
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        x = e.word_embeddings(input_ids) + e.token_type_embeddings(token_type_ids) + e.position_embeddings(e.position_ids[:, :t])
        x = e.dropout(e.LayerNorm(x))
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        h, d = self.num_attention_heads, self.attention_head_size
        for layer in self.encoder.layer:
            a = layer.attention.self

            def heads(v):
                return v.view(n, t, h, d).permute(0, 2, 1, 3)

            scores = heads(a.query(x)) @ heads(a.key(x)).transpose(-1, -2) / math.sqrt(d) + bias
            context = (a.dropout(scores.softmax(-1)) @ heads(a.value(x))).permute(0, 2, 1, 3).reshape(n, t, h * d)
            o = layer.attention.output
            x = o.LayerNorm(o.dropout(o.dense(context)) + x)
            hidden = F.gelu(layer.intermediate.dense(x))
            x = layer.output.LayerNorm(layer.output.dropout(layer.output.dense(hidden)) + x)
        return x, torch.tanh(self.pooler.dense(x[:, 0]))


def demo_bert(**kwargs: Any) -> BertShapedModel:
    """A small BERT-shaped text encoder (vocabulary of demo_tokenizer(), 2 layers, width 64)."""
    config = dict(vocab_size=len(demo_vocabulary()), hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                  intermediate_size=128, max_position_embeddings=64)
    config.update(kwargs)
    return BertShapedModel(**config)


def demo_vocabulary() -> List[str]:
    """BERT's special tokens, a few report words, then single characters and their ## continuations."""
    words = ("no the of and is are with there left right lung lungs heart size normal clear effusion pleural "
             "pneumothorax consolidation opacity edema cardiomegaly atelectasis mild small large focal acute "
             "stable unchanged evidence bilateral base bases silhouette mediastinal chest ray x").split()
    chars = list("abcdefghijklmnopqrstuvwxyz0123456789.,;:-()/")
    return ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + words + chars + ["##" + c for c in chars if c.isalnum()]


def demo_tokenizer() -> Dict[str, Any]:
    """A Hugging Face tokenizer.json (BertNormalizer, BertPreTokenizer, WordPiece, [CLS] A [SEP]) over demo_vocabulary()."""
    vocab = {token: i for i, token in enumerate(demo_vocabulary())}
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [dict(id=vocab[s], content=s, single_word=False, lstrip=False, rstrip=False, normalized=False, special=True)
                         for s in specials],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {s: {"id": s, "ids": [vocab[s]], "tokens": [s]} for s in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100,
                  "vocab": vocab},
    }


def module_factory(spec: str, kwargs: Optional[Dict[str, Any]] = None, seed: int = 0) -> nn.Module:
    """`package.module:factory` called with kwargs (after torch.manual_seed(seed)); must return an nn.Module."""
    if ":" not in spec:
        raise ExportError(f"--module {spec!r}: expected package.module:factory")
    module_name, attr = spec.split(":", 1)
    sys.path.insert(0, os.getcwd())
    factory: Any = importlib.import_module(module_name)
    for part in attr.split("."):
        factory = getattr(factory, part)
    torch.manual_seed(seed)
    model = factory(**(kwargs or {}))
    if not isinstance(model, nn.Module):
        raise ExportError(f"--module {spec}: the factory returned {type(model).__name__}, not a torch.nn.Module")
    return model


# --------------------------------------------------------------------------------------------------
# Text pooling in the graph
# --------------------------------------------------------------------------------------------------


class TextEmbedding(nn.Module):
    """A text encoder's [N, D] embedding: 'pooler' (BertModel's pooler_output), 'cls' (token 0 of the last
    hidden state) or 'mean' (mean of the tokens the attention mask keeps). The inner module is called
    with keyword arguments input_ids, attention_mask (unless the model has no mask input) and
    token_type_ids (when asked for). Its parameters keep the inner module's names: the export strips
    the `inner.` prefix."""

    def __init__(self, inner: nn.Module, pooling: str, inputs: Sequence[str]):
        super().__init__()
        self.inner = inner
        self.pooling = pooling
        self.inputs = list(inputs)

    def forward(self, *tensors):
        kwargs = dict(zip(self.inputs, tensors))
        attention_mask = kwargs.get("attention_mask")
        out = self.inner(**kwargs)
        if isinstance(out, torch.Tensor) and out.dim() == 2:
            return out
        if self.pooling == "pooler":
            pooled = getattr(out, "pooler_output", None)
            if pooled is None and isinstance(out, (tuple, list)) and len(out) > 1:
                pooled = out[1]
            if pooled is None:
                raise ExportError("pooling 'pooler': the model returns no pooler_output; use --pooling cls or mean")
            return pooled
        tokens = out if isinstance(out, torch.Tensor) else getattr(out, "last_hidden_state", None)
        if tokens is None:
            tokens = out[0]
        if self.pooling == "cls":
            return tokens[:, 0]
        weights = attention_mask.to(tokens.dtype).unsqueeze(-1)
        return (tokens * weights).sum(1) / weights.sum(1).clamp(min=1.0)


# --------------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def export_mode(model: nn.Module):
    """Every module in eval mode (BatchNorm normalises with its running statistics, dropout is off),
    the top-level flag alone set to training. torch.onnx's TrainingMode.EVAL would run the eval
    peephole, which folds BatchNorm into the preceding Conv (renaming its parameters), and
    de-duplicates initializers BY VALUE, so freshly initialised BatchNorms (all ones, all zeros) would
    share one tensor; with TrainingMode.PRESERVE and a top-level training flag neither happens, and
    each module exports in its own (eval) mode. Parameters require gradients while exporting: with
    autograd on, nn.MultiheadAttention (torchvision's ViT) keeps its exportable path instead of the
    fused inference kernel the ONNX exporter cannot translate."""
    states = {m: m.training for m in model.modules()}
    grads = {p: p.requires_grad for p in model.parameters()}
    model.eval()
    model.training = True
    for p in grads:
        p.requires_grad_(True)
    try:
        with torch.enable_grad():
            yield model
    finally:
        for m, state in states.items():
            m.training = state
        for p, state in grads.items():
            p.requires_grad_(state)


def _strip_prefix(onnx_model, prefix: str) -> None:
    """Renames every value `prefix<name>` to `<name>` (initializers, node inputs, value infos)."""
    graph = onnx_model.graph
    taken = {t.name for t in graph.initializer} | {v.name for v in graph.input} | {o for n in graph.node for o in n.output}
    renames = {}
    for t in graph.initializer:
        if t.name.startswith(prefix) and t.name[len(prefix):] not in taken:
            renames[t.name] = t.name[len(prefix):]
    for t in graph.initializer:
        t.name = renames.get(t.name, t.name)
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in renames:
                node.input[i] = renames[name]
    for v in graph.value_info:
        v.name = renames.get(v.name, v.name)


def _check_export(onnx_model, parameters: Sequence[str], where: str) -> None:
    import onnx

    graph = onnx_model.graph
    for node in graph.node:
        if node.op_type == "BatchNormalization":
            for a in node.attribute:
                if a.name == "training_mode" and onnx.helper.get_attribute_value(a):
                    raise ExportError(f"{where}: BatchNormalization {node.name} exported in training mode")
    names = {t.name for t in graph.initializer}
    missing = [p for p in parameters if p not in names]
    if missing:
        raise ExportError(
            f"{where}: {len(missing)} PyTorch parameters are not initializers of the same name in the ONNX file "
            f"(first: {missing[:5]}); the exporter transformed them (constant folding?)"
        )


def _example_inputs(kind: str, batch: int, size: Optional[int], channels: int, seq_len: int, vocab: int, names: Sequence[str]):
    g = torch.Generator().manual_seed(0)
    if kind == "image":
        side = size or 224
        return (torch.randn(batch, channels, side, side, generator=g),)
    ids = torch.randint(5, max(6, vocab), (batch, seq_len), generator=g)
    mask = torch.ones(batch, seq_len, dtype=torch.int64)
    mask[0, seq_len // 2:] = 0  # a padded row, so nothing about the mask is constant-folded
    by_name = {TEXT_INPUTS["inputIds"]: ids, TEXT_INPUTS["attentionMask"]: mask, TEXT_INPUTS["tokenTypeIds"]: torch.zeros_like(ids)}
    return tuple(by_name[n] for n in names)


def _vocab_size(model: nn.Module) -> int:
    for m in model.modules():
        if isinstance(m, nn.Embedding):
            return m.num_embeddings
    return 100


def export_encoder(
    model: nn.Module,
    out: str,
    *,
    kind: str = "image",
    size: Optional[int] = 224,
    channels: int = 3,
    mean: Optional[Sequence[float]] = None,
    std: Optional[Sequence[float]] = None,
    pooling: str = "pooler",
    token_type_ids: bool = False,
    attention_mask: bool = True,
    tokenizer: Optional[str] = None,
    tokenizer_json: Optional[Dict[str, Any]] = None,
    max_length: int = 128,
    source: Optional[Dict[str, Any]] = None,
    batch: int = 2,
    seq_len: int = 16,
) -> Dict[str, Any]:
    """Exports `model` to `out` (.onnx) and writes `<name>.radlearn.json` beside it; returns the sidecar.

    image: model(pixel_values [N, channels, H, W]) -> [N, D]; `size` the side it was trained at (None:
    any), mean/std per channel for pixels in [0, 1] (default: ImageNet's for 3 channels, 0.5/0.5 for 1).
    text: model(input_ids=, attention_mask=[, token_type_ids=]) -> [N, D], or a BertModel-shaped output
    pooled by `pooling` ('pooler', 'cls' or 'mean'); attention_mask=False for a model that takes token
    ids only (CLIP's text tower); `tokenizer` a tokenizer.json path (copied beside the model unless
    already there) or `tokenizer_json` its content; `max_length` the longest input.
    """
    import onnx

    out_path = Path(out)
    if out_path.suffix.lower() != ".onnx":
        raise ExportError(f"--out {out}: the model file must end in .onnx")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    stem = out_path.name[: -len(".onnx")]
    if kind not in ("image", "text"):
        raise ExportError(f"kind must be 'image' or 'text', got {kind!r}")
    if kind == "image" and channels not in (1, 3):
        raise ExportError(f"channels must be 1 or 3, got {channels}")
    if kind == "text" and tokenizer is None and tokenizer_json is None:
        raise ExportError("a text encoder needs its tokenizer.json (--tokenizer)")
    if pooling not in ("pooler", "cls", "mean"):
        raise ExportError(f"pooling must be 'pooler', 'cls' or 'mean', got {pooling!r}")
    if pooling == "mean" and not attention_mask:
        raise ExportError("pooling 'mean' averages the tokens the attention mask keeps; a model without a mask input needs cls or pooler")

    text_keys = ["inputIds"] + (["attentionMask"] if attention_mask else []) + (["tokenTypeIds"] if token_type_ids else [])
    if kind == "image":
        exported = model
        input_names = [IMAGE_INPUT]
        dynamic = {IMAGE_INPUT: {0: "batch"}, OUTPUT: {0: "batch"}}
    else:
        input_names = [TEXT_INPUTS[k] for k in text_keys]
        exported = TextEmbedding(model, pooling, input_names)
        dynamic = {**{n: {0: "batch", 1: "sequence"} for n in input_names}, OUTPUT: {0: "batch"}}
    args = _example_inputs(kind, batch, size, channels, min(seq_len, max_length), _vocab_size(model), input_names)

    options: Dict[str, Any] = dict(
        export_params=True,
        keep_initializers_as_inputs=False,
        do_constant_folding=False,
        training=torch.onnx.TrainingMode.PRESERVE,
        opset_version=OPSET,
        input_names=input_names,
        output_names=[OUTPUT],
        dynamic_axes=dynamic,
    )
    # torch >= 2.5 has a second (dynamo) exporter, the default from 2.9; the TorchScript one keeps
    # parameter names on the initializers and honours `training`.
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        options["dynamo"] = False
    with export_mode(exported):
        y = exported(*args)
        if not isinstance(y, torch.Tensor) or y.dim() != 2 or y.shape[0] != args[0].shape[0]:
            shape = list(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
            raise ExportError(f"the encoder's output is {shape}; radlearn trains on [N, D] embeddings (remove the head, pool the tokens)")
        # the parameters the output depends on (e.g. not BertModel's pooler under cls/mean pooling)
        named = list(model.named_parameters())
        grads = torch.autograd.grad(y.sum(), [p for _, p in named], allow_unused=True)
        parameters = [name for (name, _), g in zip(named, grads) if g is not None]
        y = y.detach()
        torch.onnx.export(exported, args, str(out_path), **options)

    onnx_model = onnx.load(str(out_path))
    if kind == "text":
        _strip_prefix(onnx_model, "inner.")
    _check_export(onnx_model, parameters, str(out_path))
    onnx.checker.check_model(onnx_model)
    onnx.save(onnx_model, str(out_path))

    sidecar: Dict[str, Any] = {
        "format": "radlearn-encoder",
        "version": 1,
        "kind": kind,
        "model": out_path.name,
        "source": {"framework": "pytorch", "torch": torch.__version__.split("+")[0], **(source or {})},
        "output": OUTPUT,
        "pooling": "none",
        "dim": int(y.shape[1]),
    }
    if kind == "image":
        default_mean, default_std = (IMAGENET_MEAN, IMAGENET_STD) if channels == 3 else ([0.5], [0.5])
        mean = list(mean if mean is not None else default_mean)
        std = list(std if std is not None else default_std)
        if len(mean) != channels or len(std) != channels:
            raise ExportError(f"mean and std need {channels} values each, got {len(mean)} and {len(std)}")
        if any(s <= 0 for s in std):
            raise ExportError(f"std must be positive, got {std}")
        sidecar.update(input=IMAGE_INPUT, layout="NCHW", channels=channels, size=size, mean=[float(v) for v in mean],
                       std=[float(v) for v in std])
    else:
        target = out_path.parent / f"{stem}.tokenizer.json"
        if tokenizer_json is not None:
            target.write_text(json.dumps(tokenizer_json, ensure_ascii=False, indent=1), encoding="utf-8")
        else:
            src = Path(tokenizer)
            if src.resolve().parent == out_path.parent.resolve():
                target = src
            else:
                shutil.copyfile(src, target)
        sidecar.update(inputs={k: TEXT_INPUTS[k] for k in text_keys}, tokenizer=target.name, maxLength=int(max_length))
    (out_path.parent / f"{stem}.radlearn.json").write_text(json.dumps(sidecar, indent=2) + "\n", encoding="utf-8")
    return sidecar


# --------------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = ap.add_mutually_exclusive_group(required=True)
    which.add_argument("--torchvision", metavar="NAME", help="a torchvision.models constructor: resnet18, densenet121, vit_b_16, ...")
    which.add_argument("--module", metavar="PKG.MOD:FACTORY", help="any factory returning an nn.Module (kwargs from --kwargs)")
    which.add_argument("--demo-bert", action="store_true", help="a small BertModel-shaped text encoder with its own tokenizer.json")
    ap.add_argument("--kwargs", default="{}", help="JSON keyword arguments for the constructor or factory")
    ap.add_argument("--weights", help="'random' (seeded; the default for --torchvision and --demo-bert), a state_dict file, "
                    "or torchvision:<ENUM>; with --module the factory's own weights unless given")
    ap.add_argument("--weights-id", help="where the weights came from, for the sidecar (e.g. a hub id the factory loads)")
    ap.add_argument("--seed", type=int, default=0, help="seed for random weights")
    ap.add_argument("--kind", choices=["image", "text"], help="image or text (default: text for --demo-bert, else image)")
    ap.add_argument("--keep-head", action="store_true", help="keep the classification head (its logits become the output)")
    ap.add_argument("--size", type=int, default=224, help="image side the model works at; 0 = any size (sidecar size null)")
    ap.add_argument("--channels", type=int, default=3, choices=[1, 3])
    ap.add_argument("--mean", type=float, nargs="+", help="per-channel mean for pixels in [0, 1] (default ImageNet's)")
    ap.add_argument("--std", type=float, nargs="+", help="per-channel std (default ImageNet's)")
    ap.add_argument("--pooling", default="pooler", choices=["pooler", "cls", "mean"], help="text: how tokens become the embedding")
    ap.add_argument("--token-type-ids", action="store_true", help="text: the model takes token_type_ids as a third input")
    ap.add_argument("--no-attention-mask", action="store_true", help="text: the model takes token ids only (CLIP's text tower)")
    ap.add_argument("--tokenizer", help="text: the model's tokenizer.json (Hugging Face tokenizers format)")
    ap.add_argument("--max-length", type=int, default=128, help="text: the longest input in tokens")
    ap.add_argument("--out", required=True, help="the .onnx file to write; the sidecar goes beside it")
    args = ap.parse_args(argv)

    kwargs = json.loads(args.kwargs)
    weights = args.weights or ("factory" if args.module else "random")
    weights_note = args.weights_id or (f"random(seed={args.seed})" if weights == "random" else f"as built by {args.module}" if weights == "factory" else weights)
    kind = args.kind or ("text" if args.demo_bert else "image")
    tokenizer_json = None
    try:
        if args.torchvision:
            model = torchvision_encoder(args.torchvision, weights, args.seed, args.keep_head, **kwargs)
            constructor = f"torchvision.models.{args.torchvision}"
        else:
            if args.demo_bert:
                torch.manual_seed(args.seed)
                model, constructor = demo_bert(**kwargs), "scripts/export-encoder.py:demo_bert"
                if args.tokenizer is None:
                    tokenizer_json = demo_tokenizer()
            else:
                # a factory returns the encoder it means: no head is removed
                model, constructor = module_factory(args.module, kwargs, args.seed), args.module
            if weights not in ("random", "factory"):
                load_weights(model, weights)
        sidecar = export_encoder(
            model,
            args.out,
            kind=kind,
            size=args.size or None,
            channels=args.channels,
            mean=args.mean,
            std=args.std,
            pooling=args.pooling,
            token_type_ids=args.token_type_ids,
            attention_mask=not args.no_attention_mask,
            tokenizer=args.tokenizer,
            tokenizer_json=tokenizer_json,
            max_length=args.max_length,
            source={"constructor": constructor, "weights": weights_note, **({"kwargs": kwargs} if kwargs else {})},
        )
    except ExportError as e:
        print(f"export-encoder: {e}", file=sys.stderr)
        return 1
    params = sum(p.numel() for p in model.parameters())
    print(f"wrote {args.out} ({params} parameters, output {OUTPUT} [N, {sidecar['dim']}]) and {Path(args.out).name[:-5]}.radlearn.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
