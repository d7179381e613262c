//! # convkit
//!
//! Building blocks of modern convolutional networks — image, temporal, graph and attention
//! convolutions, quantization, interpretability and dataset I/O — on the burn framework,
//! running on CPU and on wgpu GPUs from the same code.
//!
//! This facade re-exports the family; depend on a single crate when you need only one:
//!
//! | module | crate | what it holds |
//! |---|---|---|
//! | [`core`] | `convkit-core` | devices, errors, taps, the model traits, seeded randomness, weight import |
//! | [`ops`] | `convkit-ops` | the dispatch point of convolution, pooling and normalisation, and the CPU kernels |
//! | [`conv`] | `convkit-conv` | convolution layers and blocks |
//! | [`graph`] | `convkit-graph` | the CSR graph type, node data, petgraph conversions |
//! | [`data`] | `convkit-data` | datasets, batchers, loaders, synthetic data |
//! | [`train`] | `convkit-train` | training loop, optimizers, schedules, checkpoints |
//! | [`zoo`] | `convkit-zoo` | whole models |
//!
//! [`app`] is what the `convkit` command line does (train, eval, predict on the user's own
//! files), as functions returning reports; [`tour`] is the end-to-end demo run by
//! `convkit tour`. [`prelude`] brings the model traits into scope (`forward`, `try_forward`,
//! `forward_tapped` come from [`core::Tapped`]).
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use convkit::core::tap::Recorder;
//! use convkit::prelude::*;
//! use convkit::zoo::SmallCnnConfig;
//!
//! # fn main() -> convkit::core::Result<()> {
//! let device = Device::flex();
//! convkit::core::random::seed(7); // initial weights follow from the seed
//! let model = SmallCnnConfig::new(10).with_in_channels(3).init(&device);
//! let images = Tensor::<4>::zeros([8, 3, 32, 32], &device);
//! let logits = model.try_forward(images.clone())?; // typed error on a bad shape
//! assert_eq!(logits.dims(), [8, 10]);
//!
//! let mut recorder = Recorder::paths(&["stage2.out"]); // feature extraction via taps
//! model.forward_tapped(images, &mut Taps::new(&mut recorder));
//! let features = recorder.get("stage2.out").unwrap().get::<Tensor<4>>().unwrap();
//! assert_eq!(features.dims(), [8, 32, 16, 16]);
//! # Ok(())
//! # }
//! ```

pub use convkit_conv as conv;
pub use convkit_core as core;
pub use convkit_data as data;
pub use convkit_graph as graph;
pub use convkit_ops as ops;
pub use convkit_train as train;
pub use convkit_zoo as zoo;

pub mod app;
pub mod tour;

/// `use convkit::prelude::*;` for the model traits ([`core::Tapped`], [`core::ImageClassifier`],
/// [`core::ImageSegmenter`]) and taps.
pub mod prelude {
    pub use convkit_core::prelude::*;
}
