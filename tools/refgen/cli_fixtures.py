"""Small data sets in every `--data` format of the `convkit` command line, for its
integration tests (`convkit train/eval/predict` on real files, in seconds).

References: scikit-learn's `load_digits()` (1797 real 8x8 handwritten digits,
values 0..16, shipped inside the scikit-learn wheel) for `idx/` and `npy/`;
synthetic, seeded pictures for the rest. The formats are written by hand here
(IDX, CIFAR binary) or by numpy (`np.lib.format.write_array`) and PIL (PNG).

Writes into <out-root>/crates/convkit/tests/fixtures/:

  idx/        the digits split below as MNIST-style IDX files, pixels
              u8 = round(v * 255 / 16) (v = 8 -> 127.5 -> 128, the only tie):
                train-images-idx3-ubyte.gz   [150, 8, 8] u8, gzip (mtime 0, no name)
                train-labels-idx1-ubyte      [150] u8, NOT compressed (both cases)
                t10k-images-idx3-ubyte.gz    [50, 8, 8] u8
                t10k-labels-idx1-ubyte.gz    [50] u8
              Split: for each digit d, a seeded permutation (numpy
              default_rng(0)) of load_digits' samples of d; its first 15 go to
              train, the next 5 to test. Each split is then in load_digits order
              (ascending sample index), so the classes are interleaved.
  npy/        the same split, 3-channel NHWC u8, the digit in every channel with
              gains 1.0, 0.8, 0.6 (channel k = round(u8 * gain_k)):
                x_train.npy  [150, 8, 8, 3] |u1      y_train.npy  [150] <i8
                x_test.npy   [50, 8, 8, 3]  |u1      y_test.npy   [50]  <i8
                classes.txt  zero .. nine, one per line (label i = line i)
  cifar10/    CIFAR-10 binary batches, records of 1 label byte + 3072 pixel
              bytes ([3, 32, 32], channel-major):
                data_batch_1.bin .. data_batch_5.bin   4 records each; record
                                                       j of batch b has label
                                                       (4 (b - 1) + j) % 10
                test_batch.bin                         4 records, labels 0 3 6 9
                batches.meta.txt                       the 10 CIFAR-10 names
              Class c is horizontal stripes of period c + 2 (bright rows
              y % (c + 2) < (c + 2) / 2), channel k scaled by 1 - 0.25 k, plus
              seeded uniform noise in [-20, 20], clipped to 0..255.
  images/     PNG class folders, classes (sorted) circle, square, triangle:
                train/<class>/000.png .. 019.png   20 per class, 16x16 RGB
                test/<class>/000.png .. 005.png    6 per class, 16x16 RGB
              a filled shape of a random bright colour (each channel 120..255)
              at a random position and size (half-size r in 3..5 px) on a dark
              noisy background (each channel 0..47).
  images_noval/  class folders only (no train/ or test/, so the CLI splits
              with --val-fraction): <class>/000.png .. 009.png, 10 per class,
              12x12 grayscale (PNG mode L), shape 150..255 on background 0..47,
              r in 3..4.
  predict/    inputs of `convkit predict`:
                a.png     16x16 RGB square, drawn like the training images
                big.png   24 high x 20 wide RGB circle (another size: resizing)
                two.npy   [2, 3, 16, 16] <f4 NCHW in [0, 1]: a circle then a
                          triangle (u8 pixels / 255)

Every picture comes from numpy default_rng seeded per folder; PNGs are written
by PIL without metadata (no tIME chunk), gzip files with mtime 0, so the output
is byte-identical from run to run. About 180 KB in all.

Run with `cargo xtask refgen`, or directly:
    target/refgen-venv/bin/python tools/refgen/cli_fixtures.py [--out-root DIR]
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tools/refgen free of __pycache__

import gzip
import io
from pathlib import Path

import numpy as np

import _files
from PIL import Image
from sklearn.datasets import load_digits

import _common

DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
DIGITS_TRAIN_PER_CLASS = 15
DIGITS_TEST_PER_CLASS = 5
NPY_CHANNEL_GAINS = (1.0, 0.8, 0.6)

CIFAR10_NAMES = [
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
]
CIFAR_BATCHES = 5
CIFAR_RECORDS_PER_BATCH = 4
CIFAR_TEST_LABELS = [0, 3, 6, 9]

SHAPES = ["circle", "square", "triangle"]
IMAGES_TRAIN_PER_CLASS = 20
IMAGES_TEST_PER_CLASS = 6
NOVAL_PER_CLASS = 10



# --- writing ---------------------------------------------------------------------

written_bytes = 0


def write(path: Path, data: bytes) -> None:
    """Write `data` atomically and count its size."""
    global written_bytes
    written_bytes += _files.write(path, data)


def gzip_bytes(data: bytes) -> bytes:
    """gzip without a timestamp or file name in the header (reproducible)."""
    return gzip.compress(data, compresslevel=9, mtime=0)


idx_bytes = _files.idx_bytes
npy_bytes = _files.npy_bytes


def png_bytes(pixels: np.ndarray) -> bytes:
    """PNG of u8 pixels [H, W] (mode L) or [H, W, 3] (mode RGB); PIL adds no
    metadata chunks unless asked, so the bytes depend on the pixels only."""
    mode = "L" if pixels.ndim == 2 else "RGB"
    buf = io.BytesIO()
    Image.fromarray(pixels, mode=mode).save(buf, format="PNG")
    return buf.getvalue()


def lines(names: list[str]) -> bytes:
    return ("\n".join(names) + "\n").encode()


# --- digits: idx/ and npy/ -----------------------------------------------------------


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train [150,8,8] u8, y_train [150] i64, x_test [50,8,8] u8, y_test [50] i64)."""
    digits = load_digits()
    values = digits.images  # float64 [1797, 8, 8], integers 0..16
    labels = digits.target.astype(np.int64)
    pixels = np.rint(values * 255.0 / 16.0).astype(np.uint8)

    rng = np.random.default_rng(0)
    train_idx, test_idx = [], []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(labels == digit))
        train_idx.extend(members[:DIGITS_TRAIN_PER_CLASS])
        test_idx.extend(
            members[DIGITS_TRAIN_PER_CLASS : DIGITS_TRAIN_PER_CLASS + DIGITS_TEST_PER_CLASS]
        )
    train_idx = np.sort(np.array(train_idx))
    test_idx = np.sort(np.array(test_idx))
    return pixels[train_idx], labels[train_idx], pixels[test_idx], labels[test_idx]


def write_idx(out: Path, split: tuple[np.ndarray, ...]) -> None:
    x_train, y_train, x_test, y_test = split
    write(out / "train-images-idx3-ubyte.gz", gzip_bytes(idx_bytes(x_train)))
    write(out / "train-labels-idx1-ubyte", idx_bytes(y_train.astype(np.uint8)))
    write(out / "t10k-images-idx3-ubyte.gz", gzip_bytes(idx_bytes(x_test)))
    write(out / "t10k-labels-idx1-ubyte.gz", gzip_bytes(idx_bytes(y_test.astype(np.uint8))))


def three_channel_nhwc(gray: np.ndarray) -> np.ndarray:
    """[N,H,W] u8 -> [N,H,W,3] u8, channel k = round(gray * NPY_CHANNEL_GAINS[k])."""
    channels = [np.rint(gray.astype(np.float64) * g) for g in NPY_CHANNEL_GAINS]
    return np.stack(channels, axis=-1).astype(np.uint8)


def write_npy(out: Path, split: tuple[np.ndarray, ...]) -> None:
    x_train, y_train, x_test, y_test = split
    write(out / "x_train.npy", npy_bytes(three_channel_nhwc(x_train)))
    write(out / "y_train.npy", npy_bytes(y_train))
    write(out / "x_test.npy", npy_bytes(three_channel_nhwc(x_test)))
    write(out / "y_test.npy", npy_bytes(y_test))
    write(out / "classes.txt", lines(DIGIT_NAMES))


# --- cifar10/ ----------------------------------------------------------------------


def cifar_record(label: int, rng: np.random.Generator) -> bytes:
    """One CIFAR-10 record: the label byte, then [3, 32, 32] u8 stripes of period
    label + 2, channel k scaled by 1 - 0.25 k, plus uniform noise in [-20, 20]."""
    period = label + 2
    rows = np.arange(32)
    stripe = np.where(rows % period < period / 2, 200.0, 40.0)  # one value per row
    plane = np.broadcast_to(stripe[:, None], (32, 32))
    image = np.stack([plane * (1.0 - 0.25 * k) for k in range(3)])
    noise = rng.integers(-20, 21, size=image.shape)
    pixels = np.clip(image + noise, 0, 255).astype(np.uint8)
    return bytes([label]) + pixels.tobytes()


def write_cifar10(out: Path) -> None:
    rng = np.random.default_rng(10)
    for batch in range(1, CIFAR_BATCHES + 1):
        first = (batch - 1) * CIFAR_RECORDS_PER_BATCH
        records = [
            cifar_record((first + j) % 10, rng) for j in range(CIFAR_RECORDS_PER_BATCH)
        ]
        write(out / f"data_batch_{batch}.bin", b"".join(records))
    write(out / "test_batch.bin", b"".join(cifar_record(c, rng) for c in CIFAR_TEST_LABELS))
    write(out / "batches.meta.txt", lines(CIFAR10_NAMES))


# --- shapes: images/, images_noval/, predict/ ----------------------------------------


def shape_mask(shape: str, height: int, width: int, rng: np.random.Generator) -> np.ndarray:
    """Boolean [H, W] mask of a filled `shape` with a random half-size r from 3 to
    min(6, a third of the smaller side), centred where it fits entirely:
    circle (x-cx)^2 + (y-cy)^2 <= r^2; axis-aligned square |x-cx|, |y-cy| <= r;
    upward triangle with apex (cx, cy-r) and base row cy+r from cx-r to cx+r."""
    r = int(rng.integers(3, min(6, min(height, width) // 3) + 1))
    cy = int(rng.integers(r, height - r))
    cx = int(rng.integers(r, width - r))
    y, x = np.mgrid[0:height, 0:width]
    dy, dx = y - cy, x - cx
    if shape == "circle":
        return dx * dx + dy * dy <= r * r
    if shape == "square":
        return (np.abs(dx) <= r) & (np.abs(dy) <= r)
    if shape == "triangle":
        depth = dy + r  # 0 at the apex row, 2r at the base row
        return (depth >= 0) & (depth <= 2 * r) & (2 * np.abs(dx) <= depth)
    raise ValueError(f"unknown shape {shape}")


def shape_image(
    shape: str, height: int, width: int, rng: np.random.Generator, rgb: bool
) -> np.ndarray:
    """u8 [H, W, 3] (rgb) or [H, W]: the shape in a random bright colour (120..255
    per channel; gray 150..255) on background noise 0..47."""
    channels = 3 if rgb else 1
    mask = shape_mask(shape, height, width, rng)
    background = rng.integers(0, 48, size=(height, width, channels))
    low = 120 if rgb else 150
    colour = rng.integers(low, 256, size=channels)
    pixels = np.where(mask[:, :, None], colour, background).astype(np.uint8)
    return pixels if rgb else pixels[:, :, 0]


def write_shape_folder(
    out: Path, per_class: int, size: int, rgb: bool, rng: np.random.Generator
) -> None:
    for shape in SHAPES:
        for i in range(per_class):
            write(out / shape / f"{i:03d}.png", png_bytes(shape_image(shape, size, size, rng, rgb)))


def write_images(out: Path) -> None:
    rng = np.random.default_rng(20)
    write_shape_folder(out / "train", IMAGES_TRAIN_PER_CLASS, 16, True, rng)
    write_shape_folder(out / "test", IMAGES_TEST_PER_CLASS, 16, True, rng)


def write_images_noval(out: Path) -> None:
    write_shape_folder(out, NOVAL_PER_CLASS, 12, False, np.random.default_rng(30))


def write_predict(out: Path) -> None:
    rng = np.random.default_rng(40)
    write(out / "a.png", png_bytes(shape_image("square", 16, 16, rng, rgb=True)))
    write(out / "big.png", png_bytes(shape_image("circle", 24, 20, rng, rgb=True)))
    pair = np.stack([shape_image(s, 16, 16, rng, rgb=True) for s in ("circle", "triangle")])
    nchw = (pair.transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255)).astype(np.float32)
    write(out / "two.npy", npy_bytes(np.ascontiguousarray(nchw)))


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0])
    fixtures = args.out_root / "crates" / "convkit" / "tests" / "fixtures"
    split = digits_split()
    write_idx(fixtures / "idx", split)
    write_npy(fixtures / "npy", split)
    write_cifar10(fixtures / "cifar10")
    write_images(fixtures / "images")
    write_images_noval(fixtures / "images_noval")
    write_predict(fixtures / "predict")
    print(f"total: {written_bytes} bytes ({written_bytes / 1024:.1f} KiB) in {fixtures}")


if __name__ == "__main__":
    main()
