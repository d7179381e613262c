//! Pooling: the entries every convkit block calls.

use burn::backend::Dispatch;
use burn::tensor::module::{
    avg_pool2d as burn_avg_pool2d, max_pool2d as burn_max_pool2d,
    max_pool2d_with_indices as burn_max_pool2d_with_indices,
};
use burn::tensor::ops::{AvgPoolOptions, MaxPoolOptions};
use burn::tensor::{DType, Device, Int, Tensor};

use crate::extension::KernelOps;

/// 2-D max pooling, `torch.nn.functional.max_pool2d` (padded positions never win).
///
/// Kernel choice: f32 on burn's flex CPU device, with or without autodiff → convkit's kernel
/// ([`crate::extension::KernelOps::max_pool2d_tracked`]: planes in parallel; under autodiff
/// the backward scatters the gradient to the recorded argmaxes, parallel over planes);
/// otherwise burn's op.
///
/// # Shapes
/// - `x` `[N, C, H, W]`, output `[N, C, H_out, W_out]`,
///   `H_out = floor((H + p_top + p_bottom − d(k − 1) − 1) / s) + 1` (ceil in ceil mode, the
///   last window starting inside the input or its leading padding)
pub fn max_pool2d(x: Tensor<4>, options: MaxPoolOptions<2>) -> Tensor<4> {
    if x.device().inner() == Device::flex() && x.dtype() == DType::F32 {
        return Tensor::from_dispatch(<Dispatch as KernelOps>::max_pool2d_tracked(
            x.into_dispatch(),
            options,
        ));
    }
    burn_max_pool2d(x, options)
}

/// [`max_pool2d`] with the argmax of every window: flat indices into each `(n, c)` plane of
/// the input, `[N, C, H_out, W_out]` (burn's op on every backend).
pub fn max_pool2d_with_indices(
    x: Tensor<4>,
    options: MaxPoolOptions<2>,
) -> (Tensor<4>, Tensor<4, Int>) {
    burn_max_pool2d_with_indices(x, options)
}

/// `out[n, c, i, j] = x[n, c].flatten()[indices[n, c, i, j]]`: a max pool replayed from
/// recorded argmax indices (differentiable in `x`).
pub fn gather_planes(x: Tensor<4>, indices: Tensor<4, Int>) -> Tensor<4> {
    let [n, c, h, w] = x.dims();
    let [_, _, ho, wo] = indices.dims();
    let flat = x.reshape([n, c, h * w]);
    let idx = indices.reshape([n, c, ho * wo]);
    flat.gather(2, idx).reshape([n, c, ho, wo])
}

/// 2-D average pooling, `torch.nn.functional.avg_pool2d` (burn's op on every backend).
pub fn avg_pool2d(x: Tensor<4>, options: AvgPoolOptions<2>) -> Tensor<4> {
    burn_avg_pool2d(x, options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};
    use convkit_core::random;

    #[test]
    fn the_kernel_equals_burns_pooling() {
        let device = Device::default();
        for k in 1..=3 {
            for (h, w) in [(k, k), (7, 5), (8, 9), (13, 4)] {
                if h < k || w < k {
                    continue;
                }
                let options = MaxPoolOptions::new([k, k]).with_stride([k, k]);
                let x = random::tensor([2, 3, h, w], Distribution::Default, &device);
                let fast = max_pool2d(x.clone(), options.clone());
                let reference = burn_max_pool2d(x.clone(), options.clone());
                assert_eq!(fast.dims(), reference.dims(), "k={k} {h}x{w}");
                let diff = (fast - reference.clone()).abs().max().into_scalar::<f32>();
                assert_eq!(diff, 0.0, "k={k} {h}x{w}");
                let (_, indices) = max_pool2d_with_indices(x.clone(), options);
                let replayed = gather_planes(x, indices);
                assert_eq!(replayed.into_data(), reference.into_data(), "k={k} {h}x{w}");
            }
        }
    }
}
