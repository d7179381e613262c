//! Classification metrics: predictions of a model over a loader, the confusion matrix, and
//! per-class precision and recall (scikit-learn's `confusion_matrix` and
//! `precision_recall_fscore_support` conventions).

use burn::tensor::{Device, Int, Tensor};
use convkit_core::{Error, Result};
use convkit_data::{Batcher, DataLoader, Dataset, ImageBatch};
use serde::{Deserialize, Serialize};

use crate::Supervised;

/// Precision, recall and support of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Class name.
    pub class: String,
    /// Of the items predicted as this class, the fraction that are (0 when none is
    /// predicted, scikit-learn's `zero_division=0`).
    pub precision: f64,
    /// Of the items of this class, the fraction predicted as it (0 when it has none).
    pub recall: f64,
    /// Items of this class.
    pub support: usize,
}

/// Accuracy, per-class metrics and the confusion matrix of a set of predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Fraction of items predicted correctly.
    pub accuracy: f64,
    /// Items judged.
    pub samples: usize,
    /// One entry per class, in label order.
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[true][predicted]`: items of class `true` predicted as `predicted`.
    pub confusion: Vec<Vec<usize>>,
}

impl ClassificationReport {
    /// The report of `predicted` against `labels`, for the classes named `classes`.
    ///
    /// Fails if the lengths differ or a label or prediction is not below `classes.len()`.
    pub fn new(predicted: &[usize], labels: &[usize], classes: &[String]) -> Result<Self> {
        if predicted.len() != labels.len() {
            return Err(Error::invalid(
                "classification report",
                format!(
                    "{} predictions for {} labels",
                    predicted.len(),
                    labels.len()
                ),
            ));
        }
        let k = classes.len();
        let mut confusion = vec![vec![0usize; k]; k];
        for (i, (&p, &t)) in predicted.iter().zip(labels).enumerate() {
            if p >= k || t >= k {
                return Err(Error::invalid(
                    "classification report",
                    format!("item {i}: label {t} or prediction {p} is not below {k} classes"),
                ));
            }
            confusion[t][p] += 1;
        }
        let ratio = |num: usize, den: usize| {
            if den == 0 {
                0.0
            } else {
                num as f64 / den as f64
            }
        };
        let per_class = classes
            .iter()
            .enumerate()
            .map(|(c, name)| {
                let hits = confusion[c][c];
                let support: usize = confusion[c].iter().sum();
                let predicted_as: usize = confusion.iter().map(|row| row[c]).sum();
                ClassMetrics {
                    class: name.clone(),
                    precision: ratio(hits, predicted_as),
                    recall: ratio(hits, support),
                    support,
                }
            })
            .collect();
        let correct: usize = (0..k).map(|c| confusion[c][c]).sum();
        Ok(ClassificationReport {
            accuracy: ratio(correct, labels.len()),
            samples: labels.len(),
            per_class,
            confusion,
        })
    }
}

/// The predicted class (arg-max of the logits) of every item of `loader`, in loader order
/// (epoch 0), computed on `device` without gradients. Pass the model in inference state
/// (`model.valid()`).
pub fn predict_classes<M, D, B>(model: &M, loader: &DataLoader<D, B>, device: &Device) -> Vec<usize>
where
    M: Supervised<ImageBatch>,
    D: Dataset,
    B: Batcher<D::Item, Batch = ImageBatch>,
{
    let mut out = Vec::with_capacity(loader.dataset().len());
    for batch in loader.iter(0, device) {
        let logits = model.forward_batch(batch).output;
        let predicted: Tensor<1, Int> = logits.argmax(1).flatten(0, 1);
        out.extend(predicted.into_data().iter::<i64>().map(|p| p as usize));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scikit_learn_conventions() {
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        // sklearn: confusion_matrix([0,0,1,1,2], [0,1,1,1,1]) = [[1,1,0],[0,2,0],[0,1,0]];
        // precision [1, 0.5, 0] (class c never predicted), recall [0.5, 1, 0].
        let report = ClassificationReport::new(&[0, 1, 1, 1, 1], &[0, 0, 1, 1, 2], &names).unwrap();
        assert_eq!(
            report.confusion,
            vec![vec![1, 1, 0], vec![0, 2, 0], vec![0, 1, 0]]
        );
        let precision: Vec<f64> = report.per_class.iter().map(|m| m.precision).collect();
        let recall: Vec<f64> = report.per_class.iter().map(|m| m.recall).collect();
        assert_eq!(precision, [1.0, 0.5, 0.0]);
        assert_eq!(recall, [0.5, 1.0, 0.0]);
        assert_eq!(report.accuracy, 0.6);
        assert_eq!(report.per_class[2].support, 1);
    }

    #[test]
    fn mismatches_are_errors() {
        let names = vec!["a".to_string()];
        assert!(ClassificationReport::new(&[0], &[0, 0], &names).is_err());
        assert!(ClassificationReport::new(&[1], &[0], &names).is_err());
    }
}
