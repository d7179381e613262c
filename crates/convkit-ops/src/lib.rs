//! # convkit-ops
//!
//! The tensor operations convkit's blocks are made of, each behind **one entry point** that
//! chooses the kernel by device, dtype and autodiff state, so that a faster or quantized
//! kernel reaches every block and model without per-model code:
//!
//! - [`conv2d`], [`conv1d`], [`conv2d_scale_shift`] (a convolution with a per-channel affine
//!   epilogue: a folded inference batch norm), [`conv_transpose2d`];
//! - [`max_pool2d`], [`max_pool1d`], [`max_pool2d_with_indices`], [`gather_planes`] (a max
//!   pool replayed from recorded argmaxes), [`avg_pool2d`], [`avg_pool1d`],
//!   [`adaptive_avg_pool2d`];
//! - [`batch_norm_train`], [`batch_norm_inference`];
//! - [`linear`].
//!
//! Kernels of our own, on burn's flex CPU device: the convolution, forward and backward
//! (`kernels::conv2d`: blocked im2col products over NCHW for stride, asymmetric padding,
//! dilation and groups, the affine epilogue applied as the output is written; on AVX-512
//! CPUs, stride-1 convolutions on 8–32 output channels as direct convolution,
//! `kernels::direct`, forward and input gradient; the transposed
//! convolution is the same kernel's input gradient; plugged into
//! autodiff through the backend extension [`extension::KernelOps`]), max pooling
//! (`kernels::max_pool2d`: planes in parallel, the backward scattering the gradient to the
//! recorded argmaxes), average and adaptive average pooling (`kernels::avg_pool2d`: separable
//! window sums) and batch norm in training (`kernels::batch_norm`: two passes forward, two
//! backward). Everything
//! else — and every op on the ndarray, wgpu and cuda backends — is burn's op for the tensor's
//! backend, with the same semantics (PyTorch's). Every entry is tested against burn's
//! reference op, and the kernels against a direct convolution and its adjoints.
//!
//! This is the one crate of the workspace allowed `unsafe`, in two kernel modules: the
//! matrix-product call of `kernels::gemm`, behind bounds-checked strided views, and the
//! AVX-512 loop of `kernels::direct` (stride-1 convolutions on few channels, behind run-time
//! CPU detection and bounds checked per tile); each block with its `// SAFETY:` argument and
//! tests of the bounds.

mod batch_norm;
mod conv;
pub mod extension;
mod kernels;
mod linear;
mod pool;

pub use batch_norm::{batch_norm_inference, batch_norm_train};
pub use conv::{conv_transpose2d, conv1d, conv2d, conv2d_scale_shift};
pub use linear::linear;
pub use pool::{
    adaptive_avg_pool2d, avg_pool1d, avg_pool2d, gather_planes, max_pool1d, max_pool2d,
    max_pool2d_with_indices,
};

/// burn's option types of the entries, re-exported for callers.
pub use burn::tensor::ops::{AvgPoolOptions, ConvOptions, ConvTransposeOptions, MaxPoolOptions};
