//! Convolution → normalization → activation.

use burn::config::Config;
use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{GroupNorm, GroupNormConfig, PaddingConfig2d};
use burn::tensor::module::conv2d;
use burn::tensor::ops::{ConvOptions, PadMode};
use burn::tensor::{Device, Tensor};
use convkit_core::check::check_image_batch;
use convkit_core::{Error, Result, SiteKind, Taps, init};
use serde::{Deserialize, Serialize};

use crate::{Activation, BatchNorm, BatchNormConfig, conv2d_scale_shift};

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
        let conv = init::conv2d(
            &Conv2dConfig::new([self.in_channels, self.out_channels], self.kernel_size)
                .with_stride([self.stride, self.stride])
                .with_padding(PaddingConfig2d::Explicit(ph, pw, ph, pw))
                .with_bias(bias),
            device,
        );
        let norm = match self.norm {
            Norm::Batch => Some(NormLayer::Batch(
                BatchNormConfig::new(self.out_channels)
                    .with_epsilon(self.norm_eps)
                    .init(device),
            )),
            Norm::Group { groups } => Some(NormLayer::Group(
                GroupNormConfig::new(groups, self.out_channels)
                    .with_epsilon(self.norm_eps)
                    .init(device),
            )),
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

impl NormLayer {
    /// Normalizes `x`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        match self {
            NormLayer::Batch(bn) => bn.forward(x),
            NormLayer::Group(gn) => gn.forward(x),
        }
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
/// Tap sites (relative to the block): `conv`, `norm` (when present), `act.mask` (ReLU gating,
/// [`convkit_core::SiteKind::ReluMask`]) and `out`.
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

impl ConvNormAct {
    /// Applies the block.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_tapped(x, &mut Taps::none())
    }

    /// Applies the block, offering its intermediate values to `taps`.
    pub fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let x = self.normalized_tapped(x, taps);
        let x = self.activation.forward_tapped(x, &mut taps.child("act"));
        taps.float("out", x)
    }

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

    /// Padding, convolution and normalization, offering `conv` and `norm` to `taps`.
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
        match &self.norm {
            Some(NormLayer::Batch(bn))
                if !bn.uses_batch_statistics(&x.device())
                    && !taps.wants("conv", SiteKind::Activation) =>
            {
                taps.float("norm", self.conv_with_folded_norm(x, bn))
            }
            Some(norm) => {
                let x = taps.float("conv", self.conv.forward(x));
                taps.float("norm", norm.forward(x))
            }
            None => taps.float("conv", self.conv.forward(x)),
        }
    }

    /// `bn(conv(x))` in inference mode as one convolution: the batch norm's scale and shift
    /// are applied as the convolution writes its output ([`conv2d_scale_shift`]; with groups
    /// or dilation, the scale multiplies the weights and the shift becomes the bias). This
    /// saves a full pass over the activations per block (PyTorch eager runs them separately);
    /// the result differs from the two-step form only by float rounding (~1e-7 relative).
    fn conv_with_folded_norm(&self, x: Tensor<4>, bn: &BatchNorm) -> Tensor<4> {
        let (scale, shift) = bn.inference_scale_shift(&x.device());
        // With a conv bias b: scale · (conv(x) + b) + shift.
        let shift = match &self.conv.bias {
            Some(b) => b.val() * scale.clone() + shift,
            None => shift,
        };
        if self.conv.dilation == [1, 1] && self.conv.groups == 1 {
            // The scale is applied to the output as it is written: no scaled weight copy.
            let weight = self.conv.weight.val();
            return conv2d_scale_shift(x, weight, scale, shift, self.conv.stride, self.padding);
        }
        let out_channels = scale.dims()[0];
        let weight = self.conv.weight.val() * scale.reshape([out_channels, 1, 1, 1]);
        let options = ConvOptions::new(
            self.conv.stride,
            self.padding,
            self.conv.dilation,
            self.conv.groups,
        );
        conv2d(x, weight, Some(shift), options)
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.in_channels
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.conv.weight.dims()[0]
    }

    /// Checks that `shape` is a valid input: rank 4, the configured channel count and a
    /// spatial size the kernel fits in.
    pub fn check_input(&self, shape: &[usize]) -> Result<()> {
        check_image_batch(
            "ConvNormAct input",
            shape,
            self.in_channels,
            [self.min_size[0], self.min_size[1]],
        )
    }
}
