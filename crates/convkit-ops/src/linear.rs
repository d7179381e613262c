//! The affine map of linear layers: the entry convkit's `Linear` calls.

use burn::tensor::Tensor;
use burn::tensor::module::linear as burn_linear;

/// `y = x · W + b` with `W` `[d_in, d_out]` (burn's row layout, the transpose of PyTorch's
/// `weight`), over the last axis of `x` (burn's op on every backend).
///
/// # Shapes
/// - `x` `[..., d_in]`, `weight` `[d_in, d_out]`, `bias` `[d_out]`; output `[..., d_out]`
pub fn linear<const D: usize>(
    x: Tensor<D>,
    weight: Tensor<2>,
    bias: Option<Tensor<1>>,
) -> Tensor<D> {
    burn_linear(x, weight, bias)
}
