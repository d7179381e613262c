//! What the `convkit` command line does, as a library: each command is a function taking
//! options and returning a serializable report, so the binary only parses arguments and
//! prints, and programs can run the same recipe.
//!
//! - [`Runtime`]: the device and the memory budget every command runs with (`--device`,
//!   `--memory-limit` and their environment variables).
//! - [`DataSource`] (`--data <format>:<folder>`) and [`load`]: IDX, CIFAR-10/100, image
//!   folders and NumPy arrays read into training and test [`convkit_data::ImageSet`]s.
//! - [`train()`]: the documented recipe ([`TrainOptions`]) on any zoo classifier, with a
//!   [`TrainReport`] and a checkpoint folder holding a [`TrainedClassifier`].
//! - [`eval()`]: accuracy, per-class precision / recall and the confusion matrix
//!   ([`EvalReport`]), computed by the same code as `train`'s test accuracy.
//! - [`predict()`]: top-k class probabilities of image files or `.npy` arrays
//!   ([`PredictReport`]).
//! - [`model_list`]: the zoo's classifiers with parameter counts and input sizes.
//! - [`info()`]: version, compiled backends, devices and threads ([`InfoReport`]).
//! - [`quiet_display_probe`]: keeps Mesa's headless display probe off stderr in `wgpu` builds.

mod data_source;
mod display_probe;
mod eval;
mod info;
mod model_list;
mod predict;
mod runtime;
mod train;
mod trained_classifier;

pub use data_source::{DataFormat, DataSource, LoadedData, Preprocess, load};
pub use display_probe::{UNREACHABLE_WAYLAND_DISPLAY, quiet_display_probe, wayland_would_complain};
pub use eval::{EvalReport, eval};
pub use info::{DeviceStatus, InfoReport, info};
pub use model_list::{LISTED_CHANNELS, LISTED_CLASSES, ModelEntry, model_list};
pub use predict::{ClassProbability, PredictReport, Prediction, predict};
pub use runtime::Runtime;
pub use train::{
    DataSummary, EVAL_BATCH_SIZE, MATURE_STEPS, MAX_EPOCHS, RunSummary, TRAINING_COPIES,
    TrainOptions, TrainReport, classification_report, normalization, train,
};
pub use trained_classifier::{ClassifierCard, TrainedClassifier};
