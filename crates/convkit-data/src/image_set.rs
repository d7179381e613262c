//! Labelled images held in memory.

use convkit_core::{Error, Result};

use crate::transform::{Transform, item_rng};
use crate::{Dataset, ImageItem};

/// Pixel storage of an [`ImageSet`].
#[derive(Debug, Clone, PartialEq)]
pub enum Pixels {
    /// Bytes, read as `value / 255` (MNIST, CIFAR, decoded PNG/JPEG).
    U8(Vec<u8>),
    /// Floats, used as they are.
    F32(Vec<f32>),
}

impl Pixels {
    fn len(&self) -> usize {
        match self {
            Pixels::U8(v) => v.len(),
            Pixels::F32(v) => v.len(),
        }
    }
}

/// Labelled images of one shape `[C, H, W]`, stored contiguously (`N × C × H × W`).
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    pixels: Pixels,
    shape: [usize; 3],
    labels: Vec<usize>,
    classes: Vec<String>,
}

impl ImageSet {
    /// Builds a set; `None` if the pixel count is not `labels.len() × C × H × W` or a label is
    /// not below `classes.len()` (readers check and report these with file positions first).
    pub fn new(
        pixels: Pixels,
        shape: [usize; 3],
        labels: Vec<usize>,
        classes: Vec<String>,
    ) -> Option<Self> {
        let per_image = shape.iter().product::<usize>();
        let consistent = pixels.len() == labels.len().checked_mul(per_image)?
            && labels.iter().all(|&l| l < classes.len());
        consistent.then_some(ImageSet {
            pixels,
            shape,
            labels,
            classes,
        })
    }

    /// `[C, H, W]` of every image.
    pub fn shape(&self) -> [usize; 3] {
        self.shape
    }

    /// Class names, indexed by label.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// All labels, in order.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The pixels of all images, `N × C × H × W`.
    pub fn pixels(&self) -> &Pixels {
        &self.pixels
    }

    /// The images at `indices`, in that order (a split or a subsample); `None` if an index
    /// is out of range.
    pub fn select(&self, indices: &[usize]) -> Option<ImageSet> {
        let n = self.shape.iter().product::<usize>();
        let pick = |i: usize| i.checked_mul(n).map(|start| start..start + n);
        let pixels = match &self.pixels {
            Pixels::U8(v) => Pixels::U8(gather(v, indices, pick)?),
            Pixels::F32(v) => Pixels::F32(gather(v, indices, pick)?),
        };
        let labels = indices
            .iter()
            .map(|&i| self.labels.get(i).copied())
            .collect::<Option<Vec<_>>>()?;
        ImageSet::new(pixels, self.shape, labels, self.classes.clone())
    }

    /// Per-channel mean and population standard deviation of the pixels as the set yields
    /// them (bytes read as `value / 255`), accumulated in `f64`. These are the statistics a
    /// training run normalizes with; an empty set gives zeros.
    pub fn channel_stats(&self) -> (Vec<f32>, Vec<f32>) {
        let [c, h, w] = self.shape;
        let plane = h * w;
        let mut sum = vec![0f64; c];
        let mut sum_sq = vec![0f64; c];
        let mut add = |index: usize, value: f64| {
            let ch = (index / plane.max(1)) % c.max(1);
            sum[ch] += value;
            sum_sq[ch] += value * value;
        };
        match &self.pixels {
            Pixels::U8(v) => v
                .iter()
                .enumerate()
                .for_each(|(i, &p)| add(i, f64::from(p) / 255.0)),
            Pixels::F32(v) => v
                .iter()
                .enumerate()
                .for_each(|(i, &p)| add(i, f64::from(p))),
        }
        let count = (self.labels.len() * plane).max(1) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / count).collect();
        let std = sum_sq
            .iter()
            .zip(&mean)
            .map(|(sq, m)| ((sq / count - m * m).max(0.0)).sqrt() as f32)
            .collect();
        (mean.into_iter().map(|m| m as f32).collect(), std)
    }

    /// Every image passed through `transform` (item `i` with [`item_rng`]`(0, 0, i)`), which
    /// must give one shape for all of them: e.g. a resize to a fixed size. The result holds
    /// floats.
    pub fn map_images(&self, transform: &dyn Transform) -> Result<ImageSet> {
        let mut pixels = Vec::new();
        let mut shape = None;
        for index in 0..self.len() {
            let item = self
                .get(index)
                .ok_or_else(|| Error::invalid("image set", format!("item {index} is missing")))?;
            let out = transform.apply(item, &mut item_rng(0, 0, index))?;
            match shape {
                None => shape = Some(out.shape),
                Some(s) if s != out.shape => {
                    return Err(Error::invalid(
                        "transform",
                        format!(
                            "image {index} became {:?} but the first became {s:?}; the \
                             transform must give every image one shape",
                            out.shape
                        ),
                    ));
                }
                Some(_) => {}
            }
            pixels.extend_from_slice(&out.pixels);
        }
        let shape = shape.unwrap_or(self.shape);
        ImageSet::new(
            Pixels::F32(pixels),
            shape,
            self.labels.clone(),
            self.classes.clone(),
        )
        .ok_or_else(|| Error::invalid("transform", "pixel count does not match the labels"))
    }
}

/// Class names from a text file with one name per line (blank lines and surrounding spaces
/// ignored), as CIFAR's `batches.meta.txt` or a dataset's `classes.txt`; `None` when the file
/// does not exist, an error when it cannot be read or holds no name.
pub fn read_class_names(path: &std::path::Path) -> Result<Option<Vec<String>>> {
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    if names.is_empty() {
        return Err(Error::file(
            path,
            "holds no class name (one per line expected)",
        ));
    }
    Ok(Some(names))
}

/// The ranges `pick(i)` of `values` for every `i` in `indices`, concatenated; `None` if one
/// is out of range.
fn gather<T: Copy>(
    values: &[T],
    indices: &[usize],
    pick: impl Fn(usize) -> Option<std::ops::Range<usize>>,
) -> Option<Vec<T>> {
    let mut out = Vec::new();
    for &i in indices {
        out.extend_from_slice(values.get(pick(i)?)?);
    }
    Some(out)
}

impl Dataset for ImageSet {
    type Item = ImageItem;

    fn len(&self) -> usize {
        self.labels.len()
    }

    fn get(&self, index: usize) -> Option<ImageItem> {
        let label = *self.labels.get(index)?;
        let n = self.shape.iter().product::<usize>();
        let range = index * n..(index + 1) * n;
        let pixels = match &self.pixels {
            Pixels::U8(v) => v[range].iter().map(|&p| p as f32 / 255.0).collect(),
            Pixels::F32(v) => v[range].to_vec(),
        };
        Some(ImageItem {
            pixels,
            shape: self.shape,
            label,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::{Resize, ResizeFilter, ResizeTo};

    fn two_channel_set() -> ImageSet {
        // 3 images of [2, 1, 2]: channel 0 holds 0 and 255, channel 1 holds 51.
        let pixels = [0, 255, 51, 51, 255, 0, 51, 51, 0, 0, 51, 51].to_vec();
        ImageSet::new(
            Pixels::U8(pixels),
            [2, 1, 2],
            vec![0, 1, 1],
            vec!["a".into(), "b".into()],
        )
        .unwrap()
    }

    #[test]
    fn channel_stats_are_population_mean_and_std_per_channel() {
        let (mean, std) = two_channel_set().channel_stats();
        // Channel 0: values 0, 1, 1, 0, 0, 0 -> mean 1/3, variance 2/9.
        assert!((mean[0] - 1.0 / 3.0).abs() < 1e-7, "{mean:?}");
        assert!((std[0] - (2.0f32 / 9.0).sqrt()).abs() < 1e-7, "{std:?}");
        assert!((mean[1] - 0.2).abs() < 1e-7 && std[1].abs() < 1e-7);
    }

    #[test]
    fn select_picks_images_and_labels_in_order() {
        let set = two_channel_set();
        let picked = set.select(&[2, 0]).unwrap();
        assert_eq!(picked.labels(), &[1, 0]);
        assert_eq!(picked.get(0), set.get(2));
        assert_eq!(picked.get(1), set.get(0));
        assert!(set.select(&[3]).is_none());
    }

    #[test]
    fn map_images_resizes_every_image() {
        let set = two_channel_set();
        let resize = Resize::new(
            ResizeTo::Exact {
                height: 2,
                width: 4,
            },
            ResizeFilter::Bilinear,
        )
        .unwrap();
        let out = set.map_images(&resize).unwrap();
        assert_eq!(out.shape(), [2, 2, 4]);
        assert_eq!(out.len(), 3);
        assert_eq!(out.labels(), set.labels());
    }
}
