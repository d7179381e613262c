//! Batch normalisation: the entries convkit's `BatchNorm` calls.

use burn::backend::Dispatch;
use burn::tensor::Tensor;
use burn::tensor::module::batch_norm;

use crate::extension::{KernelOps, on_flex_f32};

/// The shortest `(n, c)` row (product of the spatial sizes) the kernel takes: its sums run in
/// 16 lanes along the rows; shorter ones (`[N, C]` features) keep the composed ops.
const KERNEL_MIN_ROW: usize = 16;

/// Batch normalisation with batch statistics (training):
/// `y = (x − μ) / sqrt(σ² + ε) · γ + β`, μ and σ² (biased) per channel over batch and space.
///
/// Returns `(y, μ, σ²)` with μ and σ² `[C]`, detached from nothing (autodiff differentiates
/// `y` through them).
///
/// Kernel choice: f32 on burn's flex CPU device (with or without autodiff), with at least 16
/// elements per `(n, c)` plane → convkit's kernel
/// ([`crate::extension::KernelOps::batch_norm_training`]: two passes forward, two backward, the
/// backward `dx = γ/σ · (dy − mean(dy) − x̂ · mean(dy · x̂))` with `dγ = Σ dy · x̂`,
/// `dβ = Σ dy`). Otherwise composed ops: the statistics as sums over the contiguous last
/// axis of an `[N, C, rest]` view, then over `N`, `y` with broadcast `[1, C, 1]` factors
/// (2–3× faster than burn's `batch_norm_train`, which transposes the activation in both
/// passes; docs/performance.md).
///
/// # Shapes
/// - `x` `[N, C, ...]`, `gamma` and `beta` `[C]`; `y` like `x`.
pub fn batch_norm_train<const D: usize>(
    x: Tensor<D>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    epsilon: f64,
) -> (Tensor<D>, Tensor<1>, Tensor<1>) {
    let dims = x.dims();
    let (n, c) = (dims[0], dims[1]);
    let rest: usize = dims[2..].iter().product();
    if on_flex_f32(&x) && rest >= KERNEL_MIN_ROW {
        let (y, mean, variance) = <Dispatch as KernelOps>::batch_norm_training(
            x.into_dispatch(),
            gamma.into_dispatch(),
            beta.into_dispatch(),
            epsilon,
        );
        return (
            Tensor::from_dispatch(y),
            Tensor::from_dispatch(mean),
            Tensor::from_dispatch(variance),
        );
    }
    let count = (n * rest) as f64;
    let x3: Tensor<3> = x.reshape([n, c, rest]);
    let mean = x3.clone().sum_dim(2).sum_dim(0).div_scalar(count);
    let centered = x3 - mean.clone();
    let variance = centered
        .clone()
        .square()
        .sum_dim(2)
        .sum_dim(0)
        .div_scalar(count);
    let scale = gamma.reshape([1, c, 1]) / (variance.clone() + epsilon).sqrt();
    let y = (centered * scale + beta.reshape([1, c, 1])).reshape(dims);
    (y, mean.reshape([c]), variance.reshape([c]))
}

/// Batch normalisation with given statistics (inference): burn's `batch_norm` on every
/// backend.
///
/// # Shapes
/// - `x` `[N, C, ...]`, the vectors `[C]`; output like `x`.
pub fn batch_norm_inference<const D: usize>(
    x: Tensor<D>,
    gamma: Tensor<1>,
    beta: Tensor<1>,
    mean: Tensor<1>,
    variance: Tensor<1>,
    epsilon: f64,
) -> Tensor<D> {
    batch_norm(x, gamma, beta, mean, variance, epsilon)
}
