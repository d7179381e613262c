//! SeCnn: parity with its PyTorch reference (`tools/refgen/se_cnn.py`), any input size and
//! channel count, taps, and typed input errors. (Training to ≥ 95% on synthetic shapes is
//! tested in `crates/convkit-train/tests/suite/se_cnn.rs`.)

use burn::module::Module;
use burn::tensor::{Device, Distribution, Int, Tensor};
use convkit_core::tap::Recorder;
use convkit_core::testing::{Fixture, assert_close, test_devices};
use convkit_core::{Error, ImageClassifier, Tapped, Taps, fixture_path};
use convkit_zoo::{SeCnn, SeCnnConfig};

#[test]
fn any_size_from_8x8_and_any_channel_count() {
    for (backend, device) in test_devices() {
        for channels in [1, 3, 5] {
            let model = SeCnnConfig::new(4).with_in_channels(channels).init(&device);
            for [h, w] in [[8, 8], [9, 13], [28, 28], [64, 40]] {
                let x = convkit_core::random::tensor(
                    [2, channels, h, w],
                    Distribution::Default,
                    &device,
                );
                let logits = model.try_forward(x).unwrap();
                assert_eq!(logits.dims(), [2, 4], "{backend}: {channels}x{h}x{w}");
            }
        }
    }
}

#[test]
fn default_structure_and_taps() {
    let device = Device::flex();
    let model: SeCnn = SeCnnConfig::new(3).init(&device);
    // conv 1→16→32→64 (3×3, no bias) + BN (γ, β and the running mean and variance, which
    // burn counts too), cSE r=4 (16→4→16, 32→8→32, 64→16→64), linear 64→3.
    let convs = 9 * 16 + 9 * 16 * 32 + 9 * 32 * 64 + 4 * (16 + 32 + 64);
    let excite: usize = [16, 32, 64]
        .iter()
        .map(|&c| 2 * c * (c / 4) + c / 4 + c)
        .sum();
    assert_eq!(model.num_params(), convs + excite + 64 * 3 + 3);

    let mut recorder = Recorder::all();
    let mut taps = Taps::new(&mut recorder);
    let x = convkit_core::random::tensor([2, 1, 8, 8], Distribution::Default, &device);
    model.forward_tapped(x, &mut taps);
    taps.finish().unwrap();
    let sites: Vec<&str> = recorder.values().keys().map(String::as_str).collect();
    for site in [
        "blocks.0.conv.out",
        "blocks.0.norm.out",
        "blocks.0.activation.mask",
        "excite.0.activation.mask",
        "excite.0.gate",
        "excite.2.out",
        "features",
        "logits",
    ] {
        assert!(sites.contains(&site), "no site {site} in {sites:?}");
    }
    // 8×8 → 8×8 → 4×4 → 2×2: the last stage still sees a real grid.
    let last = recorder.get("excite.2.out").unwrap();
    assert_eq!(last.shape(), [2, 64, 2, 2]);
    assert_eq!(recorder.get("features").unwrap().shape(), [2, 64]);
}

#[test]
fn wrong_channels_are_typed_errors() {
    let device = Device::flex();
    let model = SeCnnConfig::new(3).with_in_channels(3).init(&device);
    let x = Tensor::<4>::zeros([2, 1, 16, 16], &device);
    let err = model.try_forward(x.clone()).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "SeCnn input: expected shape [_, 3, >=1, >=1], got [2, 1, 16, 16]"
    );
    assert!(matches!(model.try_forward(x), Err(Error::Shape { .. })));
    assert!(model.check_input(&[2, 3, 16]).is_err());
    assert_eq!(model.num_classes(), 3);

    let err = SeCnnConfig::new(3)
        .with_stages(0)
        .try_init(&device)
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
}

/// The PyTorch reference's weights (`tools/refgen/se_cnn.py`) loaded into SeCnn.
fn reference_model(device: &Device) -> SeCnn {
    let (model, report) = SeCnnConfig::new(3)
        .with_in_channels(2)
        .with_width(4)
        .with_reduction(2)
        .init(device)
        .load_pytorch(fixture_path!("se_cnn_weights.safetensors"))
        .unwrap();
    assert!(
        report.missing.is_empty() && report.unexpected.is_empty(),
        "{report:?}"
    );
    model
}

/// Eval logits, the input gradient of the cross-entropy, and train-mode (batch statistics)
/// logits against the PyTorch reference, on every backend.
#[test]
fn matches_the_pytorch_reference() {
    let io = Fixture::load(fixture_path!("se_cnn_io.safetensors")).unwrap();
    for (backend, device) in test_devices() {
        let model = reference_model(&device);
        let x = io.float::<4>("input", &device).unwrap();
        assert_close(
            &format!("eval logits on {backend}"),
            &model.forward(x).into_data(),
            io.get("logits_eval").unwrap(),
            1e-5,
            1e-5,
        );

        let ad = device.clone().autodiff();
        let trained = reference_model(&ad);
        let x = io.float::<4>("input", &ad).unwrap().require_grad();
        let target: Tensor<1, Int> = Tensor::from_data(io.get("target").unwrap().clone(), &ad);
        let eval = trained.valid().fork(&ad);
        let loss = burn::nn::loss::CrossEntropyLossConfig::new()
            .init(&ad)
            .forward(eval.forward(x.clone()), target);
        let grad = x.grad(&loss.backward()).expect("input gradient");
        // Gradients are ~1e-3: compare relative to the largest.
        assert_close(
            &format!("input gradient on {backend}"),
            &grad.into_data(),
            io.get("input_grad_eval").unwrap(),
            1e-7,
            1e-4,
        );
        let x = io.float::<4>("input", &ad).unwrap();
        assert_close(
            &format!("train-mode logits on {backend}"),
            &trained.forward(x).into_data(),
            io.get("logits_train").unwrap(),
            1e-5,
            1e-5,
        );
    }
}
