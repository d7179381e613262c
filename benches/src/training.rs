//! The training rows of issue #13: one epoch of the CLI's `small-cnn` recipe on MNIST-shaped
//! data, and the inference throughput of the same model, each mirroring a workload of
//! `tools/refgen/bench_torch.py`.
//!
//! The images are synthetic (pseudo-random bytes from a fixed hash, labels `i % 10`) so that
//! both sides time the same data without a download; `bench_torch.py` computes the same bytes.
//! Both rows go through what `convkit train` runs: an [`ImageSet`] of `u8` pixels, a
//! [`DataLoader`] with [`ImageBatcher::with_normalization`] (mean and population std of the
//! training images, [`ImageSet::channel_stats`]), and [`fit`] or the model in inference mode.

use burn::module::Module;
use burn::tensor::Device;
use convkit_core::Tapped;
use convkit_data::{DataLoader, ImageBatcher, ImageSet, Pixels};
use convkit_train::{LrSchedule, TrainConfig, fit};
use convkit_zoo::{Classifier, ClassifierKind};
use serde_json::{Value, json};

use crate::Timer;

/// `[C, H, W]` of every image (MNIST).
const IMAGE_SHAPE: [usize; 3] = [1, 28, 28];
/// Images per training epoch (the MNIST training set).
pub const TRAIN_IMAGES: usize = 60_000;
/// Images of the inference row (the MNIST test set).
pub const TEST_IMAGES: usize = 10_000;
/// Classes (labels are `i % CLASSES`).
const CLASSES: usize = 10;
/// Training batch size.
pub const TRAIN_BATCH: usize = 128;
/// Inference batch size (the CLI's evaluation batch).
pub const EVAL_BATCH: usize = 256;
/// Base learning rate of the CLI recipe.
const LR: f64 = 1e-2;

/// Pixel `index` of the synthetic image stream: a multiply-xorshift hash of the index
/// (`bench_torch.py`'s `synthetic_pixels` computes the same bytes).
fn pixel(index: u64) -> u8 {
    let z = index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((z ^ (z >> 32)).wrapping_mul(0xBF58_476D_1CE4_E5B9) >> 56) as u8
}

/// The pixels of images `first .. first + count` of the synthetic stream.
fn synthetic_pixels(first: usize, count: usize) -> Vec<u8> {
    let per_image: usize = IMAGE_SHAPE.iter().product();
    let start = (first * per_image) as u64;
    (start..start + (count * per_image) as u64)
        .map(pixel)
        .collect()
}

/// Images `first .. first + count` of the synthetic stream, labelled `i % 10`.
fn synthetic_set(first: usize, count: usize) -> ImageSet {
    let labels = (first..first + count).map(|i| i % CLASSES).collect();
    let classes = (0..CLASSES).map(|c| c.to_string()).collect();
    ImageSet::new(
        Pixels::U8(synthetic_pixels(first, count)),
        IMAGE_SHAPE,
        labels,
        classes,
    )
    .expect("consistent synthetic set")
}

/// The batcher of the CLI recipe: pixels `/ 255`, then `(x - mean) / std` with the mean and
/// population standard deviation of the training images ([`ImageSet::channel_stats`]).
fn training_normalization(train: &ImageSet) -> ImageBatcher {
    let (mean, std) = train.channel_stats();
    ImageBatcher::with_normalization(mean, std)
}

/// The CLI's `small-cnn` (5×5 kernels, width 16) for 1-channel images and 10 classes,
/// initialized on `device` (seeded, so every run starts from the same weights).
fn small_cnn(device: &Device) -> Classifier {
    convkit_core::random::seed(0);
    ClassifierKind::named("small-cnn")
        .expect("registered")
        .config(IMAGE_SHAPE[0], CLASSES)
        .try_init(device)
        .expect("valid small-cnn config")
}

/// Adds `samples` (images per timed run) and the throughput of the median run to a row.
fn with_throughput(mut row: Value, samples: usize) -> Value {
    let per_s = row["median_ms"]
        .as_f64()
        .map_or(f64::NAN, |ms| samples as f64 / ms * 1e3);
    row["samples"] = json!(samples);
    row["samples_per_s"] = json!(per_s);
    row["note"] = json!(format!(
        "{samples} images per run: {per_s:.0} images/s (median run)"
    ));
    row
}

/// One training epoch of the CLI recipe: 60000 × 1×28×28 `u8` images, reshuffled, batch 128
/// (last partial batch kept), Adam at 1e-2 with the recipe's per-step schedule (warm-up over
/// the first epoch's steps, then cosine to 1% of the rate), on `device.autodiff()`, no
/// validation. The timed run is the whole of [`fit`]: batching included.
pub fn small_cnn_epoch(device: &Device, timer: &Timer) -> Value {
    let set = synthetic_set(0, TRAIN_IMAGES);
    let loader = DataLoader::new(&set, training_normalization(&set), TRAIN_BATCH).shuffle(0);
    let ad = device.clone().autodiff();
    let model = small_cnn(&ad);
    let config = TrainConfig::new()
        .with_epochs(1)
        .with_batch_size(TRAIN_BATCH)
        .with_lr(LR)
        .with_schedule(LrSchedule::Cosine {
            warmup_steps: loader.num_batches(),
            min_factor: 0.01,
        })
        .with_progress(false);
    let row = timer.time(|| {
        let (_, history) =
            fit(&config, model.clone(), &loader, None, &ad, |_| {}).expect("the epoch trains");
        assert!(history[0].train_loss.is_finite());
    });
    with_throughput(row, TRAIN_IMAGES)
}

/// Inference throughput of the same model (`model.valid()`, on the plain device): 10000 ×
/// 1×28×28 `u8` images in order, batch 256, normalized by the batcher, forward and argmax.
pub fn small_cnn_inference(device: &Device, timer: &Timer) -> Value {
    let batcher = training_normalization(&synthetic_set(0, TRAIN_IMAGES));
    let set = synthetic_set(TRAIN_IMAGES, TEST_IMAGES);
    let loader = DataLoader::new(&set, batcher, EVAL_BATCH);
    let model = small_cnn(&device.clone().autodiff()).valid();
    let row = timer.time(|| {
        for batch in loader.iter(0, device) {
            model.forward(batch.images).argmax(1).into_data();
        }
    });
    with_throughput(row, TEST_IMAGES)
}
