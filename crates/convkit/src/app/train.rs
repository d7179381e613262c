//! `convkit train`: train a zoo classifier on a [`DataSource`], report, and checkpoint it.

use std::path::PathBuf;
use std::time::Instant;

use burn::module::Module;
use burn::tensor::Device;
use convkit_core::weights::learned_parameter_count;
use convkit_core::{Error, ImageClassifier, Result};
use convkit_data::{DataLoader, Dataset, ImageSet};
use convkit_train::checkpoint::check_target;
use convkit_train::{
    ClassificationReport, EpochStats, Loss, LrSchedule, OptimizerKind, TrainConfig, evaluate, fit,
    predict_classes,
};
use convkit_zoo::{Classifier, ClassifierKind};
use serde::{Deserialize, Serialize};

use super::Runtime;
use super::data_source::{DataFormat, DataSource, LoadedData, Preprocess, load};
use super::trained_classifier::{ClassifierCard, TrainedClassifier};

/// Batch size of every evaluation pass (test accuracy per epoch, final report, `eval`).
pub const EVAL_BATCH_SIZE: usize = 256;

/// Settings of `convkit train`; the defaults are the documented recipe.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// The data.
    pub data: DataSource,
    /// The model.
    pub model: ClassifierKind,
    /// Passes over the training split (default 10).
    pub epochs: usize,
    /// Peak learning rate of Adam (default 1e-2), reached after one epoch of linear warm-up,
    /// then cosine decay to 1% of it. On scikit-learn's digits and MNIST-5k, 1e-2 beat 3e-3
    /// for both small models (see `docs/real-data.md`).
    pub lr: f64,
    /// Images per training batch (default 64).
    pub batch_size: usize,
    /// Seed of initialization, shuffling and (for held-out splits) the split.
    pub seed: u64,
    /// Checkpoint folder.
    pub out: Option<PathBuf>,
    /// Replace `out` if it already holds a convkit checkpoint.
    pub force: bool,
    /// Draw a progress bar on stderr (only when it is a terminal).
    pub progress: bool,
    /// How images are brought to one shape.
    pub preprocess: Preprocess,
    /// The share of an `images` folder without `test/` to hold out for testing, when the
    /// user chose one (`--val-fraction`); it replaces `preprocess.val_fraction`. An error for
    /// data that has its own test split.
    pub val_fraction: Option<f64>,
}

impl TrainOptions {
    /// The recipe's defaults for `data` and `model`.
    pub fn new(data: DataSource, model: ClassifierKind) -> Self {
        TrainOptions {
            data,
            model,
            epochs: 10,
            lr: 1e-2,
            batch_size: 64,
            seed: 0,
            out: None,
            force: false,
            progress: true,
            preprocess: Preprocess::default(),
            val_fraction: None,
        }
    }
}

/// What the data was, for reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSummary {
    /// `--data` as given.
    pub source: String,
    /// Training images.
    pub train_samples: usize,
    /// Test images.
    pub test_samples: usize,
    /// Where the test split came from.
    pub test_split: String,
    /// `[C, H, W]` the model sees.
    pub image_shape: [usize; 3],
    /// Class names.
    pub classes: Vec<String>,
}

impl DataSummary {
    fn new(source: &DataSource, data: &LoadedData) -> Self {
        DataSummary {
            source: source.to_string(),
            train_samples: data.train.len(),
            test_samples: data.test.len(),
            test_split: data.test_origin.clone(),
            image_shape: data.train.shape(),
            classes: data.train.classes().to_vec(),
        }
    }
}

/// The keys every `train` and `eval` report starts with, kept stable (a test asserts them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Accuracy on the test split (after the last epoch for `train`), in `[0, 1]`.
    pub test_accuracy: f64,
    /// Mean training loss of the last epoch (for `eval`, from the checkpoint).
    pub train_loss: f64,
    /// Epochs trained.
    pub epochs: usize,
    /// `train`: training images per second in the last epoch; `eval`: test images per second.
    pub samples_per_second: f64,
    /// Model name.
    pub model: String,
    /// Learned parameters (batch-norm running statistics not counted, as in PyTorch).
    pub params: usize,
    /// Wall time of the whole command, loading included.
    pub seconds: f64,
    /// The checkpoint folder written (`train --out`) or read (`eval`); `None` without one.
    pub checkpoint: Option<PathBuf>,
}

/// The result of `convkit train` (its `--json` output and the checkpoint's `summary.json`):
/// the [`RunSummary`] keys, then more that may grow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainReport {
    /// The stable keys.
    #[serde(flatten)]
    pub summary: RunSummary,
    /// Training accuracy of the last epoch.
    pub train_accuracy: f64,
    /// Mean test loss after the last epoch.
    pub test_loss: f64,
    /// Device trained on.
    pub device: String,
    /// Seed of the run.
    pub seed: u64,
    /// The data.
    pub data: DataSummary,
    /// Every epoch.
    pub history: Vec<EpochStats>,
    /// What the user should know about the result (immature batch-norm statistics); the
    /// command line prints each as a `warning:` line.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub warnings: Vec<String>,
}

/// The most epochs a command accepts (`--epochs 4294967296` is a typo, not a plan).
pub const MAX_EPOCHS: usize = 1_000_000;

/// Copies of every parameter training holds (values, gradients and Adam's two moments): what
/// the memory budget plans a model for before it is built.
pub const TRAINING_COPIES: u64 = 4;

/// Optimizer steps below which batch norm's running statistics (momentum 0.1) still hold
/// more than 4% of their initial values (0.9^30 ≈ 0.04).
pub const MATURE_STEPS: usize = 30;

/// Normalization statistics of the training split; a constant channel (std 0) keeps its
/// scale rather than dividing by zero.
pub fn normalization(train: &ImageSet) -> (Vec<f32>, Vec<f32>) {
    let (mean, std) = train.channel_stats();
    let std = std
        .into_iter()
        .map(|s| if s > 0.0 { s } else { 1.0 })
        .collect();
    (mean, std)
}

/// Trains as `options` say on `runtime`'s device (within its memory budget), calling
/// `on_epoch` after every epoch and `on_loaded` once the data is read (with notes on what was
/// detected).
pub fn train(
    options: &TrainOptions,
    runtime: &Runtime,
    on_loaded: impl FnOnce(&DataSummary, &[String]),
    on_epoch: impl FnMut(&EpochStats),
) -> Result<TrainReport> {
    let start = Instant::now();
    let device = runtime.device.device()?;
    if let Some(out) = &options.out {
        check_target(out, options.force)?;
    }
    if options.epochs == 0 || options.batch_size == 0 {
        return Err(Error::invalid(
            "options",
            "--epochs and --batch-size must be positive",
        ));
    }
    if options.epochs > MAX_EPOCHS {
        return Err(Error::invalid(
            "--epochs",
            format!(
                "{} is more than {MAX_EPOCHS}: a run that long never ends",
                options.epochs
            ),
        ));
    }
    if !(options.lr.is_finite() && options.lr > 0.0) {
        return Err(Error::invalid(
            "--lr",
            format!("{} is not a positive number", options.lr),
        ));
    }
    let mut preprocess = options.preprocess.clone();
    preprocess.split_seed = options.seed;
    if let Some(fraction) = options.val_fraction {
        if options.data.format != DataFormat::Images {
            return Err(Error::invalid(
                "option",
                "--val-fraction applies to the images format only (the others have a test split)",
            ));
        }
        preprocess.val_fraction = fraction;
    }
    let data = load(&options.data, &preprocess, &runtime.memory)?;
    if options.val_fraction.is_some() && !data.held_out {
        return Err(Error::invalid(
            "option",
            format!(
                "--val-fraction applies to image folders without test/: {} has train/ and test/",
                options.data.path.display()
            ),
        ));
    }
    let summary = DataSummary::new(&options.data, &data);
    on_loaded(&summary, &data.notes);

    let [c, h, w] = data.train.shape();
    let config = options.model.config(c, data.train.classes().len());
    let train_device = device.clone().autodiff();
    convkit_core::random::seed(options.seed);
    let (model, _) = runtime.memory.build_module(
        &format!(
            "training {} (parameters with their gradients and Adam's two moments)",
            options.model
        ),
        TRAINING_COPIES,
        || config.try_init(&train_device),
    )?;
    let params = learned_parameter_count(&model);
    let [min_h, min_w] = model.min_input_size();
    if h < min_h || w < min_w {
        return Err(Error::invalid(
            "input size",
            format!(
                "{} takes images of at least {min_h}x{min_w}, these are {h}x{w}: pass --resize \
                 {}x{}",
                options.model,
                min_h.max(h),
                min_w.max(w)
            ),
        ));
    }
    let classes = data.train.classes().len() as u64;
    runtime.memory.check_items(
        &format!("the {classes}x{classes} confusion matrix"),
        classes.saturating_mul(classes),
        8,
    )?;
    let (mean, std) = normalization(&data.train);
    let card = ClassifierCard {
        model: config,
        classes: data.train.classes().to_vec(),
        input_shape: [c, h, w],
        mean,
        std,
        preprocess,
        data: options.data.clone(),
        eval_batch_size: EVAL_BATCH_SIZE,
    };
    let train_loader =
        DataLoader::new(&data.train, card.batcher(), options.batch_size).shuffle(options.seed);
    let test_loader = DataLoader::new(&data.test, card.batcher(), EVAL_BATCH_SIZE);
    let train_config = TrainConfig::new()
        .with_epochs(options.epochs)
        .with_batch_size(options.batch_size)
        .with_lr(options.lr)
        .with_optimizer(OptimizerKind::Adam { weight_decay: 0.0 })
        .with_schedule(LrSchedule::Cosine {
            warmup_steps: train_loader.num_batches(),
            min_factor: 0.01,
        })
        .with_loss(Loss::CrossEntropy)
        .with_seed(options.seed)
        .with_progress(options.progress);
    let (model, history) = fit(
        &train_config,
        model,
        &train_loader,
        Some(&test_loader),
        &train_device,
        on_epoch,
    )?;
    let trained = TrainedClassifier {
        card,
        model: model.valid(),
    };
    let test = classification_report(&trained.model, &data.test, &trained.card, &device)?;
    let test_loss = evaluate(&trained.model, &test_loader, &device, Loss::CrossEntropy).loss;
    let last = history.last().cloned();
    let mut report = TrainReport {
        summary: RunSummary {
            test_accuracy: test.accuracy,
            train_loss: last.as_ref().map_or(f64::NAN, |e| e.train_loss),
            epochs: history.len(),
            samples_per_second: last.as_ref().map_or(0.0, |e| e.samples_per_second),
            model: options.model.name().to_string(),
            params,
            seconds: 0.0,
            checkpoint: options.out.clone(),
        },
        train_accuracy: last.as_ref().and_then(|e| e.train_accuracy).unwrap_or(0.0),
        test_loss,
        device: runtime.device.to_string(),
        seed: options.seed,
        data: summary,
        warnings: batch_norm_warning(&history, train_loader.num_batches()),
        history,
    };
    report.summary.seconds = start.elapsed().as_secs_f64();
    if let Some(out) = &options.out {
        trained.save(out, &report, options.force)?;
    }
    Ok(report)
}

/// The warning for a run too short for batch norm's running statistics to leave their
/// initial values (mean 0, variance 1): evaluation then normalizes with the wrong statistics,
/// and test accuracy falls far below training accuracy even on the training images.
fn batch_norm_warning(history: &[EpochStats], steps_per_epoch: usize) -> Vec<String> {
    let steps = history.len().saturating_mul(steps_per_epoch);
    if steps >= MATURE_STEPS {
        return Vec::new();
    }
    vec![format!(
        "only {steps} optimizer steps: batch norm's running statistics still hold {:.0}% of \
         their initial values, so evaluation normalizes with statistics the data never had; \
         train for at least {MATURE_STEPS} steps (more epochs or a smaller --batch-size)",
        100.0 * 0.9f64.powi(steps as i32)
    )]
}

/// Predictions of `model` on every image of `set`, batched and normalized as `card` says,
/// and their report: the one computation behind `train`'s test accuracy and `eval`.
pub fn classification_report(
    model: &Classifier,
    set: &ImageSet,
    card: &ClassifierCard,
    device: &Device,
) -> Result<ClassificationReport> {
    let loader = DataLoader::new(set, card.batcher(), card.eval_batch_size);
    let predicted = predict_classes(model, &loader, device);
    ClassificationReport::new(&predicted, set.labels(), &card.classes)
}
