"""The `convkit train` recipe in PyTorch, on the same files, side by side with convkit.

For each seed this script trains the PyTorch twin of a convkit model with exactly
the default recipe of `convkit train` (issue #13; summarised below) and
reports its test accuracy and wall time. With --convkit it also runs
`convkit train ... --json --quiet` for each seed and prints both side by side;
with --markdown it writes that table as a markdown section (docs/real-data.md).
Nothing is written unless --markdown is given.

Data (loaded as convkit loads them):
  npy:DIR   DIR/x_train.npy, y_train.npy, x_test.npy, y_test.npy, optional
            classes.txt. x: u8 -> value / 255, f32/f64 -> as is; rank 3
            [N, H, W] gets one channel; rank 4 is NHWC when axis 3 is smaller
            than axis 1, else NCHW (convkit's `ImageLayout::Auto`).
  idx:DIR   DIR/{train,t10k}-{images-idx3,labels-idx1}-ubyte, each optionally
            .gz (detected by the gzip magic bytes); u8 pixels -> value / 255.
  Classes: the lines of classes.txt, else max(label) + 1.

Recipe (per seed S):
  - per-channel normalisation (x - mean_c) / std_c, mean and population std over
    the TRAINING split (float64; std 0 -> 1), applied to both splits;
  - torch.manual_seed(S), then the model with PyTorch's default initialisation
    (it cannot equal burn's: the comparison is of recipes, not of bit patterns):
      small-cnn  tools/refgen/small_cnn.py `SmallCnn(C, K, width=16, kernel=5)` (the CLI's
                 small-cnn uses 5x5 kernels)
      se-cnn     `SeCnn` below, twin of crates/convkit-zoo/src/se_cnn.rs
  - Adam(lr, betas (0.9, 0.999), eps 1e-8, no weight decay), mean cross-entropy,
    batches of --batch-size (the last partial batch kept), the training set
    reshuffled every epoch by torch.randperm with a Generator seeded S + epoch;
  - per-step learning rate (W = steps of one epoch, T = all steps):
      s < W:  lr * (s + 1) / W
      else:   m + (lr - m) * 0.5 * (1 + cos(pi * t)),  m = 0.01 lr,
              t = (s - W) / max(1, T - W)
  - after the last epoch: model.eval(), batches of 256, accuracy = argmax == label.
  Seconds = loading + normalising + building + training + evaluating, as
  convkit's `seconds` (whole run), after one untimed warm-up step before the
  first seed (not counted: Python and torch start-up). torch.set_num_threads
  (--threads); convkit runs with RAYON_NUM_THREADS=--threads. The markdown
  gives the machine's load average: other work skews both sides' seconds (and
  PyTorch's OpenMP threads suffer most when the cores are oversubscribed).

convkit's JSON (one object on stdout) must hold test_accuracy, seconds, params,
train_loss; the parameter counts of both sides are printed as a sanity check.

Usage:
  target/refgen-venv/bin/python tools/refgen/real_data_recipe.py \\
      --data npy:target/real-data/digits --model small-cnn \\
      [--seeds 0 1 2] [--epochs 10] [--lr 1e-2] [--batch-size 64] [--threads 2] \\
      [--convkit target/release/convkit] [--markdown docs/real-data.md]
(target/real-data/ is written by tools/refgen/real_data.py.)
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tools/refgen free of __pycache__

import argparse
import datetime
import gzip
import json
import math
import os
import platform
import statistics
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from small_cnn import SmallCnn

EVAL_BATCH = 256
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8
FINAL_LR_FRACTION = 0.01


# --- models --------------------------------------------------------------------------


class ChannelSqueezeExcite(nn.Module):
    """cSE, twin of convkit-conv's `ChannelSqueezeExcite`:
    x * sigmoid(expand(relu(reduce(avgpool(x))))), both 1x1 convolutions with bias,
    C -> max(1, C // reduction) -> C."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.reduce = nn.Conv2d(channels, hidden, 1, bias=True)
        self.expand = nn.Conv2d(hidden, channels, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        squeezed = x.mean(dim=(2, 3), keepdim=True)
        gate = torch.sigmoid(self.expand(F.relu(self.reduce(squeezed))))
        return x * gate


class ConvBnRelu(nn.Module):
    """conv3x3 (padding 1, no bias) -> BatchNorm2d(eps 1e-5, momentum 0.1) -> ReLU,
    convkit-conv's `ConvNormAct` with its defaults."""

    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(out_ch, eps=1e-5, momentum=0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.norm(self.conv(x)))


class SeCnn(nn.Module):
    """Twin of convkit-zoo's `SeCnn` (defaults width 16, 3 stages, reduction 4):
    stage i = ConvBnRelu(-> width * 2^i, stride 1 for i = 0 else 2) -> cSE;
    then global average pool -> Linear(width * 2^(stages-1), classes).
    Module names follow the Rust paths (blocks.i, excite.i, head)."""

    def __init__(
        self, in_ch: int, classes: int, width: int = 16, stages: int = 3, reduction: int = 4
    ) -> None:
        super().__init__()
        blocks, excite = [], []
        channels = in_ch
        for i in range(stages):
            out = width << i
            blocks.append(ConvBnRelu(channels, out, stride=1 if i == 0 else 2))
            excite.append(ChannelSqueezeExcite(out, reduction))
            channels = out
        self.blocks = nn.ModuleList(blocks)
        self.excite = nn.ModuleList(excite)
        self.head = nn.Linear(channels, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block, se in zip(self.blocks, self.excite):
            x = se(block(x))
        return self.head(x.mean(dim=(2, 3)))


def build_model(name: str, in_ch: int, classes: int) -> nn.Module:
    if name == "small-cnn":
        return SmallCnn(in_ch=in_ch, classes=classes, width=16, kernel=5)
    if name == "se-cnn":
        return SeCnn(in_ch=in_ch, classes=classes)
    raise SystemExit(f"model `{name}`: this script has small-cnn and se-cnn")


# --- data ----------------------------------------------------------------------------


@dataclass
class Split:
    x: torch.Tensor  # float32 [N, C, H, W]
    y: torch.Tensor  # int64 [N]


@dataclass
class DataSet:
    train: Split
    test: Split
    classes: list[str]
    source: str  # what was read, e.g. "npy:target/real-data/digits"
    stored: str  # how the pixels were stored, e.g. "u8 NHWC" or "f32 NCHW"


def pixels_to_float(array: np.ndarray) -> np.ndarray:
    """u8 -> value / 255 (float32); f32/f64 -> float32 as is."""
    if array.dtype == np.uint8:
        return array.astype(np.float32) / np.float32(255)
    if array.dtype in (np.float32, np.float64):
        return array.astype(np.float32)
    raise SystemExit(f"images of dtype {array.dtype}: expected uint8, float32 or float64")


def to_nchw(array: np.ndarray) -> tuple[np.ndarray, str]:
    """[N,H,W] -> [N,1,H,W]; rank 4 NHWC (axis 3 smaller than axis 1) -> NCHW."""
    if array.ndim == 3:
        return array[:, None, :, :], "NHW"
    if array.ndim == 4:
        if array.shape[3] < array.shape[1]:
            return array.transpose(0, 3, 1, 2), "NHWC"
        return array, "NCHW"
    raise SystemExit(f"images of shape {array.shape}: expected rank 3 or 4")


def load_npy(folder: Path) -> tuple[Split, Split, list[str] | None, str]:
    splits, stored = [], ""
    for part in ("train", "test"):
        x = np.load(folder / f"x_{part}.npy", allow_pickle=False)
        y = np.load(folder / f"y_{part}.npy", allow_pickle=False)
        dtype = {np.dtype(np.uint8): "u8"}.get(x.dtype, str(x.dtype))
        x, layout = to_nchw(x)
        stored = f"{dtype} {layout}"
        splits.append(
            Split(torch.from_numpy(np.ascontiguousarray(pixels_to_float(x))),
                  torch.from_numpy(y.astype(np.int64)))
        )
    names_file = folder / "classes.txt"
    names = None
    if names_file.is_file():
        names = [line.strip() for line in names_file.read_text().splitlines() if line.strip()]
    return splits[0], splits[1], names, stored


def read_idx(path: Path) -> np.ndarray:
    """An IDX file of u8 values (gzip detected by its magic bytes)."""
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    (magic,) = struct.unpack(">I", data[:4])
    if magic >> 8 != 0x08:
        raise SystemExit(f"{path}: IDX magic {magic:#010x}, expected u8 elements (0x000008xx)")
    ndim = magic & 0xFF
    dims = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def idx_file(folder: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (folder / name).is_file():
            return folder / name
    raise SystemExit(f"{folder}: neither {stem} nor {stem}.gz")


def load_idx(folder: Path) -> tuple[Split, Split, None, str]:
    splits = []
    for prefix in ("train", "t10k"):
        images = read_idx(idx_file(folder, f"{prefix}-images-idx3-ubyte"))
        labels = read_idx(idx_file(folder, f"{prefix}-labels-idx1-ubyte"))
        x, _ = to_nchw(images)
        splits.append(
            Split(torch.from_numpy(np.ascontiguousarray(pixels_to_float(x))),
                  torch.from_numpy(labels.astype(np.int64)))
        )
    return splits[0], splits[1], None, "u8 NHW"


def load_data(spec: str) -> DataSet:
    kind, _, path = spec.partition(":")
    folder = Path(path)
    if kind == "npy":
        train, test, names, stored = load_npy(folder)
    elif kind == "idx":
        train, test, names, stored = load_idx(folder)
    else:
        raise SystemExit(f"--data {spec}: this script reads npy:DIR and idx:DIR")
    if names is None:
        count = int(max(train.y.max(), test.y.max())) + 1
        names = [str(i) for i in range(count)]
    normalise(train, test)
    return DataSet(train, test, names, spec, stored)


def normalise(train: Split, test: Split) -> None:
    """(x - mean_c) / std_c in place, statistics of the training split (float64,
    population std, 0 -> 1)."""
    x64 = train.x.to(torch.float64)
    mean = x64.mean(dim=(0, 2, 3), keepdim=True)
    std = ((x64 - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True).sqrt()
    std = torch.where(std == 0, torch.ones_like(std), std)
    for split in (train, test):
        split.x = ((split.x.to(torch.float64) - mean) / std).to(torch.float32)


# --- training ------------------------------------------------------------------------


def learning_rate(step: int, warmup_steps: int, total_steps: int, lr: float) -> float:
    """Linear warm-up over the first epoch, then cosine from lr to 0.01 lr."""
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    floor = FINAL_LR_FRACTION * lr
    t = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return floor + (lr - floor) * 0.5 * (1.0 + math.cos(math.pi * t))


@torch.no_grad()
def evaluate(model: nn.Module, split: Split) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) in eval mode, batches of EVAL_BATCH."""
    model.eval()
    correct, loss_sum = 0, 0.0
    for start in range(0, len(split.y), EVAL_BATCH):
        x = split.x[start : start + EVAL_BATCH]
        y = split.y[start : start + EVAL_BATCH]
        logits = model(x)
        loss_sum += F.cross_entropy(logits, y, reduction="sum").item()
        correct += int((logits.argmax(dim=1) == y).sum())
    return correct / len(split.y), loss_sum / len(split.y)


@dataclass
class RunResult:
    test_accuracy: float
    test_loss: float
    train_loss: float  # last epoch, mean over samples
    seconds: float
    samples_per_second: float  # training, last epoch
    params: int


def train_torch(args: argparse.Namespace, seed: int, quiet: bool) -> tuple[RunResult, DataSet]:
    start = time.perf_counter()
    data = load_data(args.data)
    torch.manual_seed(seed)
    train = data.train
    model = build_model(args.model, train.x.shape[1], len(data.classes))
    params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.Adam(
        model.parameters(), lr=args.lr, betas=ADAM_BETAS, eps=ADAM_EPS, weight_decay=0.0
    )
    samples = len(train.y)
    steps_per_epoch = math.ceil(samples / args.batch_size)
    total_steps = steps_per_epoch * args.epochs
    step = 0
    train_loss = samples_per_second = float("nan")
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(samples, generator=torch.Generator().manual_seed(seed + epoch))
        loss_sum = 0.0
        epoch_start = time.perf_counter()
        for first in range(0, samples, args.batch_size):
            batch = order[first : first + args.batch_size]
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(step, steps_per_epoch, total_steps, args.lr)
            loss = F.cross_entropy(model(train.x[batch]), train.y[batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(batch)
            step += 1
        samples_per_second = samples / (time.perf_counter() - epoch_start)
        train_loss = loss_sum / samples
        if not quiet:
            print(
                f"  torch seed {seed} epoch {epoch + 1:2d}/{args.epochs} "
                f"train loss {train_loss:.4f} ({samples_per_second:.0f} samples/s)",
                file=sys.stderr,
            )
    test_accuracy, test_loss = evaluate(model, data.test)
    seconds = time.perf_counter() - start
    return (
        RunResult(test_accuracy, test_loss, train_loss, seconds, samples_per_second, params),
        data,
    )


def warm_up(args: argparse.Namespace) -> None:
    """One untimed training step of a throwaway model on the real data, so that
    PyTorch's one-off initialisation (kernel selection, allocator, lazy modules)
    is not charged to the first seed."""
    data = load_data(args.data)
    model = build_model(args.model, data.train.x.shape[1], len(data.classes))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    batch = slice(0, args.batch_size)
    F.cross_entropy(model(data.train.x[batch]), data.train.y[batch]).backward()
    optimizer.step()
    evaluate(model, Split(data.test.x[:EVAL_BATCH], data.test.y[:EVAL_BATCH]))


# --- convkit -------------------------------------------------------------------------


def convkit_command(args: argparse.Namespace, seed: int | str) -> list[str]:
    """`convkit train` with the recipe's flags, for `seed` (a number, or "S" in docs)."""
    return [
        str(args.convkit), "train", "--data", args.data, "--model", args.model,
        "--seed", str(seed), "--epochs", str(args.epochs), "--lr", repr(args.lr),
        "--batch-size", str(args.batch_size), "--json", "--quiet",
    ]


def parse_convkit_json(stdout: str) -> dict:
    """The one JSON object `convkit train --json` prints on stdout."""
    try:
        report = json.loads(stdout)
    except json.JSONDecodeError as e:
        raise ValueError(f"stdout is not one JSON object ({e}): {stdout[-2000:]!r}") from None
    if not isinstance(report, dict):
        raise ValueError(f"stdout is JSON but not an object: {stdout[-2000:]!r}")
    missing = [k for k in ("test_accuracy", "seconds") if not isinstance(report.get(k), (int, float))]
    if missing:
        raise ValueError(f"JSON object lacks numeric {missing}: {report}")
    return report


def run_convkit(args: argparse.Namespace, seed: int) -> dict:
    env = dict(os.environ, RAYON_NUM_THREADS=str(args.threads))
    command = convkit_command(args, seed)
    print("$ RAYON_NUM_THREADS=%d %s" % (args.threads, " ".join(command)), file=sys.stderr)
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(
            f"convkit exited with {done.returncode}:\n{done.stderr[-4000:]}"
        )
    try:
        return parse_convkit_json(done.stdout)
    except ValueError as e:
        raise SystemExit(f"convkit train --json: {e}\nstderr:\n{done.stderr[-2000:]}")


# --- report --------------------------------------------------------------------------


def mean_std(values: list[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for a single value)."""
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def table_rows(
    seeds: list[int], torch_runs: list[RunResult], convkit_runs: list[dict] | None
) -> tuple[list[str], list[list[str]]]:
    """Header and rows (per seed, then mean ± std) of the comparison table."""
    pct = lambda v: f"{100 * v:.2f} %"  # noqa: E731
    sec = lambda v: f"{v:.1f}"  # noqa: E731
    torch_acc = [r.test_accuracy for r in torch_runs]
    torch_sec = [r.seconds for r in torch_runs]
    if convkit_runs is None:
        header = ["seed", "PyTorch test accuracy", "PyTorch s"]
        rows = [[str(s), pct(a), sec(t)] for s, a, t in zip(seeds, torch_acc, torch_sec)]
        (am, asd), (tm, tsd) = mean_std(torch_acc), mean_std(torch_sec)
        rows.append(["mean ± std", f"{pct(am)} ± {100 * asd:.2f}", f"{sec(tm)} ± {tsd:.1f}"])
        return header, rows
    conv_acc = [float(r["test_accuracy"]) for r in convkit_runs]
    conv_sec = [float(r["seconds"]) for r in convkit_runs]
    header = ["seed", "convkit test accuracy", "PyTorch test accuracy", "convkit s", "PyTorch s"]
    rows = [
        [str(s), pct(ca), pct(ta), sec(cs), sec(ts)]
        for s, ca, ta, cs, ts in zip(seeds, conv_acc, torch_acc, conv_sec, torch_sec)
    ]
    summary = ["mean ± std"]
    for values, is_accuracy in ((conv_acc, True), (torch_acc, True), (conv_sec, False), (torch_sec, False)):
        m, sd = mean_std(values)
        summary.append(f"{pct(m)} ± {100 * sd:.2f}" if is_accuracy else f"{sec(m)} ± {sd:.1f}")
    rows.append(summary)
    return header, rows


def plain_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = lambda r: "  ".join(c.rjust(w) for c, w in zip(r, widths))  # noqa: E731
    return "\n".join([fmt(header), fmt(["-" * w for w in widths]), *map(fmt, rows)])


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def markdown_section(
    args: argparse.Namespace,
    data: DataSet,
    torch_runs: list[RunResult],
    convkit_runs: list[dict] | None,
    table: str,
    load_average: str,
) -> str:
    train, test = data.train, data.test
    _, c, h, w = train.x.shape
    params = f"PyTorch {torch_runs[0].params}"
    if convkit_runs:
        params = f"convkit {convkit_runs[0].get('params', '?')}, " + params
    convkit_line = (
        f"- convkit: `RAYON_NUM_THREADS={args.threads} {' '.join(convkit_command(args, 'S'))}`, "
        f"device `{convkit_runs[0].get('device', '?')}`\n"
        if convkit_runs
        else "- convkit: not run (no `--convkit`)\n"
    )
    return (
        f"## `{args.model}` on `{data.source}`: "
        f"{'convkit and PyTorch, same recipe' if convkit_runs else 'PyTorch recipe'}\n\n"
        f"{table}\n\n"
        f"- data: `{data.source}` ({data.stored}), {len(train.y)} train / {len(test.y)} test "
        f"images of {c}×{h}×{w}, {len(data.classes)} classes\n"
        f"- model: `{args.model}`, parameters: {params}\n"
        f"- recipe: Adam(lr {args.lr:g}, betas (0.9, 0.999), eps 1e-8), batch {args.batch_size} "
        f"(last partial batch kept), epochs {args.epochs}, reshuffled every epoch, linear "
        f"warm-up over the first epoch then cosine to 0.01·lr per step, mean cross-entropy; "
        f"per-channel normalisation with training-split statistics; test accuracy after the "
        f"last epoch (eval mode); seeds {' '.join(map(str, args.seeds))}; "
        f"mean ± sample standard deviation over seeds\n"
        f"- seconds: whole run (load, train, evaluate), threads: {args.threads}\n"
        f"{convkit_line}"
        f"- PyTorch: `tools/refgen/real_data_recipe.py` (torch {torch.__version__}, "
        f"numpy {np.__version__}, Python {platform.python_version()}), "
        f"`torch.set_num_threads({args.threads})`, PyTorch default initialisation\n"
        f"- machine: {platform.system()} {platform.machine()}, {os.cpu_count()} logical CPUs "
        f"({platform.processor() or 'processor unknown'}), load average {load_average} at the "
        f"start; date {datetime.date.today().isoformat()}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="npy:DIR or idx:DIR")
    parser.add_argument("--model", default="small-cnn", choices=["small-cnn", "se-cnn"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=1e-2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2,
                        help="torch.set_num_threads and convkit's RAYON_NUM_THREADS (default 2)")
    parser.add_argument("--convkit", type=Path, help="a convkit binary to run side by side")
    parser.add_argument("--markdown", type=Path, help="write the table as a markdown section here")
    parser.add_argument("--quiet", action="store_true", help="no per-epoch lines on stderr")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    # Other work on the machine skews both sides' seconds: the report says how busy it was.
    load_average = " / ".join(f"{v:.2f}" for v in os.getloadavg())
    torch_runs, convkit_runs = [], ([] if args.convkit else None)
    data = None
    warm_up(args)
    for seed in args.seeds:
        if convkit_runs is not None:
            report = run_convkit(args, seed)
            convkit_runs.append(report)
            print(f"convkit seed {seed}: test accuracy {report['test_accuracy']:.4f}, "
                  f"{report['seconds']:.1f} s", file=sys.stderr)
        result, data = train_torch(args, seed, args.quiet)
        torch_runs.append(result)
        print(f"torch   seed {seed}: test accuracy {result.test_accuracy:.4f}, "
              f"{result.seconds:.1f} s, train loss {result.train_loss:.4f}, "
              f"{result.params} parameters", file=sys.stderr)

    if convkit_runs and "params" in convkit_runs[0] and convkit_runs[0]["params"] != torch_runs[0].params:
        print(f"note: parameter counts differ: convkit {convkit_runs[0]['params']}, "
              f"PyTorch {torch_runs[0].params}", file=sys.stderr)
    header, rows = table_rows(args.seeds, torch_runs, convkit_runs)
    print(f"{args.model} on {args.data}: epochs {args.epochs}, lr {args.lr:g}, "
          f"batch {args.batch_size}, threads {args.threads}")
    print(plain_table(header, rows))
    if args.markdown:
        text = markdown_section(
            args, data, torch_runs, convkit_runs, markdown_table(header, rows), load_average
        )
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text)
        print(f"wrote {args.markdown}")


if __name__ == "__main__":
    main()
