//! The zoo's image classifiers by name: one config type and one module type that hold any of
//! them, so a command line, a checkpoint or a sweep can choose the model at run time.

use std::fmt;
use std::str::FromStr;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use convkit_core::{Error, ImageClassifier, Result, Taps};
use serde::{Deserialize, Serialize};

use crate::{
    InceptionResNet, InceptionResNetConfig, InceptionResNetVersion, InceptionV4, InceptionV4Config,
    SeCnn, SeCnnConfig, SmallCnn, SmallCnnConfig,
};

/// The name of a classification model of the zoo (`small-cnn`, `se-cnn`, `inception-v4`,
/// `inception-resnet-v1`, `inception-resnet-v2`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClassifierKind {
    /// [`SmallCnn`]: two conv blocks, global pooling, linear.
    SmallCnn,
    /// [`SeCnn`]: three conv + channel squeeze-excitation stages, global pooling, linear.
    SeCnn,
    /// [`InceptionV4`] (timm layout).
    InceptionV4,
    /// [`InceptionResNet`] v1 (facenet-pytorch layout, with its embedding head).
    InceptionResnetV1,
    /// [`InceptionResNet`] v2 (timm layout).
    InceptionResnetV2,
}

impl ClassifierKind {
    /// Every classifier, in the order they are listed.
    pub const ALL: [ClassifierKind; 5] = [
        ClassifierKind::SmallCnn,
        ClassifierKind::SeCnn,
        ClassifierKind::InceptionV4,
        ClassifierKind::InceptionResnetV1,
        ClassifierKind::InceptionResnetV2,
    ];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            ClassifierKind::SmallCnn => "small-cnn",
            ClassifierKind::SeCnn => "se-cnn",
            ClassifierKind::InceptionV4 => "inception-v4",
            ClassifierKind::InceptionResnetV1 => "inception-resnet-v1",
            ClassifierKind::InceptionResnetV2 => "inception-resnet-v2",
        }
    }

    /// One line on what the model is.
    pub fn description(self) -> &'static str {
        match self {
            ClassifierKind::SmallCnn => {
                "conv5x5-BN-ReLU (16) -> max-pool 2 -> conv5x5-BN-ReLU (32) -> global average pool -> linear"
            }
            ClassifierKind::SeCnn => {
                "3 stages of conv3x3-BN-ReLU + channel squeeze-excitation (16/32/64, stride 1/2/2) -> global average pool -> linear"
            }
            ClassifierKind::InceptionV4 => "Inception-v4 (Szegedy et al. 2017), timm layout",
            ClassifierKind::InceptionResnetV1 => {
                "Inception-ResNet-v1 (Szegedy et al. 2017), facenet-pytorch layout with a 512-d embedding"
            }
            ClassifierKind::InceptionResnetV2 => {
                "Inception-ResNet-v2 (Szegedy et al. 2017), timm layout"
            }
        }
    }

    /// The default configuration for `in_channels`-channel images and `num_classes` classes.
    ///
    /// `small-cnn` uses 5×5 kernels (receptive field 13 px) rather than [`SmallCnnConfig`]'s
    /// 3×3 (8 px): with global pooling after two blocks, 3×3 kernels see too little of a
    /// 28×28 digit (MNIST-5k: 86–88% against 96% with 5×5; PyTorch gives the same 3×3
    /// plateau).
    pub fn config(self, in_channels: usize, num_classes: usize) -> ClassifierConfig {
        match self {
            ClassifierKind::SmallCnn => ClassifierConfig::SmallCnn(
                SmallCnnConfig::new(num_classes)
                    .with_in_channels(in_channels)
                    .with_kernel_size(5),
            ),
            ClassifierKind::SeCnn => {
                ClassifierConfig::SeCnn(SeCnnConfig::new(num_classes).with_in_channels(in_channels))
            }
            ClassifierKind::InceptionV4 => ClassifierConfig::InceptionV4(
                InceptionV4Config::new()
                    .with_num_classes(num_classes)
                    .with_in_channels(in_channels),
            ),
            ClassifierKind::InceptionResnetV1 | ClassifierKind::InceptionResnetV2 => {
                let version = if self == ClassifierKind::InceptionResnetV1 {
                    InceptionResNetVersion::V1
                } else {
                    InceptionResNetVersion::V2
                };
                ClassifierConfig::InceptionResNet(
                    InceptionResNetConfig::new(version)
                        .with_num_classes(num_classes)
                        .with_in_channels(in_channels),
                )
            }
        }
    }
}

impl fmt::Display for ClassifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ClassifierKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        ClassifierKind::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                let names: Vec<_> = ClassifierKind::ALL.iter().map(|k| k.name()).collect();
                Error::invalid(
                    "model",
                    format!("unknown model `{s}`; expected one of {}", names.join(", ")),
                )
            })
    }
}

/// The configuration of any zoo classifier (serialized with the variant name as the key).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum ClassifierConfig {
    /// [`SmallCnn`].
    SmallCnn(SmallCnnConfig),
    /// [`SeCnn`].
    SeCnn(SeCnnConfig),
    /// [`InceptionV4`].
    InceptionV4(InceptionV4Config),
    /// [`InceptionResNet`] v1 or v2.
    InceptionResNet(InceptionResNetConfig),
}

impl ClassifierConfig {
    /// Which model this configures.
    pub fn kind(&self) -> ClassifierKind {
        match self {
            ClassifierConfig::SmallCnn(_) => ClassifierKind::SmallCnn,
            ClassifierConfig::SeCnn(_) => ClassifierKind::SeCnn,
            ClassifierConfig::InceptionV4(_) => ClassifierKind::InceptionV4,
            ClassifierConfig::InceptionResNet(c) => match c.version {
                InceptionResNetVersion::V1 => ClassifierKind::InceptionResnetV1,
                InceptionResNetVersion::V2 => ClassifierKind::InceptionResnetV2,
            },
        }
    }

    /// Creates the model, or says why the configuration is invalid.
    pub fn try_init(&self, device: &Device) -> Result<Classifier> {
        let positive = |what: &str, n: usize| {
            if n == 0 {
                Err(Error::invalid(
                    "classifier config",
                    format!("{what} must be positive"),
                ))
            } else {
                Ok(())
            }
        };
        Ok(match self {
            ClassifierConfig::SmallCnn(c) => {
                positive("classes", c.num_classes)?;
                positive("input channels", c.in_channels)?;
                positive("width", c.width)?;
                Classifier::SmallCnn(c.init(device))
            }
            ClassifierConfig::SeCnn(c) => Classifier::SeCnn(c.try_init(device)?),
            ClassifierConfig::InceptionV4(c) => {
                positive("classes", c.num_classes)?;
                positive("input channels", c.in_channels)?;
                Classifier::InceptionV4(c.init(device))
            }
            ClassifierConfig::InceptionResNet(c) => {
                positive("classes", c.num_classes)?;
                positive("input channels", c.in_channels)?;
                Classifier::InceptionResNet(c.init(device))
            }
        })
    }
}

/// Any zoo classifier, chosen at run time; an [`ImageClassifier`] that delegates to the model
/// it holds. Its parameters have the same paths as the held model's (enum variants are not
/// part of burn's parameter paths in convkit's stores).
// One value per program, moved rarely: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum Classifier {
    /// [`SmallCnn`].
    SmallCnn(SmallCnn),
    /// [`SeCnn`].
    SeCnn(SeCnn),
    /// [`InceptionV4`].
    InceptionV4(InceptionV4),
    /// [`InceptionResNet`].
    InceptionResNet(InceptionResNet),
}

impl Classifier {
    fn inner(&self) -> &dyn ClassifierShape {
        match self {
            Classifier::SmallCnn(m) => m,
            Classifier::SeCnn(m) => m,
            Classifier::InceptionV4(m) => m,
            Classifier::InceptionResNet(m) => m,
        }
    }
}

/// The object-safe part of [`ImageClassifier`] that [`Classifier`] delegates through.
trait ClassifierShape {
    fn classes(&self) -> usize;
    fn channels(&self) -> usize;
    fn min_size(&self) -> [usize; 2];
    fn check(&self, shape: &[usize]) -> Result<()>;
    fn logits_with(&self, images: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2>;
}

impl<M: ImageClassifier> ClassifierShape for M {
    fn classes(&self) -> usize {
        self.num_classes()
    }
    fn channels(&self) -> usize {
        self.in_channels()
    }
    fn min_size(&self) -> [usize; 2] {
        self.min_input_size()
    }
    fn check(&self, shape: &[usize]) -> Result<()> {
        self.check_input(shape)
    }
    fn logits_with(&self, images: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2> {
        self.logits_tapped(images, taps)
    }
}

impl ImageClassifier for Classifier {
    fn num_classes(&self) -> usize {
        self.inner().classes()
    }

    fn in_channels(&self) -> usize {
        self.inner().channels()
    }

    fn min_input_size(&self) -> [usize; 2] {
        self.inner().min_size()
    }

    fn check_input(&self, shape: &[usize]) -> Result<()> {
        self.inner().check(shape)
    }

    fn logits_tapped(&self, images: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2> {
        self.inner().logits_with(images, taps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_choices() {
        for kind in ClassifierKind::ALL {
            assert_eq!(kind.name().parse::<ClassifierKind>().unwrap(), kind);
            assert_eq!(kind.config(3, 10).kind(), kind);
        }
        let err = "resnet".parse::<ClassifierKind>().unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid model: unknown model `resnet`; expected one of small-cnn, se-cnn, \
             inception-v4, inception-resnet-v1, inception-resnet-v2"
        );
    }

    #[test]
    fn the_held_model_answers_and_configs_survive_json() {
        let device = Device::default();
        for kind in [ClassifierKind::SmallCnn, ClassifierKind::SeCnn] {
            let config = kind.config(2, 5);
            let json = serde_json::to_string(&config).unwrap();
            let back: ClassifierConfig = serde_json::from_str(&json).unwrap();
            assert_eq!(back.kind(), kind);
            let model = back.try_init(&device).unwrap();
            assert_eq!(model.num_classes(), 5);
            assert_eq!(model.in_channels(), 2);
            let x = convkit_core::random::tensor([3, 2, 8, 8], Distribution::Default, &device);
            assert_eq!(model.try_logits(x).unwrap().dims(), [3, 5]);
            let wrong = Tensor::<4>::zeros([1, 3, 8, 8], &device);
            assert!(model.try_logits(wrong).is_err());
        }
        let bad = ClassifierKind::SmallCnn.config(1, 0);
        assert!(bad.try_init(&device).is_err());
    }
}
