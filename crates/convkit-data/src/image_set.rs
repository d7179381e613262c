//! Labelled images held in memory.

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
