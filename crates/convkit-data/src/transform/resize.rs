//! Resizing images: bilinear and nearest, optionally antialiased, as PyTorch's `interpolate`.

use super::*;

/// The target size of a [`Resize`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeTo {
    /// Scale so the shorter side has this length, keeping the aspect ratio; the longer side
    /// becomes `floor(size * longer / shorter)`, as torchvision's `Resize(int)`.
    Shorter(usize),
    /// Exactly this height and width.
    Exact {
        /// Output height.
        height: usize,
        /// Output width.
        width: usize,
    },
}

/// How a [`Resize`] samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResizeFilter {
    /// Bilinear with half-pixel centres (`align_corners=False`): each output pixel blends
    /// the 2x2 input pixels around its centre. Shrinking by more than 2 skips pixels and
    /// aliases.
    Bilinear,
    /// Bilinear whose triangle filter is widened by the shrink factor when shrinking, so
    /// every input pixel contributes (`antialias=True`, torchvision's default and close to
    /// PIL's bilinear resize). Identical to [`ResizeFilter::Bilinear`] when enlarging.
    #[default]
    BilinearAntialias,
}

/// Resizes every channel with a separable bilinear filter (see the module documentation
/// for the reference it matches). Width is resampled first, then height, as PyTorch does.
#[derive(Debug, Clone, PartialEq)]
pub struct Resize {
    size: ResizeTo,
    filter: ResizeFilter,
}

impl Resize {
    /// A resize to `size` with `filter`; a zero size is an error.
    pub fn new(size: ResizeTo, filter: ResizeFilter) -> Result<Self> {
        match size {
            ResizeTo::Shorter(s) => zero_size("Resize", s, s)?,
            ResizeTo::Exact { height, width } => zero_size("Resize", height, width)?,
        }
        Ok(Resize { size, filter })
    }

    /// The `(height, width)` an image of `height` x `width` is resized to; an empty image
    /// is an [`Error::Shape`].
    pub fn output_size(&self, height: usize, width: usize) -> Result<(usize, usize)> {
        if height == 0 || width == 0 {
            return Err(Error::Shape {
                what: "Resize input (height, width)".into(),
                expected: "[>=1, >=1]".into(),
                got: vec![height, width],
            });
        }
        match self.size {
            ResizeTo::Exact { height, width } => Ok((height, width)),
            ResizeTo::Shorter(size) => {
                let (short, long) = (height.min(width), height.max(width));
                let new_long = size.checked_mul(long).map(|n| n / short).ok_or_else(|| {
                    Error::invalid(
                        "Resize size",
                        format!("shorter side {size} overflows for a {height}x{width} image"),
                    )
                })?;
                Ok(if height <= width {
                    (size, new_long)
                } else {
                    (new_long, size)
                })
            }
        }
    }
}

/// The taps of one output pixel along one axis: the first input index and the weights of
/// the consecutive input pixels from there (normalized to sum to 1).
struct Taps {
    start: usize,
    weights: Vec<f32>,
}

/// The taps of every output pixel when resampling an axis of `input` pixels to `output`.
///
/// Output pixel `i` is centred at `scale * (i + 0.5)` in input coordinates (`scale = input /
/// output`); input pixel `j` is centred at `j + 0.5`. The triangle filter `max(0, 1 - |d|)`
/// is stretched by `scale` when antialiasing a shrink, and input pixels whose centre lies
/// within its support contribute, with weights renormalized at the borders. This is
/// PyTorch's `_compute_indices_weights_aa`, which for a support of 1 reduces to plain
/// `align_corners=False` bilinear with the source coordinate clamped at the edges.
fn axis_taps(input: usize, output: usize, antialias: bool) -> Vec<Taps> {
    let scale = input as f64 / output as f64;
    let stretch = if antialias && scale > 1.0 { scale } else { 1.0 };
    (0..output)
        .map(|i| {
            let center = scale * (i as f64 + 0.5);
            // Truncation toward zero, as the C++ reference's integer casts.
            let start = ((center - stretch + 0.5) as i64).max(0) as usize;
            let end = ((center + stretch + 0.5) as i64).clamp(0, input as i64) as usize;
            let mut weights: Vec<f64> = (start..end)
                .map(|j| (1.0 - ((j as f64 - center + 0.5) / stretch).abs()).max(0.0))
                .collect();
            let total: f64 = weights.iter().sum();
            if total > 0.0 {
                weights.iter_mut().for_each(|w| *w /= total);
            }
            Taps {
                start,
                weights: weights.into_iter().map(|w| w as f32).collect(),
            }
        })
        .collect()
}

impl Transform for Resize {
    fn apply(&self, item: ImageItem, _rng: &mut StdRng) -> Result<ImageItem> {
        let [c, h, w] = checked_shape(&item, "Resize")?;
        let (oh, ow) = self.output_size(h, w)?;
        if (oh, ow) == (h, w) {
            return Ok(item);
        }
        let antialias = self.filter == ResizeFilter::BilinearAntialias;
        let (rows, cols) = (axis_taps(h, oh, antialias), axis_taps(w, ow, antialias));
        let mut wide = Vec::with_capacity(c * h * ow);
        for row in item.pixels.chunks_exact(w) {
            for taps in &cols {
                let src = &row[taps.start..taps.start + taps.weights.len()];
                wide.push(
                    src.iter()
                        .zip(&taps.weights)
                        .map(|(p, k)| p * k)
                        .sum::<f32>(),
                );
            }
        }
        let mut pixels = Vec::with_capacity(c * oh * ow);
        for plane in wide.chunks_exact(h * ow) {
            for taps in &rows {
                // Whole rows at a time (contiguous, vectorizable); each output pixel still
                // sums its taps in order, as the reference does.
                let base = pixels.len();
                pixels.resize(base + ow, 0.0);
                let out = &mut pixels[base..];
                for (k, weight) in taps.weights.iter().enumerate() {
                    let src = &plane[(taps.start + k) * ow..(taps.start + k + 1) * ow];
                    out.iter_mut().zip(src).for_each(|(o, p)| *o += p * weight);
                }
            }
        }
        Ok(ImageItem {
            pixels,
            shape: [c, oh, ow],
            label: item.label,
        })
    }
}
