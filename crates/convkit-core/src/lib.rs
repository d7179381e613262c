//! # convkit-core
//!
//! The foundation every other convkit crate stands on:
//!
//! - [`device`]: one way to pick a compute device everywhere — `cpu` (burn's flex backend, the
//!   default), `ndarray`, `wgpu`, `cuda[:N]` — from a string, a CLI flag or the
//!   `CONVKIT_DEVICE` environment variable, with a typed error when a backend is not compiled in
//!   or has no adapter.
//! - [`tap`]: named taps that let any caller observe or replace intermediate activations of a
//!   convkit block or model during `forward`. burn has no forward hooks; taps are how
//!   feature extraction, Grad-CAM, LinearScope replay and quantization observers reach inside a
//!   model without per-model code.
//! - [`random`] and [`init`]: seeded randomness that belongs to the calling thread, and burn's
//!   layers initialised from it, so that a seed fixes a model and a training run whatever else
//!   runs in the process (burn's own generator is process-wide).
//! - [`error`]: the [`Error`] type every fallible convkit API returns.
//! - [`tapped`]: [`Tapped`], the one forward surface of every block and model
//!   (`forward_tapped` and a declared [`InputSpec`] give `forward`, `check_input`,
//!   `try_forward`).
//! - [`model`]: task traits on top of it ([`ImageClassifier`], [`ImageSegmenter`]), so
//!   training, evaluation and interpretability code works on any model.
//! - [`budget`]: [`MemoryBudget`], the limit every allocation sized from user input is checked
//!   against first (so an absurd input is an error, not an abort).
//! - [`check`]: input-shape checks shared by blocks and models, returning typed errors.
//! - [`weights`]: importing PyTorch `state_dict`s saved as safetensors, with key remapping and
//!   errors that name every missing, unexpected or mis-shaped key.
//! - `testing` (feature `testing`): golden-fixture loading and closeness assertions.
//!
//! ```
//! use convkit_core::{DeviceSpec, tap::{Recorder, Taps}};
//! use burn::tensor::Tensor;
//!
//! let device = DeviceSpec::Cpu.device().unwrap();
//! let x = Tensor::<2>::ones([2, 3], &device);
//! let mut recorder = Recorder::all();
//! let mut taps = Taps::new(&mut recorder);
//! let y = taps.child("block").float("out", x * 2.0);
//! assert_eq!(recorder.get("block.out").unwrap().shape(), vec![2, 3]);
//! assert_eq!(y.into_data().try_to_vec::<f32>().unwrap(), vec![2.0; 6]);
//! ```

pub mod budget;
pub mod check;
pub mod device;
pub mod error;
pub mod init;
pub mod model;
pub mod random;
pub mod tap;
pub mod tapped;
#[cfg(feature = "testing")]
pub mod testing;
pub mod weights;

/// The traits a user of convkit models needs in scope: `use convkit_core::prelude::*;`.
pub mod prelude {
    pub use crate::model::{ImageClassifier, ImageSegmenter};
    pub use crate::tap::{SiteKind, Taps};
    pub use crate::tapped::Tapped;
}

pub use budget::MemoryBudget;
pub use device::{Backend, DeviceSpec};
pub use error::{Error, Result};
pub use model::{ImageClassifier, ImageSegmenter};
pub use tap::{Site, SiteKind, Tap, TapTensor, Taps};
pub use tapped::{InputSpec, Shaped, Tapped};
pub use weights::{KeyMap, WeightReport};

/// burn, re-exported so that downstream crates and users build against the exact version
/// convkit was compiled with.
pub use burn;
