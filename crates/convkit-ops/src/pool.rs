//! Pooling: the entries every convkit block calls.

use burn::backend::Dispatch;
use burn::tensor::module::{
    adaptive_avg_pool2d as burn_adaptive_avg_pool2d, avg_pool2d as burn_avg_pool2d,
    max_pool2d as burn_max_pool2d, max_pool2d_with_indices as burn_max_pool2d_with_indices,
};
use burn::tensor::ops::{AvgPoolOptions, MaxPoolOptions};
use burn::tensor::{Int, Tensor};

use crate::extension::{KernelOps, PoolWindows, on_flex_f32};

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
    if on_flex_f32(&x) {
        return Tensor::from_dispatch(<Dispatch as KernelOps>::max_pool2d_tracked(
            x.into_dispatch(),
            options,
        ));
    }
    burn_max_pool2d(x, options)
}

/// 1-D max pooling, `torch.nn.functional.max_pool1d`: [`max_pool2d`] of the `[N, C, 1, L]`
/// view (the same kernels and rules).
///
/// # Shapes
/// - `x` `[N, C, L]`, output `[N, C, L_out]` as one axis of [`max_pool2d`]
pub fn max_pool1d(x: Tensor<3>, options: MaxPoolOptions<1>) -> Tensor<3> {
    let [n, c, l] = x.dims();
    let options = MaxPoolOptions {
        kernel_size: [1, options.kernel_size[0]],
        stride: [1, options.stride[0]],
        padding: [(0, 0), options.padding[0]],
        dilation: [1, options.dilation[0]],
        ceil_mode: options.ceil_mode,
    };
    let y = max_pool2d(x.reshape([n, c, 1, l]), options);
    let [_, _, _, l_out] = y.dims();
    y.reshape([n, c, l_out])
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

/// 2-D average pooling, `torch.nn.functional.avg_pool2d`: kernel, stride, padding, ceil mode
/// and `count_include_pad` (the divisor counts the padded positions a window covers, or only
/// the input's).
///
/// Kernel choice: as [`max_pool2d`], convkit's kernel on flex f32
/// ([`crate::extension::KernelOps::mean_pool2d`]: separable window sums, planes in parallel,
/// the backward spreading `dy / divisor` over each window), burn's op otherwise.
///
/// # Shapes
/// - `x` `[N, C, H, W]`, output `[N, C, H_out, W_out]`,
///   `H_out = floor((H + p_top + p_bottom − k) / s) + 1` (ceil in ceil mode, the last window
///   starting inside the input or its leading padding)
pub fn avg_pool2d(x: Tensor<4>, options: AvgPoolOptions<2>) -> Tensor<4> {
    if on_flex_f32(&x) {
        return Tensor::from_dispatch(<Dispatch as KernelOps>::mean_pool2d(
            x.into_dispatch(),
            PoolWindows::Sliding(options),
        ));
    }
    burn_avg_pool2d(x, options)
}

/// 1-D average pooling, `torch.nn.functional.avg_pool1d`: [`avg_pool2d`] of the
/// `[N, C, 1, L]` view.
///
/// # Shapes
/// - `x` `[N, C, L]`, output `[N, C, L_out]` as one axis of [`avg_pool2d`]
pub fn avg_pool1d(x: Tensor<3>, options: AvgPoolOptions<1>) -> Tensor<3> {
    let [n, c, l] = x.dims();
    let options = AvgPoolOptions {
        kernel_size: [1, options.kernel_size[0]],
        stride: [1, options.stride[0]],
        padding: [(0, 0), options.padding[0]],
        count_include_pad: options.count_include_pad,
        ceil_mode: options.ceil_mode,
    };
    let y = avg_pool2d(x.reshape([n, c, 1, l]), options);
    let [_, _, _, l_out] = y.dims();
    y.reshape([n, c, l_out])
}

/// 2-D adaptive average pooling, `torch.nn.functional.adaptive_avg_pool2d`: output `(i, j)`
/// averages rows `[floor(i·H/H_out), ceil((i+1)·H/H_out))` and the columns alike (windows
/// overlap when the size does not divide).
///
/// Kernel choice as [`avg_pool2d`].
///
/// # Shapes
/// - `x` `[N, C, H, W]`, output `[N, C, H_out, W_out]` (`output_size`)
pub fn adaptive_avg_pool2d(x: Tensor<4>, output_size: [usize; 2]) -> Tensor<4> {
    if on_flex_f32(&x) {
        return Tensor::from_dispatch(<Dispatch as KernelOps>::mean_pool2d(
            x.into_dispatch(),
            PoolWindows::Adaptive(output_size),
        ));
    }
    burn_adaptive_avg_pool2d(x, output_size)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution};
    use convkit_core::random;

    #[test]
    fn one_dimensional_pooling_equals_burns() {
        use burn::tensor::module::{avg_pool1d as burn_avg_pool1d, max_pool1d as burn_max_pool1d};
        for (_, device) in convkit_core::testing::test_devices() {
            let x = random::tensor([2, 3, 23], Distribution::Default, &device);
            for (k, s, p, d, ceil) in [(2, 2, 0, 1, false), (3, 2, 1, 1, true), (3, 1, 1, 2, false)]
            {
                let options = MaxPoolOptions::new([k])
                    .with_stride([s])
                    .with_padding([p])
                    .with_dilation([d])
                    .with_ceil_mode(ceil);
                let fast = max_pool1d(x.clone(), options.clone());
                let reference = burn_max_pool1d(x.clone(), options);
                assert_eq!(fast.into_data(), reference.into_data(), "max k={k} s={s}");
                let options = AvgPoolOptions::new([k])
                    .with_stride([s])
                    .with_padding([p])
                    .with_ceil_mode(ceil)
                    .with_count_include_pad(d == 1);
                let fast = avg_pool1d(x.clone(), options.clone());
                let reference = burn_avg_pool1d(x.clone(), options);
                fast.into_data()
                    .assert_approx_eq::<f32>(&reference.into_data(), Default::default());
            }
        }
    }

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
