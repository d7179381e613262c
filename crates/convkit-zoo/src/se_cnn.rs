//! A small squeeze-and-excitation CNN classifier for images of any size and channel count.

use std::path::Path;

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use convkit_conv::{
    ChannelSqueezeExcite, ChannelSqueezeExciteConfig, ConvNormAct, ConvNormActConfig, Linear,
    LinearConfig,
};
use convkit_core::weights::{WeightReport, load_pytorch_safetensors};
use convkit_core::{Error, ImageClassifier, InputSpec, KeyMap, Result, SiteKind, Tapped, Taps};

use crate::classifier::{Entry, Parity, Registered};

/// Configuration of [`SeCnn`].
#[derive(Config, Debug)]
pub struct SeCnnConfig {
    /// Number of classes.
    pub num_classes: usize,
    /// Input channels (any number: 1 for grey, 3 for RGB, more for multi-band images).
    #[config(default = 1)]
    pub in_channels: usize,
    /// Channels of the first stage; each later stage doubles them.
    #[config(default = 16)]
    pub width: usize,
    /// Number of stages (conv block + cSE); every stage after the first halves the size.
    #[config(default = 3)]
    pub stages: usize,
    /// Reduction ratio of every cSE. 4 rather than Hu et al.'s 16: with 16 to 64 channels a
    /// ratio of 16 leaves a bottleneck of 1 to 4 units.
    #[config(default = 4)]
    pub reduction: usize,
}

impl SeCnnConfig {
    /// Channels of stage `i`: `width · 2^i`.
    fn stage_channels(&self, i: usize) -> usize {
        self.width << i
    }

    /// Checks that every count is positive.
    pub fn validate(&self) -> Result<()> {
        if [
            self.num_classes,
            self.in_channels,
            self.width,
            self.stages,
            self.reduction,
        ]
        .contains(&0)
        {
            return Err(Error::invalid(
                "SeCnn config",
                "classes, input channels, width, stages and reduction must be positive",
            ));
        }
        Ok(())
    }

    /// Creates the model with burn's default initialization.
    ///
    /// # Panics
    /// If the configuration is invalid (see [`SeCnnConfig::validate`]); use
    /// [`SeCnnConfig::try_init`] to get the error instead.
    pub fn init(&self, device: &Device) -> SeCnn {
        self.try_init(device)
            .unwrap_or_else(|e| panic!("invalid SeCnn configuration: {e}"))
    }

    /// Creates the model, or says why the configuration is invalid.
    pub fn try_init(&self, device: &Device) -> Result<SeCnn> {
        self.validate()?;
        let mut blocks = Vec::with_capacity(self.stages);
        let mut excite = Vec::with_capacity(self.stages);
        let mut channels = self.in_channels;
        for i in 0..self.stages {
            let out = self.stage_channels(i);
            blocks.push(
                ConvNormActConfig::new(channels, out)
                    .with_stride(if i == 0 { 1 } else { 2 })
                    .try_init(device)?,
            );
            excite.push(
                ChannelSqueezeExciteConfig::new(out)
                    .with_reduction(self.reduction)
                    .try_init(device)?,
            );
            channels = out;
        }
        Ok(SeCnn {
            blocks,
            excite,
            head: LinearConfig::new(channels, self.num_classes).try_init(device)?,
            in_channels: self.in_channels,
            num_classes: self.num_classes,
        })
    }
}

/// `stages ×` (conv3×3-BN-ReLU → cSE) → global average pool → linear.
///
/// Stage `i` has `width · 2^i` channels; stages after the first use stride 2. Each conv
/// block is followed by channel squeeze-and-excitation ([`ChannelSqueezeExcite`], "Squeeze-
/// and-Excitation Networks", Hu et al., 2018), as in the SE variants of VGG/ResNet. Global
/// average pooling instead of a fixed flatten makes it accept any input size (8×8 and up is
/// the intended range; "same" padding keeps even a 1×1 input valid) and any channel count.
/// With the defaults (1 input channel, width 16, 3 stages) it has about 26 k parameters.
///
/// Tap sites: `blocks.{i}.*` (see [`ConvNormAct`]), `excite.{i}.*` (see
/// [`ChannelSqueezeExcite`]), `features` (pooled `[N, width · 2^(stages-1)]`), `head.weight`,
/// `head.out` and `logits`.
///
/// # Shapes
/// - input `[N, C_in, H, W]` with `H, W >= 1`
/// - output logits `[N, num_classes]`
#[derive(Module, Debug)]
pub struct SeCnn {
    /// The conv blocks, one per stage.
    pub blocks: Vec<ConvNormAct>,
    /// The cSE after each conv block.
    pub excite: Vec<ChannelSqueezeExcite>,
    /// Classifier.
    pub head: Linear,
    #[module(skip)]
    in_channels: usize,
    #[module(skip)]
    num_classes: usize,
}

impl Tapped<Tensor<4>> for SeCnn {
    type Output = Tensor<2>;

    /// Logits, offering every intermediate value to `taps`.
    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2> {
        let mut x = x;
        for (i, (block, se)) in self.blocks.iter().zip(&self.excite).enumerate() {
            x = block.forward_tapped(x, &mut taps.child(&format!("blocks.{i}")));
            x = se.forward_tapped(x, &mut taps.child(&format!("excite.{i}")));
        }
        let [n, c, h, w] = x.dims();
        let pooled = x.reshape([n, c, h * w]).mean_dim(2).reshape([n, c]);
        let features = taps.float("features", pooled);
        let logits = self.head.forward_tapped(features, &mut taps.child("head"));
        taps.tap("logits", SiteKind::Logits, logits)
    }

    /// `[N, C_in, H >= 1, W >= 1]`.
    fn input_spec(&self) -> InputSpec {
        InputSpec::image("SeCnn input", self.in_channels, [1, 1])
    }
}

impl ImageClassifier for SeCnn {
    fn num_classes(&self) -> usize {
        self.num_classes
    }
}

impl SeCnn {
    /// The mapping from the PyTorch reference's `state_dict` keys (`tools/refgen/se_cnn.py`,
    /// whose module names are these parameter paths) to this model's paths: identical, with
    /// BatchNorm's `num_batches_tracked` ignored.
    pub fn pytorch_keys() -> KeyMap {
        KeyMap::new().ignore(r"num_batches_tracked$")
    }

    /// Loads the PyTorch reference's `state_dict` (safetensors) into this model.
    pub fn load_pytorch(self, path: impl AsRef<Path>) -> Result<(Self, WeightReport)> {
        load_pytorch_safetensors(self, path, &Self::pytorch_keys())
    }
}

impl Registered for SeCnnConfig {
    type Model = SeCnn;

    fn entries() -> Vec<Entry<Self>> {
        vec![Entry {
            name: "se-cnn",
            description: "3 stages of conv3x3-BN-ReLU + channel squeeze-excitation (16/32/64, \
                          stride 1/2/2) -> global average pool -> linear",
            config: |in_channels, num_classes| {
                SeCnnConfig::new(num_classes).with_in_channels(in_channels)
            },
            parity: Parity {
                fixture: "se_cnn_weights.safetensors",
                test: "se_cnn.rs",
            },
        }]
    }

    fn name(&self) -> &'static str {
        "se-cnn"
    }

    fn try_init(&self, device: &Device) -> Result<SeCnn> {
        SeCnnConfig::try_init(self, device)
    }
}
