//! Per-channel normalisation `(x - mean) / std`.

use super::*;

/// Standardizes channel `c` as `(x - mean[c]) / std[c]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalize {
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl Normalize {
    /// One mean and standard deviation per channel; the lists must have the same non-zero
    /// length, finite means and finite positive deviations.
    pub fn new(mean: Vec<f32>, std: Vec<f32>) -> Result<Self> {
        if mean.is_empty() || mean.len() != std.len() {
            return Err(Error::invalid(
                "Normalize",
                format!(
                    "mean and std need one value per channel, got {} means and {} deviations",
                    mean.len(),
                    std.len()
                ),
            ));
        }
        if let Some(m) = mean.iter().find(|m| !m.is_finite()) {
            return Err(Error::invalid(
                "Normalize mean",
                format!("must be finite, got {m}"),
            ));
        }
        if let Some(s) = std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(Error::invalid(
                "Normalize std",
                format!("must be finite and positive, got {s}"),
            ));
        }
        Ok(Normalize { mean, std })
    }
}

impl Transform for Normalize {
    fn apply(&self, mut item: ImageItem, _rng: &mut StdRng) -> Result<ImageItem> {
        let [c, h, w] = checked_shape(&item, "Normalize")?;
        if c != self.mean.len() {
            return Err(Error::Shape {
                what: "Normalize input".into(),
                expected: format!("[{}, _, _]", self.mean.len()),
                got: item.shape.to_vec(),
            });
        }
        if h * w > 0 {
            for ((plane, m), s) in item
                .pixels
                .chunks_exact_mut(h * w)
                .zip(&self.mean)
                .zip(&self.std)
            {
                plane.iter_mut().for_each(|p| *p = (*p - m) / s);
            }
        }
        Ok(item)
    }
}
