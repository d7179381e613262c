//! UNet against the PyTorch reference (`tools/refgen/unet.py`: milesial's U-Net layout, with
//! smp's `SCSEModule`), plus taps, shapes and input checks, on every compiled backend.

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor};
use convkit_conv::SeAggregation;
use convkit_core::tap::Recorder;
use convkit_core::testing::{Fixture, assert_close, test_devices};
use convkit_core::{Error, Tapped, Taps, fixture_path};
use convkit_zoo::{UNet, UNetConfig};

fn io() -> Fixture {
    Fixture::load(fixture_path!("unet_io.safetensors")).unwrap()
}

fn load(config: UNetConfig, file: &str, device: &Device) -> UNet {
    let (model, report) = config
        .init(device)
        .load_pytorch(fixture_path!("").join(file))
        .unwrap();
    assert!(report.is_complete(), "{report}");
    model
}

fn plain(device: &Device) -> UNet {
    load(
        UNetConfig::new(3, 4).with_depth(3).with_width(8),
        "unet_weights.safetensors",
        device,
    )
}

fn with_scse(device: &Device) -> UNet {
    load(
        UNetConfig::new(3, 4)
            .with_depth(2)
            .with_width(8)
            .with_scse(true)
            .with_scse_reduction(4)
            .with_scse_aggregation(SeAggregation::Add),
        "unet_scse_weights.safetensors",
        device,
    )
}

// Logits are O(0.5) after 13-18 float32 convolutions whose batch norms convkit folds into the
// weights; measured max error 6e-8 (plain) and 1.2e-7 (scSE) on the CPU backend, and 1e-5
// leaves room for the other backends' summation orders.
const LOGITS_TOL: f64 = 1e-5;

#[test]
fn eval_logits_match_pytorch() {
    let io = io();
    for (backend, device) in test_devices() {
        let x = io.float::<4>("input", &device).unwrap();
        assert_close(
            &format!("plain logits on {backend}"),
            &plain(&device).forward(x.clone()).into_data(),
            io.get("logits").unwrap(),
            LOGITS_TOL,
            LOGITS_TOL,
        );
        assert_close(
            &format!("scSE logits on {backend}"),
            &with_scse(&device).forward(x).into_data(),
            io.get("logits_scse").unwrap(),
            LOGITS_TOL,
            LOGITS_TOL,
        );
    }
}

#[test]
fn input_gradient_matches_pytorch() {
    let io = io();
    for (backend, device) in test_devices() {
        let ad = device.clone().autodiff();
        let model = plain(&ad).valid().fork(&ad);
        let x = io.float::<4>("input", &ad).unwrap().require_grad();
        let target: Tensor<3, Int> = Tensor::from_data(io.get("target").unwrap().clone(), &ad);
        let logits = model.forward(x.clone());
        let loss = convkit_train_free_cross_entropy(logits, target);
        assert_close(
            &format!("loss on {backend}"),
            &loss.clone().into_data(),
            io.get("loss").unwrap(),
            1e-5,
            1e-5,
        );
        let grad = x.grad(&loss.backward()).expect("input gradient");
        // The gradient is ~1e-5 at most (a mean over 2048 pixels): compare relative to that.
        assert_close(
            &format!("input gradient on {backend}"),
            &grad.into_data(),
            io.get("input_grad").unwrap(),
            1e-5 * 1e-4,
            1e-4,
        );
    }
}

/// `F.cross_entropy` on `[N, K, H, W]` logits: the mean over pixels of burn's row loss
/// (convkit-zoo does not depend on convkit-train, whose `PixelCrossEntropy` is the same).
fn convkit_train_free_cross_entropy(logits: Tensor<4>, target: Tensor<3, Int>) -> Tensor<1> {
    let [n, k, h, w] = logits.dims();
    let rows = logits.permute([0, 2, 3, 1]).reshape([n * h * w, k]);
    burn::nn::loss::CrossEntropyLossConfig::new()
        .init(&rows.device())
        .forward(rows, target.flatten(0, 2))
}

#[test]
fn shapes_taps_and_concatenating_scse() {
    let device = Device::flex();
    let model = with_scse(&device);
    let x = io().float::<4>("input", &device).unwrap();
    let mut rec = Recorder::all();
    let mut taps = Taps::new(&mut rec);
    let logits = model.forward_tapped(x.clone(), &mut taps);
    taps.finish().unwrap();
    let shape = |p: &str| {
        rec.get(p)
            .unwrap_or_else(|| panic!("no site {p} in {:?}", rec.values().keys()))
            .shape()
    };
    assert_eq!(shape("encoder.0.conv1.conv.out"), [2, 8, 32, 32]);
    assert_eq!(shape("encoder.0.scse.sse.gate"), [2, 1, 32, 32]);
    assert_eq!(shape("pool.1.indices"), [2, 16, 8, 8]);
    assert_eq!(shape("bottleneck.out"), [2, 32, 8, 8]);
    assert_eq!(shape("bottleneck.scse.cse.gate"), [2, 32, 1, 1]);
    assert_eq!(shape("up.1.out"), [2, 16, 16, 16]);
    assert_eq!(shape("decoder.1.conv1.conv.out"), [2, 16, 16, 16]);
    assert_eq!(shape("decoder.0.out"), [2, 8, 32, 32]);
    assert_eq!(shape("logits"), [2, 4, 32, 32]);
    // Observing changes nothing beyond rounding: recording the `conv` sites makes the batch
    // norms run separately instead of folded into the convolutions.
    assert_close(
        "tapped logits",
        &logits.into_data(),
        &model.forward(x.clone()).into_data(),
        1e-6,
        1e-6,
    );

    // Concatenating scSE doubles every block's output; the next layers widen to match.
    let concat = UNetConfig::new(3, 5)
        .with_depth(2)
        .with_width(4)
        .with_scse(true)
        .with_scse_aggregation(SeAggregation::Concat)
        .init(&device);
    let mut rec = Recorder::paths(&["encoder.1.out", "logits"]);
    let logits =
        concat.forward_tapped(x.narrow(2, 0, 8).narrow(3, 0, 12), &mut Taps::new(&mut rec));
    assert_eq!(rec.get("encoder.1.out").unwrap().shape(), [2, 16, 4, 6]);
    assert_eq!(logits.dims(), [2, 5, 8, 12]);
}

#[test]
fn wrong_inputs_and_configs_are_typed_errors() {
    let device = Device::flex();
    let model = UNetConfig::new(3, 2)
        .with_depth(3)
        .with_width(4)
        .init(&device);
    let err = model
        .try_forward(Tensor::zeros([1, 3, 32, 20], &device))
        .unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "UNet input: expected shape [_, 3, 8·k, 8·k] (H and W positive multiples of \
         2^depth = 8), got [1, 3, 32, 20]"
    );
    for shape in [
        vec![1, 1, 32, 32],
        vec![3, 32, 32],
        vec![1, 3, 0, 8],
        vec![1, 3, 4, 8],
    ] {
        assert!(
            matches!(model.check_input(&shape), Err(Error::Shape { .. })),
            "{shape:?}"
        );
    }
    assert_eq!(
        model
            .try_forward(Tensor::zeros([1, 3, 8, 16], &device))
            .unwrap()
            .dims(),
        [1, 2, 8, 16]
    );
    for (config, needle) in [
        (UNetConfig::new(3, 2).with_depth(0), "depth"),
        (UNetConfig::new(0, 2), "positive"),
        (
            UNetConfig::new(3, 2).with_scse(true).with_scse_reduction(0),
            "reduction",
        ),
    ] {
        let err = config.try_init(&device).unwrap_err();
        assert!(
            matches!(err, Error::Invalid { .. }) && err.to_string().contains(needle),
            "{err}"
        );
    }
}

#[test]
fn mismatched_weights_are_named() {
    let device = Device::flex();
    // The depth-3 file into a depth-2 model: the deepest level's keys are unexpected and the
    // bottleneck's shapes differ.
    let err = UNetConfig::new(3, 4)
        .with_depth(2)
        .with_width(8)
        .init(&device)
        .load_pytorch(fixture_path!("unet_weights.safetensors"))
        .unwrap_err();
    let Error::Weights { report, .. } = &err else {
        panic!("unexpected error {err}")
    };
    assert!(
        report.unexpected.iter().any(|k| k.starts_with("down3.")),
        "{err}"
    );
    assert!(
        report.mismatched.iter().any(|(k, m, f)| k == "up.1.weight"
            && m == &vec![32, 16, 2, 2]
            && f == &vec![64, 32, 2, 2]),
        "{err}"
    );
    // The scSE file into a model without scSE: every scSE tensor is unexpected.
    let err = UNetConfig::new(3, 4)
        .with_depth(2)
        .with_width(8)
        .init(&device)
        .load_pytorch(fixture_path!("unet_scse_weights.safetensors"))
        .unwrap_err();
    assert!(err.to_string().contains("unexpected keys: "), "{err}");
    assert!(err.to_string().contains(".scse.cse.reduce.weight"), "{err}");
}
