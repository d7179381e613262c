"""PyTorch (CPU) side of `cargo xtask bench`: times the reference workloads that
convkit's benchmarks are compared against.

Benchmarks:
  conv2d_fwd            conv2d, input 8x64x56x56, weight 64x64x3x3, padding 1,
                        no bias, forward only under torch.no_grad()
  conv2d_fwd_bwd        the same conv, forward + backward (input and weight
                        require grad, loss = out.sum())
  dwconv3_fwd_bwd       depth-wise conv2d (groups 64), weight 64x1x3x3, padding 1,
                        on 8x64x56x56, forward + backward
  dwconv7_d3_fwd_bwd    depth-wise conv2d 7x7, dilation 3, padding 9, on 8x64x56x56,
                        forward + backward
  conv1d_dilated_fwd_bwd four conv1d 64->64, k=3, dilation 1/2/4/8, padding =
                        dilation, of one 32x64x1024 input, summed; forward + backward
  max_pool2_fwd_bwd     max_pool2d 2x2, stride 2, on 8x64x56x56, forward + backward
  avg_pool3_fwd_bwd     avg_pool2d 3x3, stride 1, padding 1, count_include_pad=False,
                        on 8x64x56x56, forward + backward
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
  small_cnn_epoch       one training epoch of the `convkit train` recipe:
                        SmallCnn in_ch=1, classes=10, width=16, kernel 5 (the CLI's
                        small-cnn), train mode, on
                        60000x1x28x28 synthetic u8 images (the bytes convkit's side
                        makes, labels i % 10) held as one uint8 tensor; per batch of
                        128 (shuffled by randperm, last partial batch kept): index,
                        .float() / 255, normalise by the training mean/std, forward,
                        cross-entropy, backward, Adam (lr 1e-2, per-step warm-up/cosine
                        LR), plus the running loss and accuracy convkit's fit keeps
  small_cnn_inference   the same model in eval mode under torch.inference_mode() on
                        the next 10000 synthetic images, batches of 256 in order:
                        .float() / 255, normalise, forward, argmax
The model rows (inception_*, unet_*, small_cnn_inference) take fewer timed runs
(HEAVY_RUNS); small_cnn_epoch takes EPOCH_RUNS (EPOCH_RUNS_QUICK with --quick).
The small_cnn_* rows also report "samples" (images per run) and "samples_per_s"
(from the median).

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
import copy
import json
import math
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


def fwd_bwd(x_shape, w_shape, **conv) -> Callable[[], None]:
    """Forward + backward (input and weight gradients) of one conv2d."""
    x = torch.randn(*x_shape, requires_grad=True)
    w = torch.randn(*w_shape, requires_grad=True)

    def step() -> None:
        x.grad = None
        w.grad = None
        F.conv2d(x, w, bias=None, **conv).sum().backward()

    return step


def bench_dwconv3_fwd_bwd() -> Callable[[], None]:
    return fwd_bwd((8, 64, 56, 56), (64, 1, 3, 3), padding=1, groups=64)


def bench_dwconv7_d3_fwd_bwd() -> Callable[[], None]:
    return fwd_bwd((8, 64, 56, 56), (64, 1, 7, 7), padding=9, dilation=3, groups=64)


def pool_fwd_bwd(pool: Callable[[torch.Tensor], torch.Tensor]) -> Callable[[], None]:
    x = torch.randn(8, 64, 56, 56, requires_grad=True)

    def step() -> None:
        x.grad = None
        pool(x).sum().backward()

    return step


def bench_max_pool2_fwd_bwd() -> Callable[[], None]:
    return pool_fwd_bwd(lambda x: F.max_pool2d(x, 2, 2))


def bench_avg_pool3_fwd_bwd() -> Callable[[], None]:
    return pool_fwd_bwd(lambda x: F.avg_pool2d(x, 3, 1, 1, count_include_pad=False))


def bench_conv1d_dilated_fwd_bwd() -> Callable[[], None]:
    x = torch.randn(32, 64, 1024, requires_grad=True)
    weights = [torch.randn(64, 64, 3, requires_grad=True) for _ in range(4)]

    def step() -> None:
        x.grad = None
        for w in weights:
            w.grad = None
        y = sum(F.conv1d(x, w, padding=d, dilation=d) for w, d in zip(weights, (1, 2, 4, 8)))
        y.sum().backward()

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


# The synthetic MNIST-shaped stream of convkit's training rows (benches/src/training.rs).
IMAGE_PIXELS = 28 * 28
TRAIN_IMAGES = 60_000
TEST_IMAGES = 10_000
TRAIN_BATCH = 128
EVAL_BATCH = 256
CLASSES = 10
LR = 1e-2


def synthetic_pixels(first: int, count: int) -> torch.Tensor:
    """Images first .. first + count of the stream as a [count, 1, 28, 28] uint8 tensor:
    pixel i is a multiply-xorshift hash of i, the bytes convkit's side computes."""
    out = numpy.empty(count * IMAGE_PIXELS, dtype=numpy.uint8)
    chunk = 1 << 22  # bounds the uint64 temporaries
    start = first * IMAGE_PIXELS
    for lo in range(0, out.size, chunk):
        z = numpy.arange(start + lo, start + min(lo + chunk, out.size), dtype=numpy.uint64)
        z *= numpy.uint64(0x9E3779B97F4A7C15)
        z ^= z >> numpy.uint64(32)
        z *= numpy.uint64(0xBF58476D1CE4E5B9)
        out[lo : lo + z.size] = z >> numpy.uint64(56)
    return torch.from_numpy(out).view(count, 1, 28, 28)


def synthetic_labels(first: int, count: int) -> torch.Tensor:
    return torch.arange(first, first + count, dtype=torch.int64) % CLASSES


def training_stats() -> tuple[float, float]:
    """Mean and population std of the training images' pixels / 255 (the CLI recipe)."""
    x = synthetic_pixels(0, TRAIN_IMAGES).double() / 255
    return x.mean().item(), x.std(unbiased=False).item()


def recipe_lr(step: int, warmup: int, total: int) -> float:
    """The CLI recipe's per-step rate: linear warm-up over `warmup` steps, then cosine from
    LR to LR / 100 (convkit's LrSchedule::Cosine)."""
    if step < warmup:
        return LR * (step + 1) / warmup
    t = min((step - warmup) / max(1, total - warmup), 1.0)
    low = 0.01 * LR
    return low + (LR - low) * 0.5 * (1 + math.cos(math.pi * t))


def bench_small_cnn_epoch() -> Callable[[], None]:
    from small_cnn import SmallCnn

    images = synthetic_pixels(0, TRAIN_IMAGES)
    labels = synthetic_labels(0, TRAIN_IMAGES)
    mean, std = training_stats()
    initial = SmallCnn(in_ch=1, classes=CLASSES, width=16, kernel=5)
    steps = math.ceil(TRAIN_IMAGES / TRAIN_BATCH)

    def step() -> None:
        model = copy.deepcopy(initial).train()
        opt = torch.optim.Adam(model.parameters(), lr=LR, betas=(0.9, 0.999), eps=1e-8)
        order = torch.randperm(TRAIN_IMAGES)
        loss_sum, correct = 0.0, 0
        for s in range(steps):
            index = order[s * TRAIN_BATCH : (s + 1) * TRAIN_BATCH]
            x = (images[index].float() / 255 - mean) / std
            y = labels[index]
            opt.zero_grad(set_to_none=True)
            logits = model(x)
            loss = F.cross_entropy(logits, y)
            loss_sum += loss.item() * len(index)
            correct += int((logits.argmax(1) == y).sum())
            loss.backward()
            for group in opt.param_groups:
                group["lr"] = recipe_lr(s, steps, steps)
            opt.step()
        assert math.isfinite(loss_sum)

    return step


def bench_small_cnn_inference() -> Callable[[], None]:
    from small_cnn import SmallCnn

    images = synthetic_pixels(TRAIN_IMAGES, TEST_IMAGES)
    mean, std = training_stats()
    model = SmallCnn(in_ch=1, classes=CLASSES, width=16, kernel=5).eval()

    def step() -> None:
        with torch.inference_mode():
            for lo in range(0, TEST_IMAGES, EVAL_BATCH):
                x = (images[lo : lo + EVAL_BATCH].float() / 255 - mean) / std
                model(x).argmax(1)

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
    "dwconv3_fwd_bwd": bench_dwconv3_fwd_bwd,
    "max_pool2_fwd_bwd": bench_max_pool2_fwd_bwd,
    "avg_pool3_fwd_bwd": bench_avg_pool3_fwd_bwd,
    "dwconv7_d3_fwd_bwd": bench_dwconv7_d3_fwd_bwd,
    "conv1d_dilated_fwd_bwd": bench_conv1d_dilated_fwd_bwd,
    "matmul_1024": bench_matmul_1024,
    "small_cnn_train_step": bench_small_cnn_train_step,
    "inception_v4_fwd_1": bench_inception_v4_fwd(1),
    "inception_v4_fwd_8": bench_inception_v4_fwd(8),
    "scse_fwd": bench_scse_fwd,
    "spp_fwd": bench_spp_fwd,
    "unet_fwd_bwd": bench_unet_fwd_bwd,
    "small_cnn_epoch": bench_small_cnn_epoch,
    "small_cnn_inference": bench_small_cnn_inference,
}

# Whole-model rows take a second or more per run: fewer runs keep the bench near 10 minutes.
HEAVY = {"inception_v4_fwd_1", "inception_v4_fwd_8", "unet_fwd_bwd", "small_cnn_inference"}
HEAVY_RUNS = (1, 6)
# A training epoch takes tens of seconds: (warm-up, timed) runs, full and --quick.
EPOCH = {"small_cnn_epoch"}
EPOCH_RUNS = (1, 3)
EPOCH_RUNS_QUICK = (0, 1)
# Images per run of the throughput rows: their results also carry samples/s.
SAMPLES = {"small_cnn_epoch": TRAIN_IMAGES, "small_cnn_inference": TEST_IMAGES}


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
            if name in EPOCH:
                w, r = EPOCH_RUNS_QUICK if args.quick else EPOCH_RUNS
            else:
                w, r = HEAVY_RUNS if name in HEAVY else (warmup, runs)
            results[name] = time_it(step, w, min(r, runs))
            if name in SAMPLES:
                results[name]["samples"] = SAMPLES[name]
                results[name]["samples_per_s"] = round(
                    SAMPLES[name] / results[name]["median_ms"] * 1e3, 1
                )
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
