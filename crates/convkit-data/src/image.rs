//! Image classification items and batches.

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::Batcher;

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
        let shape = items[0].shape;
        let [c, h, w] = shape;
        let mut pixels = Vec::with_capacity(items.len() * c * h * w);
        let mut labels = Vec::with_capacity(items.len());
        for item in &items {
            assert_eq!(
                item.shape, shape,
                "all images of a batch must have one shape"
            );
            match &self.normalize {
                Some((mean, std)) => {
                    assert_eq!(mean.len(), c, "normalization has the wrong channel count");
                    for (ch, plane) in item.pixels.chunks_exact(h * w).enumerate() {
                        pixels.extend(plane.iter().map(|p| (p - mean[ch]) / std[ch]));
                    }
                }
                None => pixels.extend_from_slice(&item.pixels),
            }
            labels.push(item.label as i64);
        }
        let n = items.len();
        ImageBatch {
            images: Tensor::from_data(TensorData::new(pixels, [n, c, h, w]), device),
            targets: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }
}
