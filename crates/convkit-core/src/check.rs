//! Shape checks shared by blocks and models.
//!
//! A [`Dim`] pattern describes an accepted shape; [`check_shape`] compares a tensor's shape
//! against it and returns an [`Error::Shape`] whose message shows both.

use crate::{Error, Result};

/// One dimension of an accepted shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dim {
    /// Any size (including 0).
    Any,
    /// Exactly this size.
    Exact(usize),
    /// At least this size.
    AtLeast(usize),
    /// A positive multiple of this size.
    MultipleOf(usize),
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Any => write!(f, "_"),
            Dim::Exact(n) => write!(f, "{n}"),
            Dim::AtLeast(n) => write!(f, ">={n}"),
            Dim::MultipleOf(n) => write!(f, "{n}·k"),
        }
    }
}

impl Dim {
    fn accepts(self, n: usize) -> bool {
        match self {
            Dim::Any => true,
            Dim::Exact(m) => n == m,
            Dim::AtLeast(m) => n >= m,
            Dim::MultipleOf(m) => n > 0 && m > 0 && n.is_multiple_of(m),
        }
    }

    /// The smallest size this dimension accepts.
    pub fn minimum(self) -> usize {
        match self {
            Dim::Any => 0,
            Dim::Exact(m) | Dim::AtLeast(m) | Dim::MultipleOf(m) => m,
        }
    }
}

/// Checks `shape` against `pattern` (rank and every dimension).
///
/// ```
/// use convkit_core::check::{check_shape, Dim};
/// assert!(check_shape("x", &[2, 3, 8, 8], &[Dim::Any, Dim::Exact(3), Dim::AtLeast(8), Dim::AtLeast(8)]).is_ok());
/// let err = check_shape("x", &[2, 1, 8, 8], &[Dim::Any, Dim::Exact(3), Dim::Any, Dim::Any]).unwrap_err();
/// assert_eq!(err.to_string(), "x: expected shape [_, 3, _, _], got [2, 1, 8, 8]");
/// ```
pub fn check_shape(what: &str, shape: &[usize], pattern: &[Dim]) -> Result<()> {
    let ok = shape.len() == pattern.len() && shape.iter().zip(pattern).all(|(&n, d)| d.accepts(n));
    if ok {
        return Ok(());
    }
    let expected = pattern
        .iter()
        .map(Dim::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    Err(Error::Shape {
        what: what.to_string(),
        expected: format!("[{expected}]"),
        got: shape.to_vec(),
    })
}

/// Checks that `shape` is an image batch `[N, channels, H, W]` with `H >= min_size[0]` and
/// `W >= min_size[1]`: the input contract of most convolutional blocks and models.
///
/// ```
/// use convkit_core::check::check_image_batch;
/// assert!(check_image_batch("model input", &[4, 3, 32, 32], 3, [8, 8]).is_ok());
/// let err = check_image_batch("model input", &[4, 1, 32, 32], 3, [8, 8]).unwrap_err();
/// assert_eq!(err.to_string(), "model input: expected shape [_, 3, >=8, >=8], got [4, 1, 32, 32]");
/// ```
pub fn check_image_batch(
    what: &str,
    shape: &[usize],
    channels: usize,
    min_size: [usize; 2],
) -> Result<()> {
    check_shape(
        what,
        shape,
        &[
            Dim::Any,
            Dim::Exact(channels),
            Dim::AtLeast(min_size[0]),
            Dim::AtLeast(min_size[1]),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_mismatch_is_reported() {
        let err = check_shape(
            "input",
            &[3, 8, 8],
            &[Dim::Any, Dim::Exact(3), Dim::Any, Dim::Any],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "input: expected shape [_, 3, _, _], got [3, 8, 8]"
        );
    }

    #[test]
    fn multiples_are_positive() {
        let p = [Dim::MultipleOf(8)];
        assert!(check_shape("x", &[16], &p).is_ok());
        for bad in [0, 12] {
            let err = check_shape("x", &[bad], &p).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("x: expected shape [8·k], got [{bad}]")
            );
        }
    }

    #[test]
    fn at_least_bounds() {
        let p = [Dim::AtLeast(8)];
        assert!(check_shape("x", &[8], &p).is_ok());
        assert!(check_shape("x", &[7], &p).is_err());
    }
}
