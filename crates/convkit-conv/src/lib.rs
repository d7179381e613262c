//! # convkit-conv
//!
//! Image convolution blocks built the burn way (`XConfig` → `init(&device)` → `X::forward`),
//! each with a `forward_tapped` that exposes its intermediate values through
//! [`convkit_core::Taps`]:
//!
//! - [`ConvNormAct`]: convolution → normalization → activation, the unit most CNNs are made of.
//! - [`BatchNorm`]: batch normalization with PyTorch's running statistics (burn's differs).
//! - [`Activation`]: activations whose non-linear decisions (the ReLU mask) are tap sites.
//! - [`MaxPool`]: max pooling whose argmax indices are a tap site, so a pooling decision
//!   recorded on one input can be replayed on another.
//!
//! Every block matches PyTorch numerically; `tests/` holds the golden fixtures and their
//! generating scripts live in `tools/refgen/`.

mod activation;
mod batch_norm;
mod conv_norm_act;
mod max_pool;

pub use activation::Activation;
pub use batch_norm::{BatchNorm, BatchNormConfig};
pub use conv_norm_act::{ConvNormAct, ConvNormActConfig, Norm, NormLayer, Padding};
pub use max_pool::{MaxPool, MaxPoolConfig};
mod inception_blocks;
pub use inception_blocks::{
    BranchLayer, BranchOp, INCEPTION_NORM_EPS, InceptionBlock, InceptionBlockConfig,
    InceptionBranch, InceptionBranchConfig, InceptionResidual,
};
mod squeeze_excite;
pub use squeeze_excite::{
    ChannelSqueezeExcite, ChannelSqueezeExciteConfig, SeAggregation, SpatialChannelSqueezeExcite,
    SpatialChannelSqueezeExciteConfig, SpatialSqueezeExcite, SpatialSqueezeExciteConfig,
};
mod spatial_pyramid_pool;
pub use spatial_pyramid_pool::{PoolKind, SpatialPyramidPool, SpatialPyramidPoolConfig};
