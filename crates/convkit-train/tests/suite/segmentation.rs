//! Segmentation losses and metrics against segmentation_models_pytorch and torch
//! (`tools/refgen/segmentation_loss.py`), their invariants, and the U-Net trained end to end
//! on the synthetic shapes with masks, without and with scSE.

use std::time::Instant;

use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use convkit_core::fixture_path;
use convkit_core::testing::{Fixture, assert_close, test_devices};
use convkit_data::{DataLoader, SegmentationBatcher, ShapesConfig, ShapesSegmentation};
use convkit_train::segmentation::{
    DiceLoss, DiceLossConfig, PixelCrossEntropyConfig, SegmentationMetrics, evaluate_segmentation,
    pixel_rows,
};
use convkit_train::{Loss, LrSchedule, Output, Target, TrainConfig, evaluate, fit};
use convkit_zoo::UNetConfig;

use proptest::prelude::*;

fn fixture() -> Fixture {
    Fixture::load(fixture_path!("segmentation_loss.safetensors")).unwrap()
}

fn ints<const D: usize>(fx: &Fixture, name: &str, device: &Device) -> Tensor<D, Int> {
    Tensor::from_data(fx.get(name).unwrap().clone(), device)
}

/// A loss under test: pixel logits and masks to the scalar loss.
type LossFn = Box<dyn Fn(Tensor<4>, Tensor<3, Int>) -> Tensor<1>>;

#[test]
fn losses_and_gradients_match_smp_and_torch() {
    let fx = fixture();
    for (backend, device) in test_devices() {
        let ad = device.autodiff();
        let weights = fx
            .get("ce_weights")
            .unwrap()
            .iter::<f32>()
            .collect::<Vec<_>>();
        let cases: [(&str, &str, LossFn); 5] = [
            ("dice", "masks", {
                let loss = DiceLossConfig::new().init();
                Box::new(move |x, t| loss.forward(x, t))
            }),
            ("dice_smooth_ignore", "masks_ignore", {
                let loss = DiceLossConfig::new()
                    .with_smooth(1.0)
                    .with_ignore_index(Some(255))
                    .init();
                Box::new(move |x, t| loss.forward(x, t))
            }),
            ("dice_log", "masks", {
                let loss = DiceLossConfig::new().with_log_loss(true).init();
                Box::new(move |x, t| loss.forward(x, t))
            }),
            ("ce", "masks", {
                let loss = PixelCrossEntropyConfig::new().init();
                Box::new(move |x, t| loss.forward(x, t))
            }),
            ("ce_weighted_ignore", "masks_ignore", {
                let loss = PixelCrossEntropyConfig::new()
                    .with_weights(Some(weights))
                    .with_ignore_index(Some(255))
                    .init();
                Box::new(move |x, t| loss.forward(x, t))
            }),
        ];
        for (name, masks, loss_fn) in &cases {
            let x = fx.float::<4>("logits", &ad).unwrap().require_grad();
            let loss = loss_fn(x.clone(), ints(&fx, masks, &ad));
            // Sums of 60 float32 terms: a few ulps of the O(1) loss.
            assert_close(
                &format!("{name} on {backend}"),
                &loss.clone().into_data(),
                fx.get(name).unwrap(),
                1e-6,
                1e-6,
            );
            let grad = x.grad(&loss.backward()).expect("logits gradient");
            // Gradients are O(1e-2): 1e-7 absolute is ~1e-5 relative to the largest.
            assert_close(
                &format!("{name} gradient on {backend}"),
                &grad.into_data(),
                fx.get(&format!("{name}_grad")).unwrap(),
                1e-7,
                1e-5,
            );
        }
    }
}

#[test]
fn metrics_match_smp() {
    let fx = fixture();
    let device = Device::flex();
    let logits = fx.float::<4>("logits", &device).unwrap();
    let predicted = logits.argmax(1).flatten::<1>(0, 3);
    for (suffix, masks, ignore) in [("", "masks", None), ("_ignore", "masks_ignore", Some(255))] {
        // Five classes: the fifth is neither present nor predicted and scores 1.
        let mut metrics = SegmentationMetrics::new(5);
        if let Some(i) = ignore {
            metrics = metrics.with_ignore_index(i);
        }
        metrics.update_predictions(
            predicted.clone(),
            ints::<3>(&fx, masks, &device).flatten(0, 2),
        );
        let counts = |name: &str| -> Vec<u64> {
            fx.get(&format!("{name}{suffix}"))
                .unwrap()
                .iter::<i64>()
                .map(|c| c as u64)
                .collect()
        };
        assert_eq!(metrics.true_positives(), counts("tp"), "{suffix}");
        assert_eq!(metrics.false_positives(), counts("fp"), "{suffix}");
        assert_eq!(metrics.false_negatives(), counts("fn"), "{suffix}");
        // smp computes in float32.
        let close = |what: &str, ours: Vec<f64>| {
            let ours = TensorData::new(ours.iter().map(|&v| v as f32).collect(), [ours.len()]);
            assert_close(
                &format!("{what}{suffix}"),
                &ours,
                fx.get(&format!("{what}{suffix}")).unwrap(),
                1e-7,
                1e-6,
            );
        };
        close("dice_per_class", metrics.dice());
        close("iou_per_class", metrics.iou());
        close("mean_dice", vec![metrics.mean_dice()]);
        close("mean_iou", vec![metrics.mean_iou()]);
    }
}

/// `(logits [N,K,H,W], masks [N,H,W])` of random sizes, values and labels.
fn problem() -> impl Strategy<Value = ([usize; 4], Vec<f32>, Vec<i64>)> {
    (1usize..3, 2usize..6, 1usize..5, 1usize..5).prop_flat_map(|(n, k, h, w)| {
        (
            Just([n, k, h, w]),
            proptest::collection::vec(-6.0f32..6.0, n * k * h * w),
            proptest::collection::vec(0..k as i64, n * h * w),
        )
    })
}

fn tensors(shape: [usize; 4], logits: Vec<f32>, masks: Vec<i64>) -> (Tensor<4>, Tensor<3, Int>) {
    let [n, _, h, w] = shape;
    let device = Device::flex();
    (
        Tensor::from_data(TensorData::new(logits, shape), &device),
        Tensor::from_data(TensorData::new(masks, [n, h, w]), &device),
    )
}

fn value(t: Tensor<1>) -> f64 {
    t.into_data().iter::<f64>().next().unwrap()
}

fn metrics_of(logits: Tensor<4>, masks: Tensor<3, Int>) -> SegmentationMetrics {
    let mut m = SegmentationMetrics::new(logits.dims()[1]);
    m.update(logits, masks);
    m
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn perfect_predictions_score_one((shape, _, masks) in problem()) {
        // Logits 20 on the true class and 0 elsewhere: softmax ≥ 1 - 5e-9.
        let [n, k, h, w] = shape;
        let mut logits = vec![0.0f32; n * k * h * w];
        for (p, &m) in masks.iter().enumerate() {
            let (img, pix) = (p / (h * w), p % (h * w));
            logits[(img * k + m as usize) * h * w + pix] = 20.0;
        }
        let (x, t) = tensors(shape, logits, masks);
        let m = metrics_of(x.clone(), t.clone());
        prop_assert!(m.dice().iter().chain(&m.iou()).all(|&s| s == 1.0), "{m:?}");
        prop_assert!(m.false_positives().iter().chain(m.false_negatives()).all(|&c| c == 0));
        let dice = value(DiceLossConfig::new().init().forward(x, t));
        prop_assert!(dice.abs() < 1e-6, "dice loss {dice}");
    }

    #[test]
    fn losses_and_scores_stay_in_range((shape, logits, masks) in problem()) {
        let (x, t) = tensors(shape, logits, masks);
        let dice = value(DiceLossConfig::new().init().forward(x.clone(), t.clone()));
        prop_assert!((0.0..=1.0).contains(&dice), "dice loss {dice}");
        let ce = value(PixelCrossEntropyConfig::new().init().forward(x.clone(), t.clone()));
        prop_assert!(ce >= 0.0, "cross-entropy {ce}");
        let m = metrics_of(x, t);
        for (d, i) in m.dice().iter().zip(m.iou()) {
            prop_assert!((0.0..=1.0).contains(d) && i <= *d, "IoU {i} > Dice {d}");
        }
        prop_assert!(m.mean_iou() <= m.mean_dice());
    }

    #[test]
    fn relabelling_classes_permutes_everything(
        (shape, logits, masks) in problem(),
        seed in any::<u64>(),
    ) {
        let k = shape[1];
        // A permutation of 0..k from the seed (rotation then swap keeps it simple and total).
        let mut perm: Vec<usize> = (0..k).map(|c| (c + seed as usize) % k).collect();
        perm.swap(0, (seed >> 32) as usize % k);
        let [n, _, h, w] = shape;
        let mut moved = vec![0.0f32; logits.len()];
        for img in 0..n {
            for (c, &p) in perm.iter().enumerate() {
                let (from, to) = ((img * k + c) * h * w, (img * k + p) * h * w);
                moved[to..to + h * w].copy_from_slice(&logits[from..from + h * w]);
            }
        }
        let relabelled: Vec<i64> = masks.iter().map(|&m| perm[m as usize] as i64).collect();
        let (x, t) = tensors(shape, logits, masks);
        let (px, pt) = tensors(shape, moved, relabelled);
        let dice = DiceLossConfig::new().init();
        let ce = PixelCrossEntropyConfig::new().init();
        prop_assert!((value(dice.forward(x.clone(), t.clone())) - value(dice.forward(px.clone(), pt.clone()))).abs() < 1e-6);
        prop_assert!((value(ce.forward(x.clone(), t.clone())) - value(ce.forward(px.clone(), pt.clone()))).abs() < 1e-5);
        let (a, b) = (metrics_of(x, t), metrics_of(px, pt));
        for (c, &p) in perm.iter().enumerate() {
            prop_assert_eq!(a.true_positives()[c], b.true_positives()[p]);
            prop_assert_eq!(a.false_positives()[c], b.false_positives()[p]);
            prop_assert_eq!(a.false_negatives()[c], b.false_negatives()[p]);
        }
    }
}

fn shapes(len: usize, seed: u64) -> ShapesSegmentation {
    ShapesSegmentation::new(ShapesConfig::new(len).with_image_size(32).with_seed(seed))
}

/// The training recipe, the same with and without scSE. At width 8, or at the default Adam
/// rate 3e-3, one run in four stalls with a shape class never predicted (the U-Net learns
/// "shape vs background" from the skips first and names the shapes late). Width 12 at 1e-2
/// for 8 epochs still stalled once in 20 runs (seeds 1-10: plain seed 8 reached mean Dice
/// 0.761, triangles 0.28); 12 epochs learned every class in all 40 runs of seeds 1-20 (see
/// `unet_learns_shapes_and_scse_does_not_hurt`).
const EPOCHS: usize = 12;
const WIDTH: usize = 12;
const SEED: u64 = 7;

/// Trains a depth-3, width-12 U-Net on 300 images of 32×32 and returns the metrics on 150
/// held-out images (another data seed), their pixel accuracy and the training seconds.
fn train_unet(scse: bool, seed: u64) -> (SegmentationMetrics, f64, f64) {
    let device = Device::flex().autodiff();
    let train_set = shapes(300, 1);
    let test_set = shapes(150, 2);
    let loader = DataLoader::new(&train_set, SegmentationBatcher::new(), 8).shuffle(seed);
    convkit_core::random::seed(seed);
    let model = UNetConfig::new(1, ShapesSegmentation::NUM_CLASSES)
        .with_depth(3)
        .with_width(WIDTH)
        .with_scse(scse)
        .with_scse_reduction(4)
        .init(&device);
    let config = TrainConfig::new()
        .with_epochs(EPOCHS)
        .with_lr(1e-2)
        .with_schedule(LrSchedule::Cosine {
            warmup_steps: 20,
            min_factor: 0.02,
        })
        .with_loss(Loss::DiceCrossEntropy)
        .with_seed(seed)
        .with_progress(false);
    let start = Instant::now();
    let (model, history) = fit(&config, model, &loader, None, &device, |_| {}).unwrap();
    let seconds = start.elapsed().as_secs_f64();
    assert!(
        history[EPOCHS - 1].train_loss < history[0].train_loss,
        "{history:?}"
    );
    let model = model.valid();
    let inference = device.inner();
    let test = DataLoader::new(&test_set, SegmentationBatcher::new(), 50);
    let metrics = evaluate_segmentation(
        &model,
        &test,
        &inference,
        SegmentationMetrics::new(ShapesSegmentation::NUM_CLASSES),
    )
    .unwrap();
    let accuracy = evaluate(&model, &test, &inference, Loss::DiceCrossEntropy)
        .accuracy
        .unwrap();
    (metrics, accuracy, seconds)
}

/// Mean Dice over background, circle, square and triangle, with the default scSE (max-out
/// aggregation, reduction 4 here since the blocks are narrow).
///
/// Training is deterministic (the same result on every run, whatever else runs in the
/// process: `determinism.rs`), so this test cannot flip by itself; the recipe has margin so
/// that a kernel change, which perturbs the run as another seed would, does not flip it either.
/// Over seeds 1-20 of this recipe (2 cores, 19-25 s per training) the plain U-Net scored
/// 0.979-0.996 (mean 0.991) and the scSE U-Net 0.970-0.996 (mean 0.989), against the 0.9
/// asserted; per seed, scSE minus plain ranged from -0.023 to +0.011. A single seed therefore
/// cannot show a gain, only the absence of harm beyond that noise: the margin is 0.03.
#[test]
fn unet_learns_shapes_and_scse_does_not_hurt() {
    let (plain, plain_accuracy, plain_seconds) = train_unet(false, SEED);
    let (scse, scse_accuracy, scse_seconds) = train_unet(true, SEED);
    eprintln!(
        "U-Net, {EPOCHS} epochs: plain mean Dice {:.4} (per class {:.3?}, pixel accuracy \
         {plain_accuracy:.4}, {plain_seconds:.1} s); scSE mean Dice {:.4} (per class {:.3?}, \
         pixel accuracy {scse_accuracy:.4}, {scse_seconds:.1} s)",
        plain.mean_dice(),
        plain.dice(),
        scse.mean_dice(),
        scse.dice(),
    );
    assert!(plain.mean_dice() >= 0.9, "plain U-Net: {plain:?}");
    assert!(scse.mean_dice() >= 0.9, "U-Net with scSE: {scse:?}");
    assert!(
        scse.mean_dice() >= plain.mean_dice() - 0.03,
        "scSE {} vs plain {}",
        scse.mean_dice(),
        plain.mean_dice()
    );
    assert!(scse.mean_iou() <= scse.mean_dice());
}

#[test]
fn segmentation_losses_refuse_class_targets() {
    let device = Device::flex();
    let out = Output {
        output: Tensor::zeros([4, 3], &device),
        target: Target::Classes(Tensor::zeros([4], &device)),
    };
    assert!(!Loss::Dice.accepts(&out.target));
    assert!(!Loss::DiceCrossEntropy.accepts(&out.target));
    let mask = Target::Mask(Tensor::zeros([1, 2, 2], &device));
    assert!(Loss::CrossEntropy.accepts(&mask) && !Loss::Mse.accepts(&mask));
    // Loss::Dice is DiceLoss with smp's defaults.
    let logits = Tensor::<4>::from_data(
        TensorData::new(
            (0..24).map(|v| (v as f32 * 0.37).sin()).collect(),
            [1, 6, 2, 2],
        ),
        &device,
    );
    let masks =
        Tensor::<3, Int>::from_data(TensorData::new(vec![0i64, 5, 2, 2], [1, 2, 2]), &device);
    let via_loss = Loss::Dice.compute(&Output {
        output: pixel_rows(logits.clone()),
        target: Target::Mask(masks.clone()),
    });
    let direct: DiceLoss = DiceLossConfig::new().init();
    assert_close(
        "Loss::Dice",
        &via_loss.into_data(),
        &direct.forward(logits, masks).into_data(),
        0.0,
        0.0,
    );
}
