//! Task traits shared by models, so that training, evaluation, the CLI and interpretability
//! tools work on any convkit model without knowing its type.
//!
//! Each is a [`Tapped`] forward with a fixed input and output plus what the task needs to
//! know; the input contract (channels, minimum size) is the model's [`Tapped::input_spec`].

use burn::module::Module;
use burn::tensor::Tensor;

use crate::Tapped;

/// An image classifier: images `[N, C, H, W]` in, logits `[N, classes]` out.
///
/// Implemented by every classification model of `convkit-zoo`; `convkit-train` trains any
/// implementor on image batches. The input spec must be an image spec (fixed channel axis).
pub trait ImageClassifier: Module + Clone + Tapped<Tensor<4>, Output = Tensor<2>> {
    /// Number of output classes.
    fn num_classes(&self) -> usize;

    /// Channels `C` of the input images (axis 1 of the input spec).
    fn in_channels(&self) -> usize {
        self.input_spec().exact(1).unwrap_or(0)
    }

    /// The smallest input `[height, width]` the model takes.
    fn min_input_size(&self) -> [usize; 2] {
        let spec = self.input_spec();
        [spec.minimum(2).max(1), spec.minimum(3).max(1)]
    }
}

/// A semantic segmenter: images `[N, C, H, W]` in, pixel logits `[N, classes, H, W]` out.
///
/// `convkit-train` trains any implementor on segmentation batches (masks `[N, H, W]`).
pub trait ImageSegmenter: Module + Clone + Tapped<Tensor<4>, Output = Tensor<4>> {
    /// Number of classes (output channels).
    fn num_classes(&self) -> usize;
}
