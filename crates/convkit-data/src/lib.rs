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
//! - [`ImageSet`]: labelled images in memory (select, per-channel statistics, map through a
//!   transform); [`split::stratified_split`] draws seeded stratified held-out splits.
//! - [`SegmentationItem`] / [`SegmentationBatch`] / [`SegmentationBatcher`]: images with
//!   per-pixel class masks; [`ShapesSegmentation`] draws them from the shapes (background +
//!   one class per shape).
//!
//! # What it reads
//!
//! Every reader has a `read_*` function for files and a `parse_*` function for bytes or any
//! reader; every error is an [`convkit_core::Error`] naming the file, the line and column (text)
//! or byte offset (binary), what was expected and what was found. Nothing a header claims is
//! allocated before it is checked against the file, and every parser is fuzzed (`fuzz/`).
//! Text formats may be gzip-compressed.
//!
//! | data | formats | module |
//! |---|---|---|
//! | images | MNIST / Fashion-MNIST IDX (`.gz` too), CIFAR-10/100 binary batches, image folders (PNG/JPEG, one sub-folder per class) | [`idx`], [`cifar`], [`image_folder`] ([`transform`]: resize, crops, flips, normalisation) |
//! | arrays | NumPy `.npy` / `.npz` (f32, f64, i64, i32, u8, bool; C and Fortran order); labelled images from `x`/`y` arrays (NCHW / NHWC detected) | [`npy`], [`npy_images`], [`array`](mod@array) (ndarray ↔ tensor) |
//! | time series | UCR/UEA `.tsv`, sktime/UEA `.ts`, irregular long CSV `id,time,channel,value` | [`timeseries`] |
//! | graphs | edge lists (streamed into CSR), LINQS `.content`/`.cites`, Elliptic Bitcoin | [`graph`] (petgraph interop) |
//! | recommendation | LightGCN `train.txt`, `user,item[,rating[,timestamp]]` CSV | [`interactions`] |
//! | node attributes | categorical tables (CatGCN) | [`categorical`] |
//! | text | one document per line + labels (Text GCN meta files too), tokenizer, vocabulary | [`text`] |
//!
//! # Synthetic data (deterministic by seed)
//!
//! Shapes images with masks ([`ShapesDataset`]), moving-shapes video ([`moving_shapes`]),
//! sine/chirp/square waves, optionally irregular with missing values
//! ([`timeseries::waves`]), stochastic block model graphs and temporal snapshots
//! ([`graph::sbm`], [`graph::temporal`]), Zachary's karate club ([`graph::karate`]),
//! latent-factor user–item interactions ([`interactions::LatentFactorConfig`]) and skeleton
//! action sequences ([`skeleton`]).
//!
//! ```
//! use convkit_data::{Dataset, ShapesConfig, ShapesDataset};
//! let data = ShapesDataset::new(ShapesConfig::new(30).with_seed(7));
//! let item = data.get(0).unwrap();
//! assert_eq!(item.shape, [1, 28, 28]);
//! assert_eq!(data.get(0).unwrap().pixels, item.pixels); // deterministic
//! ```

pub mod array;
mod atomic;
pub mod categorical;
pub mod cifar;
pub mod class_count;
mod dataset;
pub mod graph;
pub mod idx;
mod image;
#[cfg(feature = "images")]
pub mod image_folder;
mod image_set;
pub mod interactions;
mod lines;
mod loader;
pub mod moving_shapes;
pub mod npy;
pub mod npy_images;
mod random;
mod segmentation;
mod shapes;
pub mod skeleton;
pub mod split;
pub mod text;
pub mod timeseries;
pub mod transform;

pub use dataset::{Batcher, Dataset, Subset};
pub use image::{ImageBatch, ImageBatcher, ImageItem};
pub use image_set::{ImageSet, Pixels, read_class_names};
pub use loader::DataLoader;
pub use segmentation::{
    SegmentationBatch, SegmentationBatcher, SegmentationItem, ShapesSegmentation,
};
pub use shapes::{ShapeClass, ShapesConfig, ShapesDataset};
