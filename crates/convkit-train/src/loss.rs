//! Losses and the model output they consume.

use burn::nn::loss::{BinaryCrossEntropyLossConfig, CrossEntropyLossConfig, MseLoss, Reduction};
use burn::tensor::{Int, Tensor};
use serde::{Deserialize, Serialize};

/// What a model's forward pass on a batch returns to the loop.
#[derive(Debug, Clone)]
pub struct Output {
    /// Predictions `[N, K]`: logits for classification, values for regression.
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
}

/// A training loss (mean over the batch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Loss {
    /// Softmax cross-entropy on logits with class-index targets (`torch.nn.CrossEntropyLoss`).
    #[default]
    CrossEntropy,
    /// Sigmoid binary cross-entropy on logits with 0/1 targets (`BCEWithLogitsLoss`).
    BinaryCrossEntropy,
    /// Mean squared error (`torch.nn.MSELoss`).
    Mse,
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
            (loss, target) => panic!("{}", mismatch(*loss, target)),
        }
    }

    /// Whether `target` is the kind of target this loss takes.
    pub fn accepts(&self, target: &Target) -> bool {
        matches!(
            (self, target),
            (Loss::CrossEntropy, Target::Classes(_))
                | (Loss::BinaryCrossEntropy, Target::Binary(_))
                | (Loss::Mse, Target::Values(_))
        )
    }
}

pub(crate) fn mismatch(loss: Loss, target: &Target) -> String {
    let kind = match target {
        Target::Classes(_) => "class indices",
        Target::Binary(_) => "binary labels",
        Target::Values(_) => "real values",
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
