//! The blocks of the Inception family: parallel branches, concatenated.
//!
//! "Inception-v4, Inception-ResNet and the Impact of Residual Connections on Learning"
//! (Szegedy, Ioffe, Vanhoucke & Alemi, AAAI 2017) builds three networks from one pattern:
//! several branches (chains of convolutions and pools) read the same input and their outputs
//! are concatenated along the channels. Inception-ResNet adds a residual form: the
//! concatenation is projected back to the input width by a 1×1 convolution, scaled down and
//! added to the input, `act(x + scale · conv1×1(concat(branches(x))))`.
//!
//! - [`InceptionBranch`]: one branch, a chain of [`BranchOp`]s, optionally ending in a fork
//!   of parallel layers (Inception-v4's Inception-C). A branch alone is also a network stem.
//! - [`InceptionBlock`]: branches side by side, concatenated, with an optional
//!   [`InceptionResidual`].
//!
//! The named constructors of [`InceptionBlockConfig`] and [`InceptionBranchConfig`] give
//! every block of the paper with the exact layer structure of timm 1.0's `inception_v4` and
//! `inception_resnet_v2` (classes `Mixed3a` ... `InceptionC`, `Mixed_5b` ... `Block8`) and of
//! facenet-pytorch's `InceptionResnetV1`: branch order, kernel shapes, paddings, batch-norm
//! ε = 1e-3 (the TensorFlow value both use), residual projections with bias.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use convkit_core::{Error, InputSpec, KeyMap, Result, Tapped, Taps};
use serde::{Deserialize, Serialize};

use crate::{
    Activation, AvgPool, AvgPoolConfig, Conv2d, Conv2dConfig, ConvNormAct, ConvNormActConfig,
    MaxPool, MaxPoolConfig, Padding,
};

mod block;
mod branch;
mod named;
#[cfg(test)]
mod tests;

pub use block::{InceptionBlock, InceptionBlockConfig, InceptionResidual};
pub use branch::{BranchLayer, InceptionBranch, InceptionBranchConfig};

/// Batch-norm ε of every Inception convolution (TensorFlow's value, kept by timm and facenet).
pub const INCEPTION_NORM_EPS: f64 = 1e-3;

/// One operation of an [`InceptionBranch`]; its input width is the previous operation's
/// output width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BranchOp {
    /// A [`ConvNormAct`]: convolution without bias, batch norm, ReLU.
    Conv {
        /// Output channels.
        out_channels: usize,
        /// Kernel `[height, width]`.
        kernel_size: [usize; 2],
        /// Stride.
        stride: usize,
        /// Zero padding.
        padding: Padding,
    },
    /// 3×3 max pool, stride 2, no padding (`nn.MaxPool2d(3, stride=2)`): the pooling branch
    /// of the reduction blocks.
    MaxPool,
    /// 3×3 average pool, stride 1, padding 1, the padding left out of the average
    /// (`nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)`).
    AvgPool,
}

impl BranchOp {
    /// A stride-1 convolution padded to keep the size (`k / 2` on each side).
    pub fn conv(out_channels: usize, kernel_size: [usize; 2]) -> Self {
        BranchOp::Conv {
            out_channels,
            kernel_size,
            stride: 1,
            padding: Padding::Same,
        }
    }

    /// A `k × k` convolution without padding (TensorFlow's `VALID`).
    pub fn conv_valid(out_channels: usize, k: usize, stride: usize) -> Self {
        BranchOp::Conv {
            out_channels,
            kernel_size: [k, k],
            stride,
            padding: Padding::Valid,
        }
    }

    /// Output channels for `in_channels` input channels.
    pub fn out_channels(self, in_channels: usize) -> usize {
        match self {
            BranchOp::Conv { out_channels, .. } => out_channels,
            BranchOp::MaxPool | BranchOp::AvgPool => in_channels,
        }
    }

    /// The smallest input `[height, width]` giving at least `output` positions:
    /// `(out - 1) · stride + kernel - 2 · padding` per dimension (at least 1).
    pub fn min_input_size(self, output: [usize; 2]) -> [usize; 2] {
        let (kernel, stride, padding) = match self {
            BranchOp::Conv {
                kernel_size,
                stride,
                padding,
                ..
            } => (kernel_size, stride, padding),
            BranchOp::MaxPool => ([3, 3], 2, Padding::Valid),
            BranchOp::AvgPool => ([3, 3], 1, Padding::Same),
        };
        let dim = |i: usize| {
            let reach = (output[i].max(1) - 1) * stride;
            let size = match padding {
                // Output ceil(n / stride): padding makes up for any kernel.
                Padding::TfSame => reach + 1,
                Padding::Same => (reach + kernel[i]).saturating_sub(kernel[i] / 2 * 2),
                Padding::Valid => reach + kernel[i],
                Padding::Explicit(p) => (reach + kernel[i]).saturating_sub(2 * p[i]),
            };
            size.max(1)
        };
        [dim(0), dim(1)]
    }

    fn init(
        self,
        in_channels: usize,
        norm_eps: f64,
        device: &Device,
    ) -> Result<(BranchLayer, usize)> {
        let layer = match self {
            BranchOp::Conv {
                out_channels,
                kernel_size,
                stride,
                padding,
            } => BranchLayer::Conv(
                ConvNormActConfig::new(in_channels, out_channels)
                    .with_kernel_size(kernel_size)
                    .with_stride(stride)
                    .with_padding(padding)
                    .with_norm_eps(norm_eps)
                    .try_init(device)?,
            ),
            BranchOp::MaxPool => {
                BranchLayer::MaxPool(MaxPoolConfig::new(3).with_stride(Some(2)).try_init()?)
            }
            BranchOp::AvgPool => BranchLayer::AvgPool(
                AvgPoolConfig::new(3)
                    .with_stride(Some(1))
                    .with_padding(1)
                    .with_count_include_pad(false)
                    .try_init()?,
            ),
        };
        Ok((layer, self.out_channels(in_channels)))
    }
}

/// The smallest input giving `output` after `ops` applied in order.
fn chain_min_input_size(ops: &[BranchOp], output: [usize; 2]) -> [usize; 2] {
    ops.iter()
        .rev()
        .fold(output, |size, op| op.min_input_size(size))
}
