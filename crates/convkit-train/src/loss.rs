//! Losses and the model output they consume.

use burn::nn::loss::{BinaryCrossEntropyLossConfig, CrossEntropyLossConfig, MseLoss, Reduction};
use burn::tensor::{Int, Tensor};
use serde::{Deserialize, Serialize};

use crate::segmentation::{DiceLossConfig, PixelCrossEntropyConfig};

/// What a model's forward pass on a batch returns to the loop.
#[derive(Debug, Clone)]
pub struct Output {
    /// Predictions `[N, K]`: logits for classification, values for regression; for
    /// [`Target::Mask`], the pixel logits as rows `[N·H·W, K]`
    /// ([`crate::segmentation::pixel_rows`]).
    pub output: Tensor<2>,
    /// The batch's targets.
    pub target: Target,
}

/// Targets of a batch.
#[derive(Debug, Clone)]
pub enum Target {
    /// Class indices `[N]` (cross-entropy, accuracy).
    Classes(Tensor<1, Int>),
    /// 0/1 labels `[N, K]` (binary cross-entropy, multi-label).
    Binary(Tensor<2, Int>),
    /// Real values `[N, K]` (MSE).
    Values(Tensor<2>),
    /// Per-pixel class indices `[N, H, W]` (segmentation: cross-entropy, Dice; the accuracy
    /// is then that of pixels).
    Mask(Tensor<3, Int>),
}

/// A training loss (mean over the batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Loss {
    /// Softmax cross-entropy on logits with class-index targets (`torch.nn.CrossEntropyLoss`),
    /// or per pixel with mask targets (its mean over all pixels).
    #[default]
    CrossEntropy,
    /// Sigmoid binary cross-entropy on logits with 0/1 targets (`BCEWithLogitsLoss`).
    BinaryCrossEntropy,
    /// Mean squared error (`torch.nn.MSELoss`).
    Mse,
    /// Soft multi-class Dice loss on pixel logits with mask targets
    /// ([`crate::segmentation::DiceLoss`] with smp's defaults).
    Dice,
    /// The sum of [`Loss::Dice`] and pixel cross-entropy, the usual segmentation recipe:
    /// Dice balances the classes, cross-entropy gives every pixel a gradient from the start.
    DiceCrossEntropy,
}

impl Loss {
    /// The scalar loss `[1]`.
    ///
    /// # Panics
    /// If the target kind does not fit the loss (e.g. class indices for MSE); [`crate::fit`]
    /// checks this on the first batch and returns an error instead.
    pub fn compute(&self, out: &Output) -> Tensor<1> {
        let device = out.output.device();
        match (self, &out.target) {
            (Loss::CrossEntropy, Target::Classes(t)) => CrossEntropyLossConfig::new()
                .init(&device)
                .forward(out.output.clone(), t.clone()),
            (Loss::BinaryCrossEntropy, Target::Binary(t)) => BinaryCrossEntropyLossConfig::new()
                .with_logits(true)
                .init(&device)
                .forward(out.output.clone(), t.clone()),
            (Loss::Mse, Target::Values(t)) => MseLoss::new()
                .forward(out.output.clone(), t.clone(), Reduction::Mean)
                .reshape([1]),
            (Loss::CrossEntropy, Target::Mask(m)) => pixel_cross_entropy(out, m),
            (Loss::Dice, Target::Mask(m)) => pixel_dice(out, m),
            (Loss::DiceCrossEntropy, Target::Mask(m)) => {
                pixel_dice(out, m) + pixel_cross_entropy(out, m)
            }
            (loss, target) => panic!("{}", mismatch(*loss, target)),
        }
    }

    /// Whether `target` is the kind of target this loss takes.
    pub fn accepts(&self, target: &Target) -> bool {
        matches!(
            (self, target),
            (Loss::CrossEntropy, Target::Classes(_) | Target::Mask(_))
                | (Loss::BinaryCrossEntropy, Target::Binary(_))
                | (Loss::Mse, Target::Values(_))
                | (Loss::Dice | Loss::DiceCrossEntropy, Target::Mask(_))
        )
    }
}

fn pixel_cross_entropy(out: &Output, masks: &Tensor<3, Int>) -> Tensor<1> {
    PixelCrossEntropyConfig::new()
        .init()
        .forward_rows(out.output.clone(), masks.clone().flatten(0, 2))
}

fn pixel_dice(out: &Output, masks: &Tensor<3, Int>) -> Tensor<1> {
    DiceLossConfig::new()
        .init()
        .forward_rows(out.output.clone(), masks.clone().flatten(0, 2))
}

pub(crate) fn mismatch(loss: Loss, target: &Target) -> String {
    let kind = match target {
        Target::Classes(_) => "class indices",
        Target::Binary(_) => "binary labels",
        Target::Values(_) => "real values",
        Target::Mask(_) => "pixel masks",
    };
    format!("loss {loss:?} cannot take targets of kind {kind}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, TensorData};

    #[test]
    fn losses_match_hand_computed_values() {
        let d = Device::flex();
        let logits =
            Tensor::<2>::from_data(TensorData::new(vec![2.0f32, 0.0, 0.0, 1.0], [2, 2]), &d);
        // CE: row 0 target 0: -log(e^2/(e^2+1)); row 1 target 1: -log(e/(1+e)).
        let ce = Loss::CrossEntropy.compute(&Output {
            output: logits.clone(),
            target: Target::Classes(Tensor::from_data(TensorData::new(vec![0i64, 1], [2]), &d)),
        });
        let expected = ((1.0f32 + (-2.0f32).exp()).ln() + (1.0f32 + (-1.0f32).exp()).ln()) / 2.0;
        let got = ce.into_data().try_to_vec::<f32>().unwrap()[0];
        assert!((got - expected).abs() < 1e-6, "{got} vs {expected}");
        let mse = Loss::Mse.compute(&Output {
            output: logits,
            target: Target::Values(Tensor::zeros([2, 2], &d)),
        });
        assert_eq!(mse.into_data().try_to_vec::<f32>().unwrap(), vec![1.25]);
        assert!(!Loss::Mse.accepts(&Target::Classes(Tensor::zeros([2], &d))));
    }
}
