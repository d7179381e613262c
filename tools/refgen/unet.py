"""Golden fixtures for the convkit-zoo U-Net, generated from PyTorch.

Reference: the U-Net of milesial/Pytorch-UNet (`UNet(n_channels, n_classes,
bilinear=False)`: DoubleConv = (Conv2d 3x3 pad 1 no bias -> BatchNorm2d -> ReLU) x 2,
Down = MaxPool2d(2) -> DoubleConv, Up = ConvTranspose2d(k 2, s 2) -> cat([skip, up])
-> DoubleConv, OutConv = Conv2d 1x1), re-typed below with the depth as a parameter
(`inc`, `down1..downD`, `up1..upD`, `outc`; milesial's is depth 4). With `scse`, every
DoubleConv ends with segmentation_models_pytorch's `SCSEModule` (cSE and sSE added,
reduction r) as its `scse` attribute. Plain torch.nn layers, float32, eval mode,
torch.manual_seed(0); every BatchNorm gets non-trivial state (gamma ~ U(0.5,1.5),
beta ~ N(0,0.1), running_mean ~ N(0,0.1), running_var ~ U(0.5,1.5)).

Writes into <out-root>/crates/convkit-zoo/tests/fixtures/:

  unet_weights.safetensors        state_dict() of UNet(3 -> 4 classes, depth 3, width 8)
  unet_scse_weights.safetensors   state_dict() of UNet(3 -> 4 classes, depth 2, width 8,
                                  scse, reduction 4)
  unet_io.safetensors
      input            [2,3,32,32] f32, ~ N(0,1)
      target           [2,32,32] i64 in 0..4
      logits           [2,4,32,32]  plain model, eval mode
      loss             [1]  F.cross_entropy(logits, target)
      input_grad       [2,3,32,32]  d loss / d input
      logits_scse      [2,4,32,32]  scSE model, eval mode

Run with `cargo xtask refgen`, or directly:
    target/refgen-venv/bin/python tools/refgen/unet.py [--out-root DIR]
Output is byte-identical from run to run (fixed seed, deterministic kernels).
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tools/refgen free of __pycache__

import torch
import torch.nn.functional as F
from segmentation_models_pytorch.base.modules import SCSEModule
from torch import nn

import _common


class DoubleConv(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, scse_reduction: int | None) -> None:
        super().__init__()
        self.double_conv = nn.Sequential(
            nn.Conv2d(in_ch, out_ch, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_ch),
            nn.ReLU(inplace=True),
        )
        self.scse = None if scse_reduction is None else SCSEModule(out_ch, scse_reduction)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.double_conv(x)
        return x if self.scse is None else self.scse(x)


class Down(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, scse_reduction: int | None) -> None:
        super().__init__()
        self.maxpool_conv = nn.Sequential(nn.MaxPool2d(2), DoubleConv(in_ch, out_ch, scse_reduction))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.maxpool_conv(x)


class Up(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, scse_reduction: int | None) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_ch, in_ch // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(in_ch, out_ch, scse_reduction)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([skip, self.up(x)], dim=1))


class OutConv(nn.Module):
    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class UNet(nn.Module):
    def __init__(self, in_ch: int, classes: int, depth: int, width: int, scse_reduction: int | None = None) -> None:
        super().__init__()
        self.depth = depth
        ch = [width << level for level in range(depth + 1)]
        self.inc = DoubleConv(in_ch, ch[0], scse_reduction)
        for k in range(1, depth + 1):
            setattr(self, f"down{k}", Down(ch[k - 1], ch[k], scse_reduction))
        for k in range(1, depth + 1):
            setattr(self, f"up{k}", Up(ch[depth - k + 1], ch[depth - k], scse_reduction))
        self.outc = OutConv(ch[0], classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]
        for k in range(1, self.depth + 1):
            skips.append(getattr(self, f"down{k}")(skips[-1]))
        x = skips.pop()
        for k in range(1, self.depth + 1):
            x = getattr(self, f"up{k}")(x, skips.pop())
        return self.outc(x)


def randomized(model: UNet) -> UNet:
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            _common.randomize_batch_norm(module)
    return model.eval()


def build_reference() -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    _common.make_deterministic(0)

    plain = randomized(UNet(3, 4, depth=3, width=8))
    scse = randomized(UNet(3, 4, depth=2, width=8, scse_reduction=4))
    x = torch.randn(2, 3, 32, 32)
    target = torch.randint(0, 4, (2, 32, 32), dtype=torch.int64)

    x_grad = x.clone().requires_grad_(True)
    logits = plain(x_grad)
    loss = F.cross_entropy(logits, target)
    (input_grad,) = torch.autograd.grad(loss, x_grad)
    with torch.no_grad():
        logits_scse = scse(x)

    io = {
        "input": x,
        "target": target,
        "logits": logits,
        "loss": loss.reshape(1),
        "input_grad": input_grad,
        "logits_scse": logits_scse,
    }
    return dict(plain.state_dict()), dict(scse.state_dict()), io


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0])
    plain, scse, io = build_reference()
    fixtures = args.out_root / "crates" / "convkit-zoo" / "tests" / "fixtures"
    # The weight files mimic plain user exports: no metadata.
    _common.save(plain, fixtures / "unet_weights.safetensors", generator=None)
    _common.save(scse, fixtures / "unet_scse_weights.safetensors", generator=None)
    _common.save(io, fixtures / "unet_io.safetensors", generator=f"tools/refgen/unet.py (torch {torch.__version__})")


if __name__ == "__main__":
    main()
