"""NumPy .npy/.npz fixtures for convkit-data's `npy` module, written by numpy itself.

Reference: numpy's own writers (`np.save`, `np.lib.format.write_array`,
`np.savez`, `np.savez_compressed`). Every value is a closed-form function of its
index (arange based), so the Rust tests recompute the exact values instead of
storing a second copy.

Writes <out-root>/crates/convkit-data/tests/data/npy/:
  f32.npy              [2,3,4] <f4   arange(24) / 7
  f64.npy              [10]    <f8   arange(10) / 3 - 1
  i64.npy              [4,3]   <i8   (arange(12) - 6) * 1000000007, then
                                     [0,0] = int64 min and [3,2] = int64 max
  i32.npy              [5,4]   <i4   (arange(20) - 10) * 123457
  u8.npy               [16,16] |u1   arange(256)
  bool.npy             [2,5]   |b1   arange(10) % 3 == 0
  fortran_f32.npy      [2,3]   <f4   arange(6), fortran_order True
  fortran_i32.npy      [2,3,4] <i4   arange(24) - 5, fortran_order True
  big_endian_f64.npy   [3,2]   >f8   arange(6) * 0.25 - 1
  big_endian_i32.npy   [4]     >i4   (arange(4) - 2) * 70000
  scalar_f64.npy       []      <f8   3.25
  empty_f32.npy        [0,3]   <f4   no values
  v2_f32.npy           [2,3]   <f4   arange(6) / 4, format version 2.0
  v3_i64.npy           [3]     <i8   arange(3) - 1, format version 3.0
  unsupported_f2.npy   [3]     <f2   arange(3) (half floats: not supported)
  structured.npy       [2]     [('a','<i4'),('b','<f4')] zeros (not supported)
  arrays.npz           np.savez: a = arange(6, f32).reshape(2,3) / 7,
                       b = arange(5, i64) - 2, c = arange(4) % 2 == 1
  arrays_compressed.npz  the same arrays with np.savez_compressed

Output is byte-identical from run to run: np.savez opens each member with
ZipFile.open(name, "w"), which stamps it 1980-01-01 00:00:00, not the clock.

Run with `cargo xtask refgen`, or directly:
    target/refgen-venv/bin/python tools/refgen/npy_fixtures.py [--out-root DIR]
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tools/refgen free of __pycache__

import io
from pathlib import Path

import numpy as np

import _common
import _files

def npz_arrays() -> dict[str, np.ndarray]:
    return {
        "a": np.arange(6, dtype=np.float32).reshape(2, 3) / np.float32(7),
        "b": np.arange(5, dtype=np.int64) - 2,
        "c": np.arange(4) % 2 == 1,
    }


def npy_arrays() -> dict[str, np.ndarray]:
    i64 = (np.arange(12, dtype=np.int64) - 6) * 1_000_000_007
    i64[0] = np.iinfo(np.int64).min
    i64[11] = np.iinfo(np.int64).max
    return {
        "f32": (np.arange(24, dtype=np.float32) / np.float32(7)).reshape(2, 3, 4),
        "f64": np.arange(10, dtype=np.float64) / 3 - 1,
        "i64": i64.reshape(4, 3),
        "i32": ((np.arange(20, dtype=np.int32) - 10) * 123457).reshape(5, 4),
        "u8": np.arange(256, dtype=np.uint8).reshape(16, 16),
        "bool": (np.arange(10) % 3 == 0).reshape(2, 5),
        "fortran_f32": np.asfortranarray(np.arange(6, dtype=np.float32).reshape(2, 3)),
        "fortran_i32": np.asfortranarray(
            (np.arange(24, dtype=np.int32) - 5).reshape(2, 3, 4)
        ),
        "big_endian_f64": (np.arange(6, dtype=np.float64) * 0.25 - 1)
        .reshape(3, 2)
        .astype(">f8"),
        "big_endian_i32": ((np.arange(4, dtype=np.int32) - 2) * 70000).astype(">i4"),
        "scalar_f64": np.array(3.25, dtype=np.float64),
        "empty_f32": np.zeros((0, 3), dtype=np.float32),
        "unsupported_f2": np.arange(3, dtype=np.float16),
        "structured": np.zeros(2, dtype=[("a", "<i4"), ("b", "<f4")]),
    }


npy_bytes = _files.npy_bytes


def npz_bytes(compressed: bool) -> bytes:
    buf = io.BytesIO()
    save = np.savez_compressed if compressed else np.savez
    save(buf, **npz_arrays())
    return buf.getvalue()


write = _files.write


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0])
    out = args.out_root / "crates" / "convkit-data" / "tests" / "data" / "npy"
    for name, array in npy_arrays().items():
        write(out / f"{name}.npy", npy_bytes(array))
    v2 = np.arange(6, dtype=np.float32).reshape(2, 3) / np.float32(4)
    write(out / "v2_f32.npy", npy_bytes(v2, (2, 0)))
    write(out / "v3_i64.npy", npy_bytes(np.arange(3, dtype=np.int64) - 1, (3, 0)))
    write(out / "arrays.npz", npz_bytes(compressed=False))
    write(out / "arrays_compressed.npz", npz_bytes(compressed=True))


if __name__ == "__main__":
    main()
