//! Image transforms and seeded augmentation on [`ImageItem`]s (`[C, H, W]` floats).
//!
//! - [`Resize`]: bilinear resampling to an exact size or so the shorter side has a given
//!   length. The reference is PyTorch: `torch.nn.functional.interpolate(x,
//!   mode="bilinear", align_corners=False, antialias=True)`, which is what torchvision's
//!   `Resize` applies to float tensors; [`ResizeFilter::Bilinear`] is the same call with
//!   `antialias=False`. Both are tested against values written by
//!   `tools/refgen/transforms.py` to within `1e-5`.
//! - [`CenterCrop`], [`Normalize`]: deterministic, as torchvision's transforms of the same
//!   names.
//! - [`RandomCrop`] (with zero padding) and [`RandomHorizontalFlip`]: augmentation drawing
//!   from the generator they are given.
//! - [`Compose`]: a pipeline applying transforms in order with one generator.
//! - [`Transformed`]: a dataset wrapper applying a transform on access with a generator
//!   derived from `(seed, epoch, index)` by [`item_rng`], so augmented runs are reproducible
//!   however items are shuffled or loaded in parallel.
//!
//! Invalid settings (a zero size, `p` outside `[0, 1]`, a non-positive standard deviation)
//! are [`Error::Invalid`] when a transform is built; an image a transform cannot handle (a
//! crop larger than the image, a channel count that differs from [`Normalize`]'s) is an
//! [`Error::Shape`] naming the transform, what it needs and the image's `[C, H, W]`.
//!
//! ```
//! use convkit_data::transform::{Compose, RandomCrop, RandomHorizontalFlip, Transformed};
//! use convkit_data::{Dataset, ShapesConfig, ShapesDataset};
//!
//! let augment = Compose::new()
//!     .then(RandomCrop::new(28, 28, 2)?)
//!     .then(RandomHorizontalFlip::new(0.5)?);
//! let train = Transformed::new(ShapesDataset::new(ShapesConfig::new(8)), augment, 42);
//! train.set_epoch(3); // call once per epoch, before iterating the loader
//! let a = train.try_get(5)?;
//! assert_eq!(a.shape, [1, 28, 28]);
//! assert_eq!(train.try_get(5)?, a); // same (seed, epoch, index): same augmentation
//! # Ok::<(), convkit_core::Error>(())
//! ```

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};

use convkit_core::{Error, Result};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::{Dataset, ImageItem};

mod augment;
mod normalize;
mod resize;
#[cfg(test)]
mod tests;

pub use augment::{RandomCrop, RandomHorizontalFlip};
pub use normalize::Normalize;
pub use resize::{Resize, ResizeFilter, ResizeTo};

/// One step of an image pipeline.
pub trait Transform: Send + Sync + fmt::Debug {
    /// Transforms `item`. Random transforms draw from `rng` only, so the same generator
    /// state gives the same result.
    fn apply(&self, item: ImageItem, rng: &mut StdRng) -> Result<ImageItem>;
}

impl<T: Transform + ?Sized> Transform for Box<T> {
    fn apply(&self, item: ImageItem, rng: &mut StdRng) -> Result<ImageItem> {
        (**self).apply(item, rng)
    }
}

/// The generator of item `index` in epoch `epoch` of a run seeded with `seed`.
///
/// The three numbers are the 32-byte key of the generator (little-endian, with 8 zero
/// bytes), so distinct triples give unrelated streams: unlike `seed + epoch + index`, item
/// 1 of epoch 0 and item 0 of epoch 1 do not share their augmentation.
pub fn item_rng(seed: u64, epoch: usize, index: usize) -> StdRng {
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&seed.to_le_bytes());
    key[8..16].copy_from_slice(&(epoch as u64).to_le_bytes());
    key[16..24].copy_from_slice(&(index as u64).to_le_bytes());
    StdRng::from_seed(key)
}

/// `[C, H, W]` of `item` after checking that its pixel count matches, so the transforms
/// can index without panicking on a hand-built item.
fn checked_shape(item: &ImageItem, what: &str) -> Result<[usize; 3]> {
    let [c, h, w] = item.shape;
    let expected = c.checked_mul(h).and_then(|n| n.checked_mul(w));
    if expected != Some(item.pixels.len()) {
        return Err(Error::Shape {
            what: format!("{what} input"),
            expected: format!("{} pixels for shape {:?}", item.pixels.len(), item.shape),
            got: item.shape.to_vec(),
        });
    }
    Ok(item.shape)
}

fn zero_size(what: &str, height: usize, width: usize) -> Result<()> {
    if height == 0 || width == 0 {
        return Err(Error::invalid(
            format!("{what} size"),
            format!("height and width must be at least 1, got {height}x{width}"),
        ));
    }
    Ok(())
}

/// Copies the window `top..top + height`, `left..left + width` of every channel, reading
/// pixels outside the image as 0 (the zero padding of [`RandomCrop`]). `top` and `left` are
/// offsets into the image padded by `pad` on every side.
fn crop_padded(
    item: &ImageItem,
    top: usize,
    left: usize,
    height: usize,
    width: usize,
    pad: usize,
) -> ImageItem {
    let [c, h, w] = item.shape;
    let mut pixels = Vec::with_capacity(c * height * width);
    // Slices rather than `chunks_exact`, which rejects an empty (h * w = 0) plane.
    for plane in (0..c).map(|ch| &item.pixels[ch * h * w..(ch + 1) * h * w]) {
        for y in top..top + height {
            let row = y.checked_sub(pad).filter(|&r| r < h);
            for x in left..left + width {
                let col = x.checked_sub(pad).filter(|&col| col < w);
                pixels.push(match (row, col) {
                    (Some(r), Some(col)) => plane[r * w + col],
                    _ => 0.0,
                });
            }
        }
    }
    ImageItem {
        pixels,
        shape: [c, height, width],
        label: item.label,
    }
}

/// Crops the central `height` x `width` window. When the margin is odd the window's
/// offset is rounded half to even, as torchvision's `center_crop` does
/// (`round((H - height) / 2)` in Python 3). A crop larger than the image is an error (no
/// implicit padding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CenterCrop {
    height: usize,
    width: usize,
}

impl CenterCrop {
    /// A center crop to `height` x `width`; a zero size is an error.
    pub fn new(height: usize, width: usize) -> Result<Self> {
        zero_size("CenterCrop", height, width)?;
        Ok(CenterCrop { height, width })
    }
}

/// `round(margin / 2)` with ties to even, the offset of a centred window.
fn centered_offset(margin: usize) -> usize {
    let half = margin / 2;
    if margin % 2 == 1 && half % 2 == 1 {
        half + 1
    } else {
        half
    }
}

impl Transform for CenterCrop {
    fn apply(&self, item: ImageItem, _rng: &mut StdRng) -> Result<ImageItem> {
        let [_, h, w] = checked_shape(&item, "CenterCrop")?;
        if self.height > h || self.width > w {
            return Err(Error::Shape {
                what: "CenterCrop input".into(),
                expected: format!("[_, >={}, >={}]", self.height, self.width),
                got: item.shape.to_vec(),
            });
        }
        let top = centered_offset(h - self.height);
        let left = centered_offset(w - self.width);
        Ok(crop_padded(&item, top, left, self.height, self.width, 0))
    }
}

/// Transforms applied in order, all drawing from the one generator given to
/// [`Transform::apply`]. An empty pipeline returns items unchanged.
#[derive(Debug, Default)]
pub struct Compose {
    steps: Vec<Box<dyn Transform>>,
}

impl Compose {
    /// An empty pipeline.
    pub fn new() -> Self {
        Self::default()
    }

    /// The pipeline followed by `step`.
    pub fn then(mut self, step: impl Transform + 'static) -> Self {
        self.steps.push(Box::new(step));
        self
    }

    /// Number of steps.
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Whether the pipeline has no steps.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

impl From<Vec<Box<dyn Transform>>> for Compose {
    fn from(steps: Vec<Box<dyn Transform>>) -> Self {
        Compose { steps }
    }
}

impl Transform for Compose {
    fn apply(&self, item: ImageItem, rng: &mut StdRng) -> Result<ImageItem> {
        self.steps
            .iter()
            .try_fold(item, |item, step| step.apply(item, rng))
    }
}

/// A dataset whose items go through a transform on access.
///
/// Item `index` is transformed with [`item_rng`]`(seed, epoch, index)`, where `epoch` is
/// what [`Transformed::set_epoch`] last set (0 at first): call it at the start of every
/// epoch so augmentations change between epochs, and a run with the same seed repeats
/// exactly, whatever order or thread the items are read in.
#[derive(Debug)]
pub struct Transformed<D, T> {
    inner: D,
    transform: T,
    seed: u64,
    epoch: AtomicUsize,
}

impl<D: Dataset<Item = ImageItem>, T: Transform> Transformed<D, T> {
    /// `inner` with `transform` applied to every item, augmentations seeded by `seed`.
    pub fn new(inner: D, transform: T, seed: u64) -> Self {
        Transformed {
            inner,
            transform,
            seed,
            epoch: AtomicUsize::new(0),
        }
    }

    /// Sets the epoch the per-item generators are derived from.
    pub fn set_epoch(&self, epoch: usize) {
        self.epoch.store(epoch, Ordering::Relaxed);
    }

    /// The current epoch.
    pub fn epoch(&self) -> usize {
        self.epoch.load(Ordering::Relaxed)
    }

    /// The wrapped dataset.
    pub fn inner(&self) -> &D {
        &self.inner
    }

    /// Item `index` transformed, or the transform's error. An index the inner dataset has no
    /// item for is an [`Error::Invalid`].
    pub fn try_get(&self, index: usize) -> Result<ImageItem> {
        let item = self.inner.get(index).ok_or_else(|| {
            Error::invalid(
                "dataset index",
                format!(
                    "no item {index} in the inner dataset of {} items",
                    self.inner.len()
                ),
            )
        })?;
        let mut rng = item_rng(self.seed, self.epoch(), index);
        self.transform.apply(item, &mut rng)
    }
}

impl<D: Dataset<Item = ImageItem>, T: Transform> Dataset for Transformed<D, T> {
    type Item = ImageItem;

    fn len(&self) -> usize {
        self.inner.len()
    }

    /// The transformed item; `None` out of range or when the transform fails (use
    /// [`Transformed::try_get`] for the error).
    fn get(&self, index: usize) -> Option<ImageItem> {
        self.try_get(index).ok()
    }
}
