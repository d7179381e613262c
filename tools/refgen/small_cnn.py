"""Golden fixtures for the convkit-zoo SmallCnn, generated from PyTorch.

Reference: a PyTorch `SmallCnn` (defined below) --
    conv1 3x3 pad 1 (no bias) -> BatchNorm2d -> ReLU -> MaxPool2d(2)
    -> conv2 3x3 pad 1 (no bias) -> BatchNorm2d -> ReLU
    -> global mean over H, W -> Linear(2*width, classes)
with in_ch=3, classes=3, width=8, float32, torch.manual_seed(0). Both BatchNorm
layers get non-trivial state (gamma ~ U(0.5,1.5), beta ~ N(0,0.1),
running_mean ~ N(0,0.1), running_var ~ U(0.5,1.5), num_batches_tracked = 10).

Writes into <out-root>/crates/convkit-zoo/tests/fixtures/:

  small_cnn_weights.safetensors
      exactly `model.state_dict()` saved with safetensors.torch.save_file
      (conv1.weight, bn1.{weight,bias,running_mean,running_var,
      num_batches_tracked}, conv2.weight, bn2.*, fc.weight, fc.bias),
      i.e. what a user exporting a PyTorch model would produce.

  small_cnn_io.safetensors
      input                         [4,3,16,16] f32, ~ N(0,1)
      target                        [4] i64, in {0,1,2}
      logits_eval                   [4,3]  model.eval() forward
      loss_eval                     [1]    F.cross_entropy (mean), eval mode
      input_grad_eval               [4,3,16,16]  d loss_eval / d input
      logits_train                  [4,3]  train-mode forward (BN batch stats)
                                           on a deep copy of the model
      running_mean_bn1_after_train  [8]    bn1 running stats after that one
      running_var_bn1_after_train   [8]    train forward (momentum 0.1,
                                           unbiased batch variance)

Run with `cargo xtask refgen`, or directly:
    target/refgen-venv/bin/python tools/refgen/small_cnn.py [--out-root DIR]
Output is byte-identical from run to run (fixed seed, deterministic kernels).
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tools/refgen free of __pycache__

import torch
import torch.nn.functional as F
from torch import nn

import _common


class SmallCnn(nn.Module):
    def __init__(
        self, in_ch: int = 3, classes: int = 3, width: int = 8, kernel: int = 3
    ) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, width, kernel, padding=kernel // 2, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.pool = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(
            width, 2 * width, kernel, padding=kernel // 2, bias=False
        )
        self.bn2 = nn.BatchNorm2d(2 * width)
        self.fc = nn.Linear(2 * width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.pool(x)
        x = F.relu(self.bn2(self.conv2(x)))
        x = x.mean(dim=(2, 3))
        return self.fc(x)


def build_reference() -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    _common.make_deterministic(0)

    model = SmallCnn(in_ch=3, classes=3, width=8)
    _common.randomize_batch_norm(model.bn1)
    _common.randomize_batch_norm(model.bn2)

    x = torch.randn(4, 3, 16, 16)
    target = torch.randint(0, 3, (4,), dtype=torch.int64)

    logits_eval, loss_eval, input_grad_eval, logits_train, train_model = (
        _common.classifier_passes(model, x, target)
    )

    weights = dict(model.state_dict())
    io = {
        "input": x,
        "target": target,
        "logits_eval": logits_eval,
        "loss_eval": loss_eval.reshape(1),
        "input_grad_eval": input_grad_eval,
        "logits_train": logits_train,
        "running_mean_bn1_after_train": train_model.bn1.running_mean,
        "running_var_bn1_after_train": train_model.bn1.running_var,
    }
    return weights, io


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0])
    weights, io = build_reference()
    fixtures = args.out_root / "crates" / "convkit-zoo" / "tests" / "fixtures"
    # The weights file mimics a plain user export: no metadata.
    _common.save(weights, fixtures / "small_cnn_weights.safetensors", generator=None)
    _common.save(
        io,
        fixtures / "small_cnn_io.safetensors",
        generator=f"tools/refgen/small_cnn.py (torch {torch.__version__})",
    )


if __name__ == "__main__":
    main()
