//! # convkit-zoo
//!
//! Whole models assembled from convkit blocks. Every model:
//!
//! - is built from a `#[derive(Config)]` config with `init(&device)`;
//! - has `forward` (burn style, shape contract documented), `forward_tapped` (every block's
//!   sites visible under the block's name) and `try_forward` (checks the input and returns a
//!   typed error instead of panicking);
//! - loads PyTorch `state_dict`s saved as safetensors through a documented key map, tested
//!   against the reference implementation's logits.
//!
//! Models: [`SmallCnn`].

mod small_cnn;

pub use small_cnn::{SmallCnn, SmallCnnConfig};
mod inception_resnet;
mod inception_v4;
pub use inception_resnet::{
    EmbeddingHead, InceptionResNet, InceptionResNetConfig, InceptionResNetVersion,
};
pub use inception_v4::{InceptionV4, InceptionV4Config};
mod se_cnn;
pub use se_cnn::{SeCnn, SeCnnConfig};
