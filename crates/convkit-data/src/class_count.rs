//! How many classes integer labels describe, refusing spans that are mostly empty.

use std::collections::HashSet;
use std::path::Path;

use convkit_core::{Error, Result};

/// The class count of `labels` (class indices, PyTorch's convention) read from `path`:
/// `max(label) + 1`, at least `minimum` (10 for MNIST-style digit files).
///
/// Labels whose span is mostly empty are refused rather than turned into a model with
/// thousands of classes that never occur (one stray label `100000` among digits would ask for
/// a 100001-way head and a 100001² confusion matrix): when more than three quarters of the
/// classes `0..count` have no label, and more than [`MAX_SPARSE_GAP`] of them, the error names
/// the largest label and the values present (a small subset of a many-class set passes;
/// naming the classes, e.g. in `classes.txt`, settles the count anyway).
pub fn class_count(labels: &[usize], path: &Path, minimum: usize) -> Result<usize> {
    let Some(&largest) = labels.iter().max() else {
        return Ok(minimum);
    };
    let count = largest.saturating_add(1).max(minimum);
    let present: HashSet<usize> = labels.iter().copied().collect();
    let missing = count - present.len();
    if missing > MAX_SPARSE_GAP && missing > count / 4 * 3 {
        let mut values: Vec<usize> = present.into_iter().collect();
        values.sort_unstable();
        let shown: Vec<String> = values.iter().take(12).map(usize::to_string).collect();
        let more = if values.len() > 12 { ", …" } else { "" };
        return Err(Error::file(
            path,
            format!(
                "label {largest} makes {count} classes, but only {} label values occur ({}{more}): \
                 labels are class indices 0..k; fix the stray labels or name the classes",
                values.len(),
                shown.join(", ")
            ),
        ));
    }
    Ok(count)
}

/// Empty classes tolerated whatever the share (a small subset may miss a few classes).
pub const MAX_SPARSE_GAP: usize = 16;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_labels_count_and_stray_labels_are_refused() {
        let path = Path::new("y.npy");
        assert_eq!(class_count(&[0, 2, 1, 2], path, 0).unwrap(), 3);
        assert_eq!(class_count(&[3, 1], path, 10).unwrap(), 10);
        assert_eq!(class_count(&[], path, 10).unwrap(), 10);
        // Missing classes in a subset are fine up to a point.
        assert_eq!(class_count(&[0, 16], path, 0).unwrap(), 17);
        let quarter: Vec<usize> = (0..100).step_by(4).collect();
        assert_eq!(class_count(&quarter, path, 0).unwrap(), 97);
        let mut digits: Vec<usize> = (0..10).collect();
        digits.push(100_000);
        let err = class_count(&digits, path, 0).unwrap_err().to_string();
        assert_eq!(
            err,
            "y.npy: label 100000 makes 100001 classes, but only 11 label values occur (0, 1, 2, \
             3, 4, 5, 6, 7, 8, 9, 100000): labels are class indices 0..k; fix the stray labels \
             or name the classes"
        );
        digits[10] = 255;
        assert!(class_count(&digits, path, 10).is_err());
        assert!(class_count(&[0, usize::MAX], path, 0).is_err());
    }
}
