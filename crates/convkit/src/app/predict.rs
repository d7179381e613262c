//! `convkit predict`: class probabilities of image files or `.npy` arrays from a checkpoint.

use std::path::{Path, PathBuf};

use burn::tensor::activation::softmax;
use convkit_core::{Error, Result, Tapped};
use convkit_data::image_folder::{Channels, read_image};
use convkit_data::npy::read_npy;
use convkit_data::npy_images::{ImageLayout, images_from_array};
use convkit_data::{Batcher, ImageItem, Pixels};
use serde::{Deserialize, Serialize};

use super::Runtime;
use super::trained_classifier::TrainedClassifier;

/// One class and its probability.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassProbability {
    /// Class name.
    pub class: String,
    /// Softmax probability.
    pub probability: f64,
}

/// The prediction for one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The file, with `[i]` for image `i` of an array.
    pub input: String,
    /// `[height, width]` before resizing, when the image was resized to the training size.
    pub resized_from: Option<[usize; 2]>,
    /// How the image file was converted to the model's channels (`"RGB to gray"`, `"gray to
    /// RGB"`), when it was.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub converted: Option<String>,
    /// The `k` most probable classes, most probable first.
    pub top: Vec<ClassProbability>,
}

/// The result of `convkit predict` (its `--json` output).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictReport {
    /// Model name.
    pub model: String,
    /// The checkpoint used.
    pub checkpoint: PathBuf,
    /// `[C, H, W]` the model takes; other sizes are resized to it.
    pub input_shape: [usize; 3],
    /// One entry per image, in argument order.
    pub predictions: Vec<Prediction>,
}

/// Classifies `inputs` (PNG / JPEG files, or `.npy` arrays of one or more images) with the
/// checkpoint `dir`, returning the `top_k` classes of each.
pub fn predict(
    dir: &Path,
    inputs: &[PathBuf],
    top_k: usize,
    runtime: &Runtime,
) -> Result<PredictReport> {
    if inputs.is_empty() {
        return Err(Error::invalid(
            "inputs",
            "give at least one image file or .npy array",
        ));
    }
    if top_k == 0 {
        return Err(Error::invalid("--top-k", "must be at least 1"));
    }
    let device = runtime.device.device()?;
    let trained = TrainedClassifier::load(dir, &device, &runtime.memory)?;
    let card = &trained.card;
    let mut items = Vec::new();
    let mut names = Vec::new();
    for path in inputs {
        for (name, item, converted) in read_inputs(path, card.input_shape[0])? {
            let from = [item.shape[1], item.shape[2]];
            let (item, was_resized) = card.fit_input(item, &name)?;
            names.push((name, was_resized.then_some(from), converted));
            items.push(item);
        }
    }
    let batcher = card.batcher();
    let k = top_k.min(card.classes.len());
    let mut predictions = Vec::with_capacity(items.len());
    let mut names = names.into_iter();
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let chunk: Vec<ImageItem> = items.by_ref().take(card.eval_batch_size).collect();
        let batch = batcher.batch(chunk, &device);
        let probs = softmax(trained.model.try_forward(batch.images)?, 1);
        let [_, classes] = probs.dims();
        let values: Vec<f32> = probs.into_data().iter::<f32>().collect();
        for row in values.chunks_exact(classes) {
            let (input, resized_from, converted) = names.next().unwrap_or_default();
            let mut order: Vec<usize> = (0..classes).collect();
            order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
            let top = order[..k]
                .iter()
                .map(|&c| ClassProbability {
                    class: card.classes[c].clone(),
                    probability: f64::from(row[c]),
                })
                .collect();
            predictions.push(Prediction {
                input,
                resized_from,
                converted,
                top,
            });
        }
    }
    Ok(PredictReport {
        model: card.model.kind().name().to_string(),
        checkpoint: dir.to_path_buf(),
        input_shape: card.input_shape,
        predictions,
    })
}

/// The images in `path`: one for an image file (decoded to `channels`, with the conversion
/// when its colours differ), every image of an array for `.npy`.
fn read_inputs(path: &Path, channels: usize) -> Result<Vec<(String, ImageItem, Option<String>)>> {
    if !path.exists() {
        return Err(Error::file(path, "no such file"));
    }
    if path.is_dir() {
        return Err(Error::file(
            path,
            "is a folder; give image files (PNG, JPEG) or .npy arrays",
        ));
    }
    let is_npy = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    if is_npy {
        let array = read_npy(path)?;
        let images = images_from_array(array, path, ImageLayout::Auto)?;
        let per_image = images.shape.iter().product::<usize>();
        let pixels: Vec<f32> = match images.pixels {
            Pixels::U8(v) => v.into_iter().map(|p| f32::from(p) / 255.0).collect(),
            Pixels::F32(v) => v,
        };
        return Ok(pixels
            .chunks_exact(per_image)
            .enumerate()
            .map(|(i, values)| {
                let item = ImageItem {
                    pixels: values.to_vec(),
                    shape: images.shape,
                    label: 0,
                };
                (format!("{}[{i}]", path.display()), item, None)
            })
            .collect());
    }
    let decode_as = match channels {
        1 => Channels::Gray,
        3 => Channels::Rgb,
        c => {
            return Err(Error::file(
                path,
                format!(
                    "the model takes {c}-channel images, and image files decode to 1 (gray) or \
                     3 (RGB) channels: pass the images as a .npy array"
                ),
            ));
        }
    };
    let image = read_image(path, decode_as)?;
    let converted = match (image.stored_channels, image.shape[0]) {
        (3, 1) => Some("RGB to gray".to_string()),
        (1, 3) => Some("gray to RGB".to_string()),
        _ => None,
    };
    Ok(vec![(
        path.display().to_string(),
        image.into_item(0),
        converted,
    )])
}
