//! Convolution rows: convkit's entry (`convkit_ops::conv2d` / `conv1d`, its own kernel on
//! flex) forward and forward + backward, burn's own conv2d for the record, depth-wise and
//! dilated 1-D convolutions.

use burn::tensor::module::conv2d as burn_conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor};
use serde_json::Value;

use crate::{Timer, randn};

/// The 3×3 convolution of the `conv2d_*` rows: 8×64×56×56 → 64 channels, padding 1.
const X: [usize; 4] = [8, 64, 56, 56];

pub fn conv2d_fwd(device: &Device, timer: &Timer) -> Value {
    let x = randn(X, device);
    let w = randn([64, 64, 3, 3], device);
    let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    timer.time(|| {
        convkit_ops::conv2d(x.clone(), w.clone(), None, options.clone()).into_data();
    })
}

/// Forward + backward (input and weight gradients) of `conv` on `x_shape` and `w_shape`.
fn fwd_bwd(
    device: &Device,
    timer: &Timer,
    x_shape: [usize; 4],
    w_shape: [usize; 4],
    options: ConvOptions<2>,
    conv: fn(Tensor<4>, Tensor<4>, Option<Tensor<1>>, ConvOptions<2>) -> Tensor<4>,
) -> Value {
    let ad = device.clone().autodiff();
    let x = randn(x_shape, &ad);
    let w = randn(w_shape, &ad);
    timer.time(|| {
        let x = x.clone().require_grad();
        let w = w.clone().require_grad();
        let grads = conv(x.clone(), w.clone(), None, options.clone())
            .sum()
            .backward();
        x.grad(&grads).unwrap().into_data();
        w.grad(&grads).unwrap().into_data();
    })
}

pub fn conv2d_fwd_bwd(device: &Device, timer: &Timer) -> Value {
    let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    fwd_bwd(
        device,
        timer,
        X,
        [64, 64, 3, 3],
        options,
        convkit_ops::conv2d,
    )
}

pub fn conv2d_fwd_bwd_burn(device: &Device, timer: &Timer) -> Value {
    let options = ConvOptions::new([1, 1], [1, 1], [1, 1], 1);
    fwd_bwd(device, timer, X, [64, 64, 3, 3], options, burn_conv2d)
}

/// Depth-wise `k`×`k` convolution with dilation `d` and "same" padding on 8×64×56×56.
pub fn depthwise_fwd_bwd(device: &Device, timer: &Timer, k: usize, d: usize) -> Value {
    let pad = d * (k - 1) / 2;
    let options = ConvOptions::new([1, 1], [pad, pad], [d, d], 64);
    fwd_bwd(
        device,
        timer,
        X,
        [64, 1, k, k],
        options,
        convkit_ops::conv2d,
    )
}

/// Four 1-D convolutions 64 → 64, k = 3, dilations 1, 2, 4, 8 ("same" padding), of one
/// 32×64×1024 input, summed; forward + backward.
pub fn conv1d_dilated_fwd_bwd(device: &Device, timer: &Timer) -> Value {
    let ad = device.clone().autodiff();
    let x = randn([32, 64, 1024], &ad);
    let weights: Vec<Tensor<3>> = (0..4).map(|_| randn([64, 64, 3], &ad)).collect();
    timer.time(|| {
        let x = x.clone().require_grad();
        let weights: Vec<Tensor<3>> = weights.iter().map(|w| w.clone().require_grad()).collect();
        let y = weights
            .iter()
            .zip([1, 2, 4, 8])
            .map(|(w, d)| {
                let options = ConvOptions::new([1], [d], [d], 1);
                convkit_ops::conv1d(x.clone(), w.clone(), None, options)
            })
            .reduce(|a, b| a + b)
            .unwrap();
        let grads = y.sum().backward();
        x.grad(&grads).unwrap().into_data();
        for w in &weights {
            w.grad(&grads).unwrap().into_data();
        }
    })
}
