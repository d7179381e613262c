//! `convkit eval`: a checkpoint's accuracy, per-class precision / recall and confusion matrix
//! on the test split of a [`DataSource`].

use std::path::{Path, PathBuf};
use std::time::Instant;

use convkit_core::weights::learned_parameter_count;
use convkit_core::{DeviceSpec, Error, Result};
use convkit_data::Dataset;
use convkit_train::{ClassMetrics, checkpoint};
use serde::{Deserialize, Serialize};

use super::data_source::{DataSource, load};
use super::train::{TrainReport, classification_report};
use super::trained_classifier::TrainedClassifier;

/// The result of `convkit eval` (its `--json` output): the keys of [`TrainReport`]'s stable
/// part, then `per_class` and `confusion`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Accuracy on the test split, in `[0, 1]`; equal to what `train` reported for the same
    /// data.
    pub test_accuracy: f64,
    /// The training run's last-epoch loss (from the checkpoint).
    pub train_loss: f64,
    /// The training run's epochs (from the checkpoint).
    pub epochs: usize,
    /// Test images classified per second.
    pub samples_per_second: f64,
    /// Model name.
    pub model: String,
    /// Number of parameters.
    pub params: usize,
    /// Wall time of the command.
    pub seconds: f64,
    /// The checkpoint evaluated.
    pub checkpoint: PathBuf,
    /// Precision, recall and support per class, in label order.
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[true][predicted]`.
    pub confusion: Vec<Vec<usize>>,
    /// Class names, in label order.
    pub classes: Vec<String>,
    /// Test images.
    pub samples: usize,
    /// `--data` as given.
    pub data: String,
}

/// Evaluates the checkpoint `dir` on the test split of `data` on `spec`'s device, with the
/// checkpoint's preprocessing, normalization and batch size.
pub fn eval(dir: &Path, data: &DataSource, spec: &DeviceSpec) -> Result<EvalReport> {
    let start = Instant::now();
    let device = spec.device()?;
    let trained = TrainedClassifier::load(dir, &device)?;
    let summary: TrainReport = checkpoint::load_summary(dir)?;
    let loaded = load(data, &trained.card.preprocess)?;
    let test = &loaded.test;
    if test.shape() != trained.card.input_shape {
        return Err(Error::invalid(
            "data",
            format!(
                "the test images are {:?} ([C, H, W]) but the model was trained on {:?}",
                test.shape(),
                trained.card.input_shape
            ),
        ));
    }
    if test.classes() != trained.card.classes.as_slice() {
        return Err(Error::invalid(
            "data",
            format!(
                "the data has classes [{}] but the model was trained on [{}]",
                test.classes().join(", "),
                trained.card.classes.join(", ")
            ),
        ));
    }
    let timed = Instant::now();
    let report = classification_report(&trained.model, test, &trained.card, &device)?;
    let eval_seconds = timed.elapsed().as_secs_f64();
    Ok(EvalReport {
        test_accuracy: report.accuracy,
        train_loss: summary.train_loss,
        epochs: summary.epochs,
        samples_per_second: test.len() as f64 / eval_seconds.max(1e-9),
        model: trained.card.model.kind().name().to_string(),
        params: learned_parameter_count(&trained.model),
        seconds: start.elapsed().as_secs_f64(),
        checkpoint: dir.to_path_buf(),
        per_class: report.per_class,
        confusion: report.confusion,
        classes: trained.card.classes.clone(),
        samples: report.samples,
        data: data.to_string(),
    })
}
