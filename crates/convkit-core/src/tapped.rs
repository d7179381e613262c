//! The one forward surface of every convkit block and model: [`Tapped`].
//!
//! A block or model implements two things — `forward_tapped` (the computation, offering its
//! values to [`Taps`]) and `input_spec` (what it accepts, declared once) — and gets
//! `forward`, `check_input` and `try_forward` from the trait:
//!
//! ```
//! use burn::tensor::{Device, Tensor};
//! use convkit_core::check::Dim;
//! use convkit_core::{InputSpec, Tapped, Taps};
//!
//! struct Double;
//!
//! impl Tapped<Tensor<2>> for Double {
//!     type Output = Tensor<2>;
//!     fn forward_tapped(&self, x: Tensor<2>, taps: &mut Taps<'_>) -> Tensor<2> {
//!         taps.float("out", x * 2.0)
//!     }
//!     fn input_spec(&self) -> InputSpec {
//!         InputSpec::new("Double input", vec![Dim::Any, Dim::Exact(3)])
//!     }
//! }
//!
//! let device = Device::flex();
//! assert_eq!(Double.forward(Tensor::<2>::ones([2, 3], &device)).dims(), [2, 3]);
//! let err = Double.try_forward(Tensor::<2>::ones([2, 4], &device)).unwrap_err();
//! assert_eq!(err.to_string(), "Double input: expected shape [_, 3], got [2, 4]");
//! ```
//!
//! Models also implement a task trait on top ([`crate::ImageClassifier`],
//! [`crate::ImageSegmenter`]; graph and sequence models later), which is what training,
//! evaluation, the command line and interpretation code are written against.

use burn::tensor::Tensor;
use burn::tensor::kind::Basic;

use crate::check::{Dim, check_shape};
use crate::{Error, Result, Taps};

/// An input whose shape can be checked against an [`InputSpec`].
pub trait Shaped {
    /// The shape, outermost axis first.
    fn shape(&self) -> Vec<usize>;
}

impl<const D: usize, K: Basic> Shaped for Tensor<D, K> {
    fn shape(&self) -> Vec<usize> {
        self.dims().to_vec()
    }
}

/// What a block or model accepts: a name for error messages and one [`Dim`] per axis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSpec {
    what: String,
    dims: Vec<Dim>,
    note: Option<String>,
}

impl InputSpec {
    /// Accepts shapes matching `dims` (rank included); errors name `what`.
    pub fn new(what: impl Into<String>, dims: Vec<Dim>) -> Self {
        InputSpec {
            what: what.into(),
            dims,
            note: None,
        }
    }

    /// Adds an explanation to the expected shape in error messages (`[_, 3, 8·k, 8·k] (H and
    /// W multiples of 8)`).
    pub fn with_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// An image batch `[N, channels, H >= min_size[0], W >= min_size[1]]`.
    pub fn image(what: impl Into<String>, channels: usize, min_size: [usize; 2]) -> Self {
        Self::new(
            what,
            vec![
                Dim::Any,
                Dim::Exact(channels),
                Dim::AtLeast(min_size[0]),
                Dim::AtLeast(min_size[1]),
            ],
        )
    }

    /// Checks `shape`, returning an [`crate::Error::Shape`] that shows both.
    pub fn check(&self, shape: &[usize]) -> Result<()> {
        check_shape(&self.what, shape, &self.dims).map_err(|e| match (e, &self.note) {
            (
                Error::Shape {
                    what,
                    expected,
                    got,
                },
                Some(note),
            ) => Error::Shape {
                what,
                expected: format!("{expected} ({note})"),
                got,
            },
            (e, _) => e,
        })
    }

    /// The pattern, one [`Dim`] per axis.
    pub fn dims(&self) -> &[Dim] {
        &self.dims
    }

    /// The size axis `axis` must have, if it is fixed.
    pub fn exact(&self, axis: usize) -> Option<usize> {
        match self.dims.get(axis) {
            Some(Dim::Exact(n)) => Some(*n),
            _ => None,
        }
    }

    /// The smallest size axis `axis` accepts (0 for an axis that takes any size).
    pub fn minimum(&self, axis: usize) -> usize {
        self.dims.get(axis).map_or(0, |d| d.minimum())
    }
}

/// A block or model whose forward pass offers its intermediate values to [`Taps`].
///
/// `I` is the input type (a tensor for every block so far); a block that works at several
/// ranks implements the trait once per rank. See the [module docs](self) for an example.
pub trait Tapped<I: Shaped> {
    /// What `forward` returns.
    type Output;

    /// The forward pass, offering every intermediate value to `taps`. With [`Taps::none`]
    /// it is exactly [`Tapped::forward`].
    fn forward_tapped(&self, input: I, taps: &mut Taps<'_>) -> Self::Output;

    /// The inputs this block or model accepts.
    fn input_spec(&self) -> InputSpec;

    /// The forward pass (burn's convention: the shape contract is documented, not checked).
    fn forward(&self, input: I) -> Self::Output {
        self.forward_tapped(input, &mut Taps::none())
    }

    /// Checks an input shape against [`Tapped::input_spec`], with a typed error naming the
    /// problem.
    fn check_input(&self, shape: &[usize]) -> Result<()> {
        self.input_spec().check(shape)
    }

    /// Checks the input, then runs [`Tapped::forward`].
    fn try_forward(&self, input: I) -> Result<Self::Output> {
        self.check_input(&input.shape())?;
        Ok(self.forward(input))
    }
}
