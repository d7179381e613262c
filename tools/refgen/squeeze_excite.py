"""Golden fixture for convkit-conv's squeeze-and-excitation blocks (cSE, sSE, scSE).

Reference: segmentation_models_pytorch.base.modules.SCSEModule(24, reduction=4)
(cSE = AdaptiveAvgPool2d(1) -> Conv2d(24, 6, 1) -> ReLU -> Conv2d(6, 24, 1) -> Sigmoid,
sSE = Conv2d(24, 1, 1) -> Sigmoid; forward x * cSE(x) + x * sSE(x)), default PyTorch
initialization under torch.manual_seed(0), float32. The smp module is the reference of
the `Add` aggregation; the other aggregations are torch expressions of the same two
recalibrated maps c = x * cSE(x) and s = x * sSE(x).

Writes <out-root>/crates/convkit-conv/tests/fixtures/squeeze_excite.safetensors:
  cSE.1.weight [6,24,1,1]   cSE.1.bias [6]      (the SCSEModule state_dict, smp's names)
  cSE.3.weight [24,6,1,1]   cSE.3.bias [24]
  sSE.0.weight [1,24,1,1]   sSE.0.bias [1]
  input         [2,24,7,9]  ~ N(0,1) (negative values make max-out differ from x * max(gates))
  channel_gate  [2,24,1,1]  cSE(x)
  spatial_gate  [2,1,7,9]   sSE(x)
  cse_out       [2,24,7,9]  c = x * cSE(x)
  sse_out       [2,24,7,9]  s = x * sSE(x)
  scse_add      [2,24,7,9]  SCSEModule(x)
  scse_max      [2,24,7,9]  torch.maximum(c, s)
  scse_multiply [2,24,7,9]  c * s
  scse_concat   [2,48,7,9]  torch.cat([c, s], 1)
  probe         [2,24,7,9]  ~ N(0,1)
  scse_max_input_grad [2,24,7,9]  d/dx sum(probe * torch.maximum(c, s))

Run with `cargo xtask refgen`, or directly:
    target/refgen-venv/bin/python tools/refgen/squeeze_excite.py [--out-root DIR]
Output is byte-identical from run to run (fixed seed, deterministic kernels).
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tools/refgen free of __pycache__

import segmentation_models_pytorch
import torch
from segmentation_models_pytorch.base.modules import SCSEModule

import _common


def build_reference() -> dict[str, torch.Tensor]:
    _common.make_deterministic(0)

    module = SCSEModule(24, reduction=4).eval()
    x = torch.randn(2, 24, 7, 9)
    probe = torch.randn(2, 24, 7, 9)

    with torch.no_grad():
        channel_gate = module.cSE(x)
        spatial_gate = module.sSE(x)
        c = x * channel_gate
        s = x * spatial_gate
        scse_add = module(x)
    assert channel_gate.shape == (2, 24, 1, 1), channel_gate.shape
    assert spatial_gate.shape == (2, 1, 7, 9), spatial_gate.shape

    x_grad = x.clone().requires_grad_(True)
    scse_max = torch.maximum(x_grad * module.cSE(x_grad), x_grad * module.sSE(x_grad))
    (probe * scse_max).sum().backward()

    tensors = {k: v for k, v in module.state_dict().items()}
    assert sorted(tensors) == sorted(
        ["cSE.1.weight", "cSE.1.bias", "cSE.3.weight", "cSE.3.bias", "sSE.0.weight", "sSE.0.bias"]
    ), sorted(tensors)
    tensors.update(
        {
            "input": x,
            "channel_gate": channel_gate,
            "spatial_gate": spatial_gate,
            "cse_out": c,
            "sse_out": s,
            "scse_add": scse_add,
            "scse_max": scse_max.detach(),
            "scse_multiply": c * s,
            "scse_concat": torch.cat([c, s], 1),
            "probe": probe,
            "scse_max_input_grad": x_grad.grad,
        }
    )
    return tensors


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0])
    tensors = build_reference()
    path = args.out_root / "crates" / "convkit-conv" / "tests" / "fixtures" / "squeeze_excite.safetensors"
    _common.save(
        tensors,
        path,
        generator=(
            f"tools/refgen/squeeze_excite.py (torch {torch.__version__}, "
            f"segmentation_models_pytorch {segmentation_models_pytorch.__version__})"
        ),
    )


if __name__ == "__main__":
    main()
