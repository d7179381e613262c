"""PyTorch (CPU) side of `cargo xtask bench`: times the reference workloads that
convkit's benchmarks are compared against.

Benchmarks:
  conv2d_fwd            conv2d, input 8x64x56x56, weight 64x64x3x3, padding 1,
                        no bias, forward only under torch.no_grad()
  conv2d_fwd_bwd        the same conv, forward + backward (input and weight
                        require grad, loss = out.sum())
  matmul_1024           1024x1024 @ 1024x1024 (float32)
  small_cnn_train_step  SmallCnn (tools/refgen/small_cnn.py) with in_ch=3,
                        classes=3, width=16; batch 32 of 3x32x32, train mode,
                        forward + cross-entropy + backward + Adam step (lr 1e-3)

  inception_v4_fwd_1    timm inception_v4 (1000 classes, eval, no_grad) on 1x3x299x299
  inception_v4_fwd_8    the same on 8x3x299x299
  scse_fwd              segmentation_models_pytorch SCSEModule(64, reduction=16)
                        (cSE + sSE, added) on 8x64x56x56, no_grad
  spp_fwd               spatial pyramid pooling, levels 4/2/1, max (adaptive
                        max pools flattened and concatenated) on 8x256x13x13
  unet_fwd_bwd          the U-Net of tools/refgen/unet.py (1 input channel,
                        2 classes, depth 4, width 16) on 4x1x128x128, train mode:
                        forward + pixel cross-entropy + backward
The model rows (inception_*, unet_*) take fewer timed runs (HEAVY_RUNS).

With --data-dir DIR (files written there by convkit's side of the benchmark):
  idx_read              read DIR/bench-images-idx3-ubyte (60000x28x28 u8) the way
                        torchvision's MNIST does: file bytes -> frombuffer -> reshape
  npy_read              numpy.load(DIR/bench.npy) (f32, 100 MB)

Each benchmark runs W warm-up iterations, then K timed ones, and reports the
median and minimum wall time in milliseconds (K=20, W=3; with --quick K=5, W=1).

Prints exactly one JSON object on stdout:
  {"torch_version": "...", "threads": N,
   "results": {"conv2d_fwd": {"median_ms": .., "min_ms": .., "runs": K}, ...}}
Everything else (warnings, diagnostics) goes to stderr.

Usage:
  target/refgen-venv/bin/python tools/refgen/bench_torch.py [--threads N] [--quick]
                                                           [--only NAME[,NAME...]]
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tools/refgen free of __pycache__

import argparse
import contextlib
import json
import statistics
import time
from typing import Callable

from pathlib import Path

import numpy
import torch
import torch.nn.functional as F


def bench_conv2d_fwd() -> Callable[[], None]:
    x = torch.randn(8, 64, 56, 56)
    w = torch.randn(64, 64, 3, 3)

    def step() -> None:
        with torch.no_grad():
            F.conv2d(x, w, bias=None, padding=1)

    return step


def bench_conv2d_fwd_bwd() -> Callable[[], None]:
    x = torch.randn(8, 64, 56, 56, requires_grad=True)
    w = torch.randn(64, 64, 3, 3, requires_grad=True)

    def step() -> None:
        x.grad = None
        w.grad = None
        out = F.conv2d(x, w, bias=None, padding=1)
        out.sum().backward()

    return step


def bench_matmul_1024() -> Callable[[], None]:
    a = torch.randn(1024, 1024)
    b = torch.randn(1024, 1024)

    def step() -> None:
        torch.matmul(a, b)

    return step


def bench_small_cnn_train_step() -> Callable[[], None]:
    from small_cnn import SmallCnn

    model = SmallCnn(in_ch=3, classes=3, width=16)
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(32, 3, 32, 32)
    target = torch.randint(0, 3, (32,), dtype=torch.int64)

    def step() -> None:
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), target)
        loss.backward()
        opt.step()

    return step


def bench_inception_v4_fwd(batch: int) -> Callable[[], Callable[[], None]]:
    def make() -> Callable[[], None]:
        import timm

        model = timm.create_model("inception_v4", pretrained=False, num_classes=1000).eval()
        x = torch.randn(batch, 3, 299, 299)

        def step() -> None:
            with torch.no_grad():
                model(x)

        return step

    return make


def bench_scse_fwd() -> Callable[[], None]:
    from segmentation_models_pytorch.base.modules import SCSEModule

    block = SCSEModule(64, reduction=16).eval()
    x = torch.randn(8, 64, 56, 56)

    def step() -> None:
        with torch.no_grad():
            block(x)

    return step


def bench_spp_fwd() -> Callable[[], None]:
    x = torch.randn(8, 256, 13, 13)

    def step() -> None:
        with torch.no_grad():
            torch.cat([F.adaptive_max_pool2d(x, n).flatten(1) for n in (4, 2, 1)], dim=1)

    return step


def bench_unet_fwd_bwd() -> Callable[[], None]:
    from unet import UNet

    model = UNet(in_ch=1, classes=2, depth=4, width=16).train()
    x = torch.randn(4, 1, 128, 128)
    target = torch.randint(0, 2, (4, 128, 128), dtype=torch.int64)

    def step() -> None:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), target).backward()

    return step


BENCHMARKS: dict[str, Callable[[], Callable[[], None]]] = {
    "conv2d_fwd": bench_conv2d_fwd,
    "conv2d_fwd_bwd": bench_conv2d_fwd_bwd,
    "matmul_1024": bench_matmul_1024,
    "small_cnn_train_step": bench_small_cnn_train_step,
    "inception_v4_fwd_1": bench_inception_v4_fwd(1),
    "inception_v4_fwd_8": bench_inception_v4_fwd(8),
    "scse_fwd": bench_scse_fwd,
    "spp_fwd": bench_spp_fwd,
    "unet_fwd_bwd": bench_unet_fwd_bwd,
}

# Whole-model rows take a second or more per run: fewer runs keep the bench near 10 minutes.
HEAVY = {"inception_v4_fwd_1", "inception_v4_fwd_8", "unet_fwd_bwd"}
HEAVY_RUNS = (1, 6)


def bench_idx_read(data_dir: Path) -> Callable[[], None]:
    path = data_dir / "bench-images-idx3-ubyte"

    def step() -> None:
        data = path.read_bytes()
        dims = [int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(data[3])]
        array = torch.frombuffer(bytearray(data), dtype=torch.uint8, offset=4 + 4 * len(dims))
        array.view(*dims)

    return step


def bench_npy_read(data_dir: Path) -> Callable[[], None]:
    path = data_dir / "bench.npy"

    def step() -> None:
        numpy.load(path)

    return step


DATA_BENCHMARKS: dict[str, Callable[[Path], Callable[[], None]]] = {
    "idx_read": bench_idx_read,
    "npy_read": bench_npy_read,
}


def time_it(step: Callable[[], None], warmup: int, runs: int) -> dict[str, float | int]:
    for _ in range(warmup):
        step()
    times_ms = []
    for _ in range(runs):
        t0 = time.perf_counter()
        step()
        times_ms.append((time.perf_counter() - t0) * 1e3)
    return {
        "median_ms": round(statistics.median(times_ms), 4),
        "min_ms": round(min(times_ms), 4),
        "runs": runs,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--quick", action="store_true", help="5 timed runs, 1 warm-up (default 20 / 3)")
    parser.add_argument(
        "--only",
        metavar="NAME[,NAME]",
        help="comma-separated subset of: " + ", ".join(BENCHMARKS),
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="folder with the data files convkit's benchmark wrote (adds the data-loading rows)",
    )
    args = parser.parse_args()
    if args.threads < 1:
        parser.error("--threads must be >= 1")
    if args.only:
        names = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in names if n not in BENCHMARKS]
        if unknown or not names:
            parser.error(f"unknown benchmark(s) {unknown}; choose from {', '.join(BENCHMARKS)}")
        args.names = [n for n in BENCHMARKS if n in names]
    else:
        args.names = list(BENCHMARKS)
    return args


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    warmup, runs = (1, 5) if args.quick else (3, 20)

    results = {}
    # Anything a benchmark might print goes to stderr; stdout carries the JSON only.
    with contextlib.redirect_stdout(sys.stderr):
        for name in args.names:
            step = BENCHMARKS[name]()
            w, r = HEAVY_RUNS if name in HEAVY else (warmup, runs)
            results[name] = time_it(step, w, min(r, runs))
            print(f"{name}: {results[name]}", file=sys.stderr)
        if args.data_dir is not None and not args.only:
            for name, make in DATA_BENCHMARKS.items():
                results[name] = time_it(make(args.data_dir), warmup, runs)
                print(f"{name}: {results[name]}", file=sys.stderr)

    out = {"torch_version": torch.__version__, "threads": args.threads, "results": results}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
