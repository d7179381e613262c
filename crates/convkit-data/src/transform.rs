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

/// The target size of a [`Resize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeTo {
    /// Scale so the shorter side has this length, keeping the aspect ratio; the longer side
    /// becomes `floor(size * longer / shorter)`, as torchvision's `Resize(int)`.
    Shorter(usize),
    /// Exactly this height and width.
    Exact {
        /// Output height.
        height: usize,
        /// Output width.
        width: usize,
    },
}

/// How a [`Resize`] samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResizeFilter {
    /// Bilinear with half-pixel centres (`align_corners=False`): each output pixel blends
    /// the 2x2 input pixels around its centre. Shrinking by more than 2 skips pixels and
    /// aliases.
    Bilinear,
    /// Bilinear whose triangle filter is widened by the shrink factor when shrinking, so
    /// every input pixel contributes (`antialias=True`, torchvision's default and close to
    /// PIL's bilinear resize). Identical to [`ResizeFilter::Bilinear`] when enlarging.
    #[default]
    BilinearAntialias,
}

/// Resizes every channel with a separable bilinear filter (see the module documentation
/// for the reference it matches). Width is resampled first, then height, as PyTorch does.
#[derive(Debug, Clone, PartialEq)]
pub struct Resize {
    size: ResizeTo,
    filter: ResizeFilter,
}

impl Resize {
    /// A resize to `size` with `filter`; a zero size is an error.
    pub fn new(size: ResizeTo, filter: ResizeFilter) -> Result<Self> {
        match size {
            ResizeTo::Shorter(s) => zero_size("Resize", s, s)?,
            ResizeTo::Exact { height, width } => zero_size("Resize", height, width)?,
        }
        Ok(Resize { size, filter })
    }

    /// The `(height, width)` an image of `height` x `width` is resized to; an empty image
    /// is an [`Error::Shape`].
    pub fn output_size(&self, height: usize, width: usize) -> Result<(usize, usize)> {
        if height == 0 || width == 0 {
            return Err(Error::Shape {
                what: "Resize input (height, width)".into(),
                expected: "[>=1, >=1]".into(),
                got: vec![height, width],
            });
        }
        match self.size {
            ResizeTo::Exact { height, width } => Ok((height, width)),
            ResizeTo::Shorter(size) => {
                let (short, long) = (height.min(width), height.max(width));
                let new_long = size.checked_mul(long).map(|n| n / short).ok_or_else(|| {
                    Error::invalid(
                        "Resize size",
                        format!("shorter side {size} overflows for a {height}x{width} image"),
                    )
                })?;
                Ok(if height <= width {
                    (size, new_long)
                } else {
                    (new_long, size)
                })
            }
        }
    }
}

/// The taps of one output pixel along one axis: the first input index and the weights of
/// the consecutive input pixels from there (normalized to sum to 1).
struct Taps {
    start: usize,
    weights: Vec<f32>,
}

/// The taps of every output pixel when resampling an axis of `input` pixels to `output`.
///
/// Output pixel `i` is centred at `scale * (i + 0.5)` in input coordinates (`scale = input /
/// output`); input pixel `j` is centred at `j + 0.5`. The triangle filter `max(0, 1 - |d|)`
/// is stretched by `scale` when antialiasing a shrink, and input pixels whose centre lies
/// within its support contribute, with weights renormalized at the borders. This is
/// PyTorch's `_compute_indices_weights_aa`, which for a support of 1 reduces to plain
/// `align_corners=False` bilinear with the source coordinate clamped at the edges.
fn axis_taps(input: usize, output: usize, antialias: bool) -> Vec<Taps> {
    let scale = input as f64 / output as f64;
    let stretch = if antialias && scale > 1.0 { scale } else { 1.0 };
    (0..output)
        .map(|i| {
            let center = scale * (i as f64 + 0.5);
            // Truncation toward zero, as the C++ reference's integer casts.
            let start = ((center - stretch + 0.5) as i64).max(0) as usize;
            let end = ((center + stretch + 0.5) as i64).clamp(0, input as i64) as usize;
            let mut weights: Vec<f64> = (start..end)
                .map(|j| (1.0 - ((j as f64 - center + 0.5) / stretch).abs()).max(0.0))
                .collect();
            let total: f64 = weights.iter().sum();
            if total > 0.0 {
                weights.iter_mut().for_each(|w| *w /= total);
            }
            Taps {
                start,
                weights: weights.into_iter().map(|w| w as f32).collect(),
            }
        })
        .collect()
}

impl Transform for Resize {
    fn apply(&self, item: ImageItem, _rng: &mut StdRng) -> Result<ImageItem> {
        let [c, h, w] = checked_shape(&item, "Resize")?;
        let (oh, ow) = self.output_size(h, w)?;
        if (oh, ow) == (h, w) {
            return Ok(item);
        }
        let antialias = self.filter == ResizeFilter::BilinearAntialias;
        let (rows, cols) = (axis_taps(h, oh, antialias), axis_taps(w, ow, antialias));
        let mut wide = Vec::with_capacity(c * h * ow);
        for row in item.pixels.chunks_exact(w) {
            for taps in &cols {
                let src = &row[taps.start..taps.start + taps.weights.len()];
                wide.push(
                    src.iter()
                        .zip(&taps.weights)
                        .map(|(p, k)| p * k)
                        .sum::<f32>(),
                );
            }
        }
        let mut pixels = Vec::with_capacity(c * oh * ow);
        for plane in wide.chunks_exact(h * ow) {
            for taps in &rows {
                // Whole rows at a time (contiguous, vectorizable); each output pixel still
                // sums its taps in order, as the reference does.
                let base = pixels.len();
                pixels.resize(base + ow, 0.0);
                let out = &mut pixels[base..];
                for (k, weight) in taps.weights.iter().enumerate() {
                    let src = &plane[(taps.start + k) * ow..(taps.start + k + 1) * ow];
                    out.iter_mut().zip(src).for_each(|(o, p)| *o += p * weight);
                }
            }
        }
        Ok(ImageItem {
            pixels,
            shape: [c, oh, ow],
            label: item.label,
        })
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

/// Standardizes channel `c` as `(x - mean[c]) / std[c]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalize {
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl Normalize {
    /// One mean and standard deviation per channel; the lists must have the same non-zero
    /// length, finite means and finite positive deviations.
    pub fn new(mean: Vec<f32>, std: Vec<f32>) -> Result<Self> {
        if mean.is_empty() || mean.len() != std.len() {
            return Err(Error::invalid(
                "Normalize",
                format!(
                    "mean and std need one value per channel, got {} means and {} deviations",
                    mean.len(),
                    std.len()
                ),
            ));
        }
        if let Some(m) = mean.iter().find(|m| !m.is_finite()) {
            return Err(Error::invalid(
                "Normalize mean",
                format!("must be finite, got {m}"),
            ));
        }
        if let Some(s) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::invalid(
                "Normalize std",
                format!("must be finite and positive, got {s}"),
            ));
        }
        Ok(Normalize { mean, std })
    }
}

impl Transform for Normalize {
    fn apply(&self, mut item: ImageItem, _rng: &mut StdRng) -> Result<ImageItem> {
        let [c, h, w] = checked_shape(&item, "Normalize")?;
        if c != self.mean.len() {
            return Err(Error::Shape {
                what: "Normalize input".into(),
                expected: format!("[{}, _, _]", self.mean.len()),
                got: item.shape.to_vec(),
            });
        }
        if h * w > 0 {
            for ((plane, m), s) in item
                .pixels
                .chunks_exact_mut(h * w)
                .zip(&self.mean)
                .zip(&self.std)
            {
                plane.iter_mut().for_each(|p| *p = (*p - m) / s);
            }
        }
        Ok(item)
    }
}

/// Pads every side with `padding` zeros, then crops a `height` x `width` window at a
/// uniformly random position (top drawn first, then left), as torchvision's
/// `RandomCrop(size, padding)`. A window larger than the padded image is an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RandomCrop {
    height: usize,
    width: usize,
    padding: usize,
}

impl RandomCrop {
    /// A random `height` x `width` crop after zero padding; a zero size is an error.
    pub fn new(height: usize, width: usize, padding: usize) -> Result<Self> {
        zero_size("RandomCrop", height, width)?;
        Ok(RandomCrop {
            height,
            width,
            padding,
        })
    }
}

impl Transform for RandomCrop {
    fn apply(&self, item: ImageItem, rng: &mut StdRng) -> Result<ImageItem> {
        let [_, h, w] = checked_shape(&item, "RandomCrop")?;
        let padded = |n: usize| self.padding.checked_mul(2).and_then(|p| p.checked_add(n));
        let fits = |n: usize, crop: usize| padded(n).is_some_and(|p| p >= crop);
        if !(fits(h, self.height) && fits(w, self.width)) {
            return Err(Error::Shape {
                what: format!("RandomCrop input (padded by {})", self.padding),
                expected: format!(
                    "[_, >={}, >={}] before padding",
                    self.height.saturating_sub(self.padding.saturating_mul(2)),
                    self.width.saturating_sub(self.padding.saturating_mul(2))
                ),
                got: item.shape.to_vec(),
            });
        }
        // Both fit, so the padded sizes exist and are at least the crop.
        let (ph, pw) = (padded(h).unwrap_or(h), padded(w).unwrap_or(w));
        let top = rng.random_range(0..=ph - self.height);
        let left = rng.random_range(0..=pw - self.width);
        Ok(crop_padded(
            &item,
            top,
            left,
            self.height,
            self.width,
            self.padding,
        ))
    }
}

/// Mirrors the image left to right with probability `p`. One number is drawn per image
/// whatever the outcome, so later transforms see the same generator state either way.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomHorizontalFlip {
    p: f32,
}

impl RandomHorizontalFlip {
    /// A flip with probability `p` in `[0, 1]`.
    pub fn new(p: f32) -> Result<Self> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::invalid(
                "RandomHorizontalFlip probability",
                format!("must be in [0, 1], got {p}"),
            ));
        }
        Ok(RandomHorizontalFlip { p })
    }
}

impl Transform for RandomHorizontalFlip {
    fn apply(&self, mut item: ImageItem, rng: &mut StdRng) -> Result<ImageItem> {
        let [_, _, w] = checked_shape(&item, "RandomHorizontalFlip")?;
        if rng.random::<f32>() < self.p && w > 0 {
            item.pixels.chunks_exact_mut(w).for_each(<[f32]>::reverse);
        }
        Ok(item)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(shape: [usize; 3]) -> ImageItem {
        let n = shape.iter().product::<usize>();
        ImageItem {
            pixels: (0..n).map(|i| i as f32).collect(),
            shape,
            label: 4,
        }
    }

    fn rng() -> StdRng {
        item_rng(0, 0, 0)
    }

    /// One case of `tests/data/images/resize_reference.bin` (layout in
    /// `tools/refgen/transforms.py`).
    struct ReferenceCase {
        antialias: bool,
        input: ImageItem,
        output_hw: (usize, usize),
        expected: Vec<f32>,
    }

    fn reference_cases() -> Vec<ReferenceCase> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/images/resize_reference.bin"
        );
        let bytes = std::fs::read(path).unwrap();
        let words: Vec<[u8; 4]> = bytes
            .chunks_exact(4)
            .map(|c| c.try_into().unwrap())
            .collect();
        let mut at = 0;
        let mut cases = Vec::new();
        while at < words.len() {
            let header: Vec<usize> = words[at..at + 6]
                .iter()
                .map(|w| u32::from_le_bytes(*w) as usize)
                .collect();
            at += 6;
            let [aa, c, h, w, oh, ow] = header[..] else {
                unreachable!()
            };
            let mut floats = |n: usize| {
                let v: Vec<f32> = words[at..at + n]
                    .iter()
                    .map(|w| f32::from_le_bytes(*w))
                    .collect();
                at += n;
                v
            };
            let input = floats(c * h * w);
            let expected = floats(c * oh * ow);
            cases.push(ReferenceCase {
                antialias: aa == 1,
                input: ImageItem {
                    pixels: input,
                    shape: [c, h, w],
                    label: 0,
                },
                output_hw: (oh, ow),
                expected,
            });
        }
        cases
    }

    #[test]
    fn resize_matches_torch_interpolate() {
        let cases = reference_cases();
        assert_eq!(cases.len(), 6);
        for case in cases {
            let (height, width) = case.output_hw;
            let filter = if case.antialias {
                ResizeFilter::BilinearAntialias
            } else {
                ResizeFilter::Bilinear
            };
            let resize = Resize::new(ResizeTo::Exact { height, width }, filter).unwrap();
            let from = case.input.shape;
            let out = resize.apply(case.input, &mut rng()).unwrap();
            assert_eq!(out.shape, [from[0], height, width]);
            let worst = out
                .pixels
                .iter()
                .zip(&case.expected)
                .map(|(a, e)| (a - e).abs())
                .fold(0.0f32, f32::max);
            assert!(
                worst <= 1e-5,
                "{from:?} -> {:?} antialias {}: max error {worst}",
                case.output_hw,
                case.antialias
            );
        }
    }

    #[test]
    fn resize_shorter_side_keeps_aspect_ratio() {
        let resize = Resize::new(ResizeTo::Shorter(4), ResizeFilter::default()).unwrap();
        assert_eq!(resize.output_size(6, 9).unwrap(), (4, 6));
        assert_eq!(
            resize.output_size(10, 7).unwrap(),
            (5, 4),
            "floor(4 * 10 / 7) = 5"
        );
        let out = resize.apply(ramp([2, 6, 9]), &mut rng()).unwrap();
        assert_eq!((out.shape, out.label), ([2, 4, 6], 4));
        // A constant image stays constant: the weights sum to one everywhere.
        let flat = ImageItem {
            pixels: vec![0.25; 3 * 7 * 5],
            shape: [3, 7, 5],
            label: 0,
        };
        let out = resize.apply(flat, &mut rng()).unwrap();
        assert!(out.pixels.iter().all(|p| (p - 0.25).abs() < 1e-6));
        // The same size is the identity.
        let same = Resize::new(
            ResizeTo::Exact {
                height: 3,
                width: 4,
            },
            ResizeFilter::Bilinear,
        )
        .unwrap()
        .apply(ramp([1, 3, 4]), &mut rng())
        .unwrap();
        assert_eq!(same, ramp([1, 3, 4]));
    }

    #[test]
    fn center_crop_rounds_half_to_even_like_torchvision() {
        assert_eq!(
            (0..7).map(centered_offset).collect::<Vec<_>>(),
            [0, 0, 1, 2, 2, 2, 3]
        );
        let out = CenterCrop::new(2, 3)
            .unwrap()
            .apply(ramp([1, 5, 4]), &mut rng())
            .unwrap();
        // Margins 3 (rows, offset 2) and 1 (columns, offset 0).
        assert_eq!(out.shape, [1, 2, 3]);
        assert_eq!(out.pixels, [8.0, 9.0, 10.0, 12.0, 13.0, 14.0]);
    }

    #[test]
    fn normalize_per_channel() {
        let item = ImageItem {
            pixels: vec![1.0, 3.0, 0.5, 0.0],
            shape: [2, 1, 2],
            label: 0,
        };
        let out = Normalize::new(vec![1.0, 0.5], vec![2.0, 0.25])
            .unwrap()
            .apply(item, &mut rng())
            .unwrap();
        assert_eq!(out.pixels, [0.0, 1.0, 0.0, -2.0]);
    }

    #[test]
    fn random_crop_is_a_window_of_the_padded_image() {
        let crop = RandomCrop::new(3, 3, 1).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        for seed in 0..200 {
            let out = crop
                .apply(ramp([1, 3, 3]), &mut item_rng(seed, 0, 0))
                .unwrap();
            assert_eq!(out.shape, [1, 3, 3]);
            // The 5x5 zero-padded ramp; find which window the crop is.
            let padded: Vec<f32> = (0..25)
                .map(|i| {
                    let (y, x) = (i / 5, i % 5);
                    if (1..4).contains(&y) && (1..4).contains(&x) {
                        ((y - 1) * 3 + x - 1) as f32
                    } else {
                        0.0
                    }
                })
                .collect();
            let offset = (0..3)
                .flat_map(|t| (0..3).map(move |l| (t, l)))
                .find(|&(t, l)| {
                    (0..9).all(|k| out.pixels[k] == padded[(t + k / 3) * 5 + l + k % 3])
                })
                .expect("the crop is a window of the padded image");
            seen.insert(offset);
        }
        assert_eq!(seen.len(), 9, "every offset of the 5x5 padded image occurs");
        // Same generator state, same crop.
        let a = crop.apply(ramp([2, 4, 4]), &mut item_rng(3, 1, 2)).unwrap();
        let b = crop.apply(ramp([2, 4, 4]), &mut item_rng(3, 1, 2)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn horizontal_flip_mirrors_rows() {
        let always = RandomHorizontalFlip::new(1.0).unwrap();
        let out = always.apply(ramp([2, 2, 3]), &mut rng()).unwrap();
        assert_eq!(
            out.pixels,
            [2.0, 1.0, 0.0, 5.0, 4.0, 3.0, 8.0, 7.0, 6.0, 11.0, 10.0, 9.0]
        );
        let never = RandomHorizontalFlip::new(0.0).unwrap();
        assert_eq!(
            never.apply(ramp([1, 2, 3]), &mut rng()).unwrap(),
            ramp([1, 2, 3])
        );
        let half = RandomHorizontalFlip::new(0.5).unwrap();
        let flipped = (0..1000)
            .filter(|&i| {
                half.apply(ramp([1, 1, 2]), &mut item_rng(1, 0, i)).unwrap() != ramp([1, 1, 2])
            })
            .count();
        assert!((430..570).contains(&flipped), "{flipped} of 1000 flipped");
    }

    #[test]
    fn invalid_settings_and_shapes_are_typed_errors() {
        let invalid = |r: Result<()>| match r {
            Err(Error::Invalid { what, reason }) => format!("{what}: {reason}"),
            other => panic!("expected Error::Invalid, got {other:?}"),
        };
        let e = invalid(Resize::new(ResizeTo::Shorter(0), ResizeFilter::Bilinear).map(drop));
        assert!(e.contains("Resize size") && e.contains("0x0"), "{e}");
        let e = invalid(CenterCrop::new(3, 0).map(drop));
        assert!(e.contains("3x0"), "{e}");
        invalid(RandomCrop::new(0, 2, 1).map(drop));
        let e = invalid(RandomHorizontalFlip::new(1.5).map(drop));
        assert!(e.contains("got 1.5"), "{e}");
        invalid(RandomHorizontalFlip::new(f32::NAN).map(drop));
        let e = invalid(Normalize::new(vec![0.5; 3], vec![0.2; 2]).map(drop));
        assert!(e.contains("3 means and 2 deviations"), "{e}");
        let e = invalid(Normalize::new(vec![0.5], vec![0.0]).map(drop));
        assert!(e.contains("positive, got 0"), "{e}");

        let shape = |r: Result<ImageItem>| match r {
            Err(e @ Error::Shape { .. }) => e.to_string(),
            other => panic!("expected Error::Shape, got {other:?}"),
        };
        let e = shape(
            CenterCrop::new(4, 6)
                .unwrap()
                .apply(ramp([1, 5, 5]), &mut rng()),
        );
        assert_eq!(
            e,
            "CenterCrop input: expected shape [_, >=4, >=6], got [1, 5, 5]"
        );
        let e = shape(
            RandomCrop::new(8, 8, 1)
                .unwrap()
                .apply(ramp([3, 5, 6]), &mut rng()),
        );
        assert!(
            e.contains("padded by 1") && e.contains("[_, >=6, >=6]"),
            "{e}"
        );
        let e = shape(
            Normalize::new(vec![0.5; 3], vec![0.2; 3])
                .unwrap()
                .apply(ramp([1, 2, 2]), &mut rng()),
        );
        assert!(e.contains("[3, _, _]") && e.contains("[1, 2, 2]"), "{e}");
        let broken = ImageItem {
            pixels: vec![0.0; 5],
            shape: [1, 2, 2],
            label: 0,
        };
        let e = shape(
            RandomHorizontalFlip::new(1.0)
                .unwrap()
                .apply(broken, &mut rng()),
        );
        assert!(e.contains("5 pixels"), "{e}");
        let empty = ImageItem {
            pixels: vec![],
            shape: [1, 0, 3],
            label: 0,
        };
        let resize = Resize::new(ResizeTo::Shorter(2), ResizeFilter::default()).unwrap();
        let e = shape(resize.apply(empty.clone(), &mut rng()));
        assert_eq!(
            e,
            "Resize input (height, width): expected shape [>=1, >=1], got [0, 3]"
        );
        // Padding makes room for a crop of an empty image: all zeros.
        let out = RandomCrop::new(2, 2, 1)
            .unwrap()
            .apply(empty, &mut rng())
            .unwrap();
        assert_eq!((out.shape, out.pixels), ([1, 2, 2], vec![0.0; 4]));
    }

    #[test]
    fn compose_and_transformed_are_reproducible_per_epoch_and_index() {
        let pipeline = Compose::new()
            .then(RandomCrop::new(4, 4, 2).unwrap())
            .then(RandomHorizontalFlip::new(0.5).unwrap())
            .then(Normalize::new(vec![1.0], vec![2.0]).unwrap());
        assert_eq!(pipeline.len(), 3);
        let data: Vec<ImageItem> = (0..6).map(|i| ramp([1, 4, 4 + i % 2])).collect();
        let set = VecDataset(data);
        let a = Transformed::new(&set, pipeline, 11);
        let first: Vec<_> = (0..6).map(|i| a.try_get(i).unwrap()).collect();
        // Reading in another order gives the same items.
        for i in (0..6).rev() {
            assert_eq!(a.get(i).unwrap(), first[i]);
        }
        a.set_epoch(1);
        assert_eq!(a.epoch(), 1);
        let second: Vec<_> = (0..6).map(|i| a.try_get(i).unwrap()).collect();
        assert_ne!(first, second, "a new epoch draws new augmentations");
        a.set_epoch(0);
        assert_eq!(a.try_get(2).unwrap(), first[2]);
        assert!(first.iter().all(|item| item.shape == [1, 4, 4]));
        // Out of range.
        let e = a.try_get(6).unwrap_err().to_string();
        assert!(e.contains("no item 6") && e.contains("6 items"), "{e}");
        assert!(a.get(6).is_none());
        // Distinct (epoch, index) pairs with equal sums get unrelated generators.
        assert_ne!(
            item_rng(5, 0, 1).random::<u64>(),
            item_rng(5, 1, 0).random::<u64>()
        );
    }

    struct VecDataset(Vec<ImageItem>);

    impl Dataset for VecDataset {
        type Item = ImageItem;
        fn len(&self) -> usize {
            self.0.len()
        }
        fn get(&self, index: usize) -> Option<ImageItem> {
            self.0.get(index).cloned()
        }
    }
}
