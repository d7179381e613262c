//! convkit's CPU kernels on host slices, independent of burn's tensor types (the glue to
//! burn is [`crate::extension`]).
//!
//! - [`gemm`]: bounds-checked strided matrix products (the `gemm` crate burn-flex uses) —
//!   one of the crate's two `unsafe` modules, a call after the views' bounds are checked;
//! - [`conv2d`]: convolution forward, input gradient and weight gradient as blocked products
//!   over NCHW data, [`depthwise`], its one-filter-per-channel case as row operations, and
//!   [`direct`], stride-1 convolutions on 8–32 output channels as AVX-512 register-blocked
//!   direct convolution (the crate's second `unsafe` module: the vector loop after its
//!   bounds are checked, on CPUs that have AVX-512F);
//! - [`max_pool2d`]: max pooling with its argmax, and the gradient scattered to it;
//! - [`avg_pool2d`]: average pooling over sliding or adaptive windows, forward and backward
//!   (separable sums);
//! - [`batch_norm`]: batch normalisation with batch statistics, forward and backward in two
//!   passes each.

pub(crate) mod avg_pool2d;
pub(crate) mod batch_norm;
pub(crate) mod conv2d;
pub(crate) mod depthwise;
pub(crate) mod direct;
pub(crate) mod gemm;
pub(crate) mod max_pool2d;
