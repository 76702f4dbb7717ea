"""A corpus of real image files for the Pillow parity test, assembled in argv[1] from what Debian
ships (never committed): scikit-image's sample photographs and scans (python3-skimage: PNG in
1-bit, grey, palette, RGB, RGBA; baseline JPEG; several with camera or scanner ICC profiles), real
ICC profiles (icc-profiles-free) embedded losslessly into real files, progressive JPEGs made
losslessly from real ones (jpegtran, libjpeg-turbo-progs), 16-bit grey PNGs holding real CT and MR
pixel data (pydicom's test files) and real files under the wrong extension. Prints, as JSON, what
Pillow decodes from each (pillow_reference.describe), plus the files Pillow itself refuses."""
import glob
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib

import numpy as np
import pydicom
import skimage
from PIL import Image
from pydicom.data import get_testdata_file

from pillow_reference import describe

out = sys.argv[1]
DATA = os.path.join(os.path.dirname(skimage.__file__), 'data')
ICC = '/usr/share/color/icc'
# convert() targets for modes np.asarray cannot express as radlearn returns them
REFERENCE = {'1': 'L', 'P': 'RGB'}

entries, refused = [], []


def add(name, path):
    try:
        with Image.open(path) as im:
            mode = im.mode
            im.load()
    except Exception as error:  # Pillow refuses it: radlearn must refuse it too
        refused.append({'name': name, 'path': path, 'pillow': str(error)})
        return
    reference = REFERENCE.get(mode)
    if mode == 'P':
        with Image.open(path) as im:
            reference = 'RGBA' if 'transparency' in im.info else 'RGB'
    entries.append(describe(name, path, reference))


def copy(src, name):
    path = os.path.join(out, name)
    shutil.copyfile(src, path)
    return path


def with_icc_jpeg(src, profile, name):
    """The JPEG's own bytes with an APP2 ICC_PROFILE segment inserted after SOI (no re-encoding)."""
    data, icc = open(src, 'rb').read(), open(profile, 'rb').read()
    assert data[:2] == b'\xff\xd8' and len(icc) < 65000
    body = b'ICC_PROFILE\0' + bytes([1, 1]) + icc
    path = os.path.join(out, name)
    open(path, 'wb').write(data[:2] + b'\xff\xe2' + struct.pack('>H', len(body) + 2) + body + data[2:])
    return path


def with_icc_png(src, profile, name):
    """The PNG's own chunks with an iCCP chunk inserted after IHDR (no re-encoding)."""
    data, icc = open(src, 'rb').read(), open(profile, 'rb').read()
    ihdr_end = 8 + 8 + struct.unpack('>I', data[8:12])[0] + 4
    body = b'icc\0\0' + zlib.compress(icc)
    chunk = struct.pack('>I', len(body)) + b'iCCP' + body + struct.pack('>I', zlib.crc32(b'iCCP' + body))
    path = os.path.join(out, name)
    open(path, 'wb').write(data[:ihdr_end] + chunk + data[ihdr_end:])
    return path


def jpegtran(args, src, name):
    path = os.path.join(out, name)
    subprocess.run(['jpegtran', *args, '-outfile', path, src], check=True)
    return path


def png16(array, name):
    path = os.path.join(out, name)
    Image.fromarray(np.ascontiguousarray(array, dtype=np.uint16), 'I;16').save(path, format='PNG')
    return path


# every sample file as shipped
for src in sorted(glob.glob(os.path.join(DATA, '*.png')) + glob.glob(os.path.join(DATA, '*.jpg'))):
    name = os.path.basename(src)
    add(name, copy(src, name))

# real profiles embedded into real files without re-encoding their pixels
add('retina_adobergb.jpg', with_icc_jpeg(os.path.join(DATA, 'retina.jpg'), os.path.join(ICC, 'compatibleWithAdobeRGB1998.icc'), 'retina_adobergb.jpg'))
add('moon_gray_icc.png', with_icc_png(os.path.join(DATA, 'moon.png'), os.path.join(ICC, 'Gray.icc'), 'moon_gray_icc.png'))
add('coffee_lstar_icc.png', with_icc_png(os.path.join(DATA, 'coffee.png'), os.path.join(ICC, 'LStar-RGB.icc'), 'coffee_lstar_icc.png'))

# progressive and greyscale JPEGs transcoded losslessly (same DCT coefficients) from real ones
add('retina_progressive.jpg', jpegtran(['-progressive', '-copy', 'all'], os.path.join(DATA, 'retina.jpg'), 'retina_progressive.jpg'))
add('rocket_progressive.jpg', jpegtran(['-progressive', '-copy', 'all'], os.path.join(DATA, 'rocket.jpg'), 'rocket_progressive.jpg'))
add('rocket_grey.jpg', jpegtran(['-grayscale'], os.path.join(DATA, 'rocket.jpg'), 'rocket_grey.jpg'))
grey_progressive = jpegtran(['-grayscale', '-progressive'], os.path.join(DATA, 'hubble_deep_field.jpg'), 'hubble_grey_progressive.jpg')
add('hubble_grey_progressive.jpg', with_icc_jpeg(grey_progressive, os.path.join(ICC, 'Gray-CIE_L.icc'), 'hubble_grey_progressive_icc.jpg'))

# 16-bit grey PNG of real CT and MR data (CT stored signed: shifted to start at 0)
ct = pydicom.dcmread(get_testdata_file('CT_small.dcm')).pixel_array.astype(np.int32)
add('ct_small_16bit.png', png16(ct - ct.min(), 'ct_small_16bit.png'))
add('mr_small_16bit.png', png16(pydicom.dcmread(get_testdata_file('MR_small.dcm')).pixel_array, 'mr_small_16bit.png'))
add('chessboard_gray_u16.png', png16(np.asarray(Image.open(os.path.join(DATA, 'chessboard_GRAY_U16.tif'))), 'chessboard_gray_u16.png'))

# the content decides, not the name
add('rocket_jpeg_named.png', copy(os.path.join(DATA, 'rocket.jpg'), 'rocket_jpeg_named.png'))
add('camera_png_named.jpg', copy(os.path.join(DATA, 'camera.png'), 'camera_png_named.jpg'))
add('page_icc_no_extension', copy(os.path.join(DATA, 'page.png'), 'page_icc_no_extension'))

print(json.dumps({'files': entries, 'refused': refused}))
