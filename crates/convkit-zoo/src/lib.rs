//! # convkit-zoo
//!
//! Whole models assembled from convkit blocks. Every model:
//!
//! - is built from a `#[derive(Config)]` config with `init(&device)`;
//! - has `forward` (burn style, shape contract documented), `forward_tapped` (every block's
//!   sites visible under the block's name) and `try_forward` (checks the input and returns a
//!   typed error instead of panicking);
//! - loads PyTorch `state_dict`s saved as safetensors through a documented key map, tested
//!   against the reference implementation's outputs.
//!
//! Classifiers (all [`convkit_core::ImageClassifier`]s):
//! - [`SmallCnn`] and [`SeCnn`]: small networks for any channel count and input size;
//! - [`InceptionV4`] (timm `inception_v4`) and [`InceptionResNet`] v2 (timm
//!   `inception_resnet_v2`) and v1 (facenet-pytorch `InceptionResnetV1`), "Inception-v4,
//!   Inception-ResNet and the Impact of Residual Connections on Learning" (Szegedy et al.,
//!   2016).
//!
//! [`ClassifierKind`] names them (`small-cnn`, `se-cnn`, `inception-v4`, ...), and
//! [`ClassifierConfig`] / [`Classifier`] hold any of them, chosen at run time (the `convkit`
//! command line and its checkpoints use these).
//!
//! Segmentation: [`UNet`], optionally with scSE after every block.

mod classifier;
mod inception_resnet;
mod inception_v4;
mod se_cnn;
mod small_cnn;
mod unet;

pub use classifier::{Classifier, ClassifierConfig, ClassifierKind, Entry, Parity, Registered};
pub use inception_resnet::{
    EmbeddingHead, InceptionResNet, InceptionResNetConfig, InceptionResNetVersion,
};
pub use inception_v4::{InceptionV4, InceptionV4Config};
pub use se_cnn::{SeCnn, SeCnnConfig};
pub use small_cnn::{SmallCnn, SmallCnnConfig};
pub use unet::{UNet, UNetBlock, UNetConfig};
