"""Golden fixtures for convkit-zoo's Inception-v4 and Inception-ResNet-v1/v2.

References (eval mode, float32, 2x3x299x299 input):
  inception_v4         timm 1.0.31 `timm.create_model("inception_v4")`, 1000 classes
  inception_resnet_v2  timm 1.0.31 `timm.create_model("inception_resnet_v2")`, 1000 classes
  inception_resnet_v1  facenet-pytorch 2.6.0
                       `InceptionResnetV1(classify=True, num_classes=8631)` (the layout
                       of its VGGFace2 checkpoint; facenet's inception_resnet_v1.py is
                       loaded alone from the wheel, see `load_facenet_v1`)

The weights are too large to commit (~170-220 MB each), so every state_dict
tensor is "hashed": a pure function of its index in state_dict order, its shape
and its role (`_common.hashed_state_dict`: splitmix64 -> exact float32 uniforms
in [-1, 1), scaled He-uniform for convolutions, around 1 for norm scales and
running variances). The Rust test regenerates the identical state_dict from the
manifest and loads it through the model's public timm/facenet loader. The input
is `_common.hashed_uniform(0xC0FFEE, 2*3*299*299)` reshaped to [2,3,299,299].

Writes into <out-root>/crates/convkit-zoo/tests/fixtures/, for each NAME above:
  NAME_manifest.json      {"generator", "num_params" (sum of parameters().numel()),
                           "tensors": [{"key", "shape", "dtype"}, ...] in state_dict
                           order}
  NAME.safetensors        logits         [2, classes]  model(input), eval mode
                          feature_means  [2, C]        forward_features(input) (v1:
                                                       the output of `block8`) averaged
                                                       over H and W
And, not committed, the full hashed state_dict as
  <out-root>/target/refgen/NAME_state_dict.safetensors
(to check that the Rust regeneration is byte-identical).

facenet-pytorch is not installed (it pins an older torch): its wheel is fetched
with `pip download facenet-pytorch==2.6.0 --no-deps` into target/refgen-wheels/
when missing, and only `facenet_pytorch/models/inception_resnet_v1.py` is executed.

Run with `cargo xtask refgen`, or directly:
    target/refgen-venv/bin/python tools/refgen/inception.py [--out-root DIR]
Output is byte-identical from run to run (hashed weights, deterministic kernels).
"""

from __future__ import annotations

import sys

sys.dont_write_bytecode = True  # keep tools/refgen free of __pycache__

import types
import zipfile
from pathlib import Path

import timm
import torch
from torch import nn

import _common
import _files

FACENET_VERSION = "2.6.0"
FACENET_WHEEL = f"facenet_pytorch-{FACENET_VERSION}-py3-none-any.whl"
FACENET_SOURCE = "facenet_pytorch/models/inception_resnet_v1.py"
INPUT_SALT = 0xC0FFEE
INPUT_SHAPE = (2, 3, 299, 299)
V1_CLASSES = 8631  # facenet's VGGFace2 classifier


def load_facenet_v1() -> type[nn.Module]:
    """facenet-pytorch's `InceptionResnetV1` class, executed from the wheel's single
    source file. Its download helpers (`requests`, `.utils.download`) are stubbed:
    only the pretrained-weight download path uses them."""
    wheel = _files.pinned_wheel("facenet-pytorch", FACENET_VERSION, FACENET_WHEEL)
    source = zipfile.ZipFile(wheel).read(FACENET_SOURCE).decode()

    def stub(name: str, **attrs: object) -> None:
        module = types.ModuleType(name)
        module.__path__ = []  # a package, so submodule imports resolve
        module.__dict__.update(attrs)
        sys.modules[name] = module

    def no_download(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("pretrained downloads are disabled in refgen")

    stub("requests")
    stub("requests.adapters", HTTPAdapter=object)
    stub("facenet_pytorch")
    stub("facenet_pytorch.models")
    stub("facenet_pytorch.models.utils")
    stub("facenet_pytorch.models.utils.download", download_url_to_file=no_download)
    module = types.ModuleType("facenet_pytorch.models.inception_resnet_v1")
    module.__package__ = "facenet_pytorch.models"
    exec(compile(source, FACENET_SOURCE, "exec"), module.__dict__)
    return module.InceptionResnetV1


def build_models() -> dict[str, tuple[nn.Module, nn.Module, str]]:
    """NAME -> (model, module whose output is forward_features, generator string)."""
    v4 = timm.create_model("inception_v4", pretrained=False)
    v2 = timm.create_model("inception_resnet_v2", pretrained=False)
    v1 = load_facenet_v1()(classify=True, num_classes=V1_CLASSES)
    timm_ref = f"timm {timm.__version__}, torch {torch.__version__}"
    return {
        "inception_v4": (v4, v4.features, f"tools/refgen/inception.py ({timm_ref})"),
        "inception_resnet_v2": (v2, v2.conv2d_7b, f"tools/refgen/inception.py ({timm_ref})"),
        "inception_resnet_v1": (
            v1,
            v1.block8,
            f"tools/refgen/inception.py (facenet-pytorch {FACENET_VERSION}, "
            f"torch {torch.__version__})",
        ),
    }


@torch.no_grad()
def run(model: nn.Module, features_of: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Eval-mode logits and the H, W mean of forward_features, printing the scale of
    every top-level block's output (the hashed weights must keep activations O(1))."""
    captured = {}
    hooks = [features_of.register_forward_hook(lambda _m, _i, out: captured.update(features=out))]
    for name, child in model.named_children():
        hooks.append(child.register_forward_hook(
            lambda _m, _i, out, name=name: print(
                f"  {name:>12}: shape {list(out.shape)}, rms {out.pow(2).mean().sqrt():.3f}, "
                f"max |x| {out.abs().max():.3f}")))
    logits = model.eval()(x)
    for hook in hooks:
        hook.remove()
    print(f"  logits: mean {logits.mean():.3f}, std {logits.std():.3f}, "
          f"max |x| {logits.abs().max():.3f}")
    return {"logits": logits, "feature_means": captured["features"].mean(dim=(2, 3))}


def main() -> None:
    args = _common.parse_args(__doc__.splitlines()[0])
    fixtures = args.out_root / "crates" / "convkit-zoo" / "tests" / "fixtures"
    x = torch.from_numpy(
        _common.hashed_uniform(INPUT_SALT, 2 * 3 * 299 * 299).reshape(INPUT_SHAPE)
    )
    for name, (model, features_of, generator) in build_models().items():
        _common.make_deterministic(0)
        state = _common.load_hashed(model)
        num_params = sum(p.numel() for p in model.parameters())
        print(f"{name}: {num_params} parameters, {len(state)} state_dict tensors")
        outputs = run(model, features_of, x)
        _common.write_manifest(state, fixtures / f"{name}_manifest.json", generator, num_params)
        _common.save(outputs, fixtures / f"{name}.safetensors", generator=generator)
        _common.save(
            state,
            args.out_root / "target" / "refgen" / f"{name}_state_dict.safetensors",
            generator=None,
        )


if __name__ == "__main__":
    main()
