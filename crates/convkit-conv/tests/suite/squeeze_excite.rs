//! cSE, sSE and scSE against smp's `SCSEModule` and torch expressions
//! (`tools/refgen/squeeze_excite.py`), on every compiled backend.

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use convkit_conv::{
    ChannelSqueezeExciteConfig, SeAggregation, SpatialChannelSqueezeExcite,
    SpatialChannelSqueezeExciteConfig, SpatialSqueezeExciteConfig,
};
use convkit_core::tap::Recorder;
use convkit_core::testing::{Fixture, compare, test_devices};
use convkit_core::weights::load_pytorch_safetensors;
use convkit_core::{Error, Tapped, Taps, fixture_path};

/// Tolerance of every comparison: the blocks are a mean over 63 pixels, 1×1 convolutions
/// over 24 channels, sigmoids and products, all f32; reordered sums differ by a few ulp
/// (measured max abs error ~1e-7 on values of order 1).
const ATOL: f64 = 1e-6;
const RTOL: f64 = 1e-5;

fn fixture() -> Fixture {
    Fixture::load(fixture_path!("squeeze_excite.safetensors")).unwrap()
}

/// The fixture's SCSEModule weights loaded into an scSE block with `aggregation`.
fn reference_block(aggregation: SeAggregation, device: &Device) -> SpatialChannelSqueezeExcite {
    let block = SpatialChannelSqueezeExciteConfig::new(24)
        .with_reduction(4)
        .with_aggregation(aggregation)
        .init(device);
    // The fixture's reference tensors have plain names (no dot): not parameters.
    let keys = SpatialChannelSqueezeExcite::pytorch_keys().ignore(r"^[a-z_]+$");
    let path = fixture_path!("squeeze_excite.safetensors");
    let (block, report) = load_pytorch_safetensors(block, path, &keys).unwrap();
    assert!(report.is_complete(), "{report}");
    assert_eq!(report.applied, 6, "{report}");
    block
}

#[track_caller]
fn check(what: &str, actual: Tensor<4>, fx: &Fixture, name: &str) {
    match compare(&actual.into_data(), fx.get(name).unwrap(), ATOL, RTOL) {
        Ok(c) => eprintln!("{what}: max abs error {:.2e}", c.max_abs),
        Err(report) => panic!("{what}: not within atol {ATOL:e}, rtol {RTOL:e}: {report}"),
    }
}

#[test]
fn every_aggregation_matches_the_reference() {
    let fx = fixture();
    for (backend, device) in test_devices() {
        let x = fx.float::<4>("input", &device).unwrap();
        for (aggregation, name) in [
            (SeAggregation::Add, "scse_add"),
            (SeAggregation::Max, "scse_max"),
            (SeAggregation::Multiply, "scse_multiply"),
            (SeAggregation::Concat, "scse_concat"),
        ] {
            let block = reference_block(aggregation, &device);
            let out = block.forward(x.clone());
            check(
                &format!("scSE {aggregation:?} on {backend}"),
                out,
                &fx,
                name,
            );
        }
    }
}

#[test]
fn branches_and_gates_match_the_reference() {
    let fx = fixture();
    for (backend, device) in test_devices() {
        let block = reference_block(SeAggregation::Max, &device);
        let x = fx.float::<4>("input", &device).unwrap();
        check(
            &format!("cSE on {backend}"),
            block.cse.forward(x.clone()),
            &fx,
            "cse_out",
        );
        check(
            &format!("sSE on {backend}"),
            block.sse.forward(x.clone()),
            &fx,
            "sse_out",
        );

        let mut recorder = Recorder::all();
        let mut taps = Taps::new(&mut recorder);
        let tapped = block.forward_tapped(x.clone(), &mut taps);
        taps.finish().unwrap();
        let sites: Vec<&str> = recorder.values().keys().map(String::as_str).collect();
        assert_eq!(
            sites,
            [
                "aggregation.mask",
                "cse.activation.mask",
                "cse.expand.out",
                "cse.expand.weight",
                "cse.gate",
                "cse.reduce.out",
                "cse.reduce.weight",
                "out",
                "sse.conv.out",
                "sse.conv.weight",
                "sse.gate",
            ]
        );
        let gate = |path: &str| recorder.get(path).unwrap().get::<Tensor<4>>().unwrap();
        check(
            &format!("channel gate on {backend}"),
            gate("cse.gate"),
            &fx,
            "channel_gate",
        );
        check(
            &format!("spatial gate on {backend}"),
            gate("sse.gate"),
            &fx,
            "spatial_gate",
        );
        check(
            &format!("tapped scSE on {backend}"),
            tapped,
            &fx,
            "scse_max",
        );
    }
}

#[test]
fn max_out_input_gradient_matches_pytorch() {
    let fx = fixture();
    for (backend, device) in test_devices() {
        let ad = device.clone().autodiff();
        let block = reference_block(SeAggregation::Max, &ad);
        let x = fx.float::<4>("input", &ad).unwrap().require_grad();
        let probe = fx.float::<4>("probe", &ad).unwrap();
        let grads = (block.forward(x.clone()) * probe).sum().backward();
        let grad = x.grad(&grads).expect("input gradient");
        check(
            &format!("scSE max-out input gradient on {backend}"),
            grad,
            &fx,
            "scse_max_input_grad",
        );
        // The parameters get gradients too (training works through both branches).
        for param in [&block.cse.reduce.weight, &block.sse.conv.weight] {
            assert!(param.grad(&grads).is_some(), "{backend}: missing gradient");
        }
    }
}

#[test]
fn shapes_defaults_and_errors() {
    let device = Device::flex();
    // Reduction 16 by default; at least one hidden channel.
    assert_eq!(ChannelSqueezeExciteConfig::new(64).hidden_channels(), 4);
    assert_eq!(ChannelSqueezeExciteConfig::new(8).hidden_channels(), 1);
    let default = SpatialChannelSqueezeExciteConfig::new(8);
    assert_eq!(default.reduction, 16);
    assert_eq!(default.aggregation, SeAggregation::Max);

    let x = Tensor::<4>::ones([2, 8, 3, 5], &device);
    let cse = ChannelSqueezeExciteConfig::new(8).init(&device);
    assert_eq!(cse.reduce.weight.dims(), [1, 8, 1, 1]);
    assert_eq!(cse.forward(x.clone()).dims(), [2, 8, 3, 5]);
    let sse = SpatialSqueezeExciteConfig::new(8).init(&device);
    assert_eq!(sse.forward(x.clone()).dims(), [2, 8, 3, 5]);
    let concat = default
        .with_aggregation(SeAggregation::Concat)
        .init(&device);
    assert_eq!(concat.out_channels(), 16);
    assert_eq!(concat.forward(x).dims(), [2, 16, 3, 5]);
    // 1×1 feature maps are fine.
    assert!(concat.check_input(&[1, 8, 1, 1]).is_ok());

    for err in [
        cse.check_input(&[2, 7, 3, 5]).unwrap_err(),
        sse.check_input(&[2, 9, 3, 5]).unwrap_err(),
        concat.check_input(&[2, 16, 3, 5]).unwrap_err(),
        concat.check_input(&[2, 8, 3]).unwrap_err(),
        concat.check_input(&[2, 8, 0, 4]).unwrap_err(),
    ] {
        assert!(matches!(err, Error::Shape { .. }), "{err}");
    }
    assert_eq!(
        cse.check_input(&[2, 7, 3, 5]).unwrap_err().to_string(),
        "ChannelSqueezeExcite input: expected shape [_, 8, >=1, >=1], got [2, 7, 3, 5]"
    );

    let err = ChannelSqueezeExciteConfig::new(8)
        .with_reduction(0)
        .try_init(&device)
        .unwrap_err();
    assert!(matches!(err, Error::Invalid { .. }), "{err}");
    assert!(
        SpatialChannelSqueezeExciteConfig::new(0)
            .try_init(&device)
            .is_err()
    );
    // Parameters: cSE 8·1 + 1 + 1·8 + 8, sSE 8 + 1.
    assert_eq!(concat.num_params(), 8 + 1 + 8 + 8 + 8 + 1);
}
