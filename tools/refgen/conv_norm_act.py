"""Golden fixture for convkit-conv's conv -> batch-norm -> ReLU block, from PyTorch.

Reference: torch.nn.Conv2d(4, 6, kernel_size=3, stride=2, padding=1, bias=True)
followed by torch.nn.BatchNorm2d(6, eps=1e-5) in eval mode and ReLU, float32,
torch.manual_seed(0). The BatchNorm gets non-trivial state
(gamma ~ U(0.5,1.5), beta ~ N(0,0.1), running_mean ~ N(0,0.1),
running_var ~ U(0.5,1.5)).

Writes <out-root>/crates/convkit-conv/tests/fixtures/conv_norm_act.safetensors:
  input              [2,4,9,7] f32, ~ N(0,1)
  conv.weight        [6,4,3,3]
  conv.bias          [6]
  norm.weight        [6]   gamma
  norm.bias          [6]   beta
  norm.running_mean  [6]
  norm.running_var   [6]
  output             [2,6,5,4]  relu(bn(conv(input))), eval mode

And three variants, each <out-root>/crates/convkit-conv/tests/fixtures/conv_norm_act_<case>.safetensors
with the same key layout (input, conv.*, norm.* where present, output):
  gn_gelu    Conv2d(4, 8, 3, padding=1, bias=False) -> GroupNorm(2, 8) (random affine)
             -> GELU (exact, erf); input [2,4,6,5]
  rect_silu  Conv2d(4, 6, (1, 7), padding=(0, 3), bias=False) -> BatchNorm2d(6, eps=1e-3)
             (eval, random stats) -> SiLU; input [2,4,5,9]
  tf_same    timm.layers.Conv2dSame(4, 6, 3, stride=2, bias=True), no norm, no activation
             (TensorFlow SAME padding, odd pixel at the bottom/right); input [2,4,9,8]

Run with `cargo xtask refgen`, or directly:
    target/refgen-venv/bin/python tools/refgen/conv_norm_act.py [--out-root DIR]
Output is byte-identical from run to run (fixed seed, deterministic kernels).
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tools/refgen free of __pycache__

import torch
import torch.nn.functional as F
from torch import nn

import _common


def build_reference() -> dict[str, torch.Tensor]:
    _common.make_deterministic(0)

    conv = nn.Conv2d(4, 6, 3, stride=2, padding=1, bias=True)
    norm = nn.BatchNorm2d(6, eps=1e-5)
    _common.randomize_batch_norm(norm)
    x = torch.randn(2, 4, 9, 7)

    conv.eval()
    norm.eval()
    with torch.no_grad():
        output = F.relu(norm(conv(x)))
    assert output.shape == (2, 6, 5, 4), output.shape

    return {
        "input": x,
        "conv.weight": conv.weight,
        "conv.bias": conv.bias,
        "norm.weight": norm.weight,
        "norm.bias": norm.bias,
        "norm.running_mean": norm.running_mean,
        "norm.running_var": norm.running_var,
        "output": output,
    }


def variant(conv: nn.Module, norm: nn.Module | None, act, input_shape) -> dict[str, torch.Tensor]:
    """One conv -> norm -> activation case in eval mode, with its state_dict keys."""
    if isinstance(norm, nn.BatchNorm2d):
        _common.randomize_batch_norm(norm)
    elif isinstance(norm, nn.GroupNorm):
        with torch.no_grad():
            norm.weight.copy_(torch.rand(norm.num_channels) + 0.5)
            norm.bias.copy_(torch.randn(norm.num_channels) * 0.1)
    x = torch.randn(*input_shape)
    tensors = {"input": x}
    tensors.update({f"conv.{k}": v for k, v in conv.state_dict().items()})
    y = conv.eval()(x)
    if norm is not None:
        tensors.update(
            {f"norm.{k}": v for k, v in norm.state_dict().items() if k != "num_batches_tracked"}
        )
        y = norm.eval()(y)
    tensors["output"] = act(y).detach()
    return tensors


def build_variants() -> dict[str, dict[str, torch.Tensor]]:
    from timm.layers import Conv2dSame

    _common.make_deterministic(1)
    return {
        "gn_gelu": variant(
            nn.Conv2d(4, 8, 3, padding=1, bias=False),
            nn.GroupNorm(2, 8),
            F.gelu,
            (2, 4, 6, 5),
        ),
        "rect_silu": variant(
            nn.Conv2d(4, 6, (1, 7), padding=(0, 3), bias=False),
            nn.BatchNorm2d(6, eps=1e-3),
            F.silu,
            (2, 4, 5, 9),
        ),
        "tf_same": variant(Conv2dSame(4, 6, 3, stride=2, bias=True), None, lambda y: y, (2, 4, 9, 8)),
    }


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0])
    folder = args.out_root / "crates" / "convkit-conv" / "tests" / "fixtures"
    _common.save(
        build_reference(),
        folder / "conv_norm_act.safetensors",
        generator=f"tools/refgen/conv_norm_act.py (torch {torch.__version__}, bn eps 1e-5)",
    )
    import timm

    for case, tensors in build_variants().items():
        _common.save(
            tensors,
            folder / f"conv_norm_act_{case}.safetensors",
            generator=f"tools/refgen/conv_norm_act.py {case} (torch {torch.__version__}, timm {timm.__version__})",
        )


if __name__ == "__main__":
    main()
