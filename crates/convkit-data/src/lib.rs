//! # convkit-data
//!
//! What a training loop consumes, and where the samples come from.
//!
//! - [`Dataset`]: random access to items by index. [`Batcher`]: turns a list of items into a
//!   batch of tensors on a device. [`DataLoader`]: iterates batches, shuffled by a seed that
//!   changes per epoch, so a run is reproducible bit for bit.
//! - [`ImageItem`] / [`ImageBatch`] / [`ImageBatcher`]: the classification pair used by the
//!   vision models.
//! - [`ShapesDataset`]: synthetic circles, squares and triangles with noise, deterministic by
//!   seed, for demos, tests and benchmarks without downloads.
//! - [`ImageSet`]: labelled images in memory; [`idx`] reads MNIST-style IDX files (plain or
//!   gzip) into one, [`cifar`] the CIFAR-10/100 binary batches; errors give the file and the
//!   byte offset or record of a problem.
//!
//! ```
//! use convkit_data::{Dataset, ShapesConfig, ShapesDataset};
//! let data = ShapesDataset::new(ShapesConfig::new(30).with_seed(7));
//! let item = data.get(0).unwrap();
//! assert_eq!(item.shape, [1, 28, 28]);
//! assert_eq!(data.get(0).unwrap().pixels, item.pixels); // deterministic
//! ```

pub mod cifar;
mod dataset;
pub mod idx;
mod image;
mod image_set;
mod loader;
mod shapes;

pub use dataset::{Batcher, Dataset, Subset};
pub use image::{ImageBatch, ImageBatcher, ImageItem};
pub use image_set::{ImageSet, Pixels};
pub use loader::DataLoader;
pub use shapes::{ShapeClass, ShapesConfig, ShapesDataset};
