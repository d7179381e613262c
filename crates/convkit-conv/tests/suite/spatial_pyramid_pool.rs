//! Spatial pyramid pooling against PyTorch's adaptive pools
//! (`tools/refgen/spatial_pyramid_pool.py`) on every compiled backend, its bins over a grid of
//! sizes, and variable-size inputs in one model.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use convkit_conv::{
    ConvNormAct, ConvNormActConfig, PoolKind, SpatialPyramidPool, SpatialPyramidPoolConfig,
};
use convkit_core::testing::{Fixture, compare, test_devices};
use convkit_core::{Error, Tapped, fixture_path};
use proptest::prelude::*;

/// Max pooling copies input values: exact. Averages are f32 sums of up to 169 values, taken
/// in another order than PyTorch's: a few ulp.
const ATOL: f64 = 1e-6;
const RTOL: f64 = 1e-5;

fn fixture() -> Fixture {
    Fixture::load(fixture_path!("spatial_pyramid_pool.safetensors")).unwrap()
}

fn spp(levels: &[usize], pool: PoolKind) -> SpatialPyramidPool {
    SpatialPyramidPoolConfig::new(3)
        .with_levels(levels.to_vec())
        .with_pool(pool)
        .init()
}

#[track_caller]
fn check<const D: usize>(what: &str, actual: Tensor<D>, fx: &Fixture, name: &str) {
    match compare(&actual.into_data(), fx.get(name).unwrap(), ATOL, RTOL) {
        Ok(c) => eprintln!("{what}: max abs error {:.2e}", c.max_abs),
        Err(report) => panic!("{what}: not within atol {ATOL:e}, rtol {RTOL:e}: {report}"),
    }
}

#[test]
fn matches_adaptive_pools_on_odd_sizes() {
    let fx = fixture();
    for (backend, device) in test_devices() {
        for size in ["1x1", "3x5", "13x13", "7x11", "2x9"] {
            let x = fx.float::<4>(&format!("input_{size}"), &device).unwrap();
            for (pool, name) in [(PoolKind::Max, "max"), (PoolKind::Average, "avg")] {
                let out = spp(&[4, 2, 1], pool).forward(x.clone());
                check(
                    &format!("{name} SPP {size} on {backend}"),
                    out,
                    &fx,
                    &format!("{name}_{size}"),
                );
            }
        }
        let x = fx.float::<4>("input_13x13", &device).unwrap();
        for (pool, name) in [(PoolKind::Max, "max"), (PoolKind::Average, "avg")] {
            let out = spp(&[6, 3], pool).forward(x.clone());
            check(
                &format!("{name} SPP [6, 3] on {backend}"),
                out,
                &fx,
                &format!("{name}_13x13_levels_6_3"),
            );
        }
    }
}

#[test]
fn input_gradient_matches_pytorch() {
    let fx = fixture();
    for (backend, device) in test_devices() {
        let ad = device.clone().autodiff();
        let probe = fx.float::<2>("probe_7x11", &ad).unwrap();
        for (pool, name) in [(PoolKind::Max, "max"), (PoolKind::Average, "avg")] {
            let x = fx.float::<4>("input_7x11", &ad).unwrap().require_grad();
            let out = spp(&[4, 2, 1], pool).forward(x.clone());
            let grads = (out * probe.clone()).sum().backward();
            check(
                &format!("{name} SPP input gradient on {backend}"),
                x.grad(&grads).unwrap(),
                &fx,
                &format!("{name}_grad_7x11"),
            );
        }
    }
}

/// The paper's window `ceil(n / l)` and stride `floor(n / l)` (no padding): the pixels the
/// `l` windows see along a dimension of size `n`.
fn paper_window_coverage(n: usize, l: usize) -> Vec<bool> {
    let (window, stride) = (n.div_ceil(l), n / l);
    let mut seen = vec![false; n];
    for i in 0..l {
        let start = (i * stride).min(n);
        let end = (i * stride + window).min(n);
        seen[start..end].fill(true);
    }
    seen
}

#[test]
fn the_paper_formula_misses_pixels_the_adaptive_bins_cover() {
    // 7 pixels in 4 windows of 2 at stride 1: pixels 5 and 6 are never pooled.
    assert_eq!(
        paper_window_coverage(7, 4),
        [true, true, true, true, true, false, false]
    );
    let bins = SpatialPyramidPool::bins(7, 4);
    assert_eq!(bins, [0..2, 1..4, 3..6, 5..7]);
    // Smaller than the level: stride 0, every window is the first pixel; adaptive bins reuse
    // pixels instead.
    assert_eq!(paper_window_coverage(3, 4), [true, false, false]);
    assert_eq!(SpatialPyramidPool::bins(3, 4), [0..1, 0..2, 1..3, 2..3]);
}

/// The naive reference: for every level, channel, bin row and bin column (the output order),
/// the max or mean of the bin `[floor(i·h/l), ceil((i+1)·h/l)) × [..]` read pixel by pixel.
fn naive_spp(x: &[f32], [n, c, h, w]: [usize; 4], levels: &[usize], pool: PoolKind) -> Vec<f32> {
    let bin = |i: usize, size: usize, l: usize| (i * size / l, ((i + 1) * size).div_ceil(l));
    let mut out = Vec::new();
    for b in 0..n {
        for &l in levels {
            for ch in 0..c {
                for i in 0..l {
                    for j in 0..l {
                        let (r0, r1) = bin(i, h, l);
                        let (c0, c1) = bin(j, w, l);
                        let values = (r0..r1)
                            .flat_map(|r| (c0..c1).map(move |q| ((b * c + ch) * h + r) * w + q))
                            .map(|k| x[k]);
                        out.push(match pool {
                            PoolKind::Max => values.fold(f32::NEG_INFINITY, f32::max),
                            PoolKind::Average => {
                                values.sum::<f32>() / ((r1 - r0) * (c1 - c0)) as f32
                            }
                        });
                    }
                }
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// For any size from 1×1 to 40×40 and any levels from 1 to 6: every bin is non-empty,
    /// the bins cover every pixel, the output length is `C · Σ l²`, and the values are the
    /// naive per-bin max or mean.
    #[test]
    fn bins_cover_every_pixel_and_values_match_naive(
        h in 1usize..=40,
        w in 1usize..=40,
        levels in prop::collection::vec(1usize..=6, 1..=3),
        average in any::<bool>(),
        seed in 0u64..1000,
    ) {
        for &l in &levels {
            for size in [h, w] {
                let bins = SpatialPyramidPool::bins(size, l);
                prop_assert_eq!(bins.len(), l);
                prop_assert!(bins.iter().all(|b| b.start < b.end && b.end <= size), "{:?}", bins);
                let mut covered = vec![false; size];
                for b in &bins {
                    covered[b.clone()].fill(true);
                }
                prop_assert!(covered.iter().all(|&c| c), "{} pixels in {} bins: {:?}", size, l, bins);
            }
        }
        let pool = if average { PoolKind::Average } else { PoolKind::Max };
        let layer = SpatialPyramidPoolConfig::new(2).with_levels(levels.clone()).with_pool(pool).init();
        let device = Device::flex();
        convkit_core::random::seed(seed);
        let shape = [2, 2, h, w];
        let x = convkit_core::random::tensor(shape, Distribution::Normal(0.0, 1.0), &device);
        let values: Vec<f32> = x.to_data().iter::<f32>().collect();
        let out = layer.forward(x);
        let len = 2 * levels.iter().map(|l| l * l).sum::<usize>();
        prop_assert_eq!(layer.output_len(), len);
        prop_assert_eq!(out.dims(), [2, len]);
        let expected = TensorData::new(naive_spp(&values, shape, &levels, pool), [2, len]);
        compare(&out.into_data(), &expected, ATOL, RTOL).map_err(TestCaseError::fail)?;
    }
}

/// conv3×3-BN-ReLU → SPP [4, 2, 1] → linear: an image classifier for any input size.
#[derive(Module, Debug)]
struct SppNet {
    conv: ConvNormAct,
    spp: SpatialPyramidPool,
    head: Linear,
}

impl SppNet {
    fn new(device: &Device) -> Self {
        let spp = SpatialPyramidPoolConfig::new(8).init();
        SppNet {
            conv: ConvNormActConfig::new(3, 8).init(device),
            head: LinearConfig::new(spp.output_len(), 5).init(device),
            spp,
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.head.forward(self.spp.forward(self.conv.forward(x)))
    }
}

#[test]
fn variable_size_inputs_work_in_one_model() {
    for (backend, device) in test_devices() {
        convkit_core::random::seed(7);
        let model = SppNet::new(&device);
        let normal = Distribution::Normal(0.0, 1.0);
        for [h, w] in [[1, 1], [3, 5], [13, 13], [7, 11], [32, 20]] {
            let x = convkit_core::random::tensor([2, 3, h, w], normal, &device);
            assert_eq!(model.forward(x).dims(), [2, 5], "{backend}: {h}x{w}");
        }

        // One training step on a 9×9 batch, one on a 16×12 batch.
        let ad = device.clone().autodiff();
        let mut model = SppNet::new(&ad);
        let mut optim = AdamConfig::new().init();
        let loss_fn = burn::nn::loss::CrossEntropyLossConfig::new().init(&ad);
        for [h, w] in [[9, 9], [16, 12]] {
            let before = model.head.weight.val().into_data();
            let x = convkit_core::random::tensor([4, 3, h, w], normal, &ad);
            let target =
                Tensor::<1, Int>::from_data(TensorData::new(vec![0i64, 1, 2, 3], [4]), &ad);
            let loss = loss_fn.forward(model.forward(x), target);
            assert!(loss.clone().into_scalar::<f32>().is_finite());
            let grads = loss.backward();
            assert!(model.conv.conv.weight.grad(&grads).is_some(), "{backend}");
            let grads = GradientsParams::from_grads(grads, &model);
            model = optim.step(1e-2, model, grads);
            let after = model.head.weight.val().into_data();
            assert_ne!(before, after, "{backend}: the {h}x{w} step changed nothing");
        }
    }
}

#[test]
fn wrong_channels_and_bad_configs_are_typed_errors() {
    let layer = SpatialPyramidPoolConfig::new(3).init();
    assert_eq!(layer.levels(), [4, 2, 1]);
    assert_eq!(layer.output_len(), 63);
    assert!(layer.check_input(&[2, 3, 1, 1]).is_ok());
    let err = layer.check_input(&[2, 4, 13, 13]).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "SpatialPyramidPool input: expected shape [_, 3, >=1, >=1], got [2, 4, 13, 13]"
    );
    assert!(matches!(
        layer.check_input(&[2, 3, 0, 5]),
        Err(Error::Shape { .. })
    ));
    for config in [
        SpatialPyramidPoolConfig::new(0),
        SpatialPyramidPoolConfig::new(3).with_levels(vec![]),
        SpatialPyramidPoolConfig::new(3).with_levels(vec![2, 0]),
    ] {
        let err = config.try_init().unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{err}");
    }
}
