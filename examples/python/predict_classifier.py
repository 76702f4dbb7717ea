#!/usr/bin/env python3
"""Build a radlearn classifier.onnx's input tensor from PNG/JPEG/DICOM files without radlearn.

Needs only Pillow and NumPy (and pydicom for DICOM files). The model's radlearn metadata is read straight from the ONNX
protobuf (no onnx package), and the tensor is written as float32 .npy [n, 1, H, W], ready for
any onnxruntime:

    python3 predict_classifier.py classifier.onnx a.png b.jpg --out input.npy
    # then, e.g.: onnxruntime.InferenceSession('classifier.onnx').run(None, {'image': np.load('input.npy')})

It replays radlearn's recipe for PNG/JPEG (docs/deploy.md): windowing by the 0.5-99.5 percentile
range from a 4096-bin histogram (greyscale) or the full 0..2^bits-1 range (RGB), luma 0.299 R +
0.587 G + 0.114 B, radlearn's separable 'area' resize (a box filter over each output pixel's
footprint, weights and float32 rounding as radlearn computes them: Pillow's BOX resize rounds
differently), centring on a zero canvas, uint16 quantisation and (q / 65535 - mean) / std.
DICOM (with pydicom): frame 0, Rescale Slope/Intercept, then the file's first Window
Center/Width with its VOI LUT Function (PS3.3 C.11.2.1.2), else the percentile range; MONOCHROME1
inverted. Files with a Modality or VOI LUT Sequence, or colour other than RGB, are refused here.
"""
import argparse
import json
import sys
from collections.abc import Sequence

import numpy as np
from PIL import Image


def _varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def _fields(buf):
    """(field number, wire type, value) of one protobuf message, top level only."""
    i = 0
    while i < len(buf):
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            size, i = _varint(buf, i)
            value, i = buf[i:i + size], i + size
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f'unsupported protobuf wire type {wire}')
        yield number, wire, value


def read_metadata(model_path):
    """ModelProto.metadata_props (field 14: StringStringEntryProto key=1, value=2) as a dict."""
    with open(model_path, 'rb') as f:
        buf = f.read()
    props = {}
    for number, wire, value in _fields(buf):
        if number == 14 and wire == 2:
            entry = {n: v.decode('utf-8') for n, w, v in _fields(value) if w == 2}
            props[entry.get(1, '')] = entry.get(2, '')
    for key in ('radlearn.labels', 'radlearn.preprocessing'):
        if key not in props:
            raise SystemExit(f'{model_path}: no metadata {key}; it was not exported by radlearn')
    meta = {
        'labels': json.loads(props['radlearn.labels']),
        'preprocessing': json.loads(props['radlearn.preprocessing']),
    }
    if 'radlearn.thresholds' in props:
        meta['thresholds'] = json.loads(props['radlearn.thresholds'])
    return meta


def decode(path):
    """Pixel values as float32 (rows, columns, channels) and the bit depth, alpha dropped."""
    im = Image.open(path)
    if im.mode in ('I;16', 'I;16B', 'I;16L', 'I'):
        return np.asarray(im, dtype=np.float32)[:, :, None], 16
    if im.mode in ('L', 'LA', 'P', '1'):
        im = im.convert('L')
        return np.asarray(im, dtype=np.float32)[:, :, None], 8
    return np.asarray(im.convert('RGB'), dtype=np.float32), 8


def percentile_range(values, lower=0.5, upper=99.5):
    """radlearn's 4096-bin histogram percentiles (src/data/dicom/lut.ts percentileRange)."""
    lo, hi = float(values.min()), float(values.max())
    if not hi > lo:
        return lo, hi
    stride = max(1, len(values) // 2 ** 20)
    sample = values[::stride].astype(np.float64)
    bins = 4096
    scale = (bins - 1) / (hi - lo)
    histogram = np.bincount(np.trunc((sample - lo) * scale).astype(np.int64), minlength=bins)
    samples = len(sample)

    def find(pct, from_top):
        target = samples * pct / 100
        counts = histogram[::-1] if from_top else histogram
        k = int(np.argmax(np.cumsum(counts) > target))
        b = bins - 1 - k if from_top else k
        return lo + (b + 1 if from_top else b) / scale

    low = find(lower, False)
    high = min(hi, find(100 - upper, True))
    return (low, high) if high > low else (lo, hi)


def apply_range(values, low, high):
    span = high - low
    if not span > 0:
        return np.zeros(values.shape, np.float32)
    return np.clip((values.astype(np.float64) - low) * (1 / span), 0, 1).astype(np.float32)


def axis_weights(in_size, out_size):
    """radlearn's 'area' weights (src/data/resize/resize.ts): box of half-width max(1, in/out) / 2."""
    scale = in_size / out_size
    stretch = max(1.0, scale)
    radius = 0.5 * stretch
    taps = int(np.ceil(radius)) * 2 + 1
    rows = []
    for o in range(out_size):
        center = (o + 0.5) * scale
        lo = max(0, int(np.floor(center - radius)))
        hi = min(in_size, int(np.ceil(center + radius)))
        n = min(taps, hi - lo)
        x = (np.arange(lo, lo + n) + 0.5 - center) / stretch
        w = ((x > -0.5) & (x <= 0.5)).astype(np.float32)
        total = float(w.astype(np.float64).sum())
        if total == 0:
            w[0], total = 1, 1.0
        w = (w.astype(np.float64) / total).astype(np.float32)
        rows.append((lo, w))
    return rows


def resize_area(img, out_rows, out_cols):
    """img float32 (rows, cols): horizontal pass summed in float64, vertical accumulated in float32, as radlearn."""
    rows, cols = img.shape
    if (rows, cols) == (out_rows, out_cols):
        return img.copy()
    mid = np.empty((rows, out_cols), np.float32)
    for o, (lo, w) in enumerate(axis_weights(cols, out_cols)):
        mid[:, o] = (img[:, lo:lo + len(w)].astype(np.float64) * w.astype(np.float64)).sum(axis=1).astype(np.float32)
    out = np.zeros((out_rows, out_cols), np.float32)
    for o, (lo, w) in enumerate(axis_weights(rows, out_rows)):
        for k in range(len(w)):
            out[o] = (out[o].astype(np.float64) + mid[lo + k].astype(np.float64) * float(w[k])).astype(np.float32)
    return out


def is_dicom(path):
    with open(path, 'rb') as f:
        head = f.read(132)
    return head[128:132] == b'DICM' or path.lower().endswith(('.dcm', '.dicom'))


def apply_window(values, center, width, function):
    """PS3.3 C.11.2.1.2 window functions to [0, 1], in float64 from the float32 values, as radlearn."""
    v = values.astype(np.float64)
    if function == 'SIGMOID':
        return (1 / (1 + np.exp(-4 * (v - center) / width))).astype(np.float32)
    if function == 'LINEAR_EXACT':
        return np.clip((v - (center - width / 2)) / width, 0, 1).astype(np.float32)
    if width == 1:
        return np.where(v < center - 0.5, 0, 1).astype(np.float32)
    return np.clip((v - (center - 0.5)) / (width - 1) + 0.5, 0, 1).astype(np.float32)


def first_number(value):
    """The first value of a possibly multi-valued DS attribute."""
    return float(value[0] if isinstance(value, Sequence) and not isinstance(value, str) else value)


def decode_dicom(path):
    """Frame 0 of a DICOM file, windowed to [0, 1]: (rows, cols, channels) float32 and the channel count."""
    import pydicom  # only DICOM needs it

    ds = pydicom.dcmread(path)
    for unsupported in ('ModalityLUTSequence', 'VOILUTSequence'):
        if unsupported in ds:
            raise SystemExit(f'{path}: {unsupported} is not replayed by this script; use radlearn predict')
    stored = ds.pixel_array
    if int(ds.get('NumberOfFrames', 1) or 1) > 1:
        stored = stored[0]
    photometric = str(ds.get('PhotometricInterpretation', 'MONOCHROME2'))
    slope, intercept = float(ds.get('RescaleSlope', 1) or 1), float(ds.get('RescaleIntercept', 0) or 0)
    values = stored.astype(np.float32) if (slope, intercept) == (1, 0) else (stored.astype(np.float64) * slope + intercept).astype(np.float32)
    if int(ds.get('SamplesPerPixel', 1)) == 3:
        if photometric != 'RGB':
            raise SystemExit(f'{path}: colour DICOM in {photometric} is not replayed by this script; use radlearn predict')
        return apply_range(values, 0, 2 ** int(ds.BitsStored) - 1), 3
    center, width = ds.get('WindowCenter'), ds.get('WindowWidth')
    function = str(ds.get('VOILUTFunction', 'LINEAR') or 'LINEAR').upper()
    window = None
    if center is not None and width is not None:
        c, w = first_number(center), first_number(width)
        if np.isfinite(c) and w >= (1 if function == 'LINEAR' else np.finfo(np.float64).tiny):
            window = (c, w)
    if window:
        grey = apply_window(values, window[0], window[1], function)
    else:
        grey = apply_range(values, *percentile_range(values.ravel()))
    if photometric == 'MONOCHROME1':
        grey = (1 - grey.astype(np.float64)).astype(np.float32)
    return grey[:, :, None], 1


def windowed(path):
    """The image windowed to [0, 1], grey (rows, cols) float32."""
    if is_dicom(path):
        values, channels = decode_dicom(path)
        if channels == 1:
            return values[:, :, 0]
        v = values
    else:
        values, bits = decode(path)
        if values.shape[2] == 1:
            low, high = percentile_range(values[:, :, 0].ravel())
            return apply_range(values[:, :, 0], low, high)
        v = apply_range(values, 0, 2 ** bits - 1)
    r, g, b = (v[:, :, c].astype(np.float64) for c in range(3))
    return (0.299 * r + 0.587 * g + 0.114 * b).astype(np.float32)


def preprocess(path, p):
    if p['filter'] != 'area' or p['dtype'] != 'uint16' or p['window'] != 'auto' or p['height'] != p['width']:
        raise SystemExit(f"this script replays filter 'area', dtype uint16, window 'auto', square inputs; the model has {p}")
    if p['rgbToGrey'] != [0.299, 0.587, 0.114]:
        raise SystemExit(f"this script replays rgbToGrey [0.299, 0.587, 0.114]; the model has {p['rgbToGrey']}")
    grey = windowed(path)
    rows, cols = grey.shape
    size = p['height']
    if p['fit'] == 'squarePad':
        scale = size / max(rows, cols)
        # JavaScript's Math.round: halves round up
        out_rows = max(1, int(np.floor(rows * scale + 0.5)))
        out_cols = max(1, int(np.floor(cols * scale + 0.5)))
    else:
        out_rows = out_cols = size
    resized = resize_area(grey, out_rows, out_cols)
    canvas = np.zeros((size, size), np.float32)
    top, left = (size - out_rows) // 2, (size - out_cols) // 2
    canvas[top:top + out_rows, left:left + out_cols] = resized
    v = canvas.astype(np.float64)
    q = np.where(v <= 0, 0, np.where(v >= 1, 65535, np.floor(v * 65535 + 0.5)))
    mean, std = p['mean'][0], p['std'][0]
    return ((q / p['scale'] - mean) / std).astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('model', help='classifier.onnx written by radlearn')
    parser.add_argument('images', nargs='*', help='PNG, JPEG or DICOM files')
    parser.add_argument('--out', help='float32 .npy [n, 1, H, W] to write')
    parser.add_argument('--print-metadata', action='store_true', help='print the radlearn metadata as JSON and exit')
    args = parser.parse_args()
    meta = read_metadata(args.model)
    if args.print_metadata or not args.images:
        json.dump(meta, sys.stdout, indent=2)
        sys.stdout.write('\n')
        return
    if not args.out:
        parser.error('--out is required with images')
    tensor = np.stack([preprocess(path, meta['preprocessing'])[None] for path in args.images])
    np.save(args.out, tensor)
    print(f"{args.out}: float32 {list(tensor.shape)}, labels {meta['labels']}")


if __name__ == '__main__':
    main()
