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


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0])
    tensors = build_reference()
    path = args.out_root / "crates" / "convkit-conv" / "tests" / "fixtures" / "conv_norm_act.safetensors"
    _common.save(
        tensors,
        path,
        generator=f"tools/refgen/conv_norm_act.py (torch {torch.__version__}, bn eps 1e-5)",
    )


if __name__ == "__main__":
    main()
