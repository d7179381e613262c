//! `convkit eval`: a checkpoint's accuracy, per-class precision / recall and confusion matrix
//! on the test split of a [`DataSource`].

use std::path::Path;
use std::time::Instant;

use convkit_core::weights::learned_parameter_count;
use convkit_core::{Error, Result};
use convkit_data::Dataset;
use convkit_train::{ClassMetrics, checkpoint};
use serde::{Deserialize, Serialize};

use super::Runtime;
use super::data_source::{DataSource, load};
use super::train::{RunSummary, TrainReport, classification_report};
use super::trained_classifier::TrainedClassifier;

/// The result of `convkit eval` (its `--json` output): the [`RunSummary`] keys, then
/// `per_class` and `confusion`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// The stable keys; `test_accuracy` equals what `train` reported for the same data,
    /// `train_loss` and `epochs` come from the checkpoint.
    #[serde(flatten)]
    pub summary: RunSummary,
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

/// Evaluates the checkpoint `dir` on the test split of `data` on `runtime`'s device, with the
/// checkpoint's preprocessing, normalization and batch size.
pub fn eval(dir: &Path, data: &DataSource, runtime: &Runtime) -> Result<EvalReport> {
    let start = Instant::now();
    let device = runtime.device.device()?;
    let trained = TrainedClassifier::load(dir, &device, &runtime.memory)?;
    let trained_run: TrainReport = checkpoint::load_summary(dir)?;
    let loaded = load(data, &trained.card.preprocess, &runtime.memory)?;
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
        summary: RunSummary {
            test_accuracy: report.accuracy,
            train_loss: trained_run.summary.train_loss,
            epochs: trained_run.summary.epochs,
            samples_per_second: test.len() as f64 / eval_seconds.max(1e-9),
            model: trained.card.model.kind().name().to_string(),
            params: learned_parameter_count(&trained.model),
            seconds: start.elapsed().as_secs_f64(),
            checkpoint: Some(dir.to_path_buf()),
        },
        per_class: report.per_class,
        confusion: report.confusion,
        classes: trained.card.classes.clone(),
        samples: report.samples,
        data: data.to_string(),
    })
}
