//! A small convolutional classifier: the end-to-end proof of convkit's foundation.

use std::path::Path;

use burn::config::Config;
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::{Device, Tensor};
use convkit_conv::{ConvNormAct, ConvNormActConfig, MaxPool, MaxPoolConfig};
use convkit_core::check::check_image_batch;
use convkit_core::weights::{WeightReport, load_pytorch_safetensors};
use convkit_core::{ImageClassifier, KeyMap, Result, SiteKind, Taps, init};

/// Configuration of [`SmallCnn`].
#[derive(Config, Debug)]
pub struct SmallCnnConfig {
    /// Number of classes.
    pub num_classes: usize,
    /// Input channels.
    #[config(default = 1)]
    pub in_channels: usize,
    /// Channels of the first block; the second has twice as many.
    #[config(default = 16)]
    pub width: usize,
    /// Square kernel of both convolutions (odd; "same" padding).
    #[config(default = 3)]
    pub kernel_size: usize,
    /// Window and stride of the max pool between the blocks.
    #[config(default = 2)]
    pub pool_size: usize,
}

impl SmallCnnConfig {
    /// Creates the model with burn's default initialization.
    pub fn init(&self, device: &Device) -> SmallCnn {
        SmallCnn {
            stem: ConvNormActConfig::new(self.in_channels, self.width)
                .with_square_kernel(self.kernel_size)
                .init(device),
            pool: MaxPoolConfig::new(self.pool_size).init(),
            stage2: ConvNormActConfig::new(self.width, 2 * self.width)
                .with_square_kernel(self.kernel_size)
                .init(device),
            head: init::linear(&LinearConfig::new(2 * self.width, self.num_classes), device),
            in_channels: self.in_channels,
            num_classes: self.num_classes,
            min_size: self.pool_size.max(1),
        }
    }
}

/// conv3×3-BN-ReLU → max-pool 2×2 → conv3×3-BN-ReLU → global average pool → linear.
///
/// Global pooling makes it accept any input size from `pool_size × pool_size` up (2×2 by
/// default).
///
/// Tap sites: `stem.{conv,norm,act.mask,out}`, `pool.indices`, `stage2.{conv,norm,act.mask,out}`,
/// `features` (pooled `[N, 2·width]`) and `logits`.
///
/// PyTorch equivalent (the reference in `tools/refgen/small_cnn.py`): `conv1`, `bn1`, `conv2`,
/// `bn2`, `fc` (see [`SmallCnn::pytorch_keys`]).
///
/// # Shapes
/// - input `[N, C_in, H, W]` with `H, W >= pool_size`
/// - output logits `[N, num_classes]`
#[derive(Module, Debug)]
pub struct SmallCnn {
    /// First conv block.
    pub stem: ConvNormAct,
    /// 2×2 max pool.
    pub pool: MaxPool,
    /// Second conv block.
    pub stage2: ConvNormAct,
    /// Classifier.
    pub head: Linear,
    #[module(skip)]
    in_channels: usize,
    #[module(skip)]
    num_classes: usize,
    #[module(skip)]
    min_size: usize,
}

impl SmallCnn {
    /// Logits for a batch of images.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_tapped(x, &mut Taps::none())
    }

    /// Logits, offering every intermediate value to `taps`.
    pub fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2> {
        let x = self.stem.forward_tapped(x, &mut taps.child("stem"));
        let x = self.pool.forward_tapped(x, &mut taps.child("pool"));
        let x = self.stage2.forward_tapped(x, &mut taps.child("stage2"));
        let features = taps.float("features", x.mean_dim(3).mean_dim(2).flatten(1, 3));
        taps.tap("logits", SiteKind::Logits, self.head.forward(features))
    }

    /// Checks the input shape, then runs [`SmallCnn::forward`].
    pub fn try_forward(&self, x: Tensor<4>) -> Result<Tensor<2>> {
        self.check_input(&x.dims())?;
        Ok(self.forward(x))
    }

    /// Checks that `shape` is `[N, C_in, H >= 2, W >= 2]`.
    pub fn check_input(&self, shape: &[usize]) -> Result<()> {
        check_image_batch(
            "SmallCnn input",
            shape,
            self.in_channels,
            [self.min_size; 2],
        )
    }

    /// The mapping from the PyTorch reference's `state_dict` keys to this model's paths.
    pub fn pytorch_keys() -> KeyMap {
        KeyMap::new()
            .rename(r"^conv1\.", "stem.conv.")
            .rename(r"^bn1\.", "stem.norm.")
            .rename(r"^conv2\.", "stage2.conv.")
            .rename(r"^bn2\.", "stage2.norm.")
            .rename(r"^fc\.", "head.")
            .ignore(r"num_batches_tracked$")
    }

    /// Loads the PyTorch reference's `state_dict` (safetensors) into this model.
    pub fn load_pytorch(self, path: impl AsRef<Path>) -> Result<(Self, WeightReport)> {
        load_pytorch_safetensors(self, path, &Self::pytorch_keys())
    }
}

impl ImageClassifier for SmallCnn {
    fn num_classes(&self) -> usize {
        self.num_classes
    }

    fn in_channels(&self) -> usize {
        self.in_channels
    }

    fn min_input_size(&self) -> [usize; 2] {
        [self.min_size; 2]
    }

    fn check_input(&self, shape: &[usize]) -> Result<()> {
        SmallCnn::check_input(self, shape)
    }

    fn logits_tapped(&self, images: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2> {
        self.forward_tapped(images, taps)
    }
}
