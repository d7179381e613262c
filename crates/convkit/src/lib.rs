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
//! | [`core`] | `convkit-core` | devices, errors, taps, shared traits, weight import |
//! | [`conv`] | `convkit-conv` | convolution blocks |
//! | [`data`] | `convkit-data` | datasets, batchers, loaders, synthetic data |
//! | [`train`] | `convkit-train` | training loop, optimizers, schedules, checkpoints |
//! | [`zoo`] | `convkit-zoo` | whole models |
//!
//! [`app`] is what the `convkit` command line does (train, eval, predict on the user's own
//! files), as functions returning reports; [`tour`] is the end-to-end demo run by
//! `convkit tour`.

pub use convkit_conv as conv;
pub use convkit_core as core;
pub use convkit_data as data;
pub use convkit_train as train;
pub use convkit_zoo as zoo;

pub mod app;
pub mod tour;
