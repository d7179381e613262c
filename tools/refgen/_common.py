"""Shared helpers for the convkit reference generators in tools/refgen.

Not a generator itself: `small_cnn.py` and `conv_norm_act.py` import it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch
from torch import nn

# tools/refgen/_common.py -> repository root is two levels above this folder.
REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--out-root",
        type=Path,
        default=REPO_ROOT,
        help="root under which crates/<crate>/tests/fixtures/ is written "
        "(default: the repository root, %(default)s)",
    )
    return parser.parse_args()


def make_deterministic(seed: int = 0) -> None:
    """Fix the seed and force single-threaded, deterministic CPU kernels so the
    written fixtures are byte-identical from one run to the next."""
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.set_default_dtype(torch.float32)


@torch.no_grad()
def randomize_batch_norm(bn: nn.BatchNorm2d) -> None:
    """Give a BatchNorm layer non-trivial affine parameters and running stats,
    drawn from the global (seeded) generator:
    gamma ~ U(0.5, 1.5), beta ~ N(0, 0.1), running_mean ~ N(0, 0.1),
    running_var ~ U(0.5, 1.5), num_batches_tracked = 10."""
    n = bn.num_features
    bn.weight.copy_(torch.rand(n) + 0.5)
    bn.bias.copy_(torch.randn(n) * 0.1)
    bn.running_mean.copy_(torch.randn(n) * 0.1)
    bn.running_var.copy_(torch.rand(n) + 0.5)
    bn.num_batches_tracked.fill_(10)


def save(tensors: dict[str, torch.Tensor], path: Path, generator: str | None) -> None:
    """Write `tensors` as safetensors (contiguous, detached CPU copies).

    With `generator`, the header gets one `__metadata__` entry naming it. Only
    one: safetensors writes metadata in hash-map order, so several keys would
    make the file bytes differ from run to run."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    clean = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    tmp = path.with_name(path.name + ".tmp")
    metadata = None if generator is None else {"generator": generator}
    save_file(clean, os.fspath(tmp), metadata=metadata)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    print(f"wrote {path} ({path.stat().st_size} bytes)")
