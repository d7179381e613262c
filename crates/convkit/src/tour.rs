//! The tour: train [`SmallCnn`] on synthetic shapes, checkpoint it, reload it and check the
//! reloaded model is bit-identical.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::tensor::Device;
use convkit_core::weights::parameter_bytes;
use convkit_core::{Error, ImageClassifier, Result};
use convkit_data::{DataLoader, ImageBatcher, ShapesConfig, ShapesDataset};
use convkit_train::{EpochStats, EvalStats, Loss, TrainConfig, checkpoint, evaluate, fit};
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
}

impl Default for TourConfig {
    fn default() -> Self {
        TourConfig {
            epochs: 6,
            train_size: 3000,
            test_size: 600,
            seed: 42,
            out: PathBuf::from("tour-out"),
            progress: true,
        }
    }
}

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

fn shapes(len: usize, seed: u64) -> ShapesDataset {
    ShapesDataset::new(ShapesConfig::new(len).with_seed(seed))
}

/// Runs the tour on `device`, calling `on_epoch` after every epoch.
pub fn run(
    config: &TourConfig,
    device: &Device,
    on_epoch: impl FnMut(&EpochStats),
) -> Result<TourReport> {
    let train_set = shapes(config.train_size, config.seed);
    let test_set = shapes(config.test_size, config.seed.wrapping_add(1_000_003));
    let train = DataLoader::new(&train_set, ImageBatcher::new(), 64).shuffle(config.seed);
    let test = DataLoader::new(&test_set, ImageBatcher::new(), 256);

    let model_config = SmallCnnConfig::new(ShapesDataset::class_names().len());
    let train_device = device.clone().autodiff();
    train_device.seed(config.seed);
    let model = model_config.init(&train_device);
    let train_config = TrainConfig::new()
        .with_epochs(config.epochs)
        .with_lr(3e-3)
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
    let bit_exact = same_parameters(&trained, &reloaded)?
        && same_logits(&trained, &reloaded, &test_set, device);
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

fn same_logits(a: &SmallCnn, b: &SmallCnn, data: &ShapesDataset, device: &Device) -> bool {
    let loader = DataLoader::new(data, ImageBatcher::new(), 256);
    loader.iter(0, device).all(|batch| {
        let la = a.logits(batch.images.clone()).into_data();
        let lb = b.logits(batch.images).into_data();
        la.as_bytes() == lb.as_bytes()
    })
}

/// Checks that `dir` can receive the tour's checkpoint: absent, or a convkit checkpoint.
pub fn check_out_dir(dir: &Path) -> Result<()> {
    if dir.exists() && !checkpoint::is_checkpoint(dir) {
        return Err(Error::invalid(
            "--out",
            format!(
                "{} exists and is not a convkit checkpoint; choose another folder",
                dir.display()
            ),
        ));
    }
    Ok(())
}
