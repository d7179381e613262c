//! [`InceptionBlock`]: branches side by side, concatenated, optionally residual.

use super::*;

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

impl InceptionBlockConfig {
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
