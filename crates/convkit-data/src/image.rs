//! Image classification items and batches.

use burn::tensor::{Device, Int, Tensor};

use crate::Batcher;
use crate::dataset::stack_labelled;

/// One image with its class label.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageItem {
    /// Pixels in `[C, H, W]` order (row-major), usually in `[0, 1]`.
    pub pixels: Vec<f32>,
    /// `[C, H, W]`.
    pub shape: [usize; 3],
    /// Class index.
    pub label: usize,
}

/// A batch of images and labels.
#[derive(Debug, Clone)]
pub struct ImageBatch {
    /// `[N, C, H, W]`.
    pub images: Tensor<4>,
    /// `[N]` class indices.
    pub targets: Tensor<1, Int>,
}

/// Stacks [`ImageItem`]s of one shape into an [`ImageBatch`], optionally normalizing each
/// channel as `(x - mean[c]) / std[c]`.
#[derive(Debug, Clone, Default)]
pub struct ImageBatcher {
    normalize: Option<(Vec<f32>, Vec<f32>)>,
}

impl ImageBatcher {
    /// A batcher that leaves pixels as they are.
    pub fn new() -> Self {
        Self::default()
    }

    /// A batcher that normalizes channel `c` by `mean[c]` and `std[c]`.
    pub fn with_normalization(mean: Vec<f32>, std: Vec<f32>) -> Self {
        ImageBatcher {
            normalize: Some((mean, std)),
        }
    }
}

impl Batcher<ImageItem> for ImageBatcher {
    type Batch = ImageBatch;

    /// # Panics
    /// If the items have different shapes or the normalization has the wrong channel count:
    /// datasets validate their items when they are read, so this is a programming error.
    fn batch(&self, items: Vec<ImageItem>, device: &Device) -> ImageBatch {
        let (images, targets) = stack_labelled(
            &items,
            "images",
            |item| (item.shape, item.label),
            |item, out| match &self.normalize {
                Some((mean, std)) => {
                    let [c, h, w] = item.shape;
                    assert_eq!(mean.len(), c, "normalization has the wrong channel count");
                    for (ch, plane) in item.pixels.chunks_exact(h * w).enumerate() {
                        out.extend(plane.iter().map(|p| (p - mean[ch]) / std[ch]));
                    }
                }
                None => out.extend_from_slice(&item.pixels),
            },
            device,
        );
        ImageBatch { images, targets }
    }
}
