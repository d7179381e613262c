//! `convkit train --list-models`: the zoo's classifiers with their sizes and inputs.

use burn::tensor::Device;
use convkit_core::weights::learned_parameter_count;
use convkit_core::{ImageClassifier, Result};
use convkit_zoo::ClassifierKind;
use serde::{Deserialize, Serialize};

/// Classes and channels the listed parameter counts are computed for.
pub const LISTED_CLASSES: usize = 10;
/// See [`LISTED_CLASSES`].
pub const LISTED_CHANNELS: usize = 3;

/// One classifier of the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelEntry {
    /// Name for `--model`.
    pub name: String,
    /// Parameters with [`LISTED_CLASSES`] classes and [`LISTED_CHANNELS`] input channels.
    pub params: usize,
    /// Smallest `[height, width]` it takes; every larger size works too.
    pub min_input: [usize; 2],
    /// Input channels it takes (any: the first layer is built for the data).
    pub channels: String,
    /// What it is.
    pub description: String,
}

/// Every classifier of the zoo, built once on `device` to count its parameters.
pub fn model_list(device: &Device) -> Result<Vec<ModelEntry>> {
    ClassifierKind::all()
        .into_iter()
        .map(|kind| {
            let model = kind
                .config(LISTED_CHANNELS, LISTED_CLASSES)
                .try_init(device)?;
            Ok(ModelEntry {
                name: kind.name().to_string(),
                params: learned_parameter_count(&model),
                min_input: model.min_input_size(),
                channels: "any".to_string(),
                description: kind.description().to_string(),
            })
        })
        .collect()
}
