"""Reference pixels for pydicom's corpus of real DICOM files, printed as JSON on stdout.

For each file with PixelData: a SHA-256 of all frames' stored values (little-endian, frames
concatenated, colour interleaved) as pydicom decodes them, YBR converted to RGB as radlearn
does; 8-bit lossy JPEG frames are decoded by Pillow (libjpeg) instead, because pydicom keeps
them in YCbCr. Files neither can decode get an "error" instead of a hash, and so do files whose
decoder reports an error on the native stderr while still returning an array: GDCM (pydicom's
handler for JPEG-LS and some JPEG 2000) logs "Error:" and hands back an unfilled buffer when
OpenJPEG rejects a corrupt codestream, which is no reference.
Usage: /usr/bin/python3 tests/unit/dicom/pydicom_oracle.py
"""
import contextlib
import hashlib
import io
import json
import os
import sys
import tempfile
import warnings

import numpy as np
import pydicom
from PIL import Image
from pydicom.encaps import generate_pixel_data_frame
from pydicom.pixel_data_handlers.util import convert_color_space

ROOT = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
LOSSY_8BIT_JPEG = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"}


@contextlib.contextmanager
def native_stderr():
    """Captures what C/C++ code writes to file descriptor 2 while the block runs."""
    log = io.BytesIO()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield log
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            log.write(tmp.read())


def frames(ds):
    syntax = ds.file_meta.get("TransferSyntaxUID", "")
    if syntax in LOSSY_8BIT_JPEG and ds.BitsAllocated == 8:
        mode = "RGB" if ds.SamplesPerPixel == 3 else "L"
        count = int(ds.get("NumberOfFrames", 1) or 1)
        return "pillow", [np.asarray(Image.open(io.BytesIO(f)).convert(mode)) for f in generate_pixel_data_frame(ds.PixelData, count)]
    with native_stderr() as log:
        array = ds.pixel_array
    if b"Error:" in log.getvalue():
        raise RuntimeError(log.getvalue().decode("utf-8", "replace").strip())
    if ds.PhotometricInterpretation in ("YBR_FULL", "YBR_FULL_422"):
        array = convert_color_space(array, ds.PhotometricInterpretation, "RGB")
    return "pydicom", [array]


def reference(path):
    ds = pydicom.dcmread(path)
    if "PixelData" not in ds:
        return None
    decoder, arrays = frames(ds)
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array.astype(array.dtype.newbyteorder("<"))).tobytes())
    return {"decoder": decoder, "sha256": digest.hexdigest()}


def main():
    warnings.simplefilter("ignore")
    out = []
    for folder, _, names in sorted(os.walk(ROOT)):
        for name in sorted(names):
            path = os.path.join(folder, name)
            try:
                result = reference(path)
            except Exception as error:  # noqa: BLE001 - any failure just means "no reference"
                result = {"error": f"{type(error).__name__}: {error}"[:200]}
            if result is not None:
                out.append({"path": path, "name": os.path.relpath(path, ROOT), **result})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
