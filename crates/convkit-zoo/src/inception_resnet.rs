//! Inception-ResNet-v1 and -v2: one implementation, two widths.

use std::path::Path;

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Tensor};
use convkit_conv::{
    Activation, BatchNorm, BatchNormConfig, BranchOp, ConvNormAct, ConvNormActConfig, Dropout,
    DropoutConfig, INCEPTION_NORM_EPS, InceptionBlock, InceptionBlockConfig, InceptionBranch,
    InceptionBranchConfig, InceptionResidual, Linear, LinearConfig, Padding,
};
use convkit_core::check::Dim;
use convkit_core::weights::{WeightReport, load_pytorch_safetensors};
use convkit_core::{Error, ImageClassifier, InputSpec, KeyMap, Result, SiteKind, Tapped, Taps};
use serde::{Deserialize, Serialize};

use crate::classifier::{Entry, Parity, Registered};

/// Which Inception-ResNet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InceptionResNetVersion {
    /// Inception-ResNet-v1 as in facenet-pytorch's `InceptionResnetV1` (27.9 M parameters
    /// with its 8631-class VGGFace2 head): a stride-2 convolution ends the stem, 5 / 10 / 5
    /// residual blocks of widths 256 / 896 / 1792, and facenet's embedding head.
    V1,
    /// Inception-ResNet-v2 as in timm's `inception_resnet_v2` (55,843,464 parameters at 1000
    /// classes): `Mixed_5b` after the stem, 10 / 20 / 9 residual blocks of widths
    /// 320 / 1088 / 2080, a final 1×1 convolution to 1536 channels and a linear classifier.
    V2,
}

/// The widths and depths that tell v1 and v2 apart.
struct Layout {
    /// The stem's last operation (v1 `conv2d_4b`, v2 `maxpool_5a`).
    stem_reduce: BranchOp,
    /// Residual widths at 35×35, 17×17 and 8×8.
    widths: [usize; 3],
    /// Residual block counts at 35×35, 17×17 and 8×8 (the 8×8 count excludes the final
    /// no-ReLU `block8`).
    repeats: [usize; 3],
    /// Inception-ResNet-A branch widths `(b0, b1, b2)`.
    block_a: (usize, [usize; 2], [usize; 3]),
    /// Inception-ResNet-B branch widths `(b0, b1)`.
    block_b: (usize, [usize; 3]),
    /// Inception-ResNet-C branch widths `(b0, b1)`.
    block_c: (usize, [usize; 3]),
    /// Reduction-A `[k, l, m, n]` (paper Table 1).
    reduction_a: [usize; 4],
    /// Reduction-B branch widths.
    reduction_b: [usize; 4],
}

impl InceptionResNetVersion {
    fn layout(self) -> Layout {
        match self {
            InceptionResNetVersion::V1 => Layout {
                stem_reduce: BranchOp::conv_valid(256, 3, 2),
                widths: [256, 896, 1792],
                repeats: [5, 10, 5],
                block_a: (32, [32, 32], [32, 32, 32]),
                block_b: (128, [128, 128, 128]),
                block_c: (192, [192, 192, 192]),
                reduction_a: [192, 192, 256, 384],
                reduction_b: [384, 256, 256, 256],
            },
            InceptionResNetVersion::V2 => Layout {
                stem_reduce: BranchOp::MaxPool,
                widths: [320, 1088, 2080],
                repeats: [10, 20, 9],
                block_a: (32, [32, 32], [32, 48, 64]),
                block_b: (192, [128, 160, 192]),
                block_c: (192, [192, 224, 256]),
                reduction_a: [256, 256, 384, 384],
                reduction_b: [384, 288, 288, 320],
            },
        }
    }
}

/// Configuration of [`InceptionResNet`].
#[derive(Config, Debug)]
pub struct InceptionResNetConfig {
    /// v1 or v2.
    pub version: InceptionResNetVersion,
    /// Number of classes (facenet's VGGFace2 checkpoint has 8631, CASIA-WebFace 10575).
    #[config(default = 1000)]
    pub num_classes: usize,
    /// Input channels.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Dropout probability on the pooled features, applied only in training (timm
    /// `drop_rate`; facenet's `dropout_prob` defaults to 0.6 there).
    #[config(default = 0.0)]
    pub drop_rate: f64,
    /// v1 only: width of the embedding between the pooled features and the classifier
    /// (facenet's `last_linear` / `last_bn`, 512).
    #[config(default = 512)]
    pub embedding_size: usize,
}

impl InceptionResNetConfig {
    /// Creates the model (weights drawn from the calling thread's seeded stream).
    ///
    /// # Panics
    /// If the configuration is invalid; [`InceptionResNetConfig::try_init`] returns the error.
    pub fn init(&self, device: &Device) -> InceptionResNet {
        self.try_init(device)
            .unwrap_or_else(|e| panic!("invalid InceptionResNet configuration: {e}"))
    }

    /// Creates the model, or says why the configuration is invalid: positive classes,
    /// channels and embedding size, a dropout probability in `[0, 1)`.
    pub fn try_init(&self, device: &Device) -> Result<InceptionResNet> {
        if self.num_classes == 0 || self.in_channels == 0 || self.embedding_size == 0 {
            return Err(Error::invalid(
                "InceptionResNet config",
                "classes, input channels and the embedding size must be positive",
            ));
        }
        let layout = self.version.layout();
        let [w_a, w_b, w_c] = layout.widths;
        let repeat = |config: InceptionBlockConfig, n: usize| {
            (0..n)
                .map(|_| config.try_init(device))
                .collect::<Result<Vec<_>>>()
        };
        let stem =
            InceptionBranchConfig::inception_resnet_stem(self.in_channels, layout.stem_reduce)
                .try_init(device)?;
        let v2 = self.version == InceptionResNetVersion::V2;
        let mixed_5b = v2
            .then(|| InceptionBlockConfig::inception_resnet_v2_mixed_5b().try_init(device))
            .transpose()?;
        let (a0, a1, a2) = layout.block_a;
        let (b0, b1) = layout.block_b;
        let (c0, c1) = layout.block_c;
        let block8 = InceptionBlockConfig::inception_resnet_c(
            w_c,
            c0,
            c1,
            InceptionResidual {
                scale: 1.0,
                activation: Activation::Identity,
            },
        );
        let (features, conv2d_7b) = if v2 {
            let conv = ConvNormActConfig::new(w_c, InceptionResNet::V2_FEATURES)
                .with_kernel_size([1, 1])
                .with_padding(Padding::Valid)
                .with_norm_eps(INCEPTION_NORM_EPS)
                .try_init(device)?;
            (InceptionResNet::V2_FEATURES, Some(conv))
        } else {
            (w_c, None)
        };
        let embedding = (!v2)
            .then(|| {
                Ok::<_, Error>(EmbeddingHead {
                    linear: LinearConfig::new(features, self.embedding_size)
                        .with_bias(false)
                        .try_init(device)?,
                    norm: BatchNormConfig::new(self.embedding_size)
                        .with_epsilon(INCEPTION_NORM_EPS)
                        .try_init(device)?,
                })
            })
            .transpose()?;
        let classifier_in = if v2 { features } else { self.embedding_size };
        let mut model = InceptionResNet {
            stem,
            mixed_5b,
            repeat: repeat(
                InceptionBlockConfig::inception_resnet_a(
                    w_a,
                    a0,
                    a1,
                    a2,
                    InceptionResidual::relu(0.17),
                ),
                layout.repeats[0],
            )?,
            mixed_6a: InceptionBlockConfig::reduction_a(w_a, layout.reduction_a)
                .try_init(device)?,
            repeat_1: repeat(
                InceptionBlockConfig::inception_resnet_b(
                    w_b,
                    b0,
                    b1,
                    InceptionResidual::relu(0.10),
                ),
                layout.repeats[1],
            )?,
            mixed_7a: InceptionBlockConfig::inception_resnet_reduction_b(w_b, layout.reduction_b)
                .try_init(device)?,
            repeat_2: repeat(
                InceptionBlockConfig::inception_resnet_c(
                    w_c,
                    c0,
                    c1,
                    InceptionResidual::relu(0.20),
                ),
                layout.repeats[2],
            )?,
            block8: block8.try_init(device)?,
            conv2d_7b,
            dropout: DropoutConfig::new(self.drop_rate).try_init()?,
            embedding,
            classifier: LinearConfig::new(classifier_in, self.num_classes).try_init(device)?,
            version: self.version,
            in_channels: self.in_channels,
            num_classes: self.num_classes,
            num_features: features,
            min_size: [1, 1],
        };
        let after_stem = model
            .named_blocks()
            .iter()
            .rev()
            .fold([1, 1], |size, (_, block)| block.min_input_size(size));
        model.min_size = model.stem.min_input_size(after_stem);
        Ok(model)
    }
}

/// facenet-pytorch's Inception-ResNet-v1 head between the pooled features and the classifier:
/// `last_bn(last_linear(x))`, a linear map without bias and a batch norm (ε 1e-3).
///
/// Tap sites: `linear.*` (see [`Linear`]), `norm.out` and `out`.
///
/// # Shapes
/// - input `[N, features]`, output `[N, embedding_size]`
#[derive(Module, Debug)]
pub struct EmbeddingHead {
    /// Pooled features → embedding, no bias (facenet `last_linear`).
    pub linear: Linear,
    /// Batch norm of the embedding (facenet `last_bn`, `BatchNorm1d`).
    pub norm: BatchNorm,
}

impl Tapped<Tensor<2>> for EmbeddingHead {
    type Output = Tensor<2>;

    fn forward_tapped(&self, x: Tensor<2>, taps: &mut Taps<'_>) -> Tensor<2> {
        let x = self.linear.forward_tapped(x, &mut taps.child("linear"));
        let x = self.norm.forward_tapped(x, &mut taps.child("norm"));
        taps.float("out", x)
    }

    /// `[N, features]`.
    fn input_spec(&self) -> InputSpec {
        InputSpec::new(
            "EmbeddingHead input",
            vec![Dim::Any, Dim::Exact(self.linear.d_input())],
        )
    }
}

/// Inception-ResNet-v1 and -v2, "Inception-v4, Inception-ResNet and the Impact of Residual
/// Connections on Learning" (Szegedy, Ioffe, Vanhoucke & Alemi, AAAI 2017), Figs. 7, 10-19.
///
/// Both share one structure: stem → (v2: `Mixed_5b`) → Inception-ResNet-A ×(5 | 10) →
/// Reduction-A → Inception-ResNet-B ×(10 | 20) → Reduction-B → Inception-ResNet-C ×(5 | 9) →
/// a last C block with scale 1 and no ReLU → (v2: 1×1 conv to 1536) → global average pool →
/// dropout → head. Residual scales 0.17 / 0.10 / 0.20; batch norm ε 1e-3; average pools
/// exclude the padding.
///
/// - [`InceptionResNetVersion::V2`] is layer for layer timm 1.0's `inception_resnet_v2`
///   (`timm.models.inception_resnet_v2.InceptionResnetV2`, 55,843,464 parameters at 1000
///   classes); its head is a linear classifier (timm `classif`). Weights:
///   [`InceptionResNet::load_timm`].
/// - [`InceptionResNetVersion::V1`] is facenet-pytorch's `InceptionResnetV1(classify=True)`
///   (timm has no v1). Its head is facenet's: `embedding` (`last_linear` 1792 → 512 without
///   bias, `last_bn`) then the classifier (`logits`, 512 → classes). facenet's L2-normalised
///   face embedding (its `classify=False` output) is the tap site `embedding.out` normalised.
///   Weights: [`InceptionResNet::load_facenet`].
///
/// The field and tap names are timm's v2 names for both versions (facenet's `repeat_1`,
/// `repeat_2`, `repeat_3` are `repeat`, `repeat_1`, `repeat_2` here); the stem's layers
/// (timm `conv2d_1a`, `conv2d_2a`, `conv2d_2b`, `maxpool_3a`, `conv2d_3b`, `conv2d_4a`, then
/// v2 `maxpool_5a` / v1 `conv2d_4b`) are `stem.layers.0`-`6`.
///
/// Tap sites: every block under its name (`stem.*`, `mixed_5b.*`, `repeat.3.*`, `mixed_6a.*`,
/// `repeat_1.*`, `mixed_7a.*`, `repeat_2.*`, `block8.*`, `conv2d_7b.*`), `pooled`
/// (`[N, C]`), v1's `embedding.*` (see [`EmbeddingHead`]; `embedding.out` is `[N, 512]`),
/// `classifier.weight`, `classifier.out` and `logits`.
///
/// # Shapes
/// - input `[N, C_in, H, W]`, `H, W >= 75` (299 in the paper; facenet uses 160)
/// - [`InceptionResNet::forward_features`]: `[N, C, H', W']`, `C` = 1536 (v2) or 1792 (v1),
///   8×8 at 299
/// - output logits `[N, num_classes]`
#[derive(Module, Debug)]
pub struct InceptionResNet {
    /// The stem, 7 layers (timm `conv2d_1a` ... `maxpool_5a`; facenet ... `conv2d_4b`).
    pub stem: InceptionBranch,
    /// v2 only: the 35×35 mixed block before the residual blocks.
    pub mixed_5b: Option<InceptionBlock>,
    /// Inception-ResNet-A blocks (timm `repeat`, facenet `repeat_1`).
    pub repeat: Vec<InceptionBlock>,
    /// Reduction-A.
    pub mixed_6a: InceptionBlock,
    /// Inception-ResNet-B blocks (timm `repeat_1`, facenet `repeat_2`).
    pub repeat_1: Vec<InceptionBlock>,
    /// Reduction-B.
    pub mixed_7a: InceptionBlock,
    /// Inception-ResNet-C blocks (timm `repeat_2`, facenet `repeat_3`).
    pub repeat_2: Vec<InceptionBlock>,
    /// The last Inception-ResNet-C block: scale 1, no ReLU.
    pub block8: InceptionBlock,
    /// v2 only: 1×1 convolution to 1536 channels.
    pub conv2d_7b: Option<ConvNormAct>,
    /// Dropout on the pooled features (training only).
    pub dropout: Dropout,
    /// v1 only: facenet's embedding layers.
    pub embedding: Option<EmbeddingHead>,
    /// The classifier (timm `classif`, facenet `logits`).
    pub classifier: Linear,
    #[module(skip)]
    version: InceptionResNetVersion,
    #[module(skip)]
    in_channels: usize,
    #[module(skip)]
    num_classes: usize,
    #[module(skip)]
    num_features: usize,
    #[module(skip)]
    min_size: [usize; 2],
}

impl InceptionResNet {
    /// Channels of v2's last feature map.
    pub const V2_FEATURES: usize = 1536;

    /// The blocks between the stem and `conv2d_7b`, in order, with their tap names.
    fn named_blocks(&self) -> Vec<(String, &InceptionBlock)> {
        fn numbered<'a>(
            name: &'static str,
            blocks: &'a [InceptionBlock],
        ) -> impl Iterator<Item = (String, &'a InceptionBlock)> {
            blocks
                .iter()
                .enumerate()
                .map(move |(i, b)| (format!("{name}.{i}"), b))
        }
        let mut blocks = Vec::new();
        if let Some(block) = &self.mixed_5b {
            blocks.push(("mixed_5b".to_string(), block));
        }
        blocks.extend(numbered("repeat", &self.repeat));
        blocks.push(("mixed_6a".to_string(), &self.mixed_6a));
        blocks.extend(numbered("repeat_1", &self.repeat_1));
        blocks.push(("mixed_7a".to_string(), &self.mixed_7a));
        blocks.extend(numbered("repeat_2", &self.repeat_2));
        blocks.push(("block8".to_string(), &self.block8));
        blocks
    }

    /// Which version this is.
    pub fn version(&self) -> InceptionResNetVersion {
        self.version
    }

    /// Channels of the last feature map: 1536 (v2) or 1792 (v1).
    pub fn num_features(&self) -> usize {
        self.num_features
    }

    /// The last feature map, `[N, C, H', W']` (timm `forward_features`: the output of
    /// `conv2d_7b` for v2, of `block8` for v1).
    pub fn forward_features(&self, x: Tensor<4>) -> Tensor<4> {
        self.features_tapped(x, &mut Taps::none())
    }

    fn features_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let x = self.stem.forward_tapped(x, &mut taps.child("stem"));
        let x = self.named_blocks().into_iter().fold(x, |x, (name, block)| {
            block.forward_tapped(x, &mut taps.child(&name))
        });
        match &self.conv2d_7b {
            Some(conv) => conv.forward_tapped(x, &mut taps.child("conv2d_7b")),
            None => x,
        }
    }

    /// Logits from the last feature map: global average pool, dropout (training only), v1's
    /// embedding, classifier (timm `forward_head`).
    pub fn forward_head(&self, features: Tensor<4>) -> Tensor<2> {
        self.head_tapped(features, &mut Taps::none())
    }

    fn head_tapped(&self, features: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2> {
        let pooled = taps.float("pooled", features.mean_dim(3).mean_dim(2).flatten(1, 3));
        let x = self
            .dropout
            .forward_tapped(pooled, &mut taps.child("dropout"));
        let x = match &self.embedding {
            Some(head) => head.forward_tapped(x, &mut taps.child("embedding")),
            None => x,
        };
        let logits = self
            .classifier
            .forward_tapped(x, &mut taps.child("classifier"));
        taps.tap("logits", SiteKind::Logits, logits)
    }

    /// The renames shared by timm and facenet: the stem's common layers and the blocks.
    fn stem_and_block_keys() -> KeyMap {
        // Layer 3 of the stem is `maxpool_3a`, which has no parameters.
        let stem = [
            (0, "conv2d_1a"),
            (1, "conv2d_2a"),
            (2, "conv2d_2b"),
            (4, "conv2d_3b"),
            (5, "conv2d_4a"),
        ];
        let keys = stem.iter().fold(KeyMap::new(), |keys, (i, name)| {
            keys.rename(format!(r"^{name}\."), format!("stem.layers.{i}."))
        });
        InceptionBlock::timm_keys(keys).ignore(r"num_batches_tracked$")
    }

    /// The mapping from timm `inception_resnet_v2` `state_dict` keys to this model's paths
    /// (v2).
    pub fn timm_keys() -> KeyMap {
        Self::stem_and_block_keys().rename(r"^classif\.", "classifier.")
    }

    /// The mapping from facenet-pytorch `InceptionResnetV1` `state_dict` keys to this
    /// model's paths (v1): `conv2d_4b` is the stem's last layer, `repeat_1/2/3` become
    /// `repeat`, `repeat_1`, `repeat_2`, `last_linear` / `last_bn` the `embedding`, `logits`
    /// the `classifier`.
    pub fn facenet_keys() -> KeyMap {
        Self::stem_and_block_keys()
            .rename(r"^conv2d_4b\.", "stem.layers.6.")
            // In this order: each rule sees the output of the previous ones.
            .rename(r"^repeat_1\.", "repeat.")
            .rename(r"^repeat_2\.", "repeat_1.")
            .rename(r"^repeat_3\.", "repeat_2.")
            .rename(r"^last_linear\.", "embedding.linear.")
            .rename(r"^last_bn\.", "embedding.norm.")
            .rename(r"^logits\.", "classifier.")
    }

    /// Loads a timm `inception_resnet_v2` `state_dict` saved as safetensors into a v2 model.
    pub fn load_timm(self, path: impl AsRef<Path>) -> Result<(Self, WeightReport)> {
        load_pytorch_safetensors(self, path, &Self::timm_keys())
    }

    /// Loads a facenet-pytorch `InceptionResnetV1(classify=True, num_classes=...)`
    /// `state_dict` saved as safetensors into a v1 model with the same `num_classes` (8631
    /// for the VGGFace2 checkpoint).
    pub fn load_facenet(self, path: impl AsRef<Path>) -> Result<(Self, WeightReport)> {
        load_pytorch_safetensors(self, path, &Self::facenet_keys())
    }
}

impl Tapped<Tensor<4>> for InceptionResNet {
    type Output = Tensor<2>;

    /// Logits, offering every intermediate value to `taps`.
    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2> {
        let features = self.features_tapped(x, taps);
        self.head_tapped(features, taps)
    }

    /// `[N, C_in, H >= 75, W >= 75]` for both versions: five stride-2 3×3 stages without
    /// padding and two 3×3 valid convolutions must leave one position (timm fails at 74).
    fn input_spec(&self) -> InputSpec {
        InputSpec::image("InceptionResNet input", self.in_channels, self.min_size)
    }
}

impl ImageClassifier for InceptionResNet {
    fn num_classes(&self) -> usize {
        self.num_classes
    }
}

impl Registered for InceptionResNetConfig {
    type Model = InceptionResNet;

    fn entries() -> Vec<Entry<Self>> {
        fn config(
            version: InceptionResNetVersion,
            channels: usize,
            classes: usize,
        ) -> InceptionResNetConfig {
            InceptionResNetConfig::new(version)
                .with_num_classes(classes)
                .with_in_channels(channels)
        }
        vec![
            Entry {
                name: "inception-resnet-v1",
                description: "Inception-ResNet-v1 (Szegedy et al. 2017), facenet-pytorch layout \
                              with a 512-d embedding",
                config: |c, k| config(InceptionResNetVersion::V1, c, k),
                parity: Parity {
                    fixture: "inception_resnet_v1.safetensors",
                    test: "inception.rs",
                },
            },
            Entry {
                name: "inception-resnet-v2",
                description: "Inception-ResNet-v2 (Szegedy et al. 2017), timm layout",
                config: |c, k| config(InceptionResNetVersion::V2, c, k),
                parity: Parity {
                    fixture: "inception_resnet_v2.safetensors",
                    test: "inception.rs",
                },
            },
        ]
    }

    fn name(&self) -> &'static str {
        match self.version {
            InceptionResNetVersion::V1 => "inception-resnet-v1",
            InceptionResNetVersion::V2 => "inception-resnet-v2",
        }
    }

    fn try_init(&self, device: &Device) -> Result<InceptionResNet> {
        InceptionResNetConfig::try_init(self, device)
    }
}
