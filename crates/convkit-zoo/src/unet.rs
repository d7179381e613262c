//! U-Net for semantic segmentation, optionally with scSE recalibration after every block.

use std::path::Path;

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use convkit_conv::{
    Conv2d, Conv2dConfig, ConvNormAct, ConvNormActConfig, ConvTranspose2d, ConvTranspose2dConfig,
    MaxPool, MaxPoolConfig, SeAggregation, SpatialChannelSqueezeExcite,
    SpatialChannelSqueezeExciteConfig,
};
use convkit_core::check::Dim;
use convkit_core::weights::{WeightReport, load_pytorch_safetensors};
use convkit_core::{Error, ImageSegmenter, InputSpec, KeyMap, Result, SiteKind, Tapped, Taps};

/// Configuration of [`UNet`]. The defaults (depth 4, width 64) are the paper's network, with
/// "same" padding and batch norm.
#[derive(Config, Debug)]
pub struct UNetConfig {
    /// Input channels.
    pub in_channels: usize,
    /// Number of classes (output channels of the logits).
    pub num_classes: usize,
    /// Number of 2× down-samplings (the paper's 4): `depth` encoder blocks, a bottleneck and
    /// `depth` decoder blocks. Inputs must have sides divisible by `2^depth`.
    #[config(default = 4)]
    pub depth: usize,
    /// Channels of the first block (the paper's 64); each level down doubles them, the
    /// bottleneck has `width · 2^depth`.
    #[config(default = 64)]
    pub width: usize,
    /// Adds a [`SpatialChannelSqueezeExcite`] after every encoder block, the bottleneck and
    /// every decoder block, as Roy et al. (2018) do in their U-Net.
    #[config(default = false)]
    pub scse: bool,
    /// Reduction ratio of the scSE channel branch (16, as Roy et al. and smp).
    #[config(default = 16)]
    pub scse_reduction: usize,
    /// How scSE combines its two branches (max-out by default, the paper's recommendation;
    /// [`SeAggregation::Add`] is smp's `SCSEModule`). With [`SeAggregation::Concat`] every
    /// block outputs twice its channels and the following layers widen to match.
    #[config(default = "SeAggregation::Max")]
    pub scse_aggregation: SeAggregation,
}

impl UNetConfig {
    /// Checks the configuration: positive channel counts and width, a depth of at least 1,
    /// and a positive scSE reduction when scSE is on.
    pub fn validate(&self) -> Result<()> {
        let what = "UNet config";
        if self.in_channels == 0 || self.num_classes == 0 || self.width == 0 {
            return Err(Error::invalid(
                what,
                "input channels, classes and width must be positive",
            ));
        }
        if self.depth == 0 {
            return Err(Error::invalid(
                what,
                "depth must be at least 1 (one down-sampling)",
            ));
        }
        if self.scse && self.scse_reduction == 0 {
            return Err(Error::invalid(what, "the scSE reduction must be positive"));
        }
        Ok(())
    }

    /// Creates the model with burn's default (Kaiming-uniform) initialization.
    ///
    /// # Panics
    /// If the configuration is invalid (see [`UNetConfig::validate`]); use
    /// [`UNetConfig::try_init`] to get the error instead.
    pub fn init(&self, device: &Device) -> UNet {
        self.try_init(device)
            .unwrap_or_else(|e| panic!("invalid UNet configuration: {e}"))
    }

    /// Creates the model, or says why the configuration is invalid.
    pub fn try_init(&self, device: &Device) -> Result<UNet> {
        self.validate()?;
        // Channels a block's output has per channel it computes (2 with concatenating scSE).
        let spread = if self.scse && self.scse_aggregation == SeAggregation::Concat {
            2
        } else {
            1
        };
        let channels = |level: usize| self.width << level;
        let block = |in_channels: usize, out_channels: usize| -> Result<UNetBlock> {
            Ok(UNetBlock {
                conv1: ConvNormActConfig::new(in_channels, out_channels).try_init(device)?,
                conv2: ConvNormActConfig::new(out_channels, out_channels).try_init(device)?,
                scse: self
                    .scse
                    .then(|| {
                        SpatialChannelSqueezeExciteConfig::new(out_channels)
                            .with_reduction(self.scse_reduction)
                            .with_aggregation(self.scse_aggregation)
                            .try_init(device)
                    })
                    .transpose()?,
            })
        };
        let encoder = (0..self.depth)
            .map(|level| {
                let input = match level {
                    0 => self.in_channels,
                    _ => spread * channels(level - 1),
                };
                block(input, channels(level))
            })
            .collect::<Result<_>>()?;
        let bottleneck = block(spread * channels(self.depth - 1), channels(self.depth))?;
        let up = (0..self.depth)
            .map(|level| {
                ConvTranspose2dConfig::new([spread * channels(level + 1), channels(level)], [2, 2])
                    .with_stride([2, 2])
                    .try_init(device)
            })
            .collect::<Result<_>>()?;
        let decoder = (0..self.depth)
            .map(|level| block((spread + 1) * channels(level), channels(level)))
            .collect::<Result<_>>()?;
        let pool = (0..self.depth)
            .map(|_| MaxPoolConfig::new(2).try_init())
            .collect::<Result<_>>()?;
        Ok(UNet {
            encoder,
            pool,
            bottleneck,
            up,
            decoder,
            head: Conv2dConfig::new([spread * channels(0), self.num_classes], [1, 1])
                .try_init(device)?,
            in_channels: self.in_channels,
            num_classes: self.num_classes,
            depth: self.depth,
        })
    }
}

/// Two 3×3 conv → batch norm → ReLU units, then optionally scSE: one level of a [`UNet`]
/// (`DoubleConv` in the PyTorch references).
///
/// Tap sites: `conv1.*`, `conv2.*` (see [`ConvNormAct`]), `scse.*` (see
/// [`SpatialChannelSqueezeExcite`]) and `out`.
#[derive(Module, Debug)]
pub struct UNetBlock {
    /// First unit, changing the channel count.
    pub conv1: ConvNormAct,
    /// Second unit.
    pub conv2: ConvNormAct,
    /// Recalibration of the block's output, when the model has scSE.
    pub scse: Option<SpatialChannelSqueezeExcite>,
}

impl Tapped<Tensor<4>> for UNetBlock {
    type Output = Tensor<4>;

    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let x = self.conv1.forward_tapped(x, &mut taps.child("conv1"));
        let x = self.conv2.forward_tapped(x, &mut taps.child("conv2"));
        let x = match &self.scse {
            Some(scse) => scse.forward_tapped(x, &mut taps.child("scse")),
            None => x,
        };
        taps.float("out", x)
    }

    fn input_spec(&self) -> InputSpec {
        self.conv1.input_spec()
    }
}

/// U-Net: an encoder-decoder with skip connections for per-pixel classification
/// ("U-Net: Convolutional Networks for Biomedical Image Segmentation", Ronneberger, Fischer
/// & Brox, MICCAI 2015), with optional scSE after every block ("Concurrent Spatial and Channel
/// Squeeze & Excitation in Fully Convolutional Networks", Roy, Navab & Wachinger, MICCAI 2018).
///
/// With `D = depth` and `w = width`:
///
/// - encoder level `i < D`: [`UNetBlock`] to `w·2^i` channels, whose output is kept as the
///   skip connection, then 2×2 max pooling;
/// - bottleneck: [`UNetBlock`] to `w·2^D` channels at `1/2^D` of the input size;
/// - decoder level `i = D-1 … 0`: 2×2 stride-2 transposed convolution to `w·2^i` channels
///   (doubling the size), concatenation `[skip_i, up]` along the channels, [`UNetBlock`] to
///   `w·2^i` channels;
/// - head: 1×1 convolution to the class logits.
///
/// Unlike the paper's unpadded convolutions (output smaller than the input, skips cropped),
/// the 3×3 convolutions pad by 1 and are followed by batch norm, so the logits have the
/// input's size: the layout of the common PyTorch U-Net (milesial/Pytorch-UNet,
/// `UNet(n_channels, n_classes, bilinear=False)`, whose `state_dict` loads through
/// [`UNet::pytorch_keys`]).
///
/// Tap sites: `encoder.{i}.*`, `pool.{i}.*` (see [`MaxPool`]), `bottleneck.*`, `up.{i}.*` (see
/// [`ConvTranspose2d`]), `decoder.{i}.*` (see [`UNetBlock`]), `head.*` (see [`Conv2d`]) and
/// `logits`.
///
/// # Shapes
/// - input `[N, C_in, H, W]` with `H` and `W` positive multiples of `2^depth`
/// - output logits `[N, num_classes, H, W]`
#[derive(Module, Debug)]
pub struct UNet {
    /// Encoder blocks, level 0 (full resolution) first.
    pub encoder: Vec<UNetBlock>,
    /// The 2×2 max pool after each encoder block, by level.
    pub pool: Vec<MaxPool>,
    /// The block at the lowest resolution.
    pub bottleneck: UNetBlock,
    /// Up-sampling to level `i` (from level `i + 1` or the bottleneck): 2×2 stride-2
    /// transposed convolutions with bias.
    pub up: Vec<ConvTranspose2d>,
    /// Decoder blocks, by level (`decoder[i]` runs at the resolution of `encoder[i]`).
    pub decoder: Vec<UNetBlock>,
    /// 1×1 convolution with bias to the class logits.
    pub head: Conv2d,
    #[module(skip)]
    in_channels: usize,
    #[module(skip)]
    num_classes: usize,
    #[module(skip)]
    depth: usize,
}

impl Tapped<Tensor<4>> for UNet {
    type Output = Tensor<4>;

    /// Pixel logits, offering every intermediate value to `taps`.
    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let mut skips = Vec::with_capacity(self.depth);
        let mut x = x;
        for (level, (block, pool)) in self.encoder.iter().zip(&self.pool).enumerate() {
            let skip = block.forward_tapped(x, &mut taps.child(&format!("encoder.{level}")));
            x = pool.forward_tapped(skip.clone(), &mut taps.child(&format!("pool.{level}")));
            skips.push(skip);
        }
        x = self
            .bottleneck
            .forward_tapped(x, &mut taps.child("bottleneck"));
        for level in (0..self.depth).rev() {
            let up = self.up[level].forward_tapped(x, &mut taps.child(&format!("up.{level}")));
            let skip = skips.pop().expect("one skip per level");
            x = self.decoder[level].forward_tapped(
                Tensor::cat(vec![skip, up], 1),
                &mut taps.child(&format!("decoder.{level}")),
            );
        }
        let logits = self.head.forward_tapped(x, &mut taps.child("head"));
        taps.tap("logits", SiteKind::Logits, logits)
    }

    /// `[N, C_in, H, W]` with `H` and `W` positive multiples of `2^depth` (every pooling
    /// must halve the size exactly for the skips to fit).
    fn input_spec(&self) -> InputSpec {
        let multiple = 1usize << self.depth;
        InputSpec::new(
            "UNet input",
            vec![
                Dim::Any,
                Dim::Exact(self.in_channels),
                Dim::MultipleOf(multiple),
                Dim::MultipleOf(multiple),
            ],
        )
        .with_note(format!(
            "H and W positive multiples of 2^depth = {multiple}"
        ))
    }
}

impl ImageSegmenter for UNet {
    fn num_classes(&self) -> usize {
        self.num_classes
    }
}

impl UNet {
    /// Number of down-samplings.
    pub fn depth(&self) -> usize {
        self.depth
    }

    /// The mapping from the PyTorch reference's `state_dict` keys to this model's paths.
    ///
    /// The reference is milesial/Pytorch-UNet's `UNet(bilinear=False)` generalised to any
    /// depth (`tools/refgen/unet.py`): `inc` and `down{k}.maxpool_conv.1` (k < D) are the
    /// encoder blocks, `down{D}.maxpool_conv.1` the bottleneck, `up{k}.up` / `up{k}.conv` the
    /// transposed convolution and block of decoder level `D - k`, `outc.conv` the head;
    /// inside a block `double_conv.{0,1,3,4}` are `conv1.conv`, `conv1.norm`, `conv2.conv`,
    /// `conv2.norm`, and an scSE module sits at `scse` with smp's `SCSEModule` names (see
    /// [`SpatialChannelSqueezeExcite::pytorch_keys`]). BatchNorm's `num_batches_tracked` is
    /// ignored.
    pub fn pytorch_keys(&self) -> KeyMap {
        let d = self.depth;
        let mut keys = KeyMap::new().rename(r"^inc\.", "encoder.0.");
        for k in 1..d {
            keys = keys.rename(
                format!(r"^down{k}\.maxpool_conv\.1\."),
                format!("encoder.{k}."),
            );
        }
        keys = keys.rename(format!(r"^down{d}\.maxpool_conv\.1\."), "bottleneck.");
        for k in 1..=d {
            keys = keys
                .rename(format!(r"^up{k}\.up\."), format!("up.{}.", d - k))
                .rename(format!(r"^up{k}\.conv\."), format!("decoder.{}.", d - k));
        }
        keys = keys
            .rename(r"^outc\.conv\.", "head.")
            .rename(r"\.double_conv\.0\.", ".conv1.conv.")
            .rename(r"\.double_conv\.1\.", ".conv1.norm.")
            .rename(r"\.double_conv\.3\.", ".conv2.conv.")
            .rename(r"\.double_conv\.4\.", ".conv2.norm.");
        for (from, to) in SpatialChannelSqueezeExcite::pytorch_keys().renames() {
            keys = keys.rename(from.as_str(), to.as_str());
        }
        keys.ignore(r"num_batches_tracked$")
    }

    /// Loads the PyTorch reference's `state_dict` (safetensors) into this model.
    pub fn load_pytorch(self, path: impl AsRef<Path>) -> Result<(Self, WeightReport)> {
        let keys = self.pytorch_keys();
        load_pytorch_safetensors(self, path, &keys)
    }
}
