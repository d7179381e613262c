"""Golden fixture for convkit-train's segmentation losses and metrics, from smp and torch.

References (segmentation_models_pytorch 0.6.0, torch 2.15, float32, seed 0):
  smp.losses.DiceLoss(mode="multiclass", from_logits=True, ...)    soft Dice loss
  torch.nn.functional.cross_entropy(logits, masks, weight, ignore_index)
  smp.metrics.get_stats(argmax, masks, mode="multiclass", num_classes=5[, ignore_index])
    summed over the images, then smp.metrics.f1_score / iou_score (zero_division=1.0),
    reduction="none" per class and "macro" for the means.

Inputs: 2 images of 6x5 pixels, 4 classes. `masks` uses classes 0-2 only, so class 3
exercises Dice's absent-class rule (and is predicted, a metrics false positive); the
metrics count 5 classes, the 5th neither present nor predicted (the empty-class rule:
score 1). `masks_ignore` is `masks` with 7 pixels set to 255 (the ignore index of the
*_ignore cases).

Writes <out-root>/crates/convkit-train/tests/fixtures/segmentation_loss.safetensors:
  logits                      [2,4,6,5] f32, ~ N(0, 2^2)
  masks                       [2,6,5] i64 in {0,1,2}
  masks_ignore                [2,6,5] i64, masks with some pixels 255
  dice                        [1]  DiceLoss() on (logits, masks)
  dice_grad                   [2,4,6,5]  d dice / d logits
  dice_smooth_ignore          [1]  DiceLoss(smooth=1.0, ignore_index=255) on masks_ignore
  dice_smooth_ignore_grad     [2,4,6,5]
  dice_log                    [1]  DiceLoss(log_loss=True) on masks
  dice_log_grad               [2,4,6,5]
  ce                          [1]  F.cross_entropy(logits, masks)
  ce_grad                     [2,4,6,5]
  ce_weighted_ignore          [1]  F.cross_entropy(weight=ce_weights, ignore_index=255)
                                   on masks_ignore
  ce_weighted_ignore_grad     [2,4,6,5]
  ce_weights                  [4]  (0.5, 1.0, 2.0, 4.0)
  tp, fp, fn                  [5] i64  smp stats of argmax(logits) vs masks, summed over images
  dice_per_class, iou_per_class [5]  f1_score / iou_score, reduction="none" on those sums
  mean_dice, mean_iou         [1]  reduction="macro"
  tp_ignore, fp_ignore, fn_ignore, dice_per_class_ignore, iou_per_class_ignore,
  mean_dice_ignore, mean_iou_ignore   the same with masks_ignore, ignore_index=255

Run with `cargo xtask refgen`, or directly:
    target/refgen-venv/bin/python tools/refgen/segmentation_loss.py [--out-root DIR]
Output is byte-identical from run to run (fixed seed, deterministic kernels).
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tools/refgen free of __pycache__

import segmentation_models_pytorch as smp
import torch
import torch.nn.functional as F

import _common

IGNORE = 255
CLASSES = 4
METRIC_CLASSES = 5


def loss_and_grad(loss_fn, logits: torch.Tensor, masks: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    x = logits.clone().requires_grad_(True)
    loss = loss_fn(x, masks)
    (grad,) = torch.autograd.grad(loss, x)
    return loss.detach().reshape(1), grad


def metrics(pred: torch.Tensor, masks: torch.Tensor, ignore_index: int | None, suffix: str) -> dict[str, torch.Tensor]:
    tp, fp, fn, tn = smp.metrics.get_stats(
        pred, masks, mode="multiclass", num_classes=METRIC_CLASSES, ignore_index=ignore_index
    )
    tp, fp, fn, tn = (t.sum(0, keepdim=True) for t in (tp, fp, fn, tn))
    out = {
        "tp": tp[0],
        "fp": fp[0],
        "fn": fn[0],
        "dice_per_class": smp.metrics.f1_score(tp, fp, fn, tn, reduction="none", zero_division=1.0)[0],
        "iou_per_class": smp.metrics.iou_score(tp, fp, fn, tn, reduction="none", zero_division=1.0)[0],
        "mean_dice": smp.metrics.f1_score(tp, fp, fn, tn, reduction="macro", zero_division=1.0).reshape(1),
        "mean_iou": smp.metrics.iou_score(tp, fp, fn, tn, reduction="macro", zero_division=1.0).reshape(1),
    }
    return {k + suffix: v for k, v in out.items()}


def build_reference() -> dict[str, torch.Tensor]:
    _common.make_deterministic(0)

    logits = torch.randn(2, CLASSES, 6, 5) * 2.0
    masks = torch.randint(0, 3, (2, 6, 5), dtype=torch.int64)
    masks_ignore = masks.clone()
    flat = masks_ignore.view(-1)
    flat[torch.randperm(flat.numel())[:7]] = IGNORE
    ce_weights = torch.tensor([0.5, 1.0, 2.0, 4.0])

    out: dict[str, torch.Tensor] = {
        "logits": logits,
        "masks": masks,
        "masks_ignore": masks_ignore,
        "ce_weights": ce_weights,
    }
    cases = {
        "dice": (smp.losses.DiceLoss(mode="multiclass", from_logits=True), masks),
        "dice_smooth_ignore": (
            smp.losses.DiceLoss(mode="multiclass", from_logits=True, smooth=1.0, ignore_index=IGNORE),
            masks_ignore,
        ),
        "dice_log": (smp.losses.DiceLoss(mode="multiclass", from_logits=True, log_loss=True), masks),
        "ce": (F.cross_entropy, masks),
        "ce_weighted_ignore": (
            lambda x, t: F.cross_entropy(x, t, weight=ce_weights, ignore_index=IGNORE),
            masks_ignore,
        ),
    }
    for name, (fn, target) in cases.items():
        loss, grad = loss_and_grad(fn, logits, target)
        out[name] = loss
        out[name + "_grad"] = grad

    pred = logits.argmax(1)
    out.update(metrics(pred, masks, None, ""))
    out.update(metrics(pred, masks_ignore, IGNORE, "_ignore"))
    return out


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0])
    tensors = build_reference()
    path = args.out_root / "crates" / "convkit-train" / "tests" / "fixtures" / "segmentation_loss.safetensors"
    _common.save(
        tensors,
        path,
        generator=f"tools/refgen/segmentation_loss.py (torch {torch.__version__}, smp {smp.__version__})",
    )


if __name__ == "__main__":
    main()
