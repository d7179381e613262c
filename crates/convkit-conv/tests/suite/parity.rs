//! ConvNormAct against PyTorch (`tools/refgen/conv_norm_act.py`), on every compiled backend.

use burn::tensor::Tensor;
use convkit_conv::{Activation, ConvNormActConfig, MaxPoolConfig, Norm, Padding};
use convkit_core::testing::{Fixture, assert_close, test_devices};
use convkit_core::weights::load_pytorch_safetensors;
use convkit_core::{KeyMap, Tapped, fixture_path};
use proptest::prelude::*;

#[test]
fn conv_norm_act_matches_pytorch() {
    let path = fixture_path!("conv_norm_act.safetensors");
    let fx = Fixture::load(&path).unwrap();
    for (backend, device) in test_devices() {
        let block = ConvNormActConfig::new(4, 6)
            .with_stride(2)
            .with_padding(Padding::Explicit([1, 1]))
            .with_bias(Some(true))
            .init(&device);
        let keys = KeyMap::new().ignore("^(input|output)$");
        let (block, report) = load_pytorch_safetensors(block, &path, &keys).unwrap();
        assert_eq!(report.applied, 6, "{backend}: {report}");
        let input = fx.float::<4>("input", &device).unwrap();
        let out = block.forward(input.clone());
        assert_close(
            &format!("ConvNormAct (batch norm folded into the conv) on {backend}"),
            &out.into_data(),
            fx.get("output").unwrap(),
            1e-5,
            1e-5,
        );
        // Asking for the `conv.out` site runs convolution and batch norm as two steps.
        let mut recorder = convkit_core::tap::Recorder::paths(&["conv.out"]);
        let out = block.forward_tapped(input, &mut convkit_core::Taps::new(&mut recorder));
        assert!(recorder.get("conv.out").is_some());
        assert_close(
            &format!("ConvNormAct (two steps) on {backend}"),
            &out.into_data(),
            fx.get("output").unwrap(),
            1e-5,
            1e-5,
        );
    }
}

/// GroupNorm + GELU, a 1×7 kernel + BatchNorm(eps 1e-3) + SiLU, and timm's `Conv2dSame`
/// (TensorFlow padding), each against its PyTorch fixture.
#[test]
fn variants_match_pytorch() {
    let cases = [
        (
            "gn_gelu",
            ConvNormActConfig::new(4, 8)
                .with_norm(Norm::Group { groups: 2 })
                .with_activation(Activation::Gelu),
            3,
        ),
        (
            "rect_silu",
            ConvNormActConfig::new(4, 6)
                .with_kernel_size([1, 7])
                .with_padding(Padding::Explicit([0, 3]))
                .with_norm_eps(1e-3)
                .with_activation(Activation::Silu),
            5,
        ),
        (
            "tf_same",
            ConvNormActConfig::new(4, 6)
                .with_stride(2)
                .with_padding(Padding::TfSame)
                .with_norm(Norm::None)
                .with_activation(Activation::Identity),
            2,
        ),
    ];
    for (case, config, tensors) in cases {
        let path = fixture_path!(format!("conv_norm_act_{case}.safetensors"));
        let fx = Fixture::load(&path).unwrap();
        for (backend, device) in test_devices() {
            let keys = KeyMap::new().ignore("^(input|output)$");
            let (block, report) =
                load_pytorch_safetensors(config.init(&device), &path, &keys).unwrap();
            assert_eq!(report.applied, tensors, "{case} on {backend}: {report}");
            let out = block.forward(fx.float::<4>("input", &device).unwrap());
            assert_close(
                &format!("{case} on {backend}"),
                &out.into_data(),
                fx.get("output").unwrap(),
                1e-5,
                1e-5,
            );
        }
    }
}

#[test]
fn invalid_configs_are_errors() {
    let device = burn::tensor::Device::flex();
    let err = ConvNormActConfig::new(4, 6)
        .with_norm(Norm::Group { groups: 4 })
        .try_init(&device)
        .unwrap_err();
    assert!(err.to_string().contains("4 groups"), "{err}");
    assert!(ConvNormActConfig::new(0, 6).try_init(&device).is_err());
    assert!(
        ConvNormActConfig::new(4, 6)
            .with_stride(0)
            .try_init(&device)
            .is_err()
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// TensorFlow SAME padding gives `ceil(n / s)` outputs for any size, kernel and stride.
    #[test]
    fn tf_same_output_is_ceil_of_input_over_stride(h in 1usize..20, w in 1usize..20, k in 1usize..6, s in 1usize..4) {
        let device = burn::tensor::Device::flex();
        let block = ConvNormActConfig::new(2, 3).with_square_kernel(k).with_stride(s).with_padding(Padding::TfSame).init(&device);
        prop_assert!(block.check_input(&[1, 2, h, w]).is_ok());
        let out = block.forward(Tensor::zeros([1, 2, h, w], &device));
        prop_assert_eq!(out.dims(), [1, 3, h.div_ceil(s), w.div_ceil(s)]);
    }
}

#[test]
fn input_checks_name_the_problem() {
    let device = burn::tensor::Device::flex();
    let block = ConvNormActConfig::new(3, 8).init(&device);
    let err = block.check_input(&[2, 4, 8, 8]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ConvNormAct input: expected shape [_, 3, >=1, >=1], got [2, 4, 8, 8]"
    );
    assert!(block.check_input(&[2, 3, 8]).is_err());
    let valid = ConvNormActConfig::new(3, 8)
        .with_padding(Padding::Valid)
        .init(&device);
    assert!(valid.check_input(&[1, 3, 2, 2]).is_err());
    assert!(valid.check_input(&[1, 3, 3, 3]).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Output size is floor((n + 2p - k) / s) + 1 for any input size, kernel, stride, padding.
    #[test]
    fn output_shape_formula(h in 3usize..20, w in 3usize..20, k in 1usize..4, s in 1usize..3, p in 0usize..2) {
        let device = burn::tensor::Device::flex();
        let block = ConvNormActConfig::new(2, 3).with_square_kernel(k).with_stride(s).with_padding(Padding::Explicit([p, p])).init(&device);
        let out = block.forward(Tensor::zeros([1, 2, h, w], &device));
        prop_assert_eq!(out.dims(), [1, 3, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1]);
    }

    /// Without norm, bias and activation the block is linear: f(a·x + b·y) = a·f(x) + b·f(y).
    #[test]
    fn convolution_is_linear(seed in 0u64..1000, a in -2.0f32..2.0, b in -2.0f32..2.0) {
        let device = burn::tensor::Device::flex();
        convkit_core::random::seed(seed);
        let block = ConvNormActConfig::new(3, 4)
            .with_norm(Norm::None)
            .with_bias(Some(false))
            .with_activation(Activation::Identity)
            .init(&device);
        let dist = burn::tensor::Distribution::Normal(0.0, 1.0);
        let x = convkit_core::random::tensor([2, 3, 7, 6], dist, &device);
        let y = convkit_core::random::tensor([2, 3, 7, 6], dist, &device);
        let lhs = block.forward(x.clone() * a + y.clone() * b);
        let rhs = block.forward(x) * a + block.forward(y) * b;
        convkit_core::testing::compare(&lhs.into_data(), &rhs.into_data(), 1e-4, 1e-4)
            .map_err(TestCaseError::fail)?;
    }
}

#[test]
fn tapped_max_pool_matches_plain_and_replays() {
    use convkit_core::tap::{Recorder, Replayer};
    use convkit_core::{SiteKind, Taps};
    for (backend, device) in test_devices() {
        let pool = MaxPoolConfig::new(2).init();
        let dist = burn::tensor::Distribution::Normal(0.0, 1.0);
        let x = convkit_core::random::tensor([2, 3, 6, 5], dist, &device);
        let mut rec = Recorder::kinds(&[SiteKind::PoolIndices]);
        let tapped = pool.forward_tapped(x.clone(), &mut Taps::new(&mut rec));
        assert_close(
            &format!("tapped pool on {backend}"),
            &tapped.into_data(),
            &pool.forward(x.clone()).into_data(),
            0.0,
            0.0,
        );
        // Replaying x's argmax on -x picks the same positions: the result is -pool(x).
        let mut replay = Replayer::new(rec.into_values());
        let replayed = pool.forward_tapped(-x.clone(), &mut Taps::new(&mut replay));
        assert_close(
            &format!("replayed pool on {backend}"),
            &replayed.into_data(),
            &(-pool.forward(x)).into_data(),
            0.0,
            0.0,
        );
    }
}
