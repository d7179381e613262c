//! Golden parity with PyTorch (`tools/refgen/conv_kernels.py`): `conv2d`, `conv1d`,
//! `max_pool2d`, `avg_pool2d`, `adaptive_avg_pool2d` and training-mode `batch_norm`, values and input / weight / bias gradients, over a grid of strides,
//! (asymmetric) paddings, dilations, groups (depth-wise included) and kernel sizes, on every
//! compiled backend (flex takes convkit's kernels, the others burn's ops).

use burn::tensor::ops::{AvgPoolOptions, ConvOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor, TensorData};
use convkit_core::testing::{Fixture, compare, test_devices};

/// Relative error allowed on values and gradients, scaled by the largest expected magnitude.
const RTOL: f64 = 1e-4;

fn fixture(name: &str) -> Fixture {
    Fixture::load(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// The cases of a fixture: `case00`, `case01`, ….
fn cases(fixture: &Fixture) -> Vec<String> {
    let mut cases: Vec<String> = fixture
        .names()
        .filter_map(|n| n.strip_suffix(".options").map(str::to_string))
        .collect();
    cases.sort();
    assert!(cases.len() >= 6, "the fixture has {} cases", cases.len());
    cases
}

fn options(fixture: &Fixture, case: &str) -> Vec<usize> {
    let data = fixture.get(&format!("{case}.options")).unwrap();
    data.iter::<i64>().map(|v| v as usize).collect()
}

fn check(what: &str, actual: TensorData, expected: &TensorData) {
    let scale = expected
        .iter::<f32>()
        .fold(1.0f64, |m, v| m.max(v.abs() as f64));
    compare(&actual, expected, RTOL * scale, RTOL).unwrap_or_else(|e| panic!("{what}: {e}"));
}

/// `conv(x, w, b)` and the gradients of `(y * dy).sum()`, checked against the fixture.
fn check_conv<const D: usize>(
    fixture: &Fixture,
    case: &str,
    device: &Device,
    conv: impl Fn(Tensor<D>, Tensor<D>, Tensor<1>) -> Tensor<D>,
) {
    let device = device.clone().autodiff();
    let get = |name: &str| fixture.get(&format!("{case}.{name}")).unwrap();
    let x = Tensor::<D>::from_data(get("x").clone(), &device).require_grad();
    let w = Tensor::<D>::from_data(get("w").clone(), &device).require_grad();
    let b = Tensor::<1>::from_data(get("b").clone(), &device).require_grad();
    let dy = Tensor::<D>::from_data(get("dy").clone(), &device);
    let y = conv(x.clone(), w.clone(), b.clone());
    check(&format!("{case} y"), y.clone().into_data(), get("y"));
    let grads = (y * dy).sum().backward();
    check(
        &format!("{case} dx"),
        x.grad(&grads).unwrap().into_data(),
        get("dx"),
    );
    check(
        &format!("{case} dw"),
        w.grad(&grads).unwrap().into_data(),
        get("dw"),
    );
    check(
        &format!("{case} db"),
        b.grad(&grads).unwrap().into_data(),
        get("db"),
    );
}

#[test]
fn conv2d_matches_pytorch() {
    let fixture = fixture("conv2d.safetensors");
    for (_, device) in test_devices() {
        for case in cases(&fixture) {
            let o = options(&fixture, &case);
            let options = ConvOptions {
                stride: [o[0], o[1]],
                padding: [(o[2], o[3]), (o[4], o[5])],
                dilation: [o[6], o[7]],
                groups: o[8],
            };
            check_conv::<4>(&fixture, &case, &device, |x, w, b| {
                convkit_ops::conv2d(x, w, Some(b), options.clone())
            });
        }
    }
}

#[test]
fn conv1d_matches_pytorch() {
    let fixture = fixture("conv1d.safetensors");
    for (_, device) in test_devices() {
        for case in cases(&fixture) {
            let o = options(&fixture, &case);
            let options = ConvOptions {
                stride: [o[0]],
                padding: [(o[1], o[2])],
                dilation: [o[3]],
                groups: o[4],
            };
            check_conv::<3>(&fixture, &case, &device, |x, w, b| {
                convkit_ops::conv1d(x, w, Some(b), options.clone())
            });
        }
    }
}

/// `pool(x)` and the gradient of `(y * dy).sum()` with respect to `x`, checked against the
/// fixture's case.
fn check_pool(
    fixture: &Fixture,
    case: &str,
    device: &Device,
    pool: impl Fn(Tensor<4>) -> Tensor<4>,
) {
    let get = |name: &str| fixture.get(&format!("{case}.{name}")).unwrap();
    let x = Tensor::<4>::from_data(get("x").clone(), device).require_grad();
    let dy = Tensor::<4>::from_data(get("dy").clone(), device);
    let y = pool(x.clone());
    check(&format!("{case} y"), y.clone().into_data(), get("y"));
    let grads = (y * dy).sum().backward();
    check(
        &format!("{case} dx"),
        x.grad(&grads).unwrap().into_data(),
        get("dx"),
    );
}

#[test]
fn max_pool2d_matches_pytorch() {
    let fixture = fixture("max_pool2d.safetensors");
    for (_, device) in test_devices() {
        let device = device.autodiff();
        for case in cases(&fixture) {
            let o = options(&fixture, &case);
            let options = MaxPoolOptions {
                kernel_size: [o[0], o[1]],
                stride: [o[2], o[3]],
                padding: [(o[4], o[4]), (o[5], o[5])],
                dilation: [o[6], o[7]],
                ceil_mode: o[8] == 1,
            };
            check_pool(&fixture, &case, &device, |x| {
                convkit_ops::max_pool2d(x, options.clone())
            });
        }
    }
}

/// `convkit_ops::batch_norm_train` on a rank-`D` case: output, batch statistics and the
/// gradients of `(y * dy).sum()` with respect to `x`, γ and β.
fn check_batch_norm<const D: usize>(fixture: &Fixture, case: &str, device: &Device) {
    let get = |name: &str| fixture.get(&format!("{case}.{name}")).unwrap();
    let x = Tensor::<D>::from_data(get("x").clone(), device).require_grad();
    let gamma = Tensor::<1>::from_data(get("gamma").clone(), device).require_grad();
    let beta = Tensor::<1>::from_data(get("beta").clone(), device).require_grad();
    let dy = Tensor::<D>::from_data(get("dy").clone(), device);
    let (y, mean, var) =
        convkit_ops::batch_norm_train(x.clone(), gamma.clone(), beta.clone(), 1e-5);
    check(&format!("{case} y"), y.clone().into_data(), get("y"));
    check(&format!("{case} mean"), mean.into_data(), get("mean"));
    check(&format!("{case} var"), var.into_data(), get("var"));
    let grads = (y * dy).sum().backward();
    for (name, grad) in [
        ("dx", x.grad(&grads).unwrap().into_data()),
        ("dgamma", gamma.grad(&grads).unwrap().into_data()),
        ("dbeta", beta.grad(&grads).unwrap().into_data()),
    ] {
        check(&format!("{case} {name}"), grad, get(name));
    }
}

#[test]
fn batch_norm_training_matches_pytorch() {
    let fixture = fixture("batch_norm.safetensors");
    for (_, device) in test_devices() {
        let device = device.autodiff();
        for case in cases(&fixture) {
            match options(&fixture, &case).len() {
                2 => check_batch_norm::<2>(&fixture, &case, &device),
                3 => check_batch_norm::<3>(&fixture, &case, &device),
                4 => check_batch_norm::<4>(&fixture, &case, &device),
                rank => panic!("{case}: rank {rank}"),
            }
        }
    }
}

#[test]
fn avg_pool2d_and_adaptive_avg_pool2d_match_pytorch() {
    let fixture = fixture("avg_pool2d.safetensors");
    for (_, device) in test_devices() {
        let device = device.autodiff();
        for case in cases(&fixture) {
            let o = options(&fixture, &case);
            check_pool(&fixture, &case, &device, |x| {
                if o[0] == 0 {
                    return convkit_ops::adaptive_avg_pool2d(x, [o[1], o[2]]);
                }
                let options = AvgPoolOptions::new([o[1], o[2]])
                    .with_stride([o[3], o[4]])
                    .with_padding([o[5], o[6]])
                    .with_ceil_mode(o[7] == 1)
                    .with_count_include_pad(o[8] == 1);
                convkit_ops::avg_pool2d(x, options)
            });
        }
    }
}
