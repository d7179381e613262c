//! The zoo's image classifiers by name: one registry, one config type and one module type
//! that hold any of them, so a command line, a checkpoint or a sweep can choose the model at
//! run time.
//!
//! # Adding a classifier
//! 1. A file with `XConfig` (serde, `#[derive(Config)]`) and `X` (`#[derive(Module)]`,
//!    [`Tapped`] and [`ImageClassifier`]), and `impl Registered for XConfig`: its names,
//!    descriptions, default configuration for the data, and where its parity is tested.
//! 2. One line in the `registry!` invocation below.
//!
//! `tests/suite/registry.rs` then runs the generic smoke test on it (init, forward, typed
//! input errors, tap naming, checkpoint round trip) and fails if its parity fixture or parity
//! test is missing.

use std::fmt;
use std::str::FromStr;

use burn::module::Module;
use burn::tensor::{Device, Tensor};
use convkit_core::{Error, ImageClassifier, InputSpec, Result, Tapped, Taps};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{
    InceptionResNet, InceptionResNetConfig, InceptionV4, InceptionV4Config, SeCnn, SeCnnConfig,
    SmallCnn, SmallCnnConfig,
};

/// One name under which a classifier is registered.
#[derive(Debug, Clone, Copy)]
pub struct Entry<C> {
    /// The command-line name (`small-cnn`).
    pub name: &'static str,
    /// One line on what the model is.
    pub description: &'static str,
    /// The default configuration for `in_channels`-channel images and `num_classes` classes.
    pub config: fn(in_channels: usize, num_classes: usize) -> C,
    /// Where parity with the reference implementation is tested.
    pub parity: Parity,
}

/// A model's golden test: a committed fixture of `convkit-zoo/tests/fixtures/` and the test
/// file of `convkit-zoo/tests/suite/` that compares the model with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parity {
    /// Fixture file name.
    pub fixture: &'static str,
    /// Test file name.
    pub test: &'static str,
}

/// What the registry needs from a classifier's configuration.
pub trait Registered: Serialize + DeserializeOwned + Clone + fmt::Debug {
    /// The model it builds.
    type Model: ImageClassifier;

    /// The names it is registered under (most models one; Inception-ResNet one per version).
    fn entries() -> Vec<Entry<Self>>;

    /// The name of the entry this configuration is.
    fn name(&self) -> &'static str;

    /// Creates the model, or says why the configuration is invalid.
    fn try_init(&self, device: &Device) -> Result<Self::Model>;
}

/// Generates [`ClassifierConfig`] and [`Classifier`] (one variant per registered config type;
/// the variant names are the serialized form of checkpoint configs) and the registry lookups.
macro_rules! registry {
    ($($variant:ident($config:ty => $model:ty)),+ $(,)?) => {
        /// The configuration of any zoo classifier (serialized with the variant name as the
        /// key).
        #[derive(Debug, Clone, Serialize, Deserialize)]
        pub enum ClassifierConfig {
            $(
                #[doc = concat!("[`", stringify!($model), "`].")]
                $variant($config),
            )+
        }

        /// Any zoo classifier, chosen at run time; an [`ImageClassifier`] that delegates to
        /// the model it holds. Its parameters have the same paths as the held model's (enum
        /// variants are not part of burn's parameter paths in convkit's stores).
        // One value per program, moved rarely: the size difference between variants does
        // not matter.
        #[allow(clippy::large_enum_variant)]
        #[derive(Module, Debug)]
        pub enum Classifier {
            $(
                #[doc = concat!("[`", stringify!($model), "`].")]
                $variant($model),
            )+
        }

        impl ClassifierConfig {
            /// Which model this configures.
            pub fn kind(&self) -> ClassifierKind {
                let name = match self {
                    $(ClassifierConfig::$variant(c) => c.name(),)+
                };
                ClassifierKind { name }
            }

            /// Creates the model, or says why the configuration is invalid.
            pub fn try_init(&self, device: &Device) -> Result<Classifier> {
                Ok(match self {
                    $(ClassifierConfig::$variant(c) => Classifier::$variant(c.try_init(device)?),)+
                })
            }
        }

        impl Classifier {
            fn inner(&self) -> &dyn ClassifierShape {
                match self {
                    $(Classifier::$variant(m) => m,)+
                }
            }
        }

        /// Every registered name, in registration order.
        fn catalogue() -> Vec<Listed> {
            let mut all: Vec<Listed> = Vec::new();
            $(
                for e in <$config as Registered>::entries() {
                    all.push(Listed {
                        name: e.name,
                        description: e.description,
                        parity: e.parity,
                        config: Box::new(move |c, k| ClassifierConfig::$variant((e.config)(c, k))),
                    });
                }
            )+
            all
        }
    };
}

/// A registry entry with its configuration wrapped as a [`ClassifierConfig`].
struct Listed {
    name: &'static str,
    description: &'static str,
    parity: Parity,
    config: Box<dyn Fn(usize, usize) -> ClassifierConfig>,
}

registry! {
    SmallCnn(SmallCnnConfig => SmallCnn),
    SeCnn(SeCnnConfig => SeCnn),
    InceptionV4(InceptionV4Config => InceptionV4),
    InceptionResNet(InceptionResNetConfig => InceptionResNet),
}

/// The name of a registered classifier (`small-cnn`, `se-cnn`, `inception-v4`,
/// `inception-resnet-v1`, `inception-resnet-v2`); serialized as the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClassifierKind {
    name: &'static str,
}

impl ClassifierKind {
    /// Every registered classifier, in registration order.
    pub fn all() -> Vec<ClassifierKind> {
        catalogue()
            .into_iter()
            .map(|e| ClassifierKind { name: e.name })
            .collect()
    }

    /// The classifier registered as `name`, or an error listing the names.
    pub fn named(name: &str) -> Result<ClassifierKind> {
        catalogue()
            .into_iter()
            .find(|e| e.name == name)
            .map(|e| ClassifierKind { name: e.name })
            .ok_or_else(|| {
                let names: Vec<_> = catalogue().iter().map(|e| e.name).collect();
                Error::invalid(
                    "model",
                    format!(
                        "unknown model `{name}`; expected one of {}",
                        names.join(", ")
                    ),
                )
            })
    }

    fn listed(self) -> Listed {
        catalogue()
            .into_iter()
            .find(|e| e.name == self.name)
            .expect("a ClassifierKind is only made from a registered name")
    }

    /// The command-line name.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// One line on what the model is.
    pub fn description(self) -> &'static str {
        self.listed().description
    }

    /// Where its parity with the reference implementation is tested.
    pub fn parity(self) -> Parity {
        self.listed().parity
    }

    /// The default configuration for `in_channels`-channel images and `num_classes` classes.
    pub fn config(self, in_channels: usize, num_classes: usize) -> ClassifierConfig {
        (self.listed().config)(in_channels, num_classes)
    }
}

impl fmt::Display for ClassifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

impl FromStr for ClassifierKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        ClassifierKind::named(s)
    }
}

impl Serialize for ClassifierKind {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name)
    }
}

impl<'de> Deserialize<'de> for ClassifierKind {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        ClassifierKind::named(&name).map_err(serde::de::Error::custom)
    }
}

/// The object-safe part of a classifier that [`Classifier`] delegates through.
trait ClassifierShape {
    fn classes(&self) -> usize;
    fn spec(&self) -> InputSpec;
    fn logits_with(&self, images: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2>;
}

impl<M: ImageClassifier> ClassifierShape for M {
    fn classes(&self) -> usize {
        self.num_classes()
    }
    fn spec(&self) -> InputSpec {
        self.input_spec()
    }
    fn logits_with(&self, images: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2> {
        self.forward_tapped(images, taps)
    }
}

impl Tapped<Tensor<4>> for Classifier {
    type Output = Tensor<2>;

    fn forward_tapped(&self, images: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2> {
        self.inner().logits_with(images, taps)
    }

    fn input_spec(&self) -> InputSpec {
        self.inner().spec()
    }
}

impl ImageClassifier for Classifier {
    fn num_classes(&self) -> usize {
        self.inner().classes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    #[test]
    fn names_round_trip_and_unknown_names_list_the_choices() {
        let all = ClassifierKind::all();
        assert_eq!(all.len(), 5);
        for kind in all {
            assert_eq!(kind.name().parse::<ClassifierKind>().unwrap(), kind);
            assert_eq!(kind.config(3, 10).kind(), kind);
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.name()));
            assert_eq!(serde_json::from_str::<ClassifierKind>(&json).unwrap(), kind);
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
        for name in ["small-cnn", "se-cnn"] {
            let kind = ClassifierKind::named(name).unwrap();
            let config = kind.config(2, 5);
            let json = serde_json::to_string(&config).unwrap();
            let back: ClassifierConfig = serde_json::from_str(&json).unwrap();
            assert_eq!(back.kind(), kind);
            let model = back.try_init(&device).unwrap();
            assert_eq!(model.num_classes(), 5);
            assert_eq!(model.in_channels(), 2);
            let x = convkit_core::random::tensor([3, 2, 8, 8], Distribution::Default, &device);
            assert_eq!(model.try_forward(x).unwrap().dims(), [3, 5]);
            let wrong = Tensor::<4>::zeros([1, 3, 8, 8], &device);
            assert!(model.try_forward(wrong).is_err());
        }
        let small = ClassifierKind::named("small-cnn").unwrap();
        assert!(small.config(1, 0).try_init(&device).is_err());
    }
}
