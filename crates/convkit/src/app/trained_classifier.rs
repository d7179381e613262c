//! A trained classifier with everything needed to use it again: the checkpoint folder the
//! command line writes and reads.
//!
//! The folder is a [`convkit_train::checkpoint`] folder: `checkpoint.json` (marker and model
//! name), `model.safetensors` (weights), `summary.json` (the training report) and
//! `config.json` holding a [`ClassifierCard`]: model config, class names, input shape,
//! normalization statistics of the training split, and the preprocessing to repeat.

use std::path::Path;

use burn::module::Module;
use burn::tensor::Device;
use convkit_core::{Error, ImageClassifier, MemoryBudget, Result};
use convkit_data::transform::Resize;
use convkit_data::{ImageBatcher, ImageItem};
use convkit_train::checkpoint;
use convkit_zoo::{Classifier, ClassifierConfig};
use serde::{Deserialize, Serialize};

use super::data_source::{DataSource, Preprocess};

/// What a checkpoint knows besides the weights (`config.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassifierCard {
    /// The model and its configuration.
    pub model: ClassifierConfig,
    /// Class names, indexed by label.
    pub classes: Vec<String>,
    /// `[C, H, W]` of the training images after preprocessing.
    pub input_shape: [usize; 3],
    /// Per-channel mean of the training split's pixels (in `[0, 1]` for byte images).
    pub mean: Vec<f32>,
    /// Per-channel population standard deviation of the training split (0 replaced by 1).
    pub std: Vec<f32>,
    /// How images were brought to `input_shape`.
    pub preprocess: Preprocess,
    /// The data the model was trained on.
    pub data: DataSource,
    /// Batch size of evaluation (kept so `eval` batches exactly as `train` did).
    pub eval_batch_size: usize,
}

impl ClassifierCard {
    /// Checks what the card says before it is used: classes, positive input shape and
    /// batch size, finite means and positive finite standard deviations for every channel, a
    /// resize that agrees with the input shape, and a batch of inputs that fits `memory`.
    pub fn validate(&self, memory: &MemoryBudget) -> Result<()> {
        let what = "checkpoint card";
        let [c, h, w] = self.input_shape;
        if self.classes.is_empty() || c == 0 || h == 0 || w == 0 || self.eval_batch_size == 0 {
            return Err(Error::invalid(
                what,
                "classes, the input shape and the batch size must be non-empty / positive",
            ));
        }
        if self.mean.len() != c || self.std.len() != c {
            return Err(Error::invalid(
                what,
                format!(
                    "{} means and {} standard deviations for {c} input channels",
                    self.mean.len(),
                    self.std.len()
                ),
            ));
        }
        if let Some(bad) = self.std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::invalid(
                what,
                format!("standard deviation {bad}: every channel's must be positive and finite"),
            ));
        }
        if let Some(bad) = self.mean.iter().find(|m| !m.is_finite()) {
            return Err(Error::invalid(
                what,
                format!("mean {bad}: every channel's must be finite"),
            ));
        }
        if let Some([rh, rw]) = self.preprocess.resize
            && [rh, rw] != [h, w]
        {
            return Err(Error::invalid(
                what,
                format!("resize {rh}x{rw} disagrees with the input shape {h}x{w}"),
            ));
        }
        let per_image = (c as u64)
            .saturating_mul(h as u64)
            .saturating_mul(w as u64)
            .saturating_mul(4);
        memory.check_items(
            &format!("a batch of {} inputs of {c}x{h}x{w}", self.eval_batch_size),
            self.eval_batch_size as u64,
            per_image,
        )
    }

    /// The batcher that normalizes images as training did.
    pub fn batcher(&self) -> ImageBatcher {
        ImageBatcher::with_normalization(self.mean.clone(), self.std.clone())
    }

    /// Brings `item` to the training input shape: the same resize as training when its
    /// size differs. Fails, saying why, when its channel count differs.
    pub fn fit_input(&self, item: ImageItem, what: &str) -> Result<(ImageItem, bool)> {
        let [c, h, w] = self.input_shape;
        if item.shape[0] != c {
            return Err(Error::invalid(
                "input",
                format!(
                    "{what} has {} channel(s) but the model was trained on {c}",
                    item.shape[0]
                ),
            ));
        }
        if item.shape[1..] == [h, w] {
            return Ok((item, false));
        }
        let resize: Resize = Preprocess::resize_to(h, w)?;
        let resized = convkit_data::transform::Transform::apply(
            &resize,
            item,
            &mut convkit_data::transform::item_rng(0, 0, 0),
        )?;
        Ok((resized, true))
    }
}

/// A classifier and its card.
#[derive(Debug, Clone)]
pub struct TrainedClassifier {
    /// The card.
    pub card: ClassifierCard,
    /// The model (in inference state after [`TrainedClassifier::load`]).
    pub model: Classifier,
}

impl TrainedClassifier {
    /// Writes the checkpoint folder `dir` with `summary` as its training report (see
    /// [`checkpoint::save`] for what may be replaced).
    pub fn save<S: Serialize>(&self, dir: &Path, summary: &S, overwrite: bool) -> Result<()> {
        checkpoint::save(
            dir,
            self.card.model.kind().name(),
            &self.model,
            &self.card,
            summary,
            overwrite,
        )
    }

    /// Reads the checkpoint folder `dir` onto `device`.
    ///
    /// Fails naming the file when `dir` is not a convkit checkpoint, its card is invalid (see
    /// [`ClassifierCard::validate`]), the card names another model than the marker, or the
    /// weights do not fit the model.
    pub fn load(dir: &Path, device: &Device, memory: &MemoryBudget) -> Result<Self> {
        if !dir.is_dir() {
            return Err(Error::file(dir, "no such checkpoint folder"));
        }
        if !checkpoint::is_checkpoint(dir) {
            return Err(Error::file(
                dir,
                "not a convkit checkpoint folder (no valid checkpoint.json); train one with \
                 convkit train --out DIR",
            ));
        }
        let name = checkpoint::model_name(dir)?;
        let card: ClassifierCard = checkpoint::load_config(dir)?;
        let config_path = dir.join("config.json");
        if card.model.kind().name() != name {
            return Err(Error::file(
                &config_path,
                format!(
                    "configures a {} but checkpoint.json says {name}: the folder mixes two \
                     checkpoints",
                    card.model.kind()
                ),
            ));
        }
        card.validate(memory)
            .map_err(|e| Error::file(&config_path, e.to_string()))?;
        let [c, _, _] = card.input_shape;
        let (model, _) = memory
            .build_module(&format!("the {name} of {}", dir.display()), 1, || {
                card.model.try_init(device)
            })
            .map_err(|e| Error::file(&config_path, e.to_string()))?;
        if model.num_classes() != card.classes.len() || model.in_channels() != c {
            return Err(Error::file(
                &config_path,
                "the model config disagrees with the class names or input shape",
            ));
        }
        let model = checkpoint::load_weights(dir, model)?;
        Ok(TrainedClassifier {
            card,
            model: model.valid(),
        })
    }
}
