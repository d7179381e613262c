//! A small squeeze-and-excitation CNN classifier for images of any size and channel count.

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use convkit_conv::{
    ChannelSqueezeExcite, ChannelSqueezeExciteConfig, ConvNormAct, ConvNormActConfig,
};
use convkit_core::check::check_image_batch;
use convkit_core::{Error, ImageClassifier, Result, SiteKind, Taps, init};

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
            head: init::linear(&LinearConfig::new(channels, self.num_classes), device),
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
/// Tap sites: `stage{i}.conv.{conv,norm,act.mask,out}`, `stage{i}.se.{act.mask,gate,out}`,
/// `features` (pooled `[N, width · 2^(stages-1)]`) and `logits`.
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

impl SeCnn {
    /// Logits for a batch of images.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_tapped(x, &mut Taps::none())
    }

    /// Logits, offering every intermediate value to `taps`.
    pub fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2> {
        let mut x = x;
        for (i, (block, se)) in self.blocks.iter().zip(&self.excite).enumerate() {
            let mut stage = taps.child(&format!("stage{i}"));
            x = block.forward_tapped(x, &mut stage.child("conv"));
            x = se.forward_tapped(x, &mut stage.child("se"));
        }
        let [n, c, h, w] = x.dims();
        let pooled = x.reshape([n, c, h * w]).mean_dim(2).reshape([n, c]);
        let features = taps.float("features", pooled);
        taps.tap("logits", SiteKind::Logits, self.head.forward(features))
    }

    /// Checks the input shape, then runs [`SeCnn::forward`].
    pub fn try_forward(&self, x: Tensor<4>) -> Result<Tensor<2>> {
        self.check_input(&x.dims())?;
        Ok(self.forward(x))
    }

    /// Checks that `shape` is `[N, C_in, H >= 1, W >= 1]`.
    pub fn check_input(&self, shape: &[usize]) -> Result<()> {
        check_image_batch("SeCnn input", shape, self.in_channels, [1, 1])
    }
}

impl ImageClassifier for SeCnn {
    fn num_classes(&self) -> usize {
        self.num_classes
    }

    fn in_channels(&self) -> usize {
        self.in_channels
    }

    fn min_input_size(&self) -> [usize; 2] {
        [1, 1]
    }

    fn check_input(&self, shape: &[usize]) -> Result<()> {
        SeCnn::check_input(self, shape)
    }

    fn logits_tapped(&self, images: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2> {
        self.forward_tapped(images, taps)
    }
}
