"""Writes PNG/JPEG files with Pillow into argv[1] and prints, as JSON, what Pillow decodes from each
(np.asarray(Image.open(path))), for tests/unit/image/pillow-parity.test.ts. Some files carry an
embedded ICC profile built here (linear gamma, so applying it changes the values a lot); for those
the values littleCMS gives when the profile is applied (converted to sRGB) are printed too."""
import json
import os
import struct
import sys

import numpy as np
from PIL import Image

from pillow_reference import describe

out = sys.argv[1]
ROWS, COLS = 37, 53
rng = np.random.default_rng(7)


def s15(v):
    return struct.pack('>i', int(round(v * 65536)))


def tag_xyz(x, y, z):
    return b'XYZ ' + b'\0' * 4 + s15(x) + s15(y) + s15(z)


def tag_curve(gamma):
    return b'curv' + b'\0' * 4 + struct.pack('>IH', 1, int(round(gamma * 256))) + b'\0\0'


def tag_desc(text):
    ascii_ = text.encode('ascii') + b'\0'
    return b'desc' + b'\0' * 4 + struct.pack('>I', len(ascii_)) + ascii_ + struct.pack('>II', 0, 0) + struct.pack('>HB', 0, 0) + b'\0' * 67


def icc_profile(space, gamma, description):
    """A minimal ICC v2.1 display profile: GRAY (kTRC) or RGB (sRGB primaries, one TRC per channel)."""
    tags = [(b'desc', tag_desc(description)), (b'wtpt', tag_xyz(0.9642, 1.0, 0.8249)), (b'cprt', b'text' + b'\0' * 4 + b'none\0')]
    if space == 'GRAY':
        tags.append((b'kTRC', tag_curve(gamma)))
    else:
        tags += [(b'rXYZ', tag_xyz(0.4361, 0.2225, 0.0139)), (b'gXYZ', tag_xyz(0.3851, 0.7169, 0.0971)), (b'bXYZ', tag_xyz(0.1431, 0.0606, 0.7141))]
        tags += [(b'rTRC', tag_curve(gamma)), (b'gTRC', tag_curve(gamma)), (b'bTRC', tag_curve(gamma))]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b'', b''
    for sig, body in tags:
        body += b'\0' * (-len(body) % 4)
        table += sig + struct.pack('>II', offset + len(data), len(body))
        data += body
    size = offset + len(data)
    header = struct.pack('>I', size) + b'\0' * 4 + struct.pack('>I', 0x02100000) + b'mntr'
    header += (b'GRAY' if space == 'GRAY' else b'RGB ') + b'XYZ ' + struct.pack('>6H', 2024, 1, 1, 0, 0, 0) + b'acsp'
    header += b'\0' * (64 - len(header)) + struct.pack('>I', 0) + s15(0.9642) + s15(1.0) + s15(0.8249)
    header += b'\0' * (128 - len(header))
    return header + struct.pack('>I', len(tags)) + table + data


GREY_ICC = icc_profile('GRAY', 1.0, 'radlearn test linear gray')
RGB_ICC = icc_profile('RGB', 1.0, 'radlearn test linear RGB')


def texture(channels):
    """A smooth gradient with noise, like an X-ray: JPEG keeps it close, PNG exactly."""
    y, x = np.mgrid[0:ROWS, 0:COLS]
    base = 20 + 200 * (0.6 * x / COLS + 0.4 * y / ROWS)
    planes = [base + 10 * c + rng.normal(0, 12, base.shape) for c in range(channels)]
    arr = np.clip(np.stack(planes, -1), 0, 255).astype(np.uint8)
    return arr[:, :, 0] if channels == 1 else arr


files = []


def save(name, image, reference=None, icc=None, **params):
    path = os.path.join(out, name)
    if icc is not None:
        params['icc_profile'] = icc
    image.save(path, format=params.pop('fmt'), **params)
    files.append((name, path, reference, icc))


grey, rgb = texture(1), texture(3)
grey16 = np.clip(np.mgrid[0:ROWS, 0:COLS][1] * 1200 + rng.integers(0, 900, (ROWS, COLS)), 0, 65535).astype(np.uint16)

save('grey8.png', Image.fromarray(grey, 'L'), fmt='PNG')
save('grey16.png', Image.fromarray(grey16, 'I;16'), fmt='PNG')
save('rgb8.png', Image.fromarray(rgb, 'RGB'), fmt='PNG')
save('rgba8.png', Image.fromarray(np.dstack([rgb, np.full((ROWS, COLS), 180, np.uint8)]), 'RGBA'), fmt='PNG')
save('palette.png', Image.fromarray(rgb, 'RGB').quantize(64), reference='RGB', fmt='PNG')
save('grey8_icc.png', Image.fromarray(grey, 'L'), icc=GREY_ICC, fmt='PNG')
save('rgb8_icc.png', Image.fromarray(rgb, 'RGB'), icc=RGB_ICC, fmt='PNG')
save('grey.jpg', Image.fromarray(grey, 'L'), fmt='JPEG', quality=90)
save('rgb.jpg', Image.fromarray(rgb, 'RGB'), fmt='JPEG', quality=90)
save('rgb444.jpg', Image.fromarray(rgb, 'RGB'), fmt='JPEG', quality=90, subsampling=0)
save('grey_progressive.jpg', Image.fromarray(grey, 'L'), fmt='JPEG', quality=85, progressive=True)
save('rgb_progressive.jpg', Image.fromarray(rgb, 'RGB'), fmt='JPEG', quality=85, progressive=True)
save('grey_icc.jpg', Image.fromarray(grey, 'L'), icc=GREY_ICC, fmt='JPEG', quality=90)
save('rgb_icc.jpg', Image.fromarray(rgb, 'RGB'), icc=RGB_ICC, fmt='JPEG', quality=90)
# Misnamed files: the content decides, as Pillow's Image.open does.
save('png_named.jpg', Image.fromarray(grey, 'L'), fmt='PNG')
save('jpeg_named.png', Image.fromarray(rgb, 'RGB'), fmt='JPEG', quality=90)

print(json.dumps([describe(name, path, reference) for name, path, reference, _icc in files]))
