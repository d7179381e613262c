//! # convkit-train
//!
//! One training loop for every convkit model.
//!
//! - [`Supervised`]: what the loop needs from a model — a forward pass on a batch that returns
//!   an [`Output`] (predictions and targets). Every [`convkit_core::ImageClassifier`] is
//!   [`Supervised`] on [`convkit_data::ImageBatch`]es.
//! - [`TrainConfig`]: optimizer ([`OptimizerKind`]: Adam, AdamW, SGD with momentum), learning
//!   rate and [`LrSchedule`] (constant, cosine with warm-up, step), [`Loss`] (cross-entropy,
//!   binary cross-entropy, MSE), epochs, batch size and seed.
//! - [`fit`] trains with an indicatif progress bar and per-epoch [`EpochStats`];
//!   [`evaluate`] computes loss and accuracy.
//! - [`segmentation`]: soft multi-class Dice loss (segmentation_models_pytorch's `DiceLoss`),
//!   pixel cross-entropy, Dice/IoU metrics and `evaluate_segmentation`; masks train through
//!   [`fit`] as [`Target::Mask`] with [`Loss::Dice`] or [`Loss::DiceCrossEntropy`].
//! - [`ClassificationReport`]: confusion matrix and per-class precision / recall of the
//!   classes [`predict_classes`] gives.
//! - [`checkpoint`]: save and load weights (safetensors) with the model config and a
//!   training summary, written atomically.
//!
//! The loop is ours rather than burn-train's `Learner`: it builds faster on two cores, has no
//! terminal UI dependency, and keeps seeding, ordering and checkpoint layout under our
//! control (see `docs/ARCHITECTURE.md`).

pub mod checkpoint;
mod classification;
mod loss;
mod optimizer;
mod schedule;
pub mod segmentation;
mod trainer;

pub use classification::{ClassMetrics, ClassificationReport, predict_classes};
pub use loss::{Loss, Output, Target};
pub use optimizer::OptimizerKind;
pub use schedule::LrSchedule;
pub use trainer::{EpochStats, EvalStats, Supervised, TrainConfig, evaluate, fit};
