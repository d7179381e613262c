//! The training loop.

use std::time::Instant;

use burn::config::Config;
use burn::module::Module;
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor};
use convkit_core::{Error, ImageClassifier, ImageSegmenter, Result, random};
use convkit_data::{Batcher, DataLoader, Dataset, ImageBatch, SegmentationBatch};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::{Deserialize, Serialize};

use crate::loss::mismatch;
use crate::segmentation::pixel_rows;
use crate::{Loss, LrSchedule, OptimizerKind, Output, Target};

/// A model the loop can train on batches of type `B`.
pub trait Supervised<B>: Module + Clone {
    /// Forward pass on a batch: predictions and the batch's targets.
    fn forward_batch(&self, batch: B) -> Output;
}

impl<M: ImageClassifier> Supervised<ImageBatch> for M {
    fn forward_batch(&self, batch: ImageBatch) -> Output {
        Output {
            output: self.forward(batch.images),
            target: Target::Classes(batch.targets),
        }
    }
}

/// Segmenters train on pixel masks: each pixel's logits are one row of the output.
impl<M: ImageSegmenter> Supervised<SegmentationBatch> for M {
    fn forward_batch(&self, batch: SegmentationBatch) -> Output {
        Output {
            output: pixel_rows(self.forward(batch.images)),
            target: Target::Mask(batch.masks),
        }
    }
}

/// Settings of a training run.
#[derive(Config, Debug)]
pub struct TrainConfig {
    /// Passes over the training set.
    #[config(default = 10)]
    pub epochs: usize,
    /// Items per batch.
    #[config(default = 64)]
    pub batch_size: usize,
    /// Base learning rate.
    #[config(default = 1e-3)]
    pub lr: f64,
    /// Optimizer.
    #[config(default = "OptimizerKind::Adam { weight_decay: 0.0 }")]
    pub optimizer: OptimizerKind,
    /// Learning-rate schedule over all steps of the run.
    #[config(default = "LrSchedule::Constant")]
    pub schedule: LrSchedule,
    /// Loss.
    #[config(default = "Loss::CrossEntropy")]
    pub loss: Loss,
    /// Seed of the random draws during training (dropout masks; the caller's loader has its
    /// own shuffling seed). Model initialization is seeded by the caller, through
    /// [`convkit_core::random::seed`] before `init`.
    #[config(default = 0)]
    pub seed: u64,
    /// Show a progress bar on stderr (only drawn when stderr is a terminal).
    #[config(default = true)]
    pub progress: bool,
}

/// What one epoch did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches (weighted by batch size).
    pub train_loss: f64,
    /// Training accuracy (classification: of items; segmentation: of pixels).
    pub train_accuracy: Option<f64>,
    /// Evaluation on the validation loader, if one was given.
    pub valid: Option<EvalStats>,
    /// Learning rate at the end of the epoch.
    pub lr: f64,
    /// Wall time of the training pass.
    pub seconds: f64,
    /// Training samples per second.
    pub samples_per_second: f64,
}

/// Loss and accuracy of a model on a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalStats {
    /// Mean loss.
    pub loss: f64,
    /// Accuracy (classification: of items; segmentation: of pixels).
    pub accuracy: Option<f64>,
    /// Number of samples.
    pub samples: usize,
}

/// Accumulates loss and correct predictions over batches.
#[derive(Default)]
struct Tally {
    loss_sum: f64,
    correct: Option<usize>,
    /// Predictions judged: items, or pixels for masks.
    judged: usize,
    samples: usize,
}

impl Tally {
    fn add(&mut self, out: &Output, loss: &Tensor<1>) {
        let n = match &out.target {
            Target::Mask(m) => m.dims()[0],
            _ => out.output.dims()[0],
        };
        let loss = scalar_f64(loss.clone());
        self.loss_sum += loss * n as f64;
        let labels = match &out.target {
            Target::Classes(t) => Some(t.clone()),
            Target::Mask(m) => Some(m.clone().flatten(0, 2)),
            Target::Binary(_) | Target::Values(_) => None,
        };
        if let Some(t) = labels {
            let pred: Tensor<1, Int> = out.output.clone().argmax(1).flatten(0, 1);
            let hits = scalar_i64(pred.equal(t.clone()).int().sum());
            *self.correct.get_or_insert(0) += hits as usize;
            self.judged += t.dims()[0];
        }
        self.samples += n;
    }

    fn loss(&self) -> f64 {
        self.loss_sum / self.samples.max(1) as f64
    }

    fn accuracy(&self) -> Option<f64> {
        self.correct.map(|c| c as f64 / self.judged.max(1) as f64)
    }
}

fn scalar_f64(t: Tensor<1>) -> f64 {
    t.into_data().iter::<f64>().next().unwrap_or(f64::NAN)
}

fn scalar_i64(t: Tensor<1, Int>) -> i64 {
    t.into_data().iter::<i64>().next().unwrap_or(0)
}

/// Trains `model` on `train` for `config.epochs` epochs.
///
/// `device` must be an autodiff device (`device.autodiff()`) and `model` must live on it.
/// After each epoch, evaluates on `valid` (if given) and calls `on_epoch`. Returns the trained
/// model and the per-epoch statistics.
///
/// Fails with [`Error::Invalid`] for an empty training set, a non-autodiff device, a loss that
/// does not fit the targets, or a non-finite loss (divergence).
///
/// Deterministic: the same model, data, configuration, backend and thread count give the same
/// trained parameters bit for bit, whatever else runs in the process. Random draws during the
/// forward passes (dropout) come from the calling thread's stream, seeded here from
/// `config.seed` and restored afterwards ([`convkit_core::random`]).
pub fn fit<M, D, B>(
    config: &TrainConfig,
    model: M,
    train: &DataLoader<D, B>,
    valid: Option<&DataLoader<D, B>>,
    device: &Device,
    on_epoch: impl FnMut(&EpochStats),
) -> Result<(M, Vec<EpochStats>)>
where
    M: Supervised<B::Batch>,
    D: Dataset,
    B: Batcher<D::Item>,
{
    if train.dataset().is_empty() {
        return Err(Error::invalid("training set", "it has no items"));
    }
    if !device.is_autodiff() {
        return Err(Error::invalid(
            "training device",
            "training needs an autodiff device: pass `device.autodiff()`",
        ));
    }
    random::with_seed(random::mix(config.seed, FIT_STREAM), || {
        fit_seeded(config, model, train, valid, device, on_epoch)
    })
}

/// Names the stream `fit` draws from (ASCII "fit"), apart from the initialisation stream of
/// the same seed.
const FIT_STREAM: u64 = 0x0066_6974;

fn fit_seeded<M, D, B>(
    config: &TrainConfig,
    mut model: M,
    train: &DataLoader<D, B>,
    valid: Option<&DataLoader<D, B>>,
    device: &Device,
    mut on_epoch: impl FnMut(&EpochStats),
) -> Result<(M, Vec<EpochStats>)>
where
    M: Supervised<B::Batch>,
    D: Dataset,
    B: Batcher<D::Item>,
{
    let mut optimizer = config.optimizer.build();
    let steps_per_epoch = train.num_batches();
    let total_steps = steps_per_epoch.saturating_mul(config.epochs);
    let mut step = 0;
    // Not pre-allocated: `epochs` comes from the user, and the run may stop early.
    let mut history = Vec::new();
    for epoch in 0..config.epochs {
        let bar = progress_bar(config.progress, steps_per_epoch, epoch + 1, config.epochs);
        let start = Instant::now();
        let mut tally = Tally::default();
        let mut lr = config.lr;
        for batch in train.iter(epoch, device) {
            let out = model.forward_batch(batch);
            if !config.loss.accepts(&out.target) {
                return Err(Error::invalid("loss", mismatch(config.loss, &out.target)));
            }
            let loss = config.loss.compute(&out);
            tally.add(&out, &loss);
            if !tally.loss().is_finite() {
                return Err(Error::invalid(
                    "training",
                    format!(
                        "the loss became {} at epoch {}, step {step}: lower the learning rate",
                        tally.loss(),
                        epoch + 1
                    ),
                ));
            }
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            lr = config.schedule.lr(config.lr, step, total_steps);
            model = optimizer.step(lr, model, grads);
            step += 1;
            bar.inc(1);
            bar.set_message(format!("loss {:.4}", tally.loss()));
        }
        bar.finish_and_clear();
        let seconds = start.elapsed().as_secs_f64();
        let valid =
            valid.map(|v| evaluate(&model.valid(), v, &device.clone().inner(), config.loss));
        let stats = EpochStats {
            epoch: epoch + 1,
            train_loss: tally.loss(),
            train_accuracy: tally.accuracy(),
            valid,
            lr,
            seconds,
            samples_per_second: tally.samples as f64 / seconds.max(1e-9),
        };
        on_epoch(&stats);
        history.push(stats);
    }
    Ok((model, history))
}

/// Loss and accuracy of `model` on every item of `loader`, in order, without gradients.
///
/// Pass the model in inference state (`model.valid()`) and a plain (non-autodiff) device.
pub fn evaluate<M, D, B>(
    model: &M,
    loader: &DataLoader<D, B>,
    device: &Device,
    loss: Loss,
) -> EvalStats
where
    M: Supervised<B::Batch>,
    D: Dataset,
    B: Batcher<D::Item>,
{
    let mut tally = Tally::default();
    for batch in loader.iter(0, device) {
        let out = model.forward_batch(batch);
        let l = loss.compute(&out);
        tally.add(&out, &l);
    }
    EvalStats {
        loss: tally.loss(),
        accuracy: tally.accuracy(),
        samples: tally.samples,
    }
}

fn progress_bar(enabled: bool, len: usize, epoch: usize, epochs: usize) -> ProgressBar {
    if !enabled {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len as u64), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} {msg} ({eta})")
            .expect("static template")
            .progress_chars("=> "),
    );
    bar.set_prefix(format!("{epoch}/{epochs}"));
    bar
}
