"""Reads phantom DICOM files with pydicom: tags and a SHA-256 of the stored values, as JSON.

Usage: /usr/bin/python3 pydicom_phantom.py FILE...
"""
import hashlib
import json
import sys

import numpy as np
import pydicom

out = []
for path in sys.argv[1:]:
    ds = pydicom.dcmread(path)
    pixels = ds.pixel_array.astype("<u2")
    out.append(
        {
            "bitsStored": int(ds.BitsStored),
            "photometric": str(ds.PhotometricInterpretation),
            "institution": str(ds.InstitutionName),
            "windowCenter": float(ds.WindowCenter),
            "windowWidth": float(ds.WindowWidth),
            "max": int(pixels.max()),
            "sha256": hashlib.sha256(np.ascontiguousarray(pixels).tobytes()).hexdigest(),
        }
    )
print(json.dumps(out))
