//! Convolution → normalization → activation.

use burn::config::Config;
use burn::module::Module;
use burn::nn::PaddingConfig2d;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::tensor::{Device, Tensor};
use convkit_core::check::{Dim, check_shape};
use convkit_core::{Result, Taps};
use serde::{Deserialize, Serialize};

use crate::{Activation, BatchNorm, BatchNormConfig};

/// The normalization after the convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Norm {
    /// [`BatchNorm`] (`torch.nn.BatchNorm2d`, eps 1e-5, momentum 0.1); the convolution then has
    /// no bias.
    #[default]
    Batch,
    /// No normalization; the convolution has a bias.
    None,
}

/// Configuration of [`ConvNormAct`].
#[derive(Config, Debug)]
pub struct ConvNormActConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Output channels.
    pub out_channels: usize,
    /// Square kernel size.
    #[config(default = 3)]
    pub kernel_size: usize,
    /// Stride.
    #[config(default = 1)]
    pub stride: usize,
    /// Zero padding on each side; `None` means `kernel_size / 2` ("same" for odd kernels at
    /// stride 1).
    #[config(default = "None")]
    pub padding: Option<usize>,
    /// Normalization.
    #[config(default = "Norm::Batch")]
    pub norm: Norm,
    /// Activation.
    #[config(default = "Activation::Relu")]
    pub activation: Activation,
    /// Whether the convolution has a bias; `None` means "only without a norm", as is usual.
    #[config(default = "None")]
    pub bias: Option<bool>,
}

impl ConvNormActConfig {
    /// Creates the block with burn's default (Kaiming-uniform) initialization.
    pub fn init(&self, device: &Device) -> ConvNormAct {
        let padding = self.padding.unwrap_or(self.kernel_size / 2);
        let bias = self.bias.unwrap_or(self.norm == Norm::None);
        let conv = Conv2dConfig::new(
            [self.in_channels, self.out_channels],
            [self.kernel_size, self.kernel_size],
        )
        .with_stride([self.stride, self.stride])
        .with_padding(PaddingConfig2d::Explicit(
            padding, padding, padding, padding,
        ))
        .with_bias(bias)
        .init(device);
        let norm = match self.norm {
            Norm::Batch => Some(BatchNormConfig::new(self.out_channels).init(device)),
            Norm::None => None,
        };
        ConvNormAct {
            conv,
            norm,
            activation: self.activation,
            in_channels: self.in_channels,
            min_size: self.kernel_size.saturating_sub(2 * padding).max(1),
        }
    }
}

/// `act(norm(conv(x)))`: the basic unit of a CNN.
///
/// Matches `torch.nn.Sequential(Conv2d(..., bias=False), BatchNorm2d(...), ReLU())`. Batch norm
/// uses batch statistics (and updates its running statistics) when the input is on an
/// autodiff device and the module is in training state; running statistics otherwise.
///
/// Tap sites (relative to the block): `conv`, `norm` (when present), `act.mask` (ReLU gating,
/// [`convkit_core::SiteKind::ReluMask`]) and `out`.
///
/// # Shapes
/// - input `[N, C_in, H, W]`
/// - output `[N, C_out, H_out, W_out]`, `H_out = floor((H + 2p - k) / s) + 1`.
#[derive(Module, Debug)]
pub struct ConvNormAct {
    /// The convolution; weight `[C_out, C_in, k, k]`.
    pub conv: Conv2d,
    /// The normalization, if any.
    pub norm: Option<BatchNorm>,
    /// The activation.
    #[module(skip)]
    pub activation: Activation,
    #[module(skip)]
    in_channels: usize,
    #[module(skip)]
    min_size: usize,
}

impl ConvNormAct {
    /// Applies the block.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_tapped(x, &mut Taps::none())
    }

    /// Applies the block, offering its intermediate values to `taps`.
    pub fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let x = taps.float("conv", self.conv.forward(x));
        let x = match &self.norm {
            Some(norm) => taps.float("norm", norm.forward(x)),
            None => x,
        };
        let x = self.activation.forward_tapped(x, &mut taps.child("act"));
        taps.float("out", x)
    }

    /// Checks that `shape` is a valid input: rank 4, the configured channel count and a
    /// spatial size the kernel fits in.
    pub fn check_input(&self, shape: &[usize]) -> Result<()> {
        check_shape(
            "ConvNormAct input",
            shape,
            &[
                Dim::Any,
                Dim::Exact(self.in_channels),
                Dim::AtLeast(self.min_size),
                Dim::AtLeast(self.min_size),
            ],
        )
    }
}
