//! Squeeze-and-excitation: channel (cSE), spatial (sSE) and concurrent (scSE) recalibration.
//!
//! All three multiply the feature map by a learned gate in `(0, 1)`:
//!
//! - [`ChannelSqueezeExcite`] (cSE) gates each channel from the globally pooled features,
//!   "Squeeze-and-Excitation Networks" (Hu, Shen & Sun, CVPR 2018).
//! - [`SpatialSqueezeExcite`] (sSE) gates each pixel from its channel vector, and
//!   [`SpatialChannelSqueezeExcite`] (scSE) runs both side by side and aggregates the two
//!   recalibrated maps, "Concurrent Spatial and Channel 'Squeeze & Excitation' in Fully
//!   Convolutional Networks" (Roy, Navab & Wachinger, MICCAI 2018).
//!
//! scSE with [`SeAggregation::Add`] is exactly `segmentation_models_pytorch`'s
//! `base.modules.SCSEModule`, whose `state_dict` loads through
//! [`SpatialChannelSqueezeExcite::pytorch_keys`].

use burn::config::Config;
use burn::module::Module;
use burn::tensor::activation::sigmoid;
use burn::tensor::{Device, Tensor};
use convkit_core::{Error, InputSpec, KeyMap, Result, SiteKind, Tapped, Taps};
use serde::{Deserialize, Serialize};

use crate::{Activation, Conv2d, Conv2dConfig};

/// A 1×1 convolution with bias (the squeeze-excite "fully connected" layers, written as
/// convolutions as in smp and timm so that PyTorch weights load unchanged).
fn pointwise(in_channels: usize, out_channels: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([in_channels, out_channels], [1, 1]).init(device)
}

/// Configuration of [`ChannelSqueezeExcite`].
#[derive(Config, Debug)]
pub struct ChannelSqueezeExciteConfig {
    /// Channels of the feature map.
    pub channels: usize,
    /// Reduction ratio `r` of the bottleneck: `max(1, channels / r)` hidden channels. 16 is
    /// the value of Hu et al. and of smp's `SCSEModule`.
    #[config(default = 16)]
    pub reduction: usize,
}

impl ChannelSqueezeExciteConfig {
    /// Hidden channels of the bottleneck, `max(1, channels / reduction)`. smp computes
    /// `channels // reduction` and breaks below `channels = reduction`; the two agree
    /// everywhere else.
    pub fn hidden_channels(&self) -> usize {
        (self.channels / self.reduction.max(1)).max(1)
    }

    /// Checks that the channel count and the reduction ratio are positive.
    pub fn validate(&self) -> Result<()> {
        if self.channels == 0 || self.reduction == 0 {
            return Err(Error::invalid(
                "ChannelSqueezeExcite config",
                "channels and reduction must be positive",
            ));
        }
        Ok(())
    }

    /// Creates the block with burn's default (Kaiming-uniform) initialization.
    ///
    /// # Panics
    /// If the configuration is invalid (see [`ChannelSqueezeExciteConfig::validate`]); use
    /// [`ChannelSqueezeExciteConfig::try_init`] to get the error instead.
    pub fn init(&self, device: &Device) -> ChannelSqueezeExcite {
        self.try_init(device)
            .unwrap_or_else(|e| panic!("invalid ChannelSqueezeExcite configuration: {e}"))
    }

    /// Creates the block, or says why the configuration is invalid.
    pub fn try_init(&self, device: &Device) -> Result<ChannelSqueezeExcite> {
        self.validate()?;
        let hidden = self.hidden_channels();
        Ok(ChannelSqueezeExcite {
            reduce: pointwise(self.channels, hidden, device),
            activation: Activation::Relu,
            expand: pointwise(hidden, self.channels, device),
            channels: self.channels,
        })
    }
}

/// Channel squeeze-and-excitation (cSE): `x · σ(W₂ ReLU(W₁ avgpool(x) + b₁) + b₂)`.
///
/// The gate is one value per sample and channel, `[N, C, 1, 1]`; `W₁` reduces the channels to
/// `max(1, C / r)` and `W₂` restores them ("Squeeze-and-Excitation Networks", Hu et al.,
/// 2018). Matches the `cSE` branch of smp's `SCSEModule`, `x * cSE(x)` with
/// `cSE = Sequential(AdaptiveAvgPool2d(1), Conv2d(C, C // r, 1), ReLU(), Conv2d(C // r, C, 1),
/// Sigmoid())`.
///
/// Tap sites: `reduce.*` and `expand.*` (see [`Conv2d`]), `activation.mask` (the bottleneck
/// ReLU), `gate` (`[N, C, 1, 1]`, [`SiteKind::Gate`]) and `out`.
///
/// # Shapes
/// - input `[N, C, H, W]`, output `[N, C, H, W]`.
#[derive(Module, Debug)]
pub struct ChannelSqueezeExcite {
    /// `C → max(1, C / r)` 1×1 convolution with bias (smp's `cSE.1`).
    pub reduce: Conv2d,
    /// The bottleneck activation (ReLU).
    #[module(skip)]
    pub activation: Activation,
    /// `max(1, C / r) → C` 1×1 convolution with bias (smp's `cSE.3`).
    pub expand: Conv2d,
    #[module(skip)]
    channels: usize,
}

impl Tapped<Tensor<4>> for ChannelSqueezeExcite {
    type Output = Tensor<4>;

    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let gate = self.gate_tapped(x.clone(), taps);
        taps.float("out", x * gate)
    }

    /// `[N, C, H >= 1, W >= 1]`.
    fn input_spec(&self) -> InputSpec {
        InputSpec::image("ChannelSqueezeExcite input", self.channels, [1, 1])
    }
}

impl ChannelSqueezeExcite {
    /// The channel gate `[N, C, 1, 1]` of `x`, offered to `taps` as `gate` (with the
    /// bottleneck's sites).
    pub fn gate_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let [n, c, h, w] = x.dims();
        // One reduction over H·W, as PyTorch's adaptive average pool does.
        let squeezed = x.reshape([n, c, h * w]).mean_dim(2).reshape([n, c, 1, 1]);
        let reduced = self
            .reduce
            .forward_tapped(squeezed, &mut taps.child("reduce"));
        let hidden = self
            .activation
            .forward_tapped(reduced, &mut taps.child("activation"));
        let expanded = self
            .expand
            .forward_tapped(hidden, &mut taps.child("expand"));
        taps.tap("gate", SiteKind::Gate, sigmoid(expanded))
    }

    /// Channels of the feature map.
    pub fn channels(&self) -> usize {
        self.channels
    }
}

/// Configuration of [`SpatialSqueezeExcite`].
#[derive(Config, Debug)]
pub struct SpatialSqueezeExciteConfig {
    /// Channels of the feature map.
    pub channels: usize,
}

impl SpatialSqueezeExciteConfig {
    /// Checks that the channel count is positive.
    pub fn validate(&self) -> Result<()> {
        if self.channels == 0 {
            return Err(Error::invalid(
                "SpatialSqueezeExcite config",
                "channels must be positive",
            ));
        }
        Ok(())
    }

    /// Creates the block with burn's default (Kaiming-uniform) initialization.
    ///
    /// # Panics
    /// If the channel count is zero; use [`SpatialSqueezeExciteConfig::try_init`] to get the
    /// error instead.
    pub fn init(&self, device: &Device) -> SpatialSqueezeExcite {
        self.try_init(device)
            .unwrap_or_else(|e| panic!("invalid SpatialSqueezeExcite configuration: {e}"))
    }

    /// Creates the block, or says why the configuration is invalid.
    pub fn try_init(&self, device: &Device) -> Result<SpatialSqueezeExcite> {
        self.validate()?;
        Ok(SpatialSqueezeExcite {
            conv: pointwise(self.channels, 1, device),
            channels: self.channels,
        })
    }
}

/// Spatial squeeze-and-excitation (sSE): `x · σ(w · x + b)`, one gate per pixel.
///
/// A 1×1 convolution with bias squeezes the channels to one map `[N, 1, H, W]` ("Concurrent
/// Spatial and Channel Squeeze & Excitation", Roy et al., 2018). Matches the `sSE` branch of
/// smp's `SCSEModule`, `x * sSE(x)` with `sSE = Sequential(Conv2d(C, 1, 1), Sigmoid())`.
///
/// Tap sites: `conv.*` (see [`Conv2d`]), `gate` (`[N, 1, H, W]`, [`SiteKind::Gate`]) and
/// `out`.
///
/// # Shapes
/// - input `[N, C, H, W]`, output `[N, C, H, W]`.
#[derive(Module, Debug)]
pub struct SpatialSqueezeExcite {
    /// `C → 1` 1×1 convolution with bias (smp's `sSE.0`).
    pub conv: Conv2d,
    #[module(skip)]
    channels: usize,
}

impl Tapped<Tensor<4>> for SpatialSqueezeExcite {
    type Output = Tensor<4>;

    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let gate = self.gate_tapped(x.clone(), taps);
        taps.float("out", x * gate)
    }

    /// `[N, C, H >= 1, W >= 1]`.
    fn input_spec(&self) -> InputSpec {
        InputSpec::image("SpatialSqueezeExcite input", self.channels, [1, 1])
    }
}

impl SpatialSqueezeExcite {
    /// The spatial gate `[N, 1, H, W]` of `x`, offered to `taps` as `gate` (with the
    /// convolution's sites).
    pub fn gate_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let squeezed = self.conv.forward_tapped(x, &mut taps.child("conv"));
        taps.tap("gate", SiteKind::Gate, sigmoid(squeezed))
    }

    /// Channels of the feature map.
    pub fn channels(&self) -> usize {
        self.channels
    }
}

/// How [`SpatialChannelSqueezeExcite`] combines the channel-recalibrated map `c = x · g_c` and
/// the spatially recalibrated map `s = x · g_s`.
///
/// Roy et al. introduced scSE with addition (MICCAI 2018) and compared the four aggregations
/// in the journal version, "Recalibrating Fully Convolutional Networks with Spatial and
/// Channel 'Squeeze & Excitation' Blocks" (IEEE TMI, 2019), recommending max-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SeAggregation {
    /// `max(c, s)` element-wise: the choice Roy et al. recommend after comparing the four.
    #[default]
    Max,
    /// `c + s`: the MICCAI 2018 formulation and smp's `SCSEModule`
    /// (`x * cSE(x) + x * sSE(x)`).
    Add,
    /// `c · s` element-wise.
    Multiply,
    /// `[c, s]` concatenated along the channels: the output has `2C` channels (`c` first), so
    /// the next layer must take twice the input's channels.
    Concat,
}

/// Configuration of [`SpatialChannelSqueezeExcite`].
#[derive(Config, Debug)]
pub struct SpatialChannelSqueezeExciteConfig {
    /// Channels of the feature map.
    pub channels: usize,
    /// Reduction ratio of the channel branch (see [`ChannelSqueezeExciteConfig::reduction`]).
    #[config(default = 16)]
    pub reduction: usize,
    /// How the two recalibrated maps are combined; [`SeAggregation::Max`] by default (the
    /// paper's recommendation), [`SeAggregation::Add`] to match smp.
    #[config(default = "SeAggregation::Max")]
    pub aggregation: SeAggregation,
}

impl SpatialChannelSqueezeExciteConfig {
    /// Creates the block with burn's default (Kaiming-uniform) initialization.
    ///
    /// # Panics
    /// If the channel count or the reduction ratio is zero; use
    /// [`SpatialChannelSqueezeExciteConfig::try_init`] to get the error instead.
    pub fn init(&self, device: &Device) -> SpatialChannelSqueezeExcite {
        self.try_init(device)
            .unwrap_or_else(|e| panic!("invalid SpatialChannelSqueezeExcite configuration: {e}"))
    }

    /// Creates the block, or says why the configuration is invalid.
    pub fn try_init(&self, device: &Device) -> Result<SpatialChannelSqueezeExcite> {
        Ok(SpatialChannelSqueezeExcite {
            cse: ChannelSqueezeExciteConfig::new(self.channels)
                .with_reduction(self.reduction)
                .try_init(device)?,
            sse: SpatialSqueezeExciteConfig::new(self.channels).try_init(device)?,
            aggregation: self.aggregation,
        })
    }
}

/// Concurrent spatial and channel squeeze-and-excitation (scSE): `agg(x · g_c, x · g_s)`.
///
/// `g_c` is the [`ChannelSqueezeExcite`] gate, `g_s` the [`SpatialSqueezeExcite`] gate, and
/// `agg` the configured [`SeAggregation`] ("Concurrent Spatial and Channel Squeeze &
/// Excitation in Fully Convolutional Networks", Roy et al., 2018). With
/// [`SeAggregation::Add`] it is smp's `SCSEModule` (parameter names in
/// [`SpatialChannelSqueezeExcite::pytorch_keys`]).
///
/// Tap sites: `cse.*` (see [`ChannelSqueezeExcite`]; its gate `[N, C, 1, 1]`), `sse.*` (see
/// [`SpatialSqueezeExcite`]; its gate `[N, 1, H, W]`), `aggregation.mask` (max-out: 1 where
/// the channel branch wins, [`SiteKind::ReluMask`]) or `aggregation.out` (multiply: a product
/// of two maps, [`SiteKind::Nonlinear`]), and `out`.
///
/// # Shapes
/// - input `[N, C, H, W]`
/// - output `[N, C, H, W]`, or `[N, 2C, H, W]` with [`SeAggregation::Concat`].
#[derive(Module, Debug)]
pub struct SpatialChannelSqueezeExcite {
    /// The channel branch.
    pub cse: ChannelSqueezeExcite,
    /// The spatial branch.
    pub sse: SpatialSqueezeExcite,
    /// How the branches are combined.
    #[module(skip)]
    pub aggregation: SeAggregation,
}

impl Tapped<Tensor<4>> for SpatialChannelSqueezeExcite {
    type Output = Tensor<4>;

    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let channel_gate = self.cse.gate_tapped(x.clone(), &mut taps.child("cse"));
        let spatial_gate = self.sse.gate_tapped(x.clone(), &mut taps.child("sse"));
        // With c = x·g_c and s = x·g_s:
        let out = match self.aggregation {
            // `c + s = x·(g_c + g_s)`: one full-size product fewer (the gates are positive, so
            // nothing cancels and the two forms agree to rounding).
            SeAggregation::Add => x * (channel_gate + spatial_gate),
            // `s + relu(c - s)`: passes that reuse their buffers, about three times faster on
            // the CPU backend than `max_pair` (a comparison mask, then a select). At ties
            // (e.g. x = 0 after a ReLU) the gradient goes to `s`; PyTorch's `torch.maximum`
            // splits it evenly. Both are valid subgradients. The ReLU's mask is the site
            // `aggregation.mask`.
            SeAggregation::Max => {
                let by_pixel = x.clone() * spatial_gate;
                let excess = x * channel_gate - by_pixel.clone();
                by_pixel + Activation::Relu.forward_tapped(excess, &mut taps.child("aggregation"))
            }
            SeAggregation::Multiply => taps.child("aggregation").tap(
                "out",
                SiteKind::Nonlinear,
                (x.clone() * channel_gate) * (x * spatial_gate),
            ),
            SeAggregation::Concat => {
                Tensor::cat(vec![x.clone() * channel_gate, x * spatial_gate], 1)
            }
        };
        taps.float("out", out)
    }

    /// `[N, C, H >= 1, W >= 1]`.
    fn input_spec(&self) -> InputSpec {
        InputSpec::image("SpatialChannelSqueezeExcite input", self.channels(), [1, 1])
    }
}

impl SpatialChannelSqueezeExcite {
    /// Channels of the input.
    pub fn channels(&self) -> usize {
        self.cse.channels()
    }

    /// Channels of the output: the input's, or twice as many with [`SeAggregation::Concat`].
    pub fn out_channels(&self) -> usize {
        match self.aggregation {
            SeAggregation::Concat => 2 * self.channels(),
            _ => self.channels(),
        }
    }

    /// The mapping from smp's `SCSEModule` `state_dict` keys to this block's paths:
    /// `cSE.1.*` → `cse.reduce.*`, `cSE.3.*` → `cse.expand.*`, `sSE.0.*` → `sse.conv.*`.
    ///
    /// The rules also apply inside a larger model's keys (`decoder.blocks.0.attention1.
    /// attention.cSE.1.weight` keeps its prefix), so a model embedding scSE blocks can append
    /// its own renames of the prefix.
    pub fn pytorch_keys() -> KeyMap {
        KeyMap::new()
            .rename(r"(^|\.)cSE\.1\.", "${1}cse.reduce.")
            .rename(r"(^|\.)cSE\.3\.", "${1}cse.expand.")
            .rename(r"(^|\.)sSE\.0\.", "${1}sse.conv.")
    }
}
