//! Semantic segmentation items and batches, and the synthetic shapes with per-pixel class
//! masks.

use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::{Batcher, Dataset, ShapeClass, ShapesConfig, ShapesDataset};

/// One image with its per-pixel class mask.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentationItem {
    /// Pixels in `[C, H, W]` order (row-major), usually in `[0, 1]`.
    pub pixels: Vec<f32>,
    /// `[C, H, W]`.
    pub shape: [usize; 3],
    /// Class index of every pixel, `[H, W]` row-major.
    pub mask: Vec<usize>,
}

/// A batch of images and their masks.
#[derive(Debug, Clone)]
pub struct SegmentationBatch {
    /// `[N, C, H, W]`.
    pub images: Tensor<4>,
    /// `[N, H, W]` class indices.
    pub masks: Tensor<3, Int>,
}

/// Stacks [`SegmentationItem`]s of one shape into a [`SegmentationBatch`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SegmentationBatcher;

impl SegmentationBatcher {
    /// The batcher (pixels and class indices are taken as they are).
    pub fn new() -> Self {
        SegmentationBatcher
    }
}

impl Batcher<SegmentationItem> for SegmentationBatcher {
    type Batch = SegmentationBatch;

    /// # Panics
    /// If the items have different shapes or a mask does not have `H · W` entries: datasets
    /// make items of one shape, so this is a programming error.
    fn batch(&self, items: Vec<SegmentationItem>, device: &Device) -> SegmentationBatch {
        let [c, h, w] = items[0].shape;
        let n = items.len();
        let mut pixels = Vec::with_capacity(n * c * h * w);
        let mut masks = Vec::with_capacity(n * h * w);
        for item in &items {
            assert_eq!(
                item.shape, items[0].shape,
                "all images of a batch must have one shape"
            );
            assert_eq!(item.mask.len(), h * w, "a mask must have H · W entries");
            pixels.extend_from_slice(&item.pixels);
            masks.extend(item.mask.iter().map(|&m| m as i64));
        }
        SegmentationBatch {
            images: Tensor::from_data(TensorData::new(pixels, [n, c, h, w]), device),
            masks: Tensor::from_data(TensorData::new(masks, [n, h, w]), device),
        }
    }
}

/// [`ShapesDataset`] as a segmentation task: each pixel is labelled background (0) or the
/// class of the shape covering it (`1 + label`: 1 circle, 2 square, 3 triangle).
///
/// The images are exactly those of [`ShapesDataset`] with the same configuration and the masks
/// come from [`ShapesDataset::mask`], so the task is to outline the shape and name it from its
/// outline, pixel by pixel. Items are generated on access and deterministic by seed.
#[derive(Debug, Clone)]
pub struct ShapesSegmentation {
    shapes: ShapesDataset,
}

impl ShapesSegmentation {
    /// Number of mask classes: background and the three shapes.
    pub const NUM_CLASSES: usize = 1 + ShapeClass::ALL.len();

    /// The dataset of `config`'s shapes (same images as `ShapesDataset::new(config)`).
    pub fn new(config: ShapesConfig) -> Self {
        ShapesSegmentation {
            shapes: ShapesDataset::new(config),
        }
    }

    /// Mask class names in index order: `background`, then the shape names.
    pub fn class_names() -> Vec<String> {
        std::iter::once("background".to_string())
            .chain(ShapesDataset::class_names())
            .collect()
    }
}

impl Dataset for ShapesSegmentation {
    type Item = SegmentationItem;

    fn len(&self) -> usize {
        self.shapes.len()
    }

    fn get(&self, index: usize) -> Option<SegmentationItem> {
        let image = self.shapes.get(index)?;
        let class = 1 + image.label;
        let mask = self
            .shapes
            .mask(index)?
            .into_iter()
            .map(|inside| if inside == 1 { class } else { 0 })
            .collect();
        Some(SegmentationItem {
            pixels: image.pixels,
            shape: image.shape,
            mask,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_label_the_shape_and_batches_stack() {
        let config = ShapesConfig::new(6).with_image_size(12).with_channels(2);
        let data = ShapesSegmentation::new(config.clone());
        let shapes = ShapesDataset::new(config);
        assert_eq!(ShapesSegmentation::NUM_CLASSES, 4);
        assert_eq!(
            ShapesSegmentation::class_names(),
            ["background", "circle", "square", "triangle"]
        );
        for i in 0..6 {
            let item = data.get(i).unwrap();
            assert_eq!(item.pixels, shapes.get(i).unwrap().pixels);
            let binary = shapes.mask(i).unwrap();
            for (m, b) in item.mask.iter().zip(&binary) {
                assert_eq!(*m, if *b == 1 { 1 + i % 3 } else { 0 });
            }
        }
        assert!(data.get(6).is_none());

        let device = Device::flex();
        let items: Vec<_> = (0..3).map(|i| data.get(i).unwrap()).collect();
        let batch = SegmentationBatcher::new().batch(items.clone(), &device);
        assert_eq!(batch.images.dims(), [3, 2, 12, 12]);
        assert_eq!(batch.masks.dims(), [3, 12, 12]);
        let masks = batch.masks.into_data().iter::<i64>().collect::<Vec<_>>();
        let expected: Vec<i64> = items
            .iter()
            .flat_map(|it| it.mask.iter().map(|&m| m as i64))
            .collect();
        assert_eq!(masks, expected);
        let pixels = batch.images.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(pixels[..2 * 144], items[0].pixels[..]);
    }
}
