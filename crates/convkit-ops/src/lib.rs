//! # convkit-ops
//!
//! The tensor operations convkit's blocks are made of, each behind **one entry point** that
//! chooses the kernel by device, dtype and autodiff state, so that a faster or quantized
//! kernel reaches every block and model without per-model code:
//!
//! - [`conv2d`], [`conv2d_scale_shift`] (a convolution with a per-channel affine epilogue: a
//!   folded inference batch norm), [`conv_transpose2d`];
//! - [`max_pool2d`], [`max_pool2d_with_indices`], [`gather_planes`] (a max pool replayed from
//!   recorded argmaxes), [`avg_pool2d`];
//! - [`batch_norm_train`], [`batch_norm_inference`];
//! - [`linear`].
//!
//! Today's kernels of our own: the inference convolution on burn's flex CPU device
//! (`host_conv2d`: NCHW im2col tiles in parallel, the affine epilogue applied as the output
//! is written) and the tiled inference max pool; batch-norm statistics composed from
//! contiguous reductions. Everything else is burn's op for the tensor's backend, with the same
//! semantics (PyTorch's). Every entry is tested against burn's reference op on every compiled
//! backend.
//!
//! This is the one crate of the workspace allowed `unsafe` (kernels), each block with a
//! `// SAFETY:` comment and a test of its bounds; there is none yet.

mod batch_norm;
mod conv;
mod host_conv2d;
mod linear;
mod pool;

pub use batch_norm::{batch_norm_inference, batch_norm_train};
pub use conv::{conv_transpose2d, conv2d, conv2d_scale_shift};
pub use linear::linear;
pub use pool::{avg_pool2d, gather_planes, max_pool2d, max_pool2d_with_indices};

/// burn's option types of the entries, re-exported for callers.
pub use burn::tensor::ops::{AvgPoolOptions, ConvOptions, ConvTransposeOptions, MaxPoolOptions};
