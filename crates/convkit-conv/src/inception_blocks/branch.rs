//! [`InceptionBranch`]: a chain of convolutions and pools, optionally ending in parallel layers.

use super::*;

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
