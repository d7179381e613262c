"""Shared helpers for the convkit reference generators in tools/refgen.

Not a generator itself: `small_cnn.py` and `conv_norm_act.py` import it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path

import numpy as np
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


def classifier_passes(
    model: nn.Module, x: torch.Tensor, target: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, nn.Module]:
    """The reference passes of a classifier fixture: in eval mode the logits, their
    cross-entropy against `target` and its gradient with respect to `x`; then one train-mode
    forward (batch statistics) on a deep copy, so `model` keeps its eval state and running
    statistics. Returns (logits_eval, loss_eval, input_grad_eval, logits_train, train_copy)."""
    import copy

    import torch.nn.functional as F

    model.eval()
    x_eval = x.clone().requires_grad_(True)
    logits_eval = model(x_eval)
    loss_eval = F.cross_entropy(logits_eval, target)
    (input_grad_eval,) = torch.autograd.grad(loss_eval, x_eval)
    train_model = copy.deepcopy(model)
    train_model.train()
    with torch.no_grad():
        logits_train = train_model(x)
    return logits_eval, loss_eval, input_grad_eval, logits_train, train_model


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


# --- Hashed weights: deterministic tensors reproducible bit-for-bit outside Python ---
#
# Golden tests of large models cannot commit the weights (hundreds of MB). Instead
# every tensor is a pure function of (its index in the state_dict, its shape, its
# role), computed with integer hashing and exact float32 arithmetic, so a Rust test
# regenerates the identical state_dict from a small manifest (key, shape, dtype).

_MASK64 = (1 << 64) - 1


def splitmix64(z: np.ndarray) -> np.ndarray:
    """SplitMix64 (Steele, Lea & Flood 2014) on uint64 arrays, wrapping:
    z += 0x9E3779B97F4A7C15; z = (z ^ z>>30) * 0xBF58476D1CE4E5B9;
    z = (z ^ z>>27) * 0x94D049BB133111EB; return z ^ z>>31."""
    z = z.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def hashed_uniform(salt: int, n: int) -> np.ndarray:
    """float32[n], element i = f32(splitmix64(salt * 2**32 + i) >> 40) / 2**24 * 2 - 1.

    Every step is exact in float32 (a 24-bit integer scaled by powers of two), so
    the values lie in [-1, 1) and any language reproduces them bit for bit."""
    assert 0 <= salt < 2**32 and n < 2**32, (salt, n)
    counters = np.uint64((salt << 32) & _MASK64) + np.arange(n, dtype=np.uint64)
    top24 = (splitmix64(counters) >> np.uint64(40)).astype(np.float32)
    return top24 / np.float32(2**24) * np.float32(2) - np.float32(1)


def hashed_role(key: str, shape: tuple[int, ...]) -> tuple[float, float] | None:
    """(offset a, scale b) of a state_dict tensor by its role; value = u * b + a.

    conv weight (4-D): a=0, b=f32(sqrt(6/fan_in)) (He-uniform: activations keep
    their scale through ReLU layers); linear weight (2-D): a=0, b=f32(sqrt(3/fan_in))
    (unit-variance logits); norm weight (1-D `weight`): a=1, b=0.1; `bias`: a=0,
    b=0.1; running_mean: a=0, b=0.1; running_var: a=1, b=0.25.
    None for num_batches_tracked (an int64 zero)."""
    name = key.rsplit(".", 1)[-1]
    if name == "num_batches_tracked":
        return None
    if name == "running_mean" or name == "bias":
        return 0.0, 0.1
    if name == "running_var":
        return 1.0, 0.25
    if name == "weight" and len(shape) == 1:
        return 1.0, 0.1
    if name == "weight" and len(shape) in (2, 4):
        fan_in = math.prod(shape[1:])
        return 0.0, math.sqrt((6.0 if len(shape) == 4 else 3.0) / fan_in)
    raise ValueError(f"no hashed-weight role for `{key}` of shape {shape}")


def hashed_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The model's state_dict with every tensor replaced by its hashed value
    (salt = the tensor's index in state_dict order; see `hashed_role`)."""
    out = {}
    for salt, (key, t) in enumerate(model.state_dict().items()):
        shape = tuple(t.shape)
        role = hashed_role(key, shape)
        if role is None:
            out[key] = torch.zeros(shape, dtype=torch.int64)
            continue
        a, b = (np.float32(v) for v in role)
        u = hashed_uniform(salt, math.prod(shape))
        out[key] = torch.from_numpy((u * b + a).reshape(shape))
    return out


def load_hashed(model: nn.Module) -> dict[str, torch.Tensor]:
    """Fill `model` with `hashed_state_dict(model)` (strict) and return that dict."""
    state = hashed_state_dict(model)
    model.load_state_dict(state, strict=True)
    return state


def write_manifest(
    state: dict[str, torch.Tensor], path: Path, generator: str, num_params: int
) -> None:
    """Write the JSON manifest of a hashed state_dict: the generator, the model's
    parameter count, and its tensors in state_dict order (their index is the
    hash salt), each {"key", "shape", "dtype"} with dtype "F32" or "I64"
    (safetensors spelling). One tensor per line, so diffs stay readable."""
    dtypes = {torch.float32: "F32", torch.int64: "I64"}
    entries = [
        json.dumps({"key": k, "shape": list(v.shape), "dtype": dtypes[v.dtype]})
        for k, v in state.items()
    ]
    head = json.dumps({"generator": generator, "num_params": num_params})[:-1]
    text = head + ', "tensors": [\n' + ",\n".join(entries) + "\n]}\n"
    assert json.loads(text)["tensors"][-1]["key"] == list(state)[-1]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"wrote {path} ({path.stat().st_size} bytes)")
