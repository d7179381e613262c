//! The tour: train [`SmallCnn`] on synthetic shapes, checkpoint it, reload it and check the
//! reloaded model is bit-identical.
//!
//! Defaults: 5×5 kernels (receptive field 13 px, enough to tell a square's corners from a
//! triangle's on 28×28 images; with 3×3 kernels the same run plateaus near 95%), width 16,
//! 8 epochs of Adam at 3e-3 with one epoch of warm-up and cosine decay. Measured: 98.3% test
//! accuracy at the default seed 42, 97.5–99.0% over seeds 0–9.

use std::path::PathBuf;

use burn::module::Module;
use burn::tensor::Device;
use convkit_core::weights::parameter_bytes;
use convkit_core::{Error, MemoryBudget, Result, Tapped};

use crate::app::{MAX_EPOCHS, TRAINING_COPIES};
use convkit_data::{DataLoader, ImageBatcher, ShapesConfig, ShapesDataset};
use convkit_train::{
    EpochStats, EvalStats, Loss, LrSchedule, TrainConfig, checkpoint, evaluate, fit,
};
use convkit_zoo::{SmallCnn, SmallCnnConfig};
use serde::{Deserialize, Serialize};

/// Settings of the tour.
#[derive(Debug, Clone)]
pub struct TourConfig {
    /// Training epochs.
    pub epochs: usize,
    /// Training images.
    pub train_size: usize,
    /// Test images (drawn with another seed).
    pub test_size: usize,
    /// Seed of data, initialization and shuffling.
    pub seed: u64,
    /// Where the checkpoint goes.
    pub out: PathBuf,
    /// Progress bars on stderr.
    pub progress: bool,
    /// Channels of the model's first block.
    pub width: usize,
    /// Base learning rate (Adam, cosine schedule).
    pub lr: f64,
    /// Kernel size of the convolutions.
    pub kernel_size: usize,
    /// Max-pool window.
    pub pool_size: usize,
    /// Standard deviation of the pixel noise of the synthetic images.
    pub noise: f32,
}

impl Default for TourConfig {
    fn default() -> Self {
        TourConfig {
            epochs: 8,
            train_size: 3000,
            test_size: 600,
            seed: 42,
            out: PathBuf::from("tour-out"),
            progress: true,
            width: 16,
            lr: 3e-3,
            kernel_size: 5,
            pool_size: 2,
            noise: 0.15,
        }
    }
}

impl TourConfig {
    /// The model the tour trains: a [`SmallCnn`] for the three shapes on one channel.
    pub fn model(&self) -> SmallCnnConfig {
        SmallCnnConfig::new(ShapesDataset::class_names().len())
            .with_width(self.width)
            .with_kernel_size(self.kernel_size)
            .with_pool_size(self.pool_size)
    }

    /// Checks every setting before anything is trained or written: positive epochs (at most
    /// [`MAX_EPOCHS`]) and split sizes (within `memory`), a positive finite learning rate,
    /// finite non-negative noise, a model that fits `memory` for training, builds and takes
    /// the tour's 28×28 images, and
    /// an output folder that may be written.
    pub fn validate(&self, device: &Device, memory: &MemoryBudget) -> Result<()> {
        let what = "tour";
        if self.epochs == 0 || self.train_size == 0 || self.test_size == 0 {
            return Err(Error::invalid(
                what,
                "--epochs, --train-size and --test-size must be positive",
            ));
        }
        if self.epochs > MAX_EPOCHS {
            return Err(Error::invalid(
                "--epochs",
                format!("{} is more than {MAX_EPOCHS}", self.epochs),
            ));
        }
        let images = (self.train_size as u64).saturating_add(self.test_size as u64);
        memory.check_items(
            &format!("{images} synthetic {TOUR_IMAGE_SIZE}x{TOUR_IMAGE_SIZE} images"),
            images,
            (TOUR_IMAGE_SIZE * TOUR_IMAGE_SIZE * 4) as u64,
        )?;
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(Error::invalid(
                "--lr",
                format!("{} is not a positive number", self.lr),
            ));
        }
        if !(self.noise.is_finite() && self.noise >= 0.0) {
            return Err(Error::invalid(
                "--noise",
                format!("{} is not a non-negative number", self.noise),
            ));
        }
        let (model, _) = memory.build_module(
            "the tour's SmallCnn (parameters with their gradients and Adam's two moments)",
            TRAINING_COPIES,
            || self.model().try_init(device),
        )?;
        model.check_input(&[1, 1, TOUR_IMAGE_SIZE, TOUR_IMAGE_SIZE])?;
        checkpoint::check_target(&self.out, true)
    }
}

/// Side of the tour's square images.
pub const TOUR_IMAGE_SIZE: usize = 28;

/// What the tour measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TourReport {
    /// Per-epoch statistics.
    pub epochs: Vec<EpochStats>,
    /// Test-set evaluation of the trained model.
    pub test: EvalStats,
    /// Test-set evaluation of the model reloaded from the checkpoint.
    pub reloaded_test: EvalStats,
    /// Whether every parameter and every test logit of the reloaded model equals the original
    /// bit for bit.
    pub bit_exact: bool,
    /// The checkpoint folder.
    pub checkpoint: PathBuf,
}

impl TourReport {
    /// The tour's promise: the reloaded checkpoint reproduces the trained model bit for bit,
    /// and the test accuracy is at least [`TOUR_MIN_ACCURACY`].
    pub fn verify(&self) -> Result<()> {
        let accuracy = self.test.accuracy.unwrap_or(0.0);
        if self.reloaded_test.accuracy != self.test.accuracy || !self.bit_exact {
            return Err(Error::invalid(
                "tour",
                "the reloaded checkpoint does not reproduce the trained model",
            ));
        }
        if accuracy < TOUR_MIN_ACCURACY {
            return Err(Error::invalid(
                "tour",
                format!(
                    "test accuracy {:.2}% is below the {:.0}% the tour promises",
                    100.0 * accuracy,
                    100.0 * TOUR_MIN_ACCURACY
                ),
            ));
        }
        Ok(())
    }
}

/// The test accuracy the tour promises.
pub const TOUR_MIN_ACCURACY: f64 = 0.95;

fn shapes(len: usize, seed: u64, noise: f32) -> ShapesDataset {
    ShapesDataset::new(
        ShapesConfig::new(len)
            .with_seed(seed)
            .with_noise(noise)
            .with_image_size(TOUR_IMAGE_SIZE),
    )
}

/// Runs the tour on `device`, calling `on_epoch` after every epoch. The configuration is
/// validated first ([`TourConfig::validate`]).
pub fn run(
    config: &TourConfig,
    device: &Device,
    memory: &MemoryBudget,
    on_epoch: impl FnMut(&EpochStats),
) -> Result<TourReport> {
    config.validate(device, memory)?;
    let train_set = shapes(config.train_size, config.seed, config.noise);
    let test_set = shapes(
        config.test_size,
        config.seed.wrapping_add(1_000_003),
        config.noise,
    );
    let train = DataLoader::new(&train_set, ImageBatcher::new(), 64).shuffle(config.seed);
    let test = DataLoader::new(&test_set, ImageBatcher::new(), 256);

    let model_config = config.model();
    let train_device = device.clone().autodiff();
    convkit_core::random::seed(config.seed);
    let model = model_config.init(&train_device);
    let train_config = TrainConfig::new()
        .with_epochs(config.epochs)
        .with_lr(config.lr)
        .with_schedule(LrSchedule::Cosine {
            warmup_steps: train.num_batches(),
            min_factor: 0.01,
        })
        .with_seed(config.seed)
        .with_progress(config.progress);
    let (model, history) = fit(
        &train_config,
        model,
        &train,
        Some(&test),
        &train_device,
        on_epoch,
    )?;

    let trained = model.valid();
    let test_stats = evaluate(&trained, &test, device, Loss::CrossEntropy);
    checkpoint::save(
        &config.out,
        "small-cnn",
        &trained,
        &model_config,
        &history,
        true,
    )?;

    let fresh = model_config.init(device);
    let reloaded = checkpoint::load_weights(&config.out, fresh)?;
    let reloaded_stats = evaluate(&reloaded, &test, device, Loss::CrossEntropy);
    let bit_exact =
        same_parameters(&trained, &reloaded)? && same_logits(&trained, &reloaded, &test, device);
    Ok(TourReport {
        epochs: history,
        test: test_stats,
        reloaded_test: reloaded_stats,
        bit_exact,
        checkpoint: config.out.clone(),
    })
}

fn same_parameters(a: &SmallCnn, b: &SmallCnn) -> Result<bool> {
    Ok(parameter_bytes(a)? == parameter_bytes(b)?)
}

fn same_logits(
    a: &SmallCnn,
    b: &SmallCnn,
    loader: &DataLoader<&ShapesDataset, ImageBatcher>,
    device: &Device,
) -> bool {
    loader.iter(0, device).all(|batch| {
        let la = a.forward(batch.images.clone()).into_data();
        let lb = b.forward(batch.images).into_data();
        la.as_bytes() == lb.as_bytes()
    })
}
