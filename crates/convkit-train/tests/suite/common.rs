//! Pieces several test files share.

use burn::module::Module;
use convkit_data::SegmentationBatch;
use convkit_train::segmentation::pixel_rows;
use convkit_train::{Output, Supervised, Target};
use convkit_zoo::UNet;

/// The U-Net as a [`Supervised`] model on segmentation batches.
#[derive(Module, Debug)]
pub struct Segmenter {
    pub unet: UNet,
}

impl Supervised<SegmentationBatch> for Segmenter {
    fn forward_batch(&self, batch: SegmentationBatch) -> Output {
        Output {
            output: pixel_rows(self.unet.forward(batch.images)),
            target: Target::Mask(batch.masks),
        }
    }
}
