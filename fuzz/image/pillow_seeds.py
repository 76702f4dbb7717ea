"""PNG and JPEG fuzz seeds made by Pillow, printed as JSON {name: base64} on stdout.

Synthetic gradients only (no patient data). Covers the PNG modes radlearn meets (L, I;16,
RGB, RGBA, P, LA, 1, 16-bit RGB, Adam7 interlaced) and the JPEG encodings (baseline,
progressive, greyscale, CMYK, chroma subsampling variants, optimised Huffman tables).
Pillow cannot write interlaced or 16-bit RGB PNG, so those two are assembled here with zlib.
Usage: /usr/bin/python3 fuzz/image/pillow_seeds.py
"""
import base64
import io
import json
import struct
import sys
import zlib

from PIL import Image


def gradient(mode, width, height):
    """A smooth diagonal ramp with a bright disc: structure every codec must keep."""
    image = Image.new("L", (width, height))
    image.putdata([
        min(255, (x * 255 // max(1, width - 1) + y * 128 // max(1, height - 1)) // 2
            + (96 if (x - width // 2) ** 2 + (y - height // 2) ** 2 < (min(width, height) // 3) ** 2 else 0))
        for y in range(height) for x in range(width)
    ])
    if mode == "L":
        return image
    if mode == "I;16":
        return image.point(lambda v: v * 257, "I").convert("I;16")
    if mode == "1":
        return image.convert("1")
    if mode == "P":
        return image.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    if mode == "LA":
        return Image.merge("LA", (image, image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    rgb = Image.merge("RGB", (image, image.transpose(Image.Transpose.FLIP_TOP_BOTTOM), image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    if mode == "RGB":
        return rgb
    if mode == "RGBA":
        return Image.merge("RGBA", (*rgb.split(), image))
    if mode == "CMYK":
        return rgb.convert("CMYK")
    raise ValueError(mode)


def save(image, fmt, **options):
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, depth, color_type, rows, interlace=0):
    """rows: the filtered scanlines (each starting with its filter byte), already in pass order when interlaced."""
    header = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, interlace)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def interlaced_grey(width, height):
    """8-bit greyscale, Adam7 interlaced, filter 0 on every reduced scanline."""
    pixels = list(gradient("L", width, height).getdata())
    rows = []
    for x0, y0, dx, dy in ADAM7:
        for y in range(y0, height, dy):
            line = bytes(pixels[y * width + x] for x in range(x0, width, dx))
            if line:
                rows.append(b"\x00" + line)
    return png(width, height, 8, 0, rows, interlace=1)


def rgb16(width, height):
    pixels = list(gradient("RGB", width, height).getdata())
    rows = [b"\x00" + b"".join(struct.pack(">HHH", r * 257, g * 251, b * 199) for r, g, b in pixels[y * width:(y + 1) * width])
            for y in range(height)]
    return png(width, height, 16, 2, rows)


def seeds():
    out = {}
    for mode in ["L", "I;16", "RGB", "RGBA", "P", "LA", "1"]:
        out[f"pillow {mode}.png"] = save(gradient(mode, 23, 17), "PNG")
    out["pillow L optimized.png"] = save(gradient("L", 40, 9), "PNG", optimize=True)
    out["pillow P transparency.png"] = save(gradient("P", 16, 16), "PNG", transparency=0)
    out["pillow L 1x300.png"] = save(gradient("L", 1, 300), "PNG")
    out["adam7 L.png"] = interlaced_grey(21, 13)
    out["rgb16.png"] = rgb16(11, 7)
    out["pillow baseline RGB.jpg"] = save(gradient("RGB", 32, 24), "JPEG", quality=85)
    out["pillow progressive RGB.jpg"] = save(gradient("RGB", 32, 24), "JPEG", quality=85, progressive=True)
    out["pillow greyscale.jpg"] = save(gradient("L", 29, 18), "JPEG", quality=90)
    out["pillow progressive greyscale.jpg"] = save(gradient("L", 29, 18), "JPEG", quality=90, progressive=True)
    out["pillow CMYK.jpg"] = save(gradient("CMYK", 24, 16), "JPEG", quality=90)
    out["pillow 4:4:4 optimized.jpg"] = save(gradient("RGB", 27, 19), "JPEG", quality=95, subsampling=0, optimize=True)
    out["pillow 4:2:2.jpg"] = save(gradient("RGB", 27, 19), "JPEG", quality=75, subsampling=1)
    out["pillow 4:2:0 q10.jpg"] = save(gradient("RGB", 48, 40), "JPEG", quality=10, subsampling=2)
    return out


if __name__ == "__main__":
    json.dump({name: base64.b64encode(data).decode("ascii") for name, data in seeds().items()}, sys.stdout)
