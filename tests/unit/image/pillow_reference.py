"""What Pillow decodes from image files, as JSON for the parity tests: np.asarray(Image.open(path))
per file (after convert(reference) where a mode such as palette or 1-bit has no plain array), and
for files with an embedded ICC profile what littleCMS gives when the profile is applied (to sRGB)."""
import base64
import io

import numpy as np
from PIL import Image, ImageCms

SRGB = ImageCms.createProfile('sRGB')


def describe(name, path, reference=None):
    with Image.open(path) as im:
        mode = im.mode
        target = im.convert(reference) if reference else im
        arr = np.asarray(target)
        entry = {'name': name, 'path': path, 'mode': mode, 'format': im.format, 'shape': list(arr.shape)}
        entry['bits'] = 16 if mode in ('I', 'I;16') else 8
        if im.format == 'PNG':
            # IHDR's bit depth: Pillow reads 16-bit colour PNGs as 8-bit (the high byte)
            with open(path, 'rb') as f:
                entry['fileBits'] = f.read(25)[24]
        entry['data'] = base64.b64encode(arr.astype('<u2' if entry['bits'] == 16 else 'u1').tobytes()).decode()
        icc = im.info.get('icc_profile')
        if icc:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            entry['iccDescription'] = ImageCms.getProfileDescription(profile).strip()
            source = im.convert('RGB') if mode == 'P' else im
            applied = ImageCms.profileToProfile(source, profile, SRGB, renderingIntent=0, outputMode='RGB')
            entry['iccApplied'] = base64.b64encode(np.asarray(applied).astype('u1').tobytes()).decode()
        return entry
