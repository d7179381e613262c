//! Inception-v4, with the exact layer structure of timm's `inception_v4`.

use std::path::Path;

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use convkit_conv::{
    Dropout, DropoutConfig, InceptionBlock, InceptionBlockConfig, InceptionBranch,
    InceptionBranchConfig, Linear, LinearConfig,
};
use convkit_core::weights::{WeightReport, load_pytorch_safetensors};

use crate::classifier::{Entry, Parity, Registered};
use convkit_core::{Error, ImageClassifier, InputSpec, KeyMap, Result, SiteKind, Tapped, Taps};

/// Configuration of [`InceptionV4`] (timm `inception_v4` arguments of the same names).
#[derive(Config, Debug)]
pub struct InceptionV4Config {
    /// Number of classes.
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Input channels.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Dropout probability before the classifier, applied only in training (timm
    /// `drop_rate`).
    #[config(default = 0.0)]
    pub drop_rate: f64,
}

impl InceptionV4Config {
    /// Creates the model (weights drawn from the calling thread's seeded stream).
    ///
    /// # Panics
    /// If the configuration is invalid; [`InceptionV4Config::try_init`] returns the error.
    pub fn init(&self, device: &Device) -> InceptionV4 {
        self.try_init(device)
            .unwrap_or_else(|e| panic!("invalid InceptionV4 configuration: {e}"))
    }

    /// Creates the model, or says why the configuration is invalid: positive classes and
    /// channels, a dropout probability in `[0, 1)`.
    pub fn try_init(&self, device: &Device) -> Result<InceptionV4> {
        if self.num_classes == 0 || self.in_channels == 0 {
            return Err(Error::invalid(
                "InceptionV4 config",
                "classes and input channels must be positive",
            ));
        }
        let repeat = |config: InceptionBlockConfig, n: usize| {
            (0..n)
                .map(|_| config.try_init(device))
                .collect::<Result<Vec<_>>>()
        };
        let [a, b, c] = InceptionV4::REPEATS;
        let mut model = InceptionV4 {
            stem: InceptionBranchConfig::inception_v4_stem(self.in_channels).try_init(device)?,
            mixed_3a: InceptionBlockConfig::inception_v4_mixed_3a().try_init(device)?,
            mixed_4a: InceptionBlockConfig::inception_v4_mixed_4a().try_init(device)?,
            mixed_5a: InceptionBlockConfig::inception_v4_mixed_5a().try_init(device)?,
            inception_a: repeat(InceptionBlockConfig::inception_v4_a(), a)?,
            reduction_a: InceptionBlockConfig::reduction_a(384, [192, 224, 256, 384])
                .try_init(device)?,
            inception_b: repeat(InceptionBlockConfig::inception_v4_b(), b)?,
            reduction_b: InceptionBlockConfig::inception_v4_reduction_b().try_init(device)?,
            inception_c: repeat(InceptionBlockConfig::inception_v4_c(), c)?,
            dropout: DropoutConfig::new(self.drop_rate).try_init()?,
            classifier: LinearConfig::new(InceptionV4::NUM_FEATURES, self.num_classes)
                .try_init(device)?,
            in_channels: self.in_channels,
            num_classes: self.num_classes,
            min_size: [1, 1],
        };
        let after_stem = model
            .blocks()
            .iter()
            .rev()
            .fold([1, 1], |size, block| block.min_input_size(size));
        model.min_size = model.stem.min_input_size(after_stem);
        Ok(model)
    }
}

/// Inception-v4, "Inception-v4, Inception-ResNet and the Impact of Residual Connections on
/// Learning" (Szegedy, Ioffe, Vanhoucke & Alemi, AAAI 2017), Figs. 3-9.
///
/// Layer for layer timm 1.0's `inception_v4` (`timm.models.inception_v4.InceptionV4`):
/// 42,679,816 parameters at 1000 classes; batch norm ε 1e-3; average pools exclude the
/// padding. stem (3 convs) → `Mixed3a` → `Mixed4a` → `Mixed5a` → 4 × Inception-A →
/// Reduction-A → 7 × Inception-B → Reduction-B → 3 × Inception-C → global average pool →
/// dropout → linear. timm's `features.i` are, in order: `stem.layers.0`-`2`, `mixed_3a`,
/// `mixed_4a`, `mixed_5a`, `inception_a.0`-`3`, `reduction_a`, `inception_b.0`-`6`,
/// `reduction_b`, `inception_c.0`-`2`; `last_linear` is `classifier` (see
/// [`InceptionV4::timm_keys`]).
///
/// Tap sites: every block under its name (`stem.*`, `mixed_3a.*`, `inception_a.2.*`, ...,
/// see [`InceptionBlock`]), `pooled` (`[N, 1536]`), `classifier.weight`, `classifier.out`
/// and `logits`.
///
/// # Shapes
/// - input `[N, C_in, H, W]`, `H, W >= 75` (299 in the paper)
/// - [`InceptionV4::forward_features`]: `[N, 1536, H', W']` (8×8 at 299)
/// - output logits `[N, num_classes]`
#[derive(Module, Debug)]
pub struct InceptionV4 {
    /// 3×3/2 → 32, 3×3 → 32, 3×3 → 64 (timm `features.0`-`2`).
    pub stem: InceptionBranch,
    /// Max pool ‖ 3×3/2 conv (timm `features.3`).
    pub mixed_3a: InceptionBlock,
    /// Two convolution branches (timm `features.4`).
    pub mixed_4a: InceptionBlock,
    /// 3×3/2 conv ‖ max pool (timm `features.5`).
    pub mixed_5a: InceptionBlock,
    /// 4 × Inception-A, 35×35 (timm `features.6`-`9`).
    pub inception_a: Vec<InceptionBlock>,
    /// Reduction-A, 35×35 → 17×17 (timm `features.10`).
    pub reduction_a: InceptionBlock,
    /// 7 × Inception-B, 17×17 (timm `features.11`-`17`).
    pub inception_b: Vec<InceptionBlock>,
    /// Reduction-B, 17×17 → 8×8 (timm `features.18`).
    pub reduction_b: InceptionBlock,
    /// 3 × Inception-C, 8×8 (timm `features.19`-`21`).
    pub inception_c: Vec<InceptionBlock>,
    /// Dropout on the pooled features (training only).
    pub dropout: Dropout,
    /// The classifier (timm `last_linear`).
    pub classifier: Linear,
    #[module(skip)]
    in_channels: usize,
    #[module(skip)]
    num_classes: usize,
    #[module(skip)]
    min_size: [usize; 2],
}

impl InceptionV4 {
    /// Channels of the last feature map.
    pub const NUM_FEATURES: usize = 1536;

    /// Inception-A, -B and -C block counts.
    const REPEATS: [usize; 3] = [4, 7, 3];

    /// Tap names of the blocks after the stem, in order (timm `features.3` onwards).
    fn block_names() -> Vec<String> {
        let [a, b, c] = Self::REPEATS;
        let repeated = |name: &'static str, n: usize| (0..n).map(move |i| format!("{name}.{i}"));
        ["mixed_3a", "mixed_4a", "mixed_5a"]
            .map(String::from)
            .into_iter()
            .chain(repeated("inception_a", a))
            .chain(["reduction_a".to_string()])
            .chain(repeated("inception_b", b))
            .chain(["reduction_b".to_string()])
            .chain(repeated("inception_c", c))
            .collect()
    }

    /// The blocks after the stem, in the order of [`InceptionV4::block_names`].
    fn blocks(&self) -> Vec<&InceptionBlock> {
        [&self.mixed_3a, &self.mixed_4a, &self.mixed_5a]
            .into_iter()
            .chain(&self.inception_a)
            .chain([&self.reduction_a])
            .chain(&self.inception_b)
            .chain([&self.reduction_b])
            .chain(&self.inception_c)
            .collect()
    }

    /// The last feature map, `[N, 1536, H', W']` (timm `forward_features`).
    pub fn forward_features(&self, x: Tensor<4>) -> Tensor<4> {
        self.features_tapped(x, &mut Taps::none())
    }

    fn features_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let x = self.stem.forward_tapped(x, &mut taps.child("stem"));
        Self::block_names()
            .iter()
            .zip(self.blocks())
            .fold(x, |x, (name, block)| {
                block.forward_tapped(x, &mut taps.child(name))
            })
    }

    /// Logits from the last feature map: global average pool, dropout (training only),
    /// classifier (timm `forward_head`).
    pub fn forward_head(&self, features: Tensor<4>) -> Tensor<2> {
        self.head_tapped(features, &mut Taps::none())
    }

    fn head_tapped(&self, features: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2> {
        let pooled = taps.float("pooled", features.mean_dim(3).mean_dim(2).flatten(1, 3));
        let dropped = self
            .dropout
            .forward_tapped(pooled, &mut taps.child("dropout"));
        let logits = self
            .classifier
            .forward_tapped(dropped, &mut taps.child("classifier"));
        taps.tap("logits", SiteKind::Logits, logits)
    }

    /// The mapping from timm `inception_v4` `state_dict` keys to this model's paths.
    pub fn timm_keys() -> KeyMap {
        let keys = KeyMap::new()
            // The single convolutions of Mixed3a and Mixed5a are not in a `branchN`.
            .rename(r"^features\.3\.conv\.", "mixed_3a.branch1.")
            .rename(r"^features\.5\.conv\.", "mixed_5a.branch0.")
            .rename(r"^features\.([0-2])\.", "stem.layers.$1.");
        let keys = Self::block_names()
            .iter()
            .enumerate()
            .fold(keys, |keys, (i, name)| {
                keys.rename(format!(r"^features\.{}\.", i + 3), format!("{name}."))
            });
        InceptionBlock::timm_keys(keys)
            .rename(r"^last_linear\.", "classifier.")
            .ignore(r"num_batches_tracked$")
    }

    /// Loads a timm `inception_v4` `state_dict` saved as safetensors (for example with
    /// `safetensors.torch.save_file(model.state_dict(), path)`).
    pub fn load_timm(self, path: impl AsRef<Path>) -> Result<(Self, WeightReport)> {
        load_pytorch_safetensors(self, path, &Self::timm_keys())
    }
}

impl Tapped<Tensor<4>> for InceptionV4 {
    type Output = Tensor<2>;

    /// Logits, offering every intermediate value to `taps`.
    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2> {
        let features = self.features_tapped(x, taps);
        self.head_tapped(features, taps)
    }

    /// `[N, C_in, H >= 75, W >= 75]`: five stride-2 3×3 stages without padding and two 3×3
    /// valid convolutions must leave one position (timm fails at 74).
    fn input_spec(&self) -> InputSpec {
        InputSpec::image("InceptionV4 input", self.in_channels, self.min_size)
    }
}

impl ImageClassifier for InceptionV4 {
    fn num_classes(&self) -> usize {
        self.num_classes
    }
}

impl Registered for InceptionV4Config {
    type Model = InceptionV4;

    fn entries() -> Vec<Entry<Self>> {
        vec![Entry {
            name: "inception-v4",
            description: "Inception-v4 (Szegedy et al. 2017), timm layout",
            config: |in_channels, num_classes| {
                InceptionV4Config::new()
                    .with_num_classes(num_classes)
                    .with_in_channels(in_channels)
            },
            parity: Parity {
                fixture: "inception_v4.safetensors",
                test: "inception.rs",
            },
        }]
    }

    fn name(&self) -> &'static str {
        "inception-v4"
    }

    fn try_init(&self, device: &Device) -> Result<InceptionV4> {
        InceptionV4Config::try_init(self, device)
    }
}
