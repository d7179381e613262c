//! # convkit-conv
//!
//! Image convolution layers and blocks built the burn way (`XConfig` → `init(&device)`), each
//! a [`convkit_core::Tapped`] forward: `forward_tapped` exposes its intermediate values through
//! [`convkit_core::Taps`] (site paths follow the module's fields: `conv.weight`, `conv.out`,
//! `norm.out`, `activation.mask`, `out`), `forward` / `try_forward` / `check_input` come with
//! the trait. Every operation goes through `convkit-ops`' dispatch point.
//!
//! - Layers: [`Conv2d`], [`ConvTranspose2d`], [`Linear`] (weight and output are tap sites, so
//!   fake quantization needs no per-model code), [`AvgPool`], [`Dropout`].
//! - [`ConvNormAct`]: convolution → normalization ([`Norm`]: batch, group or none) →
//!   activation, with PyTorch-style, explicit, valid or TensorFlow-"same" [`Padding`]; in
//!   inference mode its batch norm is folded into the convolution.
//! - [`BatchNorm`]: batch normalization with PyTorch's running statistics (burn's differs).
//! - [`Activation`]: ReLU, GELU, SiLU, identity; the ReLU mask is a tap site.
//! - [`MaxPool`]: max pooling whose argmax indices are a tap site, so a pooling decision
//!   recorded on one input can be replayed on another.
//! - Squeeze and excitation: [`ChannelSqueezeExcite`] (cSE), [`SpatialSqueezeExcite`] (sSE)
//!   and [`SpatialChannelSqueezeExcite`] (scSE) with the four [`SeAggregation`]s.
//! - [`SpatialPyramidPool`]: a fixed-length vector from a feature map of any size.
//! - The Inception family's pieces: [`InceptionBranch`] (a chain of convolutions and pools,
//!   also the stems) and [`InceptionBlock`] (branches side by side, concatenated, optionally
//!   residual as in Inception-ResNet), with constructors for every block of the paper.
//!
//! Every block matches PyTorch (or timm / segmentation_models_pytorch) numerically; `tests/`
//! holds the golden fixtures and their generating scripts live in `tools/refgen/`.

mod activation;
mod avg_pool;
mod batch_norm;
mod conv2d;
mod conv_norm_act;
mod conv_transpose2d;
mod dropout;
mod inception_blocks;
mod linear;
mod max_pool;
mod spatial_pyramid_pool;
mod squeeze_excite;

pub use activation::Activation;
pub use avg_pool::{AvgPool, AvgPoolConfig};
pub use batch_norm::{BatchNorm, BatchNormConfig};
pub use conv_norm_act::{ConvNormAct, ConvNormActConfig, Norm, NormLayer, Padding};
pub use conv_transpose2d::{ConvTranspose2d, ConvTranspose2dConfig};
pub use conv2d::{Conv2d, Conv2dConfig};
pub use dropout::{Dropout, DropoutConfig};
pub use inception_blocks::{
    BranchLayer, BranchOp, INCEPTION_NORM_EPS, InceptionBlock, InceptionBlockConfig,
    InceptionBranch, InceptionBranchConfig, InceptionResidual,
};
pub use linear::{Linear, LinearConfig};
pub use max_pool::{MaxPool, MaxPoolConfig};
pub use spatial_pyramid_pool::{PoolKind, SpatialPyramidPool, SpatialPyramidPoolConfig};
pub use squeeze_excite::{
    ChannelSqueezeExcite, ChannelSqueezeExciteConfig, SeAggregation, SpatialChannelSqueezeExcite,
    SpatialChannelSqueezeExciteConfig, SpatialSqueezeExcite, SpatialSqueezeExciteConfig,
};
