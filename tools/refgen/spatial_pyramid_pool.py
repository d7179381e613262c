"""Golden fixture for convkit-conv's spatial pyramid pooling (SPP).

Reference: torch.nn.functional.adaptive_max_pool2d / adaptive_avg_pool2d, one call per
pyramid level, each flattened with torch.flatten(., 1) and concatenated along dim 1:
    spp(x, levels, pool) = torch.cat([torch.flatten(pool(x, n), 1) for n in levels], 1)
float32, torch.manual_seed(0). The sizes include inputs smaller than a level (1x1 and
3x5 with a 4x4 level) and sizes no level divides (13x13, 7x11).

Writes <out-root>/crates/convkit-conv/tests/fixtures/spatial_pyramid_pool.safetensors,
for each HxW in 1x1, 3x5, 13x13, 7x11, 2x9:
  input_HxW  [2,3,H,W]  ~ N(0,1)
  max_HxW    [2,63]     spp(input_HxW, [4, 2, 1], adaptive_max_pool2d)
  avg_HxW    [2,63]     spp(input_HxW, [4, 2, 1], adaptive_avg_pool2d)
and
  max_13x13_levels_6_3  [2,135]  spp(input_13x13, [6, 3], adaptive_max_pool2d)
  avg_13x13_levels_6_3  [2,135]  spp(input_13x13, [6, 3], adaptive_avg_pool2d)
  probe_7x11            [2,63]   ~ N(0,1)
  max_grad_7x11         [2,3,7,11]  d/dx sum(probe_7x11 * max_7x11)
  avg_grad_7x11         [2,3,7,11]  d/dx sum(probe_7x11 * avg_7x11)

Run with `cargo xtask refgen`, or directly:
    target/refgen-venv/bin/python tools/refgen/spatial_pyramid_pool.py [--out-root DIR]
Output is byte-identical from run to run (fixed seed, deterministic kernels).
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tools/refgen free of __pycache__

import torch
import torch.nn.functional as F

import _common

SIZES = [(1, 1), (3, 5), (13, 13), (7, 11), (2, 9)]
POOLS = {"max": F.adaptive_max_pool2d, "avg": F.adaptive_avg_pool2d}


def spp(x: torch.Tensor, levels: list[int], pool) -> torch.Tensor:
    return torch.cat([torch.flatten(pool(x, n), 1) for n in levels], 1)


def build_reference() -> dict[str, torch.Tensor]:
    _common.make_deterministic(0)

    tensors: dict[str, torch.Tensor] = {}
    for h, w in SIZES:
        x = torch.randn(2, 3, h, w)
        tensors[f"input_{h}x{w}"] = x
        for name, pool in POOLS.items():
            out = spp(x, [4, 2, 1], pool)
            assert out.shape == (2, 63), out.shape
            tensors[f"{name}_{h}x{w}"] = out

    for name, pool in POOLS.items():
        out = spp(tensors["input_13x13"], [6, 3], pool)
        assert out.shape == (2, 135), out.shape
        tensors[f"{name}_13x13_levels_6_3"] = out

    probe = torch.randn(2, 63)
    tensors["probe_7x11"] = probe
    for name, pool in POOLS.items():
        x = tensors["input_7x11"].clone().requires_grad_(True)
        (probe * spp(x, [4, 2, 1], pool)).sum().backward()
        tensors[f"{name}_grad_7x11"] = x.grad

    return tensors


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0])
    tensors = build_reference()
    path = (
        args.out_root / "crates" / "convkit-conv" / "tests" / "fixtures" / "spatial_pyramid_pool.safetensors"
    )
    _common.save(
        tensors,
        path,
        generator=f"tools/refgen/spatial_pyramid_pool.py (torch {torch.__version__})",
    )


if __name__ == "__main__":
    main()
