"""Golden fixtures for the convkit-zoo SeCnn, generated from PyTorch.

Reference: a PyTorch `SeCnn` written from its definition (convkit has no upstream for it;
its pieces are torch's and smp's): `stages` x (Conv2d 3x3 pad 1, stride 1 then 2, no bias
-> BatchNorm2d -> ReLU -> channel squeeze-excitation as smp's cSE: AdaptiveAvgPool2d(1) ->
Conv2d(C, max(1, C // r), 1) -> ReLU -> Conv2d(max(1, C // r), C, 1) -> Sigmoid, times the
input) -> global mean over H, W -> Linear(C_last, classes). Module names equal convkit's
parameter paths (`blocks.i.conv`, `blocks.i.norm`, `excite.i.reduce`, `excite.i.expand`,
`head`), so the state_dict loads through `SeCnn::pytorch_keys`. in_ch=2, classes=3, width=4,
stages=3, reduction=2, float32, seed 0; every BatchNorm gets non-trivial state.

Writes into <out-root>/crates/convkit-zoo/tests/fixtures/:

  se_cnn_weights.safetensors   `model.state_dict()` (a plain user export)
  se_cnn_io.safetensors
      input              [3,2,12,10] f32 ~ N(0,1)
      target             [3] i64
      logits_eval        [3,3]  model.eval() forward
      input_grad_eval    [3,2,12,10]  d cross_entropy(logits_eval, target) / d input
      logits_train       [3,3]  train-mode forward (batch statistics) on a copy

Run with `cargo xtask refgen`, or directly:
    target/refgen-venv/bin/python tools/refgen/se_cnn.py [--out-root DIR]
Output is byte-identical from run to run (fixed seed, deterministic kernels).
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tools/refgen free of __pycache__

import torch
import torch.nn.functional as F
from torch import nn

import _common


class ConvBnRelu(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.norm(self.conv(x)))


class ChannelSe(nn.Module):
    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        hidden = max(1, channels // reduction)
        self.reduce = nn.Conv2d(channels, hidden, 1)
        self.expand = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = F.adaptive_avg_pool2d(x, 1)
        gate = torch.sigmoid(self.expand(F.relu(self.reduce(gate))))
        return x * gate


class SeCnn(nn.Module):
    def __init__(
        self, in_ch: int, classes: int, width: int, stages: int, reduction: int
    ) -> None:
        super().__init__()
        channels = [width << i for i in range(stages)]
        inputs = [in_ch] + channels[:-1]
        self.blocks = nn.ModuleList(
            ConvBnRelu(c_in, c_out, 1 if i == 0 else 2)
            for i, (c_in, c_out) in enumerate(zip(inputs, channels))
        )
        self.excite = nn.ModuleList(ChannelSe(c, reduction) for c in channels)
        self.head = nn.Linear(channels[-1], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for block, se in zip(self.blocks, self.excite):
            x = se(block(x))
        return self.head(x.mean(dim=(2, 3)))


def build_reference() -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    _common.make_deterministic(0)
    model = SeCnn(in_ch=2, classes=3, width=4, stages=3, reduction=2)
    for block in model.blocks:
        _common.randomize_batch_norm(block.norm)

    x = torch.randn(3, 2, 12, 10)
    target = torch.randint(0, 3, (3,), dtype=torch.int64)

    logits_eval, _, input_grad_eval, logits_train, _ = _common.classifier_passes(
        model, x, target
    )

    io = {
        "input": x,
        "target": target,
        "logits_eval": logits_eval,
        "input_grad_eval": input_grad_eval,
        "logits_train": logits_train,
    }
    return dict(model.state_dict()), io


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0])
    weights, io = build_reference()
    fixtures = args.out_root / "crates" / "convkit-zoo" / "tests" / "fixtures"
    _common.save(weights, fixtures / "se_cnn_weights.safetensors", generator=None)
    _common.save(
        io,
        fixtures / "se_cnn_io.safetensors",
        generator=f"tools/refgen/se_cnn.py (torch {torch.__version__})",
    )


if __name__ == "__main__":
    main()
