//! Pooling rows: convkit's entries (`convkit_ops::max_pool2d` / `avg_pool2d`, its own kernels
//! on flex) forward + backward, and burn's own ops on the same workload for the record.

use burn::tensor::module::{avg_pool2d as burn_avg_pool2d, max_pool2d as burn_max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor};
use serde_json::Value;

use crate::{Timer, randn};

/// The input of the pooling rows: an early-layer feature map.
const X: [usize; 4] = [8, 64, 56, 56];

/// Forward + backward (input gradient) of `pool` on [`X`].
fn fwd_bwd(device: &Device, timer: &Timer, pool: &dyn Fn(Tensor<4>) -> Tensor<4>) -> Value {
    let ad = device.clone().autodiff();
    let x = randn(X, &ad);
    timer.time(|| {
        let x = x.clone().require_grad();
        let grads = pool(x.clone()).sum().backward();
        x.grad(&grads).unwrap().into_data();
    })
}

/// Max pooling 2×2, stride 2 (every CNN's down-sampling).
fn max_options() -> MaxPoolOptions<2> {
    MaxPoolOptions::new([2, 2]).with_stride([2, 2])
}

/// Average pooling 3×3, stride 1, padding 1, padding not counted (the Inception branches').
fn avg_options() -> AvgPoolOptions<2> {
    AvgPoolOptions::new([3, 3])
        .with_stride([1, 1])
        .with_padding([1, 1])
        .with_count_include_pad(false)
}

pub fn max_pool2_fwd_bwd(device: &Device, timer: &Timer, burn: bool) -> Value {
    if burn {
        fwd_bwd(device, timer, &|x| burn_max_pool2d(x, max_options()))
    } else {
        fwd_bwd(device, timer, &|x| {
            convkit_ops::max_pool2d(x, max_options())
        })
    }
}

pub fn avg_pool3_fwd_bwd(device: &Device, timer: &Timer, burn: bool) -> Value {
    if burn {
        fwd_bwd(device, timer, &|x| burn_avg_pool2d(x, avg_options()))
    } else {
        fwd_bwd(device, timer, &|x| {
            convkit_ops::avg_pool2d(x, avg_options())
        })
    }
}
