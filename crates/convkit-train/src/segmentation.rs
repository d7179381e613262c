//! Semantic segmentation losses and metrics: soft multi-class Dice loss, pixel-wise
//! cross-entropy, and per-class Dice / IoU of hard predictions.
//!
//! Every function takes either pixel logits `[N, K, H, W]` with masks `[N, H, W]`, or the same
//! pixels as rows: logits `[P, K]` with targets `[P]` (see [`pixel_rows`]; the training loop
//! passes segmentation outputs this way, as [`crate::Target::Mask`]). Both forms give the same
//! values because every quantity sums over the batch and the pixels alike.

use burn::config::Config;
use burn::tensor::activation::log_softmax;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};
use convkit_core::{Error, Result};
use convkit_data::{Batcher, DataLoader, Dataset};

use crate::{Supervised, Target};

/// Pixel logits `[N, K, H, W]` as rows `[N·H·W, K]`, row `(n·H + h)·W + w` holding pixel
/// `(n, h, w)`: the order of `masks.flatten(0, 2)` for masks `[N, H, W]`.
pub fn pixel_rows(logits: Tensor<4>) -> Tensor<2> {
    let [n, k, h, w] = logits.dims();
    logits.permute([0, 2, 3, 1]).reshape([n * h * w, k])
}

/// One-hot rows `[P, K]` of `targets` (`[P]`), all false on rows whose target is
/// `ignore_index` or outside `0..K`.
fn one_hot_rows(
    targets: Tensor<1, Int>,
    num_classes: usize,
    ignore_index: Option<i64>,
) -> Tensor<2, Bool> {
    let [p] = targets.dims();
    let classes = Tensor::<1, Int>::arange(0..num_classes as i64, &targets.device())
        .reshape([1, num_classes]);
    let targets = targets.reshape([p, 1]);
    let hot = targets.clone().equal(classes);
    match ignore_index {
        Some(ignored) => hot.bool_and(targets.not_equal_elem(ignored)),
        None => hot,
    }
}

/// Configuration of [`DiceLoss`]; the defaults are those of segmentation_models_pytorch's
/// `DiceLoss(mode="multiclass", from_logits=True)`.
#[derive(Config, Debug)]
pub struct DiceLossConfig {
    /// Added to the numerator and the denominator of every class score (smp `smooth`). With
    /// smp's formula `(I + s) / (½(ΣP + ΣT) + s)`, this is `2s` in the textbook
    /// `(2I + s') / (ΣP + ΣT + s')`.
    #[config(default = 0.0)]
    pub smooth: f64,
    /// Lower bound of every denominator (smp `eps`): an all-ignored batch gives a finite loss.
    #[config(default = 1e-7)]
    pub eps: f64,
    /// Pixels with this target take no part: their predictions and targets are zeroed, as in
    /// smp (`ignore_index`).
    #[config(default = "None")]
    pub ignore_index: Option<i64>,
    /// `-ln(max(score, eps))` instead of `1 - score` per class (smp `log_loss`).
    #[config(default = false)]
    pub log_loss: bool,
}

impl DiceLossConfig {
    /// The loss.
    pub fn init(&self) -> DiceLoss {
        DiceLoss {
            smooth: self.smooth,
            eps: self.eps,
            ignore_index: self.ignore_index,
            log_loss: self.log_loss,
        }
    }
}

/// Soft multi-class Dice loss from logits (Milletari et al., "V-Net: Fully Convolutional
/// Neural Networks for Volumetric Medical Image Segmentation", 2016, in its multi-class form).
///
/// Matches segmentation_models_pytorch 0.6 `DiceLoss(mode="multiclass", from_logits=True,
/// smooth, eps, ignore_index, log_loss)` value for value:
///
/// - `P = softmax(logits)` over the classes, `T = one_hot(target)`; ignored pixels are zero in
///   both;
/// - per class `k`, summed over the **whole batch and all pixels** (smp `dims=(0, 2)`):
///   `I_k = Σ P·T`, `score_k = (I_k + smooth) / max(½(ΣP + ΣT) + smooth, eps)`;
/// - `loss_k = 1 - score_k` (or `-ln(max(score_k, eps))` with `log_loss`), set to 0 for
///   classes absent from the batch's targets (`ΣT = 0`: Dice is undefined there);
/// - the loss is the mean of `loss_k` over **all** `K` classes, absent ones included (so a
///   batch showing few classes has a smaller loss, as in smp).
///
/// smp computes `I` as `(ΣP + ΣT - ‖P - T‖₁) / 2`, which equals `Σ P·T` for one-hot `T`; the
/// gradients differ only where a probability is exactly 0 or 1 (the L1 kink). smp's
/// `classes` and `class_weights` options are not offered. Targets outside `0..K` (other than
/// `ignore_index`) count as no class, where smp raises.
///
/// Output: `[1]`, in `[0, 1]` without `log_loss`.
#[derive(Debug, Clone)]
pub struct DiceLoss {
    smooth: f64,
    eps: f64,
    ignore_index: Option<i64>,
    log_loss: bool,
}

impl DiceLoss {
    /// The loss of pixel logits `[N, K, H, W]` against masks `[N, H, W]`.
    pub fn forward(&self, logits: Tensor<4>, masks: Tensor<3, Int>) -> Tensor<1> {
        self.forward_rows(pixel_rows(logits), masks.flatten(0, 2))
    }

    /// The loss of logit rows `[P, K]` against targets `[P]`.
    pub fn forward_rows(&self, logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
        let [p, k] = logits.dims();
        // smp: log_softmax(...).exp(), which stays accurate for extreme logits.
        let mut probs = log_softmax(logits, 1).exp();
        if let Some(ignored) = self.ignore_index {
            let kept = targets
                .clone()
                .not_equal_elem(ignored)
                .float()
                .reshape([p, 1]);
            probs = probs * kept;
        }
        let truth = one_hot_rows(targets, k, self.ignore_index).float();
        let truth_sum = truth.clone().sum_dim(0);
        let intersection = (probs.clone() * truth).sum_dim(0);
        let half_cardinality = (probs.sum_dim(0) + truth_sum.clone()) * 0.5;
        let score =
            (intersection + self.smooth) / (half_cardinality + self.smooth).clamp_min(self.eps);
        let loss = if self.log_loss {
            score.clamp_min(self.eps).log().neg()
        } else {
            score.neg() + 1.0
        };
        let present = truth_sum.greater_elem(0.0).float();
        (loss * present).mean()
    }
}

/// Configuration of [`PixelCrossEntropy`]; the defaults are `torch.nn.functional.cross_entropy`'s
/// (no weights, no ignored target, mean reduction).
#[derive(Config, Debug)]
pub struct PixelCrossEntropyConfig {
    /// Per-class weights `[K]` (torch `weight`).
    #[config(default = "None")]
    pub weights: Option<Vec<f32>>,
    /// Pixels with this target take no part (torch `ignore_index`; torch's default -100 never
    /// occurs as a class, which is what `None` means here).
    #[config(default = "None")]
    pub ignore_index: Option<i64>,
}

impl PixelCrossEntropyConfig {
    /// The loss.
    pub fn init(&self) -> PixelCrossEntropy {
        PixelCrossEntropy {
            weights: self.weights.clone(),
            ignore_index: self.ignore_index,
        }
    }
}

/// Pixel-wise softmax cross-entropy, `torch.nn.functional.cross_entropy(logits, masks,
/// weight, ignore_index)` on `[N, K, H, W]` logits and `[N, H, W]` targets.
///
/// `loss = Σ_i w[t_i] · (-log softmax(x_i)[t_i]) / Σ_i w[t_i]` over the pixels `i` not
/// ignored (`w = 1` without weights: the mean). As in PyTorch, a batch whose pixels are all
/// ignored gives NaN (0 / 0). Targets outside `0..K` (other than `ignore_index`) count as
/// ignored, where PyTorch raises.
///
/// Output: `[1]`.
#[derive(Debug, Clone)]
pub struct PixelCrossEntropy {
    weights: Option<Vec<f32>>,
    ignore_index: Option<i64>,
}

impl PixelCrossEntropy {
    /// The loss of pixel logits `[N, K, H, W]` against masks `[N, H, W]`.
    ///
    /// # Panics
    /// If weights were given and their count is not `K`.
    pub fn forward(&self, logits: Tensor<4>, masks: Tensor<3, Int>) -> Tensor<1> {
        self.forward_rows(pixel_rows(logits), masks.flatten(0, 2))
    }

    /// The loss of logit rows `[P, K]` against targets `[P]`.
    ///
    /// # Panics
    /// If weights were given and their count is not `K`.
    pub fn forward_rows(&self, logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
        let [_, k] = logits.dims();
        let device = logits.device();
        let mut picked = one_hot_rows(targets, k, self.ignore_index).float();
        if let Some(weights) = &self.weights {
            assert_eq!(weights.len(), k, "one cross-entropy weight per class");
            let weights = Tensor::<2>::from_data(TensorData::new(weights.clone(), [1, k]), &device);
            picked = picked * weights;
        }
        let total = sum_all(picked.clone() * log_softmax(logits, 1)).neg();
        total / sum_all(picked)
    }
}

/// The sum of every element, added in an order that depends on the shape only.
///
/// burn-flex sums tensors of 4 Mi elements or more with rayon's adaptive reduction, whose
/// grouping of partial sums can follow work stealing; summing rows of 64 Ki first keeps every
/// full reduction below that size (docs/performance.md, "Determinism").
fn sum_all<const D: usize>(x: Tensor<D>) -> Tensor<1> {
    const ROW: usize = 1 << 16;
    let n = x.shape().num_elements();
    let flat: Tensor<1> = x.flatten(0, D - 1);
    if n <= ROW {
        return flat.sum();
    }
    let rows = n.div_ceil(ROW);
    let padded = match rows * ROW - n {
        0 => flat,
        pad => {
            let zeros = Tensor::zeros([pad], &flat.device());
            Tensor::cat(vec![flat, zeros], 0)
        }
    };
    padded.reshape([rows, ROW]).sum_dim(1).sum()
}

/// Dice and IoU of hard (argmax) predictions, per class and averaged, from per-class counts
/// accumulated over any number of batches.
///
/// Counts: `TP_k` pixels predicted `k` whose target is `k`, `FP_k` predicted `k` but not,
/// `FN_k` target `k` predicted otherwise; pixels whose target is the ignore index count
/// nowhere. Scores per class: `Dice_k = 2TP / (2TP + FP + FN)` (F1), `IoU_k = TP / (TP + FP +
/// FN)` (Jaccard). A class neither present nor predicted (`TP + FP + FN = 0`) scores **1**:
/// nothing to find and nothing found, segmentation_models_pytorch's default
/// (`zero_division=1.0`) and scikit-learn's `f1_score` / `jaccard_score` with
/// `zero_division=1.0`. The means are unweighted over all `K` classes: smp
/// `f1_score` / `iou_score` with `reduction="macro"` on `get_stats(mode="multiclass")`, and
/// scikit-learn's `average="macro"` with `labels=range(K)`.
///
/// Since `IoU = Dice / (2 - Dice)`, IoU never exceeds Dice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentationMetrics {
    ignore_index: Option<i64>,
    true_positives: Vec<u64>,
    false_positives: Vec<u64>,
    false_negatives: Vec<u64>,
}

impl SegmentationMetrics {
    /// Empty counts for `num_classes` classes.
    pub fn new(num_classes: usize) -> Self {
        SegmentationMetrics {
            ignore_index: None,
            true_positives: vec![0; num_classes],
            false_positives: vec![0; num_classes],
            false_negatives: vec![0; num_classes],
        }
    }

    /// Pixels with target `ignore_index` are not counted.
    pub fn with_ignore_index(mut self, ignore_index: i64) -> Self {
        self.ignore_index = Some(ignore_index);
        self
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.true_positives.len()
    }

    /// Counts the argmax predictions of pixel logits `[N, K, H, W]` against masks `[N, H, W]`.
    ///
    /// # Panics
    /// If `K` is not [`SegmentationMetrics::num_classes`].
    pub fn update(&mut self, logits: Tensor<4>, masks: Tensor<3, Int>) {
        self.update_rows(pixel_rows(logits), masks.flatten(0, 2));
    }

    /// Counts the argmax predictions of logit rows `[P, K]` against targets `[P]`.
    ///
    /// # Panics
    /// If `K` is not [`SegmentationMetrics::num_classes`].
    pub fn update_rows(&mut self, logits: Tensor<2>, targets: Tensor<1, Int>) {
        let [p, k] = logits.dims();
        assert_eq!(
            k,
            self.num_classes(),
            "logits must have one column per class"
        );
        self.update_predictions(logits.argmax(1).reshape([p]), targets);
    }

    /// Counts predicted classes `[P]` against targets `[P]`.
    pub fn update_predictions(&mut self, predicted: Tensor<1, Int>, targets: Tensor<1, Int>) {
        let k = self.num_classes();
        let truth = one_hot_rows(targets.clone(), k, self.ignore_index);
        let mut guess = one_hot_rows(predicted, k, None);
        if let Some(ignored) = self.ignore_index {
            let [p] = targets.dims();
            guess = guess.bool_and(targets.not_equal_elem(ignored).reshape([p, 1]));
        }
        let hits = truth.clone().bool_and(guess.clone()).int().sum_dim(0);
        let counts = Tensor::cat(
            vec![hits, guess.int().sum_dim(0), truth.int().sum_dim(0)],
            0,
        );
        let counts: Vec<i64> = counts.into_data().iter::<i64>().collect();
        for c in 0..k {
            let (tp, predicted, actual) = (counts[c], counts[k + c], counts[2 * k + c]);
            self.true_positives[c] += tp as u64;
            self.false_positives[c] += (predicted - tp) as u64;
            self.false_negatives[c] += (actual - tp) as u64;
        }
    }

    /// Per-class true positives.
    pub fn true_positives(&self) -> &[u64] {
        &self.true_positives
    }

    /// Per-class false positives.
    pub fn false_positives(&self) -> &[u64] {
        &self.false_positives
    }

    /// Per-class false negatives.
    pub fn false_negatives(&self) -> &[u64] {
        &self.false_negatives
    }

    fn per_class(&self, score: impl Fn(f64, f64) -> f64) -> Vec<f64> {
        (0..self.num_classes())
            .map(|c| {
                let tp = self.true_positives[c] as f64;
                let errors = (self.false_positives[c] + self.false_negatives[c]) as f64;
                if tp + errors == 0.0 {
                    1.0
                } else {
                    score(tp, errors)
                }
            })
            .collect()
    }

    /// Dice (F1) per class.
    pub fn dice(&self) -> Vec<f64> {
        self.per_class(|tp, errors| 2.0 * tp / (2.0 * tp + errors))
    }

    /// IoU (Jaccard index) per class.
    pub fn iou(&self) -> Vec<f64> {
        self.per_class(|tp, errors| tp / (tp + errors))
    }

    /// Mean Dice over the classes (NaN without classes).
    pub fn mean_dice(&self) -> f64 {
        mean(&self.dice())
    }

    /// Mean IoU over the classes (NaN without classes).
    pub fn mean_iou(&self) -> f64 {
        mean(&self.iou())
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Adds the hard predictions of `model` on every item of `loader` to `metrics`.
///
/// The model's batches must have [`Target::Mask`] targets and `metrics.num_classes()` output
/// columns; otherwise an [`Error::Invalid`]. Pass the model in inference state
/// (`model.valid()`) and a plain (non-autodiff) device, as for [`crate::evaluate`].
pub fn evaluate_segmentation<M, D, B>(
    model: &M,
    loader: &DataLoader<D, B>,
    device: &Device,
    mut metrics: SegmentationMetrics,
) -> Result<SegmentationMetrics>
where
    M: Supervised<B::Batch>,
    D: Dataset,
    B: Batcher<D::Item>,
{
    for batch in loader.iter(0, device) {
        let out = model.forward_batch(batch);
        let Target::Mask(masks) = out.target else {
            return Err(Error::invalid(
                "segmentation evaluation",
                "the model's batches have no pixel masks",
            ));
        };
        let classes = out.output.dims()[1];
        if classes != metrics.num_classes() {
            return Err(Error::invalid(
                "segmentation evaluation",
                format!(
                    "the model predicts {classes} classes, the metrics count {}",
                    metrics.num_classes()
                ),
            ));
        }
        metrics.update_rows(out.output, masks.flatten(0, 2));
    }
    Ok(metrics)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(values: Vec<f32>, k: usize) -> Tensor<2> {
        let p = values.len() / k;
        Tensor::from_data(TensorData::new(values, [p, k]), &Device::flex())
    }

    fn labels(values: Vec<i64>) -> Tensor<1, Int> {
        let p = values.len();
        Tensor::from_data(TensorData::new(values, [p]), &Device::flex())
    }

    fn scalar(t: Tensor<1>) -> f64 {
        t.into_data().iter::<f64>().next().unwrap()
    }

    #[test]
    fn dice_by_hand() {
        // Two pixels, two classes; logits (0, 0) give probabilities ½ everywhere. Targets
        // [0, 0]: class 0 has I = 1, ΣP = 1, ΣT = 2 → score 2/3; class 1 is absent → 0.
        let loss = DiceLossConfig::new()
            .init()
            .forward_rows(rows(vec![0.0; 4], 2), labels(vec![0, 0]));
        assert!((scalar(loss) - (1.0 - 2.0 / 3.0) / 2.0).abs() < 1e-6);
        // Ignoring the second pixel: class 0 has I = ½, ΣP = ½, ΣT = 1 → score 2/3 again.
        let loss = DiceLossConfig::new()
            .with_ignore_index(Some(7))
            .init()
            .forward_rows(rows(vec![0.0; 4], 2), labels(vec![0, 7]));
        assert!((scalar(loss) - (1.0 - 2.0 / 3.0) / 2.0).abs() < 1e-6);
    }

    #[test]
    fn cross_entropy_by_hand() {
        // Row 0: logits (2, 0), target 0; row 1: logits (0, 1), target 1; weights (1, 3).
        let ce0 = (1.0f64 + (-2.0f64).exp()).ln();
        let ce1 = (1.0f64 + (-1.0f64).exp()).ln();
        let logits = rows(vec![2.0, 0.0, 0.0, 1.0], 2);
        let plain = PixelCrossEntropyConfig::new()
            .init()
            .forward_rows(logits.clone(), labels(vec![0, 1]));
        assert!((scalar(plain) - (ce0 + ce1) / 2.0).abs() < 1e-6);
        let weighted = PixelCrossEntropyConfig::new()
            .with_weights(Some(vec![1.0, 3.0]))
            .with_ignore_index(Some(-1))
            .init()
            .forward_rows(logits, labels(vec![0, 1]));
        assert!((scalar(weighted) - (ce0 + 3.0 * ce1) / 4.0).abs() < 1e-6);
    }

    #[test]
    fn sum_all_adds_rows_of_a_fixed_size_then_the_row_sums() {
        let device = Device::flex();
        for n in [5, 1 << 16, 3 << 16, (5 << 20) + 7] {
            let values: Vec<f32> = (0..n).map(|i| ((i * 7919) % 1000) as f32 * 1e-3).collect();
            let rows: Vec<f32> = values.chunks(1 << 16).map(|r| r.iter().sum()).collect();
            let x = Tensor::<2>::from_data(TensorData::new(values, [1, n]), &device);
            let ours = scalar(sum_all(x));
            let expected: f64 = rows.iter().map(|&r| r as f64).sum();
            assert!(
                (ours - expected).abs() <= 1e-6 * expected,
                "{n}: {ours} vs {expected}"
            );
        }
    }

    #[test]
    fn metrics_by_hand() {
        // Predictions 0 0 1 1 2 against targets 0 1 1 1 9 (9 ignored), 4 classes.
        let mut m = SegmentationMetrics::new(4).with_ignore_index(9);
        m.update_predictions(labels(vec![0, 0, 1, 1, 2]), labels(vec![0, 1, 1, 1, 9]));
        assert_eq!(m.true_positives(), [1, 2, 0, 0]);
        assert_eq!(m.false_positives(), [1, 0, 0, 0]);
        assert_eq!(m.false_negatives(), [0, 1, 0, 0]);
        assert_eq!(m.dice(), [2.0 / 3.0, 0.8, 1.0, 1.0]);
        assert_eq!(m.iou(), [0.5, 2.0 / 3.0, 1.0, 1.0]);
        assert!((m.mean_dice() - (2.0 / 3.0 + 0.8 + 2.0) / 4.0).abs() < 1e-12);
    }
}
