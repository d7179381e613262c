//! Convolutions: the entry every convkit block calls.

use burn::backend::Dispatch;
use burn::tensor::module::{conv_transpose2d as burn_conv_transpose2d, conv2d as burn_conv2d};
use burn::tensor::ops::{ConvOptions, ConvTransposeOptions};
use burn::tensor::{DType, Tensor};

use crate::extension::{KernelOps, on_flex, on_flex_f32};

/// 2-D convolution, `torch.nn.functional.conv2d(x, weight, bias, stride, padding, dilation,
/// groups)`:
///
/// `y[b, o, i, j] = bias[o] + Σ_{c, u, v} w[o, c, u, v] · x[b, g(o)·C_in/G + c,
/// i·s_h + u·d_h − p_top, j·s_w + v·d_w − p_left]` (zero outside the input).
///
/// Kernel choice: on burn's flex CPU device, convkit's kernel ([`crate::extension`]: blocked
/// im2col products over NCHW, with its own backward pass under autodiff); on every other
/// backend burn's `conv2d`. Same semantics and shapes on both.
///
/// # Shapes
/// - `x` `[N, C_in, H, W]`, `weight` `[C_out, C_in / groups, k_h, k_w]`, `bias` `[C_out]`
/// - output `[N, C_out, H_out, W_out]`,
///   `H_out = (H + p_top + p_bottom − d_h(k_h − 1) − 1) / s_h + 1`
///
/// # Panics
/// As burn's `conv2d`: when the channel counts or the bias length disagree, a stride,
/// dilation or group count is 0, or the dilated kernel is larger than the padded input.
pub fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<2>,
) -> Tensor<4> {
    if !on_flex(&x) {
        return burn_conv2d(x, weight, bias, options);
    }
    match bias {
        // Inference: the bias is the kernel's epilogue.
        Some(bias) if !x.device().is_autodiff() => {
            let scale = Tensor::ones([bias.dims()[0]], &bias.device());
            conv2d_scale_shift(x, weight, scale, bias, options)
        }
        bias => {
            let y = Tensor::from_dispatch(<Dispatch as KernelOps>::conv2d_unbiased(
                x.into_dispatch(),
                weight.into_dispatch(),
                options,
            ));
            plus_channel_bias(y, bias)
        }
    }
}

/// 1-D convolution, `torch.nn.functional.conv1d(x, weight, bias, stride, padding, dilation,
/// groups)`, with padding `(before, after)` so that a causal convolution is
/// `padding: [(d(k − 1), 0)]`: the 2-D convolution of `x` as `[N, C_in, 1, L]` (same kernel,
/// same backward pass).
///
/// # Shapes
/// - `x` `[N, C_in, L]`, `weight` `[C_out, C_in / groups, k]`, `bias` `[C_out]`
/// - output `[N, C_out, L_out]`, `L_out = (L + p_before + p_after − d(k − 1) − 1) / s + 1`
///
/// # Panics
/// As [`conv2d`].
pub fn conv1d(
    x: Tensor<3>,
    weight: Tensor<3>,
    bias: Option<Tensor<1>>,
    options: ConvOptions<1>,
) -> Tensor<3> {
    let [n, c, l] = x.dims();
    let [o, cg, k] = weight.dims();
    let options = ConvOptions {
        stride: [1, options.stride[0]],
        padding: [(0, 0), options.padding[0]],
        dilation: [1, options.dilation[0]],
        groups: options.groups,
    };
    let y = conv2d(
        x.reshape([n, c, 1, l]),
        weight.reshape([o, cg, 1, k]),
        bias,
        options,
    );
    let [n, o, _, l_out] = y.dims();
    y.reshape([n, o, l_out])
}

/// `scale[o] · conv2d(x, weight)[o] + shift[o]`: a convolution followed by a per-channel
/// affine map, the form of an inference-mode batch norm folded into the convolution.
///
/// On flex the map is the kernel's epilogue, applied as the output is written (no scaled
/// weight copy, no second pass); elsewhere the scale multiplies the weights and the shift
/// becomes the bias. The two differ by float rounding only (~1e-7 relative).
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
    if on_flex(&x) {
        return Tensor::from_dispatch(<Dispatch as KernelOps>::conv2d_scale_shift(
            x.into_dispatch(),
            weight.into_dispatch(),
            scale.into_dispatch(),
            shift.into_dispatch(),
            options,
        ));
    }
    let out_channels = scale.dims()[0];
    let weight = weight * scale.reshape([out_channels, 1, 1, 1]);
    burn_conv2d(x, weight, Some(shift), options)
}

/// 2-D transposed convolution, `torch.nn.functional.conv_transpose2d`: the adjoint of a
/// convolution. On flex (f32) convkit's kernel — its forward is the convolution's input
/// gradient, its gradients the convolution's forward and weight gradient; elsewhere burn's op.
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
    if !(on_flex_f32(&x) && weight.dtype() == DType::F32) {
        return burn_conv_transpose2d(x, weight, bias, options);
    }
    let y = Tensor::from_dispatch(<Dispatch as KernelOps>::conv_transpose2d_unbiased(
        x.into_dispatch(),
        weight.into_dispatch(),
        options,
    ));
    plus_channel_bias(y, bias)
}

/// `y + bias[o]` over output channel `o` of `[N, C_out, H, W]` (a differentiable broadcast).
fn plus_channel_bias(y: Tensor<4>, bias: Option<Tensor<1>>) -> Tensor<4> {
    match bias {
        Some(bias) => {
            let channels = bias.dims()[0];
            y + bias.reshape([1, channels, 1, 1])
        }
        None => y,
    }
}
