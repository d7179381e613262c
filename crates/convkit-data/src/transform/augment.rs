//! Random augmentations, seeded per (seed, epoch, index): crops with padding and horizontal flips.

use super::*;

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
