"""Golden fixture for convkit-data's `Resize` transform, generated from PyTorch.

Reference: `torch.nn.functional.interpolate(x[None], size=(oh, ow), mode="bilinear",
align_corners=False, antialias=...)`, which is what torchvision's `Resize` does to float
tensors (`antialias=True` is its default since torchvision 0.17). Inputs are
`torch.rand(c, h, w)` with torch.manual_seed(0), float32, single-threaded.

Writes <out-root>/crates/convkit-data/tests/data/images/resize_reference.bin, a plain
little-endian file (read by the Rust test without a safetensors dependency), made of
cases one after another, each:

    6 x u32   antialias (0 or 1), c, h, w, oh, ow
    c*h*w   x f32   input, CHW row-major
    c*oh*ow x f32   interpolate(...) output, CHW row-major

Cases: downscaling by non-integer factors with and without antialiasing, upscaling,
one axis up and the other down, and a 3-channel shorter-side resize.

Run with `cargo xtask refgen`, or directly:
    target/refgen-venv/bin/python tools/refgen/transforms.py [--out-root DIR]
Output is byte-identical from run to run.
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tools/refgen free of __pycache__

import os
import struct

import torch
import torch.nn.functional as F

import _common

# (antialias, c, h, w, oh, ow)
CASES = [
    (True, 1, 13, 17, 5, 7),
    (False, 1, 13, 17, 5, 7),
    (True, 3, 10, 12, 4, 3),
    (True, 2, 4, 5, 9, 7),
    (True, 1, 6, 20, 9, 6),
    (True, 3, 9, 12, 6, 8),
]


def build_reference() -> bytes:
    _common.make_deterministic(0)
    out = bytearray()
    for antialias, c, h, w, oh, ow in CASES:
        x = torch.rand(c, h, w)
        y = F.interpolate(
            x[None], size=(oh, ow), mode="bilinear", align_corners=False, antialias=antialias
        )[0]
        out += struct.pack("<6I", int(antialias), c, h, w, oh, ow)
        out += x.numpy().astype("<f4").tobytes()
        out += y.numpy().astype("<f4").tobytes()
    return bytes(out)


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0])
    path = args.out_root / "crates" / "convkit-data" / "tests" / "data" / "images"
    path.mkdir(parents=True, exist_ok=True)
    path = path / "resize_reference.bin"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(build_reference())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    print(f"wrote {path} ({path.stat().st_size} bytes, torch {torch.__version__})")


if __name__ == "__main__":
    main()
