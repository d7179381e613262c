//! Traits shared by models, so that training, evaluation, the CLI and interpretability tools
//! work on any convkit model without knowing its type.

use burn::module::Module;
use burn::tensor::Tensor;

use crate::{Result, Taps};

/// An image classifier: images `[N, C, H, W]` in, logits `[N, classes]` out.
///
/// Implemented by every classification model of `convkit-zoo`; `convkit-train` trains any
/// implementor on image batches.
pub trait ImageClassifier: Module + Clone {
    /// Number of output classes.
    fn num_classes(&self) -> usize;

    /// Channels `C` of the input images.
    fn in_channels(&self) -> usize;

    /// The smallest input `[height, width]` the model takes.
    fn min_input_size(&self) -> [usize; 2];

    /// Checks an input shape, returning a typed error naming the problem.
    fn check_input(&self, shape: &[usize]) -> Result<()>;

    /// Logits, offering every intermediate value to `taps`.
    fn logits_tapped(&self, images: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2>;

    /// Logits.
    fn logits(&self, images: Tensor<4>) -> Tensor<2> {
        self.logits_tapped(images, &mut Taps::none())
    }

    /// Checks the input, then computes the logits.
    fn try_logits(&self, images: Tensor<4>) -> Result<Tensor<2>> {
        self.check_input(&images.dims())?;
        Ok(self.logits(images))
    }
}
