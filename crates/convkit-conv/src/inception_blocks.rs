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

/// One layer of an [`InceptionBranch`] (parameter paths skip the variant name: a convolution's
/// weight is `layers.0.conv.weight`, as in PyTorch's `Sequential`).
// Boxing the convolution would shrink the pools, but burn's `Module` has no `Box` impl, and a
// network holds a few hundred of these at most.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum BranchLayer {
    /// Convolution, batch norm, ReLU.
    Conv(ConvNormAct),
    /// 3×3 max pool, stride 2.
    MaxPool(MaxPool),
    /// 3×3 average pool, stride 1, padding excluded from the average.
    AvgPool(AvgPool),
}

impl Tapped<Tensor<4>> for BranchLayer {
    type Output = Tensor<4>;

    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        match self {
            BranchLayer::Conv(conv) => conv.forward_tapped(x, taps),
            BranchLayer::MaxPool(pool) => pool.forward_tapped(x, taps),
            BranchLayer::AvgPool(pool) => pool.forward_tapped(x, taps),
        }
    }

    fn input_spec(&self) -> InputSpec {
        match self {
            BranchLayer::Conv(conv) => conv.input_spec(),
            BranchLayer::MaxPool(pool) => pool.input_spec(),
            BranchLayer::AvgPool(pool) => pool.input_spec(),
        }
    }
}

/// Configuration of [`InceptionBranch`].
#[derive(Config, Debug)]
pub struct InceptionBranchConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Operations applied in order.
    pub ops: Vec<BranchOp>,
    /// Operations applied side by side to the output of `ops`, their outputs concatenated
    /// (the split ends of Inception-v4's Inception-C); empty: the branch ends with `ops`.
    #[config(default = "Vec::new()")]
    pub fork: Vec<BranchOp>,
    /// Batch-norm ε of the convolutions.
    #[config(default = "INCEPTION_NORM_EPS")]
    pub norm_eps: f64,
}

impl InceptionBranchConfig {
    /// The stem of Inception-v4 before its first mixed block (paper Fig. 3, top; timm
    /// `inception_v4` `features.0`-`features.2`): 3×3/2 valid → 32, 3×3 valid → 32,
    /// 3×3 same → 64. `[N, C, 299, 299]` → `[N, 64, 147, 147]`.
    pub fn inception_v4_stem(in_channels: usize) -> Self {
        Self::new(
            in_channels,
            vec![
                BranchOp::conv_valid(32, 3, 2),
                BranchOp::conv_valid(32, 3, 1),
                BranchOp::conv(64, [3, 3]),
            ],
        )
    }

    /// The stem of Inception-ResNet (timm `inception_resnet_v2` and facenet
    /// `InceptionResnetV1`, `conv2d_1a` to `conv2d_4a` and the stride-2 step after them):
    /// 3×3/2 valid → 32, 3×3 valid → 32, 3×3 same → 64, max pool, 1×1 → 80, 3×3 valid → 192,
    /// then `reduce`: [`BranchOp::MaxPool`] for v2 (`maxpool_5a`, `[N, 192, 35, 35]` at 299),
    /// `BranchOp::conv_valid(256, 3, 2)` for v1 (`conv2d_4b`, `[N, 256, 35, 35]`).
    pub fn inception_resnet_stem(in_channels: usize, reduce: BranchOp) -> Self {
        Self::new(
            in_channels,
            vec![
                BranchOp::conv_valid(32, 3, 2),
                BranchOp::conv_valid(32, 3, 1),
                BranchOp::conv(64, [3, 3]),
                BranchOp::MaxPool,
                BranchOp::conv(80, [1, 1]),
                BranchOp::conv_valid(192, 3, 1),
                reduce,
            ],
        )
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        let trunk = self
            .ops
            .iter()
            .fold(self.in_channels, |c, op| op.out_channels(c));
        if self.fork.is_empty() {
            trunk
        } else {
            self.fork.iter().map(|op| op.out_channels(trunk)).sum()
        }
    }

    /// Creates the branch with burn's default initialization.
    ///
    /// # Panics
    /// If the configuration is invalid; [`InceptionBranchConfig::try_init`] returns the error.
    pub fn init(&self, device: &Device) -> InceptionBranch {
        self.try_init(device)
            .unwrap_or_else(|e| panic!("invalid Inception branch configuration: {e}"))
    }

    /// Creates the branch, or says why the configuration is invalid (no operations, or an
    /// invalid convolution).
    pub fn try_init(&self, device: &Device) -> Result<InceptionBranch> {
        if self.ops.is_empty() {
            return Err(Error::invalid(
                "Inception branch config",
                "a branch needs at least one operation",
            ));
        }
        let mut channels = self.in_channels;
        let mut layers = Vec::with_capacity(self.ops.len());
        for op in &self.ops {
            let (layer, out) = op.init(channels, self.norm_eps, device)?;
            layers.push(layer);
            channels = out;
        }
        let fork = self
            .fork
            .iter()
            .map(|op| op.init(channels, self.norm_eps, device).map(|(l, _)| l))
            .collect::<Result<Vec<_>>>()?;
        Ok(InceptionBranch {
            layers,
            fork,
            ops: self.ops.clone(),
            fork_ops: self.fork.clone(),
            in_channels: self.in_channels,
            out_channels: self.out_channels(),
        })
    }
}

/// A chain of convolutions and pools, optionally ending in parallel layers whose outputs are
/// concatenated: one branch of an Inception block, or a network stem.
///
/// PyTorch equivalent: a `Sequential` of timm `ConvNormAct` / facenet `BasicConv2d` and
/// pools (`layers.i` ↔ `branchN.i`); the fork is timm `InceptionC`'s
/// `branch1_1a`/`branch1_1b` pair.
///
/// Tap sites: `layers.i.*` (see [`ConvNormAct`], [`MaxPool`], [`AvgPool`]), `fork.j.*`, and
/// `out`.
///
/// # Shapes
/// - input `[N, C_in, H, W]`, at least [`InceptionBranch::min_input_size`] of `[1, 1]`
/// - output `[N, C_out, H', W']`
#[derive(Module, Debug)]
pub struct InceptionBranch {
    /// The chain, in order.
    pub layers: Vec<BranchLayer>,
    /// The parallel ends (empty for most branches).
    pub fork: Vec<BranchLayer>,
    #[module(skip)]
    ops: Vec<BranchOp>,
    #[module(skip)]
    fork_ops: Vec<BranchOp>,
    #[module(skip)]
    in_channels: usize,
    #[module(skip)]
    out_channels: usize,
}

impl Tapped<Tensor<4>> for InceptionBranch {
    type Output = Tensor<4>;

    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        // Average pool → 1×1 conv-BN equals 1×1 conv-BN → average pool in inference mode
        // (both linear, on different axes; the pool's weights sum to one, so the bias passes
        // through): pooling after the convolution averages 4–8× fewer channels in
        // Inception-v4's blocks. Kept to untapped passes, whose sites would differ.
        if let [BranchLayer::AvgPool(pool), BranchLayer::Conv(conv)] = self.layers.as_slice()
            && self.fork.is_empty()
            && !taps.is_active()
            && conv.is_pointwise_affine(&x.device())
        {
            let pooled = pool.forward(conv.forward_linear(x));
            return conv.activation.forward(pooled);
        }
        let mut x = x;
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward_tapped(x, &mut taps.child(&format!("layers.{i}")));
        }
        if !self.fork.is_empty() {
            let ends = self
                .fork
                .iter()
                .enumerate()
                .map(|(j, layer)| {
                    layer.forward_tapped(x.clone(), &mut taps.child(&format!("fork.{j}")))
                })
                .collect();
            x = Tensor::cat(ends, 1);
        }
        taps.float("out", x)
    }

    /// `[N, C_in, H, W]` with `H, W` at least [`InceptionBranch::min_input_size`] of `[1, 1]`.
    fn input_spec(&self) -> InputSpec {
        InputSpec::image(
            "InceptionBranch input",
            self.in_channels,
            self.min_input_size([1, 1]),
        )
    }
}

impl InceptionBranch {
    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.in_channels
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.out_channels
    }

    /// The smallest input `[height, width]` for which the output has at least `output`
    /// positions.
    pub fn min_input_size(&self, output: [usize; 2]) -> [usize; 2] {
        let trunk_output = self
            .fork_ops
            .iter()
            .map(|op| op.min_input_size(output))
            .fold(output, |a, b| [a[0].max(b[0]), a[1].max(b[1])]);
        chain_min_input_size(&self.ops, trunk_output)
    }
}

/// The residual form of an Inception-ResNet block: `act(x + scale · conv1×1(concat))`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InceptionResidual {
    /// Factor on the residual branch before the sum (the paper's §3.3 "scaling of the
    /// residuals": 0.17, 0.10 and 0.20 for the A, B and C blocks in timm and facenet).
    pub scale: f64,
    /// Activation after the sum: ReLU, or [`Activation::Identity`] for the last block of
    /// Inception-ResNet (timm `Block8(no_relu=True)`).
    pub activation: Activation,
}

impl InceptionResidual {
    /// A residual with ReLU after the sum.
    pub fn relu(scale: f64) -> Self {
        InceptionResidual {
            scale,
            activation: Activation::Relu,
        }
    }
}

/// Configuration of [`InceptionBlock`].
#[derive(Config, Debug)]
pub struct InceptionBlockConfig {
    /// The branches, in concatenation order; all read the same input width.
    pub branches: Vec<InceptionBranchConfig>,
    /// The Inception-ResNet residual form, or `None` for a plain concatenation.
    #[config(default = "None")]
    pub residual: Option<InceptionResidual>,
}

/// Branch configs, all reading `in_channels` with the default ε.
fn branches(in_channels: usize, ops: &[&[BranchOp]]) -> Vec<InceptionBranchConfig> {
    ops.iter()
        .map(|ops| InceptionBranchConfig::new(in_channels, ops.to_vec()))
        .collect()
}

impl InceptionBlockConfig {
    /// Inception-v4 stem, first split (timm `Mixed3a`): max pool ‖ 3×3/2 valid → 96.
    /// `[N, 64, 147, 147]` → `[N, 160, 73, 73]`.
    pub fn inception_v4_mixed_3a() -> Self {
        Self::new(branches(
            64,
            &[&[BranchOp::MaxPool], &[BranchOp::conv_valid(96, 3, 2)]],
        ))
    }

    /// Inception-v4 stem, second split (timm `Mixed4a`): 1×1 → 64, 3×3 valid → 96 ‖ 1×1 → 64,
    /// 1×7 → 64, 7×1 → 64, 3×3 valid → 96. `[N, 160, 73, 73]` → `[N, 192, 71, 71]`.
    pub fn inception_v4_mixed_4a() -> Self {
        Self::new(branches(
            160,
            &[
                &[BranchOp::conv(64, [1, 1]), BranchOp::conv_valid(96, 3, 1)],
                &[
                    BranchOp::conv(64, [1, 1]),
                    BranchOp::conv(64, [1, 7]),
                    BranchOp::conv(64, [7, 1]),
                    BranchOp::conv_valid(96, 3, 1),
                ],
            ],
        ))
    }

    /// Inception-v4 stem, third split (timm `Mixed5a`): 3×3/2 valid → 192 ‖ max pool.
    /// `[N, 192, 71, 71]` → `[N, 384, 35, 35]`.
    pub fn inception_v4_mixed_5a() -> Self {
        Self::new(branches(
            192,
            &[&[BranchOp::conv_valid(192, 3, 2)], &[BranchOp::MaxPool]],
        ))
    }

    /// Inception-A of Inception-v4 (paper Fig. 4, timm `InceptionA`), 384 → 384 channels:
    /// 1×1 → 96 ‖ 1×1 → 64, 3×3 → 96 ‖ 1×1 → 64, 3×3 → 96, 3×3 → 96 ‖ avg pool, 1×1 → 96.
    pub fn inception_v4_a() -> Self {
        Self::new(branches(
            384,
            &[
                &[BranchOp::conv(96, [1, 1])],
                &[BranchOp::conv(64, [1, 1]), BranchOp::conv(96, [3, 3])],
                &[
                    BranchOp::conv(64, [1, 1]),
                    BranchOp::conv(96, [3, 3]),
                    BranchOp::conv(96, [3, 3]),
                ],
                &[BranchOp::AvgPool, BranchOp::conv(96, [1, 1])],
            ],
        ))
    }

    /// Inception-B of Inception-v4 (paper Fig. 5, timm `InceptionB`), 1024 → 1024 channels:
    /// 1×1 → 384 ‖ 1×1 → 192, 1×7 → 224, 7×1 → 256 ‖ 1×1 → 192, 7×1 → 192, 1×7 → 224,
    /// 7×1 → 224, 1×7 → 256 ‖ avg pool, 1×1 → 128.
    pub fn inception_v4_b() -> Self {
        Self::new(branches(
            1024,
            &[
                &[BranchOp::conv(384, [1, 1])],
                &[
                    BranchOp::conv(192, [1, 1]),
                    BranchOp::conv(224, [1, 7]),
                    BranchOp::conv(256, [7, 1]),
                ],
                &[
                    BranchOp::conv(192, [1, 1]),
                    BranchOp::conv(192, [7, 1]),
                    BranchOp::conv(224, [1, 7]),
                    BranchOp::conv(224, [7, 1]),
                    BranchOp::conv(256, [1, 7]),
                ],
                &[BranchOp::AvgPool, BranchOp::conv(128, [1, 1])],
            ],
        ))
    }

    /// Inception-C of Inception-v4 (paper Fig. 6, timm `InceptionC`), 1536 → 1536 channels:
    /// 1×1 → 256 ‖ 1×1 → 384, (1×3 → 256 ‖ 3×1 → 256) ‖ 1×1 → 384, 3×1 → 448, 1×3 → 512,
    /// (1×3 → 256 ‖ 3×1 → 256) ‖ avg pool, 1×1 → 256.
    pub fn inception_v4_c() -> Self {
        let split = vec![BranchOp::conv(256, [1, 3]), BranchOp::conv(256, [3, 1])];
        Self::new(vec![
            InceptionBranchConfig::new(1536, vec![BranchOp::conv(256, [1, 1])]),
            InceptionBranchConfig::new(1536, vec![BranchOp::conv(384, [1, 1])])
                .with_fork(split.clone()),
            InceptionBranchConfig::new(
                1536,
                vec![
                    BranchOp::conv(384, [1, 1]),
                    BranchOp::conv(448, [3, 1]),
                    BranchOp::conv(512, [1, 3]),
                ],
            )
            .with_fork(split),
            InceptionBranchConfig::new(1536, vec![BranchOp::AvgPool, BranchOp::conv(256, [1, 1])]),
        ])
    }

    /// Reduction-A, 35×35 → 17×17 (paper Fig. 7, shared by the three networks with the
    /// widths `[k, l, m, n]` of its Table 1: Inception-v4 `[192, 224, 256, 384]`,
    /// Inception-ResNet-v1 `[192, 192, 256, 384]`, -v2 `[256, 256, 384, 384]`; timm
    /// `ReductionA` / `Mixed_6a`): 3×3/2 valid → n ‖ 1×1 → k, 3×3 → l, 3×3/2 valid → m ‖
    /// max pool. `in_channels` → `in_channels + n + m`.
    pub fn reduction_a(in_channels: usize, [k, l, m, n]: [usize; 4]) -> Self {
        Self::new(branches(
            in_channels,
            &[
                &[BranchOp::conv_valid(n, 3, 2)],
                &[
                    BranchOp::conv(k, [1, 1]),
                    BranchOp::conv(l, [3, 3]),
                    BranchOp::conv_valid(m, 3, 2),
                ],
                &[BranchOp::MaxPool],
            ],
        ))
    }

    /// Reduction-B of Inception-v4, 17×17 → 8×8 (paper Fig. 8, timm `ReductionB`),
    /// 1024 → 1536 channels: 1×1 → 192, 3×3/2 valid → 192 ‖ 1×1 → 256, 1×7 → 256,
    /// 7×1 → 320, 3×3/2 valid → 320 ‖ max pool.
    pub fn inception_v4_reduction_b() -> Self {
        Self::new(branches(
            1024,
            &[
                &[BranchOp::conv(192, [1, 1]), BranchOp::conv_valid(192, 3, 2)],
                &[
                    BranchOp::conv(256, [1, 1]),
                    BranchOp::conv(256, [1, 7]),
                    BranchOp::conv(320, [7, 1]),
                    BranchOp::conv_valid(320, 3, 2),
                ],
                &[BranchOp::MaxPool],
            ],
        ))
    }

    /// The 35×35 block of Inception-ResNet-v2 before its residual blocks (timm `Mixed_5b`),
    /// 192 → 320 channels: 1×1 → 96 ‖ 1×1 → 48, 5×5 → 64 ‖ 1×1 → 64, 3×3 → 96, 3×3 → 96 ‖
    /// avg pool, 1×1 → 64.
    pub fn inception_resnet_v2_mixed_5b() -> Self {
        Self::new(branches(
            192,
            &[
                &[BranchOp::conv(96, [1, 1])],
                &[BranchOp::conv(48, [1, 1]), BranchOp::conv(64, [5, 5])],
                &[
                    BranchOp::conv(64, [1, 1]),
                    BranchOp::conv(96, [3, 3]),
                    BranchOp::conv(96, [3, 3]),
                ],
                &[BranchOp::AvgPool, BranchOp::conv(64, [1, 1])],
            ],
        ))
    }

    /// Inception-ResNet-A, the 35×35 residual block (paper Figs. 10 and 16; timm / facenet
    /// `Block35`): 1×1 → b0 ‖ 1×1 → `b1[0]`, 3×3 → `b1[1]` ‖ 1×1 → `b2[0]`, 3×3 → `b2[1]`,
    /// 3×3 → `b2[2]`, projected back to `width`. v1: `(256, 32, [32, 32], [32, 32, 32])`;
    /// v2: `(320, 32, [32, 32], [32, 48, 64])`; both with scale 0.17.
    pub fn inception_resnet_a(
        width: usize,
        b0: usize,
        b1: [usize; 2],
        b2: [usize; 3],
        residual: InceptionResidual,
    ) -> Self {
        Self::new(branches(
            width,
            &[
                &[BranchOp::conv(b0, [1, 1])],
                &[BranchOp::conv(b1[0], [1, 1]), BranchOp::conv(b1[1], [3, 3])],
                &[
                    BranchOp::conv(b2[0], [1, 1]),
                    BranchOp::conv(b2[1], [3, 3]),
                    BranchOp::conv(b2[2], [3, 3]),
                ],
            ],
        ))
        .with_residual(Some(residual))
    }

    /// Inception-ResNet-B, the 17×17 residual block (paper Figs. 11 and 17; timm / facenet
    /// `Block17`): 1×1 → b0 ‖ 1×1 → `b1[0]`, 1×7 → `b1[1]`, 7×1 → `b1[2]`, projected back to
    /// `width`. v1: `(896, 128, [128, 128, 128])`; v2: `(1088, 192, [128, 160, 192])`; both
    /// with scale 0.10.
    pub fn inception_resnet_b(
        width: usize,
        b0: usize,
        b1: [usize; 3],
        residual: InceptionResidual,
    ) -> Self {
        Self::factorized_residual(width, b0, b1, 7, residual)
    }

    /// Inception-ResNet-C, the 8×8 residual block (paper Figs. 13 and 19; timm / facenet
    /// `Block8`): 1×1 → b0 ‖ 1×1 → `b1[0]`, 1×3 → `b1[1]`, 3×1 → `b1[2]`, projected back to
    /// `width`. v1: `(1792, 192, [192, 192, 192])`; v2: `(2080, 192, [192, 224, 256])`; scale
    /// 0.20, and 1.0 without ReLU for the network's last block.
    pub fn inception_resnet_c(
        width: usize,
        b0: usize,
        b1: [usize; 3],
        residual: InceptionResidual,
    ) -> Self {
        Self::factorized_residual(width, b0, b1, 3, residual)
    }

    /// The B and C residual blocks: a 1×1 branch and a 1×1, 1×k, k×1 branch.
    fn factorized_residual(
        width: usize,
        b0: usize,
        b1: [usize; 3],
        k: usize,
        residual: InceptionResidual,
    ) -> Self {
        Self::new(branches(
            width,
            &[
                &[BranchOp::conv(b0, [1, 1])],
                &[
                    BranchOp::conv(b1[0], [1, 1]),
                    BranchOp::conv(b1[1], [1, k]),
                    BranchOp::conv(b1[2], [k, 1]),
                ],
            ],
        ))
        .with_residual(Some(residual))
    }

    /// Reduction-B of Inception-ResNet, 17×17 → 8×8 (paper Figs. 12 and 18; timm / facenet
    /// `Mixed_7a`): 1×1 → 256, 3×3/2 valid → a ‖ 1×1 → 256, 3×3/2 valid → b ‖ 1×1 → 256,
    /// 3×3 → c1, 3×3/2 valid → c2 ‖ max pool. v1: `(896, [384, 256, 256, 256])` → 1792
    /// channels; v2: `(1088, [384, 288, 288, 320])` → 2080.
    pub fn inception_resnet_reduction_b(in_channels: usize, [a, b, c1, c2]: [usize; 4]) -> Self {
        Self::new(branches(
            in_channels,
            &[
                &[BranchOp::conv(256, [1, 1]), BranchOp::conv_valid(a, 3, 2)],
                &[BranchOp::conv(256, [1, 1]), BranchOp::conv_valid(b, 3, 2)],
                &[
                    BranchOp::conv(256, [1, 1]),
                    BranchOp::conv(c1, [3, 3]),
                    BranchOp::conv_valid(c2, 3, 2),
                ],
                &[BranchOp::MaxPool],
            ],
        ))
    }

    /// Input channels (those of the first branch).
    pub fn in_channels(&self) -> usize {
        self.branches.first().map_or(0, |b| b.in_channels)
    }

    /// Output channels: the sum of the branches' widths, or the input width for a residual
    /// block.
    pub fn out_channels(&self) -> usize {
        match self.residual {
            Some(_) => self.in_channels(),
            None => self
                .branches
                .iter()
                .map(InceptionBranchConfig::out_channels)
                .sum(),
        }
    }

    /// Creates the block with burn's default initialization.
    ///
    /// # Panics
    /// If the configuration is invalid; [`InceptionBlockConfig::try_init`] returns the error.
    pub fn init(&self, device: &Device) -> InceptionBlock {
        self.try_init(device)
            .unwrap_or_else(|e| panic!("invalid Inception block configuration: {e}"))
    }

    /// Creates the block, or says why the configuration is invalid: no branches, branches
    /// reading different widths, or an invalid branch.
    pub fn try_init(&self, device: &Device) -> Result<InceptionBlock> {
        let what = "Inception block config";
        let in_channels = self.in_channels();
        if self.branches.is_empty() {
            return Err(Error::invalid(what, "a block needs at least one branch"));
        }
        if let Some(b) = self.branches.iter().find(|b| b.in_channels != in_channels) {
            return Err(Error::invalid(
                what,
                format!(
                    "every branch must read the block's {in_channels} input channels, one reads {}",
                    b.in_channels
                ),
            ));
        }
        let branches = self
            .branches
            .iter()
            .map(|b| b.try_init(device))
            .collect::<Result<Vec<_>>>()?;
        let concat: usize = branches.iter().map(InceptionBranch::out_channels).sum();
        let projection = self
            .residual
            .map(|_| Conv2dConfig::new([concat, in_channels], [1, 1]).try_init(device))
            .transpose()?;
        Ok(InceptionBlock {
            branches,
            projection,
            residual: self.residual,
            in_channels,
            out_channels: self.out_channels(),
        })
    }
}

/// Parallel branches whose outputs are concatenated along the channels; in the residual form
/// (Inception-ResNet) the concatenation is projected back to the input width and added:
///
/// - plain: `y = concat(b_1(x), ..., b_k(x))`
/// - residual: `y = act(x + scale · W * concat(b_1(x), ..., b_k(x)) + bias)`, `W` a 1×1
///   convolution with bias.
///
/// Matches timm's `Mixed3a`, `Mixed4a`, `Mixed5a`, `InceptionA/B/C`, `ReductionA/B`
/// (`inception_v4`), `Mixed_5b`, `Mixed_6a`, `Mixed_7a`, `Block35`, `Block17`, `Block8`
/// (`inception_resnet_v2`) and facenet-pytorch's v1 blocks of the same names; timm's
/// `branchN` is `branches.N`, its `conv2d` is `projection`.
///
/// Tap sites: `branches.i.*` (see [`InceptionBranch`]), and for the residual form
/// `projection.*` (see [`Conv2d`]; its `out` is the residual before scaling) and
/// `residual.activation.mask`; `out`.
///
/// # Shapes
/// - input `[N, C_in, H, W]`, at least [`InceptionBlock::min_input_size`] of `[1, 1]`
/// - output `[N, C_out, H', W']`; residual blocks keep `C_in, H, W`.
#[derive(Module, Debug)]
pub struct InceptionBlock {
    /// The branches, in concatenation order.
    pub branches: Vec<InceptionBranch>,
    /// The residual 1×1 projection (Inception-ResNet blocks only).
    pub projection: Option<Conv2d>,
    #[module(skip)]
    residual: Option<InceptionResidual>,
    #[module(skip)]
    in_channels: usize,
    #[module(skip)]
    out_channels: usize,
}

impl InceptionBlock {
    /// Adds to `keys` the renames from timm / facenet-pytorch Inception block parameter names
    /// to [`InceptionBlock`] paths, for keys already renamed up to the block (`<block>.`):
    /// `branchN.conv` (a single convolution) → `branches.N.layers.0.conv`, `branchN.i` (a
    /// `Sequential`) → `branches.N.layers.i`, Inception-C's `branchN_i` → `branches.N.layers.i`
    /// and `branchN_ia` / `branchN_ib` → `branches.N.fork.0` / `fork.1`, the residual
    /// `conv2d` → `projection`, and every `ConvNormAct` / `BasicConv2d` `bn` → `norm`.
    /// Other keys are untouched.
    pub fn timm_keys(keys: KeyMap) -> KeyMap {
        keys.rename(r"\.bn\.", ".norm.")
            .rename(r"\.branch(\d+)\.(\d+)\.", ".branches.$1.layers.$2.")
            .rename(r"\.branch(\d+)_(\d+)\.", ".branches.$1.layers.$2.")
            .rename(r"\.branch(\d+)_\da\.", ".branches.$1.fork.0.")
            .rename(r"\.branch(\d+)_\db\.", ".branches.$1.fork.1.")
            .rename(r"\.branch(\d+)\.", ".branches.$1.layers.0.")
            .rename(r"\.conv2d\.", ".projection.")
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.in_channels
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.out_channels
    }

    /// The smallest input `[height, width]` for which the output has at least `output`
    /// positions (the largest need of any branch).
    pub fn min_input_size(&self, output: [usize; 2]) -> [usize; 2] {
        self.branches
            .iter()
            .map(|b| b.min_input_size(output))
            .fold([1, 1], |a, b| [a[0].max(b[0]), a[1].max(b[1])])
    }
}

impl Tapped<Tensor<4>> for InceptionBlock {
    type Output = Tensor<4>;

    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let outputs = self
            .branches
            .iter()
            .enumerate()
            .map(|(i, branch)| {
                branch.forward_tapped(x.clone(), &mut taps.child(&format!("branches.{i}")))
            })
            .collect();
        let concat = Tensor::cat(outputs, 1);
        let y = match (&self.projection, self.residual) {
            (Some(projection), Some(residual)) => {
                let update = projection.forward_tapped(concat, &mut taps.child("projection"));
                let sum = x + update * residual.scale;
                residual
                    .activation
                    .forward_tapped(sum, &mut taps.child("residual").child("activation"))
            }
            _ => concat,
        };
        taps.float("out", y)
    }

    /// `[N, C_in, H, W]` with `H, W` at least [`InceptionBlock::min_input_size`] of `[1, 1]`.
    fn input_spec(&self) -> InputSpec {
        InputSpec::image(
            "InceptionBlock input",
            self.in_channels,
            self.min_input_size([1, 1]),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use convkit_core::DeviceSpec;
    use convkit_core::tap::Recorder;

    fn device() -> Device {
        DeviceSpec::Cpu.device().unwrap()
    }

    #[test]
    fn pooling_after_the_pointwise_convolution_gives_the_same_branch_output() {
        let device = device();
        convkit_core::random::seed(3);
        let branch =
            InceptionBranchConfig::new(6, vec![BranchOp::AvgPool, BranchOp::conv(4, [1, 1])])
                .init(&device);
        let x = convkit_core::random::tensor(
            [2, 6, 7, 5],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        // Untapped: convolution first, then the pool. Tapped: the layers in their order.
        let reordered = branch.forward(x.clone());
        let mut recorder = Recorder::all();
        let in_order = branch.forward_tapped(x, &mut Taps::new(&mut recorder));
        assert!(recorder.get("layers.0.out").is_some());
        convkit_core::testing::compare(&reordered.into_data(), &in_order.into_data(), 1e-6, 1e-5)
            .unwrap();
    }

    #[test]
    fn op_geometry_inverts_the_output_size_formula() {
        // floor((n + 2p - k) / s) + 1 >= out exactly from the minimum up.
        let ops = [
            BranchOp::conv_valid(8, 3, 2),
            BranchOp::conv(8, [1, 7]),
            BranchOp::conv(8, [5, 5]),
            BranchOp::MaxPool,
            BranchOp::AvgPool,
        ];
        for op in ops {
            let (k, s, p) = match op {
                BranchOp::Conv {
                    kernel_size,
                    stride,
                    padding: Padding::Same,
                    ..
                } => (
                    kernel_size,
                    stride,
                    [kernel_size[0] / 2, kernel_size[1] / 2],
                ),
                BranchOp::Conv {
                    kernel_size,
                    stride,
                    ..
                } => (kernel_size, stride, [0, 0]),
                BranchOp::MaxPool => ([3, 3], 2, [0, 0]),
                BranchOp::AvgPool => ([3, 3], 1, [1, 1]),
            };
            for out in 1..6 {
                let min = op.min_input_size([out, out]);
                for d in 0..2 {
                    let size = |n: usize| (n + 2 * p[d]).checked_sub(k[d]).map(|v| v / s + 1);
                    assert!(
                        size(min[d]).is_some_and(|o| o >= out),
                        "{op:?} {out} {min:?}"
                    );
                    assert!(
                        min[d] == 1 || size(min[d] - 1).is_none_or(|o| o < out),
                        "{op:?} {out} {min:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn named_blocks_have_the_paper_widths() {
        let cases = [
            (InceptionBlockConfig::inception_v4_mixed_3a(), 64, 160),
            (InceptionBlockConfig::inception_v4_mixed_4a(), 160, 192),
            (InceptionBlockConfig::inception_v4_mixed_5a(), 192, 384),
            (InceptionBlockConfig::inception_v4_a(), 384, 384),
            (
                InceptionBlockConfig::reduction_a(384, [192, 224, 256, 384]),
                384,
                1024,
            ),
            (InceptionBlockConfig::inception_v4_b(), 1024, 1024),
            (InceptionBlockConfig::inception_v4_reduction_b(), 1024, 1536),
            (InceptionBlockConfig::inception_v4_c(), 1536, 1536),
            (
                InceptionBlockConfig::inception_resnet_v2_mixed_5b(),
                192,
                320,
            ),
            (
                InceptionBlockConfig::reduction_a(320, [256, 256, 384, 384]),
                320,
                1088,
            ),
            (
                InceptionBlockConfig::reduction_a(256, [192, 192, 256, 384]),
                256,
                896,
            ),
            (
                InceptionBlockConfig::inception_resnet_reduction_b(1088, [384, 288, 288, 320]),
                1088,
                2080,
            ),
            (
                InceptionBlockConfig::inception_resnet_reduction_b(896, [384, 256, 256, 256]),
                896,
                1792,
            ),
        ];
        for (config, c_in, c_out) in cases {
            assert_eq!((config.in_channels(), config.out_channels()), (c_in, c_out));
        }
    }

    #[test]
    fn residual_block_keeps_its_input_shape_and_taps_every_branch() {
        let device = device();
        let block = InceptionBlockConfig::inception_resnet_c(
            16,
            4,
            [4, 6, 8],
            InceptionResidual::relu(0.2),
        )
        .init(&device);
        let x = convkit_core::random::tensor(
            [2, 16, 5, 4],
            burn::tensor::Distribution::Normal(0.0, 1.0),
            &device,
        );
        let mut recorder = Recorder::all();
        let y = block.forward_tapped(x, &mut Taps::new(&mut recorder));
        assert_eq!(y.dims(), [2, 16, 5, 4]);
        for site in [
            "branches.0.layers.0.out",
            "branches.1.layers.2.conv.out",
            "branches.1.out",
            "projection.weight",
            "projection.out",
            "residual.activation.mask",
            "out",
        ] {
            assert!(recorder.get(site).is_some(), "no tap site {site}");
        }
        assert_eq!(
            recorder.get("projection.out").unwrap().shape(),
            vec![2, 16, 5, 4]
        );
        assert!(
            y.greater_equal_elem(0.0).all().into_scalar::<bool>(),
            "ReLU after the residual sum"
        );
    }

    #[test]
    fn fork_concatenates_its_ends() {
        let device = device();
        let branch = InceptionBranchConfig::new(6, vec![BranchOp::conv(4, [1, 1])])
            .with_fork(vec![BranchOp::conv(3, [1, 3]), BranchOp::conv(5, [3, 1])])
            .init(&device);
        assert_eq!(branch.out_channels(), 8);
        let y = branch.forward(Tensor::zeros([1, 6, 4, 4], &device));
        assert_eq!(y.dims(), [1, 8, 4, 4]);
    }

    #[test]
    fn reduction_halves_and_checks_its_minimum() {
        let device = device();
        let block = InceptionBlockConfig::reduction_a(8, [4, 4, 6, 10]).init(&device);
        assert_eq!(block.min_input_size([1, 1]), [3, 3]);
        let y = block.forward(Tensor::zeros([1, 8, 9, 7], &device));
        assert_eq!(y.dims(), [1, 8 + 10 + 6, 4, 3]);
        let err = block.check_input(&[1, 8, 2, 9]).unwrap_err();
        assert!(matches!(err, Error::Shape { .. }), "{err}");
        assert!(err.to_string().contains(">=3"), "{err}");
        assert!(block.check_input(&[1, 7, 9, 9]).is_err());
    }

    #[test]
    fn invalid_configs_are_errors() {
        let device = device();
        let mixed = InceptionBlockConfig::new(vec![
            InceptionBranchConfig::new(8, vec![BranchOp::MaxPool]),
            InceptionBranchConfig::new(6, vec![BranchOp::MaxPool]),
        ]);
        assert!(matches!(
            mixed.try_init(&device),
            Err(Error::Invalid { .. })
        ));
        assert!(InceptionBlockConfig::new(vec![]).try_init(&device).is_err());
        assert!(
            InceptionBranchConfig::new(8, vec![])
                .try_init(&device)
                .is_err()
        );
        let zero = InceptionBranchConfig::new(8, vec![BranchOp::conv(0, [1, 1])]);
        assert!(zero.try_init(&device).is_err());
    }
}
