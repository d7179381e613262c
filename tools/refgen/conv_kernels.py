"""Golden fixtures for convkit-ops' kernels: PyTorch's conv2d, conv1d, max_pool2d and
batch_norm (training), forward and gradients, over a grid of shapes and options.

For every case, with x ~ N(0,1), weight and bias ~ U(-1,1) and an upstream gradient
dy ~ N(0,1) (torch.manual_seed(0), float32):
  conv2d    y = F.conv2d(x, w, b, stride, padding, dilation, groups);
            dx, dw, db = autograd of (y * dy).sum()
            padding as (top, bottom, left, right): asymmetric cases pad x with F.pad first
  conv1d    the same with F.conv1d; (left, right) padding, so a causal convolution is
            (d*(k-1), 0)
  max_pool  y = F.max_pool2d(x, kernel, stride, padding, dilation, ceil_mode); dx
  avg_pool  y = F.avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad), or
            F.adaptive_avg_pool2d(x, output_size) (options [0, H_out, W_out]); dx
  batch_norm y = F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5) with
            gamma ~ U(0.5, 1.5), beta ~ U(-1, 1), x ~ offset + scale * N(0,1); dx, dgamma,
            dbeta, and the batch mean and biased variance

Writes <out-root>/crates/convkit-ops/tests/fixtures/{conv2d,conv1d,max_pool2d,avg_pool2d,
batch_norm}.safetensors with keys `<case>.x`, `.w`, `.b`, `.dy`, `.y`, `.dx`, `.dw`, `.db` (pool: x, dy,
y, dx; batch norm: x, gamma, beta, dy, y, mean, var, dx, dgamma, dbeta) and
`<case>.options`, an int64 vector (batch norm: its input shape):
  conv2d    [stride_h, stride_w, pad_top, pad_bottom, pad_left, pad_right,
             dilation_h, dilation_w, groups]
  conv1d    [stride, pad_left, pad_right, dilation, groups]
  max_pool  [kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w,
             ceil_mode]
  avg_pool  [1, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, ceil_mode,
             count_include_pad], or [0, H_out, W_out] for the adaptive pooling

Run with `cargo xtask refgen`, or directly:
    target/refgen-venv/bin/python tools/refgen/conv_kernels.py [--out-root DIR]
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tools/refgen free of __pycache__

import torch
import torch.nn.functional as F

import _common

# (N, C_in, H, W, C_out, kernel (h, w), stride, padding (t, b, l, r), dilation, groups)
CONV2D = [
    (2, 4, 9, 8, 6, (3, 3), (1, 1), (1, 1, 1, 1), (1, 1), 1),
    (2, 4, 9, 8, 6, (3, 3), (2, 2), (0, 0, 0, 0), (1, 1), 1),
    (2, 4, 11, 10, 6, (3, 3), (1, 1), (2, 2, 2, 2), (2, 2), 2),
    (2, 6, 13, 12, 6, (3, 3), (1, 1), (3, 3, 3, 3), (3, 3), 6),
    (2, 8, 9, 9, 8, (3, 3), (2, 1), (1, 0, 0, 1), (1, 2), 8),
    (2, 4, 7, 9, 8, (1, 1), (1, 1), (0, 0, 0, 0), (1, 1), 1),
    (2, 4, 7, 9, 6, (1, 1), (2, 2), (0, 0, 0, 0), (1, 1), 2),
    (1, 3, 15, 13, 5, (5, 5), (1, 1), (2, 2, 2, 2), (1, 1), 1),
    (1, 3, 15, 13, 4, (5, 5), (2, 2), (1, 2, 2, 1), (1, 1), 1),
    (1, 4, 17, 16, 4, (7, 7), (1, 1), (3, 3, 3, 3), (1, 1), 4),
    (1, 4, 17, 16, 6, (7, 7), (2, 2), (3, 3, 3, 3), (1, 1), 2),
    (2, 3, 10, 11, 4, (1, 7), (1, 1), (0, 0, 3, 3), (1, 1), 1),
    (2, 3, 11, 10, 4, (7, 1), (1, 1), (3, 3, 0, 0), (1, 1), 1),
    (1, 2, 5, 7, 3, (3, 2), (3, 2), (2, 1, 0, 1), (2, 3), 1),
]

# (N, C_in, L, C_out, k, stride, (left, right), dilation, groups)
CONV1D = [
    (2, 4, 33, 6, 3, 1, (1, 1), 1, 1),
    (2, 4, 33, 6, 3, 1, (2, 0), 1, 1),
    (2, 4, 40, 4, 3, 1, (8, 0), 4, 1),
    (2, 4, 40, 4, 3, 1, (16, 16), 8, 4),
    (2, 6, 31, 6, 5, 2, (2, 2), 1, 3),
    (1, 8, 64, 8, 3, 1, (2, 2), 2, 8),
]

# (N, C, H, W, kernel, stride, padding, dilation, ceil_mode)
MAX_POOL = [
    (2, 3, 8, 8, (2, 2), (2, 2), (0, 0), (1, 1), False),
    (2, 3, 9, 7, (2, 2), (2, 2), (0, 0), (1, 1), True),
    (2, 3, 11, 10, (3, 3), (2, 2), (1, 1), (1, 1), False),
    (2, 3, 11, 10, (3, 3), (2, 2), (1, 1), (1, 1), True),
    (1, 4, 12, 13, (3, 2), (1, 2), (1, 0), (2, 1), False),
    (1, 2, 7, 7, (3, 3), (1, 1), (1, 1), (1, 1), False),
]

# (N, C, H, W, kernel, stride, padding, ceil_mode, count_include_pad), or
# (N, C, H, W, output size) for adaptive_avg_pool2d
AVG_POOL = [
    (2, 3, 8, 8, (2, 2), (2, 2), (0, 0), False, True),
    (2, 3, 9, 9, (3, 3), (1, 1), (1, 1), False, False),
    (2, 3, 9, 9, (3, 3), (1, 1), (1, 1), False, True),
    (1, 4, 11, 10, (3, 2), (2, 2), (1, 1), True, True),
    (1, 4, 11, 10, (3, 3), (2, 3), (1, 0), True, False),
    (2, 2, 7, 7, (7, 7), (1, 1), (0, 0), False, True),
    (2, 3, 7, 9, (1, 1)),
    (2, 3, 7, 9, (3, 4)),
    (1, 2, 5, 6, (8, 7)),
]

# (input shape, offset, scale): [N, C] features, 1-D and 2-D maps, planes shorter and longer
# than the kernel's 16-lane rows, a large mean (where E[x²] − μ² would lose digits)
BATCH_NORM = [
    ((16, 8), 0.0, 1.0),
    ((3, 5, 11), 0.0, 1.0),
    ((2, 6, 17), 1.0, 2.0),
    ((2, 3, 5, 7), 0.0, 1.0),
    ((8, 4, 4, 4), -0.5, 0.5),
    ((4, 16, 8, 8), 0.0, 1.0),
    ((2, 3, 9, 6), 20.0, 0.5),
]


def conv_case(conv, x, w, b, **options) -> dict[str, torch.Tensor]:
    x, w, b = (t.clone().requires_grad_(True) for t in (x, w, b))
    y = conv(x, w, b, **options)
    dy = torch.randn_like(y)
    (y * dy).sum().backward()
    return {"dy": dy, "y": y, "dx": x.grad, "dw": w.grad, "db": b.grad}


def build_conv2d() -> dict[str, torch.Tensor]:
    out = {}
    for i, (n, c, h, wd, o, (kh, kw), stride, (pt, pb, pl, pr), dil, g) in enumerate(CONV2D):
        x = torch.randn(n, c, h, wd)
        w = torch.rand(o, c // g, kh, kw) * 2 - 1
        b = torch.rand(o) * 2 - 1

        def conv(x, w, b, **opts):
            return F.conv2d(F.pad(x, (pl, pr, pt, pb)), w, b, **opts)

        case = conv_case(conv, x, w, b, stride=stride, dilation=dil, groups=g)
        case.update(x=x, w=w, b=b, options=torch.tensor([*stride, pt, pb, pl, pr, *dil, g]))
        out.update({f"case{i:02}.{k}": v for k, v in case.items()})
    return out


def build_conv1d() -> dict[str, torch.Tensor]:
    out = {}
    for i, (n, c, length, o, k, stride, (pl, pr), dil, g) in enumerate(CONV1D):
        x = torch.randn(n, c, length)
        w = torch.rand(o, c // g, k) * 2 - 1
        b = torch.rand(o) * 2 - 1

        def conv(x, w, b, **opts):
            return F.conv1d(F.pad(x, (pl, pr)), w, b, **opts)

        case = conv_case(conv, x, w, b, stride=stride, dilation=dil, groups=g)
        case.update(x=x, w=w, b=b, options=torch.tensor([stride, pl, pr, dil, g]))
        out.update({f"case{i:02}.{k}": v for k, v in case.items()})
    return out


def build_max_pool() -> dict[str, torch.Tensor]:
    out = {}
    for i, (n, c, h, w, kernel, stride, padding, dil, ceil) in enumerate(MAX_POOL):
        x = torch.randn(n, c, h, w).requires_grad_(True)
        y = F.max_pool2d(x, kernel, stride, padding, dil, ceil_mode=ceil)
        dy = torch.randn_like(y)
        (y * dy).sum().backward()
        options = torch.tensor([*kernel, *stride, *padding, *dil, int(ceil)])
        case = {"x": x, "dy": dy, "y": y, "dx": x.grad, "options": options}
        out.update({f"case{i:02}.{k}": v for k, v in case.items()})
    return out


def build_avg_pool() -> dict[str, torch.Tensor]:
    out = {}
    for i, (n, c, h, w, *pool) in enumerate(AVG_POOL):
        x = torch.randn(n, c, h, w).requires_grad_(True)
        if len(pool) == 1:
            y = F.adaptive_avg_pool2d(x, pool[0])
            options = torch.tensor([0, *pool[0]])
        else:
            kernel, stride, padding, ceil, count_pad = pool
            y = F.avg_pool2d(x, kernel, stride, padding, ceil_mode=ceil,
                             count_include_pad=count_pad)
            options = torch.tensor([1, *kernel, *stride, *padding, int(ceil), int(count_pad)])
        dy = torch.randn_like(y)
        (y * dy).sum().backward()
        case = {"x": x, "dy": dy, "y": y, "dx": x.grad, "options": options}
        out.update({f"case{i:02}.{k}": v for k, v in case.items()})
    return out


def build_batch_norm() -> dict[str, torch.Tensor]:
    out = {}
    for i, (shape, offset, scale) in enumerate(BATCH_NORM):
        c = shape[1]
        x = (offset + scale * torch.randn(*shape)).requires_grad_(True)
        gamma = (torch.rand(c) + 0.5).requires_grad_(True)
        beta = (torch.rand(c) * 2 - 1).requires_grad_(True)
        y = F.batch_norm(x, None, None, gamma, beta, training=True, eps=1e-5)
        dy = torch.randn_like(y)
        (y * dy).sum().backward()
        axes = [0, *range(2, len(shape))]
        var, mean = torch.var_mean(x.detach(), dim=axes, unbiased=False)
        case = {
            "x": x, "gamma": gamma, "beta": beta, "dy": dy, "y": y, "mean": mean, "var": var,
            "dx": x.grad, "dgamma": gamma.grad, "dbeta": beta.grad,
            "options": torch.tensor(shape),
        }
        out.update({f"case{i:02}.{k}": v for k, v in case.items()})
    return out


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0])
    _common.make_deterministic(0)
    folder = args.out_root / "crates" / "convkit-ops" / "tests" / "fixtures"
    generator = f"tools/refgen/conv_kernels.py (torch {torch.__version__})"
    _common.save(build_conv2d(), folder / "conv2d.safetensors", generator=generator)
    _common.save(build_conv1d(), folder / "conv1d.safetensors", generator=generator)
    _common.save(build_max_pool(), folder / "max_pool2d.safetensors", generator=generator)
    _common.save(build_avg_pool(), folder / "avg_pool2d.safetensors", generator=generator)
    _common.save(build_batch_norm(), folder / "batch_norm.safetensors", generator=generator)


if __name__ == "__main__":
    main()
