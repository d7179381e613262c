//! Convolution → normalization → activation.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{GroupNorm, GroupNormConfig};
use burn::tensor::ops::PadMode;
use burn::tensor::{Device, Tensor};
use convkit_core::{Error, InputSpec, Result, SiteKind, Tapped, Taps};
use serde::{Deserialize, Serialize};

use crate::{Activation, BatchNorm, BatchNormConfig, Conv2d, Conv2dConfig};

/// The normalization after the convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Norm {
    /// [`BatchNorm`] (`torch.nn.BatchNorm2d`); the convolution then has no bias.
    #[default]
    Batch,
    /// Group normalization over `groups` channel groups (`torch.nn.GroupNorm(groups, C)`, with
    /// affine parameters), "Group Normalization" (Wu & He, 2018); the convolution has no bias.
    Group {
        /// Number of channel groups; must divide the output channels.
        groups: usize,
    },
    /// No normalization; the convolution has a bias.
    None,
}

/// How the input of the convolution is padded (with zeros).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Padding {
    /// `kernel / 2` on each side: PyTorch's `padding="same"` for odd kernels at stride 1, and
    /// the usual `padding=k // 2` of strided convolutions in ResNet-style networks.
    #[default]
    Same,
    /// No padding (`padding=0`, TensorFlow's `VALID`).
    Valid,
    /// `[rows, columns]` of zeros on each side (`padding=(ph, pw)` in PyTorch).
    Explicit([usize; 2]),
    /// TensorFlow's `SAME`: output size `ceil(n / stride)`, padding computed from the input
    /// size at every call and split with the odd pixel at the bottom/right
    /// (`timm.layers.Conv2dSame`; needed to load weights trained in TensorFlow, such as
    /// EfficientNet's).
    TfSame,
}

impl Padding {
    /// Static `[rows, columns]` padding on each side, or `None` for [`Padding::TfSame`].
    fn fixed(self, kernel: [usize; 2]) -> Option<[usize; 2]> {
        match self {
            Padding::Same => Some([kernel[0] / 2, kernel[1] / 2]),
            Padding::Valid => Some([0, 0]),
            Padding::Explicit(p) => Some(p),
            Padding::TfSame => None,
        }
    }
}

/// TensorFlow `SAME` padding `(before, after)` of one spatial dimension of size `n` for a
/// kernel `k` and stride `s`: the output has `ceil(n / s)` positions and the odd pixel goes
/// after.
fn tf_same_padding(n: usize, k: usize, s: usize) -> (usize, usize) {
    let out = n.div_ceil(s).max(1);
    let total = ((out - 1) * s + k).saturating_sub(n);
    (total / 2, total - total / 2)
}

/// Configuration of [`ConvNormAct`].
#[derive(Config, Debug)]
pub struct ConvNormActConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Kernel size `[height, width]`.
    #[config(default = "[3, 3]")]
    pub kernel_size: [usize; 2],
    /// Stride (both dimensions).
    #[config(default = 1)]
    pub stride: usize,
    /// Zero padding.
    #[config(default = "Padding::Same")]
    pub padding: Padding,
    /// Normalization.
    #[config(default = "Norm::Batch")]
    pub norm: Norm,
    /// ε of the normalization (PyTorch's default 1e-5; timm's Inception networks use 1e-3).
    #[config(default = 1e-5)]
    pub norm_eps: f64,
    /// Activation.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    /// Whether the convolution has a bias; `None` means "only without a norm", as is usual.
    #[config(default = "None")]
    pub bias: Option<bool>,
}

impl ConvNormActConfig {
    /// A square `k × k` kernel (shorthand for `with_kernel_size([k, k])`).
    pub fn with_square_kernel(self, k: usize) -> Self {
        self.with_kernel_size([k, k])
    }

    /// Checks the configuration: non-zero sizes, and group counts that divide the channels.
    pub fn validate(&self) -> Result<()> {
        let what = "ConvNormAct config";
        if self.in_channels == 0 || self.out_channels == 0 {
            return Err(Error::invalid(what, "channel counts must be positive"));
        }
        if self.kernel_size.contains(&0) || self.stride == 0 {
            return Err(Error::invalid(
                what,
                "kernel size and stride must be positive",
            ));
        }
        if let Norm::Group { groups } = self.norm
            && (groups == 0 || !self.out_channels.is_multiple_of(groups))
        {
            return Err(Error::invalid(
                what,
                format!(
                    "group norm with {groups} groups needs a positive group count dividing the \
                     {} output channels",
                    self.out_channels
                ),
            ));
        }
        Ok(())
    }

    /// Creates the block with burn's default (Kaiming-uniform) initialization.
    ///
    /// # Panics
    /// If the configuration is invalid (see [`ConvNormActConfig::validate`]); use
    /// [`ConvNormActConfig::try_init`] to get the error instead.
    pub fn init(&self, device: &Device) -> ConvNormAct {
        self.try_init(device)
            .unwrap_or_else(|e| panic!("invalid ConvNormAct configuration: {e}"))
    }

    /// Creates the block, or says why the configuration is invalid.
    pub fn try_init(&self, device: &Device) -> Result<ConvNormAct> {
        self.validate()?;
        let [ph, pw] = self.padding.fixed(self.kernel_size).unwrap_or([0, 0]);
        let bias = self.bias.unwrap_or(self.norm == Norm::None);
        let conv = Conv2dConfig::new([self.in_channels, self.out_channels], self.kernel_size)
            .with_stride([self.stride, self.stride])
            .with_padding([ph, pw])
            .with_bias(bias)
            .try_init(device)?;
        let norm = match self.norm {
            Norm::Batch => Some(NormLayer::Batch(
                BatchNormConfig::new(self.out_channels)
                    .with_epsilon(self.norm_eps)
                    .try_init(device)?,
            )),
            Norm::Group { groups } => {
                // burn's layer allocates γ and β now.
                convkit_core::budget::reserve(&[2, self.out_channels], 4)?;
                Some(NormLayer::Group(
                    GroupNormConfig::new(groups, self.out_channels)
                        .with_epsilon(self.norm_eps)
                        .init(device),
                ))
            }
            Norm::None => None,
        };
        // The smallest input that yields a 1×1 output.
        let min_size = |k: usize, p: usize| match self.padding {
            Padding::TfSame => 1,
            _ => k.saturating_sub(2 * p).max(1),
        };
        Ok(ConvNormAct {
            conv,
            norm,
            activation: self.activation,
            in_channels: self.in_channels,
            kernel_size: self.kernel_size,
            stride: self.stride,
            padding: [ph, pw],
            tf_same: self.padding == Padding::TfSame,
            min_size: [
                min_size(self.kernel_size[0], ph),
                min_size(self.kernel_size[1], pw),
            ],
        })
    }
}

/// The normalization layer of a [`ConvNormAct`].
///
/// Parameter paths do not include the variant name (`norm.gamma`, not `norm.Batch.gamma`):
/// convkit's weight stores skip enum variants, so PyTorch's `bn.weight` maps to one path.
#[derive(Module, Debug)]
pub enum NormLayer {
    /// Batch normalization.
    Batch(BatchNorm),
    /// Group normalization.
    Group(GroupNorm),
}

impl Tapped<Tensor<4>> for NormLayer {
    type Output = Tensor<4>;

    /// Normalizes `x`, offering the result to `taps` as `out`.
    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        match self {
            NormLayer::Batch(bn) => bn.forward_tapped(x, taps),
            NormLayer::Group(gn) => taps.float("out", gn.forward(x)),
        }
    }

    /// `[N, C, H, W]`.
    fn input_spec(&self) -> InputSpec {
        let channels = match self {
            NormLayer::Batch(bn) => bn.gamma.lazy_shape()[0],
            NormLayer::Group(gn) => gn.num_channels,
        };
        InputSpec::image("norm input", channels, [0, 0])
    }
}

/// `act(norm(conv(x)))`: the basic unit of a CNN.
///
/// Matches `torch.nn.Sequential(Conv2d(..., bias=False), BatchNorm2d(...), ReLU())` (or
/// `GroupNorm`, GELU, SiLU; timm's `ConvNormAct`, and with [`Padding::TfSame`] timm's
/// `Conv2dSame`). Batch norm uses batch statistics (and updates its running statistics) when
/// the input is on an autodiff device and the module is in training state; running
/// statistics otherwise.
///
/// In inference mode (running statistics) a batch norm is folded into the convolution: one
/// convolution with scaled weights and a bias instead of two passes; the `conv` site is then
/// computed separately only when a tap asks for it.
///
/// Tap sites (relative to the block): `conv.weight`, `conv.out`, `norm.out` (when present),
/// `activation.mask` (ReLU gating, [`convkit_core::SiteKind::ReluMask`]) or
/// `activation.out` (GELU, SiLU: [`convkit_core::SiteKind::Nonlinear`]), and `out`.
///
/// # Shapes
/// - input `[N, C_in, H, W]`
/// - output `[N, C_out, H_out, W_out]`, `H_out = floor((H + 2p - k) / s) + 1` (`ceil(H / s)`
///   with [`Padding::TfSame`]).
#[derive(Module, Debug)]
pub struct ConvNormAct {
    /// The convolution; weight `[C_out, C_in, k_h, k_w]`.
    pub conv: Conv2d,
    /// The normalization, if any.
    pub norm: Option<NormLayer>,
    /// The activation.
    #[module(skip)]
    pub activation: Activation,
    #[module(skip)]
    in_channels: usize,
    #[module(skip)]
    kernel_size: [usize; 2],
    #[module(skip)]
    stride: usize,
    /// The convolution's symmetric zero padding `[rows, columns]` (0 with TF-same, whose
    /// padding is applied to the input first).
    #[module(skip)]
    padding: [usize; 2],
    #[module(skip)]
    tf_same: bool,
    #[module(skip)]
    min_size: [usize; 2],
}

impl Tapped<Tensor<4>> for ConvNormAct {
    type Output = Tensor<4>;

    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let x = self.normalized_tapped(x, taps);
        let x = self
            .activation
            .forward_tapped(x, &mut taps.child("activation"));
        taps.float("out", x)
    }

    /// `[N, C_in, H, W]` with a spatial size the kernel fits in.
    fn input_spec(&self) -> InputSpec {
        InputSpec::image("ConvNormAct input", self.in_channels, self.min_size)
    }
}

impl ConvNormAct {
    /// `norm(conv(x))`: the block without its activation.
    pub fn forward_linear(&self, x: Tensor<4>) -> Tensor<4> {
        self.normalized_tapped(x, &mut Taps::none())
    }

    /// Whether [`ConvNormAct::forward_linear`] maps every pixel's channel vector on its own,
    /// by the same affine map, for an input on `device`: a 1×1, stride-1, unpadded
    /// convolution followed by no normalization or an inference-mode batch norm. Such a block
    /// commutes with any spatial averaging whose weights sum to one (an average pool).
    pub fn is_pointwise_affine(&self, device: &Device) -> bool {
        let pointwise = self.kernel_size == [1, 1]
            && self.stride == 1
            && self.padding == [0, 0]
            && !self.tf_same;
        let norm_is_affine = match &self.norm {
            None => true,
            Some(NormLayer::Batch(bn)) => !bn.uses_batch_statistics(device),
            Some(NormLayer::Group(_)) => false,
        };
        pointwise && norm_is_affine
    }

    /// Padding, convolution and normalization, offering the `conv` and `norm` sites to `taps`.
    fn normalized_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let x = if self.tf_same {
            let [_, _, h, w] = x.dims();
            let (top, bottom) = tf_same_padding(h, self.kernel_size[0], self.stride);
            let (left, right) = tf_same_padding(w, self.kernel_size[1], self.stride);
            if top + bottom + left + right > 0 {
                x.pad((left, right, top, bottom), PadMode::Constant(0.0))
            } else {
                x
            }
        } else {
            x
        };
        let (weight, conv_out_wanted) = {
            let mut conv_taps = taps.child("conv");
            let weight = self.conv.weight_tapped(&mut conv_taps);
            (weight, conv_taps.wants("out", SiteKind::Activation))
        };
        match &self.norm {
            Some(NormLayer::Batch(bn))
                if !bn.uses_batch_statistics(&x.device()) && !conv_out_wanted =>
            {
                let folded = self.conv_with_folded_norm(x, weight, bn);
                taps.child("norm").float("out", folded)
            }
            Some(norm) => {
                let x = taps.child("conv").float("out", self.conv.apply(x, weight));
                norm.forward_tapped(x, &mut taps.child("norm"))
            }
            None => taps.child("conv").float("out", self.conv.apply(x, weight)),
        }
    }

    /// `bn(conv(x))` in inference mode as one convolution of `x` by `weight` (the layer's,
    /// or its tapped replacement): the batch norm's scale and shift (with the conv bias
    /// folded into the shift) are the epilogue of [`convkit_ops::conv2d_scale_shift`]. This
    /// saves a full pass over the activations per block (PyTorch eager runs them separately);
    /// the result differs from the two-step form only by float rounding (~1e-7 relative).
    fn conv_with_folded_norm(&self, x: Tensor<4>, weight: Tensor<4>, bn: &BatchNorm) -> Tensor<4> {
        let (scale, shift) = bn.inference_scale_shift(&x.device());
        // With a conv bias b: scale · (conv(x) + b) + shift.
        let shift = match &self.conv.bias {
            Some(b) => b.val() * scale.clone() + shift,
            None => shift,
        };
        convkit_ops::conv2d_scale_shift(x, weight, scale, shift, self.conv.options())
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.in_channels
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.conv.out_channels()
    }
}
