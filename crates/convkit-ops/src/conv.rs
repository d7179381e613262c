//! Convolutions: the entry every convkit block calls.

use burn::tensor::Tensor;
use burn::tensor::module::{conv_transpose2d as burn_conv_transpose2d, conv2d as burn_conv2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};

use crate::host_conv2d;

/// 2-D convolution, `torch.nn.functional.conv2d(x, weight, bias, stride, padding, dilation,
/// groups)`:
///
/// `y[b, o, i, j] = bias[o] + Σ_{c, u, v} w[o, c, u, v] · x[b, g(o)·C_in/G + c,
/// i·s_h + u·d_h − p_h, j·s_w + v·d_w − p_w]` (zero outside the input).
///
/// Kernel choice: f32 on burn's flex CPU device without autodiff, `groups = 1`,
/// `dilation = 1`, other than 1×1 stride-1 unpadded → convkit's host kernel (NCHW im2col
/// tiles, the `host_conv2d` module); everything else → burn's `conv2d` of the tensor's backend.
///
/// # Shapes
/// - `x` `[N, C_in, H, W]`, `weight` `[C_out, C_in / groups, k_h, k_w]`, `bias` `[C_out]`
/// - output `[N, C_out, H_out, W_out]`, `H_out = (H + 2p_h − d_h(k_h − 1) − 1) / s_h + 1`
///
/// # Panics
/// As burn's `conv2d`: when the channel counts or the bias length disagree, a stride is 0, or
/// the kernel is larger than the padded input.
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    if host_conv2d::takes(&x, &weight, [bias.as_ref(), None], &options) {
        return host_conv2d::conv2d(x, weight, None, bias, &options);
    }
    burn_conv2d(x, weight, bias, options)
}

/// `scale[o] · conv2d(x, weight)[o] + shift[o]`: a convolution followed by a per-channel
/// affine map, the form of an inference-mode batch norm folded into the convolution.
///
/// On the host kernel the map is applied as the output is written (no scaled weight copy, no
/// second pass); elsewhere the scale multiplies the weights and the shift becomes the bias.
/// The two differ by float rounding only (~1e-7 relative).
///
/// # Shapes
/// As [`conv2d`], with `scale` and `shift` `[C_out]`.
pub fn conv2d_scale_shift(
    x: Tensor<4>,
    weight: Tensor<4>,
    scale: Tensor<1>,
    shift: Tensor<1>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    if host_conv2d::takes(&x, &weight, [Some(&scale), Some(&shift)], &options) {
        return host_conv2d::conv2d(x, weight, Some(scale), Some(shift), &options);
    }
    let out_channels = scale.dims()[0];
    let weight = weight * scale.reshape([out_channels, 1, 1, 1]);
    burn_conv2d(x, weight, Some(shift), options)
}

/// 2-D transposed convolution, `torch.nn.functional.conv_transpose2d` (burn's op on every
/// backend).
///
/// # Shapes
/// - `x` `[N, C_in, H, W]`, `weight` `[C_in, C_out / groups, k_h, k_w]`, `bias` `[C_out]`
/// - output `[N, C_out, (H − 1)s_h − 2p_h + d_h(k_h − 1) + q_h + 1, …]` (`q` the output
///   padding)
pub fn conv_transpose2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvTransposeOptions<2>,
) -> Tensor<4> {
    burn_conv_transpose2d(x, weight, bias, options)
}
