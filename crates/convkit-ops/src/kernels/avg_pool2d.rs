//! Average pooling on host slices, forward and backward: PyTorch's `avg_pool2d` (kernel,
//! stride, padding, ceil mode, `count_include_pad`) and `adaptive_avg_pool2d` as one kernel
//! over rectangular windows.
//!
//! Every window is a product of a row range and a column range, and its divisor a product of
//! a row count and a column count (the window's extent with or without padding), so both
//! passes are separable: the forward sums each input row over the column windows, then those
//! sums over the row windows (`k_h + k_w` additions per output instead of `k_h · k_w`); the
//! backward spreads `dy / divisor` over the row windows, then over the column windows.
//! Planes (`N·C`) run in parallel, each in a fixed order: the same bits for any thread count.

use std::ops::Range;

use burn::tensor::ops::AvgPoolOptions;
use rayon::prelude::*;

use super::max_pool2d::pooled_len;

/// The windows of one axis: the input range each output reads and its share of the divisor.
#[derive(Clone, Debug, PartialEq)]
struct AxisWindows {
    ranges: Vec<Range<usize>>,
    counts: Vec<f32>,
}

impl AxisWindows {
    /// Sliding windows of `kernel` by `stride` over `len` inputs padded by `(before, after)`
    /// (PyTorch's output size, and in ceil mode its rule that the last window starts inside
    /// the input or its leading padding); counts with or without the padding.
    fn sliding(
        len: usize,
        kernel: usize,
        stride: usize,
        pad: (usize, usize),
        ceil: bool,
        count_pad: bool,
    ) -> Self {
        let (before, after) = pad;
        let padded = len + before + after;
        let out = pooled_len(len, kernel, stride, pad, ceil);
        let (mut ranges, mut counts) = (Vec::with_capacity(out), Vec::with_capacity(out));
        for i in 0..out {
            // Window [start, start + kernel) in padded coordinates.
            let start = i * stride;
            let end_padded = (start + kernel).min(padded);
            let lo = start.saturating_sub(before).min(len);
            let hi = end_padded.saturating_sub(before).min(len);
            ranges.push(lo..hi.max(lo));
            counts.push(if count_pad {
                (end_padded - start) as f32
            } else {
                hi.saturating_sub(lo) as f32
            });
        }
        AxisWindows { ranges, counts }
    }

    /// Adaptive windows: output `i` of `out` averages `[floor(i·len/out), ceil((i+1)·len/out))`.
    fn adaptive(len: usize, out: usize) -> Self {
        let ranges: Vec<Range<usize>> = (0..out)
            .map(|i| i * len / out..((i + 1) * len).div_ceil(out))
            .collect();
        let counts = ranges.iter().map(|r| r.len() as f32).collect();
        AxisWindows { ranges, counts }
    }

    fn len(&self) -> usize {
        self.ranges.len()
    }
}

/// The windows of one average pooling of `[N, C, H, W]`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MeanWindows {
    pub planes: usize,
    pub in_size: [usize; 2],
    rows: AxisWindows,
    columns: AxisWindows,
}

impl MeanWindows {
    /// `avg_pool2d(x, options)`.
    ///
    /// # Panics
    /// On a zero kernel size or stride (as burn's pooling).
    pub fn sliding(x: [usize; 4], options: &AvgPoolOptions<2>) -> Self {
        let [n, c, h, w] = x;
        assert!(
            !options.kernel_size.contains(&0) && !options.stride.contains(&0),
            "avg_pool2d: kernel size and stride must be positive"
        );
        let axis = |i: usize, len: usize| {
            AxisWindows::sliding(
                len,
                options.kernel_size[i],
                options.stride[i],
                options.padding[i],
                options.ceil_mode,
                options.count_include_pad,
            )
        };
        MeanWindows {
            planes: n * c,
            in_size: [h, w],
            rows: axis(0, h),
            columns: axis(1, w),
        }
    }

    /// `adaptive_avg_pool2d(x, out_size)`.
    pub fn adaptive(x: [usize; 4], out_size: [usize; 2]) -> Self {
        let [n, c, h, w] = x;
        MeanWindows {
            planes: n * c,
            in_size: [h, w],
            rows: AxisWindows::adaptive(h, out_size[0]),
            columns: AxisWindows::adaptive(w, out_size[1]),
        }
    }

    pub fn out_size(&self) -> [usize; 2] {
        [self.rows.len(), self.columns.len()]
    }

    fn in_plane(&self) -> usize {
        self.in_size[0] * self.in_size[1]
    }

    fn out_plane(&self) -> usize {
        self.rows.len() * self.columns.len()
    }
}

/// `out[p, i, j] = Σ x[p, rows_i, cols_j] / (count_i · count_j)`, `[N·C, H_out·W_out]`.
///
/// # Panics
/// When `x`'s length disagrees with the windows.
pub(crate) fn forward(s: &MeanWindows, x: &[f32]) -> Vec<f32> {
    assert_eq!(x.len(), s.planes * s.in_plane(), "avg_pool2d: input length");
    let [h, w] = s.in_size;
    let wo = s.columns.len();
    let mut out = vec![0.0f32; s.planes * s.out_plane()];
    if out.is_empty() || x.is_empty() {
        return out;
    }
    out.par_chunks_mut(s.out_plane())
        .zip(x.par_chunks(s.in_plane()))
        .for_each_init(Vec::new, |row_sums, (out, plane)| {
            // row_sums[y, j] = Σ_{x ∈ cols_j} plane[y, x]
            row_sums.clear();
            row_sums.resize(h * wo, 0.0f32);
            for (sums, row) in row_sums.chunks_exact_mut(wo).zip(plane.chunks_exact(w)) {
                for (sum, range) in sums.iter_mut().zip(&s.columns.ranges) {
                    *sum = row[range.clone()].iter().sum();
                }
            }
            for ((out, range), &count) in out
                .chunks_exact_mut(wo)
                .zip(&s.rows.ranges)
                .zip(&s.rows.counts)
            {
                for y in range.clone() {
                    for (o, &v) in out.iter_mut().zip(&row_sums[y * wo..(y + 1) * wo]) {
                        *o += v;
                    }
                }
                for (o, &column_count) in out.iter_mut().zip(&s.columns.counts) {
                    *o /= count * column_count;
                }
            }
        });
    out
}

/// The gradient `[N·C, H·W]` of [`forward`]'s input: each `dy[p, i, j] / (count_i · count_j)`
/// added over its window.
///
/// # Panics
/// When `grad`'s length disagrees with the windows.
pub(crate) fn backward(s: &MeanWindows, grad: &[f32]) -> Vec<f32> {
    assert_eq!(
        grad.len(),
        s.planes * s.out_plane(),
        "avg_pool2d backward: gradient length"
    );
    let [h, w] = s.in_size;
    let wo = s.columns.len();
    let mut dx = vec![0.0f32; s.planes * s.in_plane()];
    if dx.is_empty() || grad.is_empty() {
        return dx;
    }
    dx.par_chunks_mut(s.in_plane())
        .zip(grad.par_chunks(s.out_plane()))
        .for_each_init(
            || (Vec::new(), vec![0.0f32; wo]),
            |(spread, scaled), (dx, grad)| {
                // spread[y, j] = Σ_{i : y ∈ rows_i} grad[i, j] / (count_i · count_j), each
                // quotient computed once per output and added to every row of its window.
                spread.clear();
                spread.resize(h * wo, 0.0f32);
                for ((grad, range), &count) in grad
                    .chunks_exact(wo)
                    .zip(&s.rows.ranges)
                    .zip(&s.rows.counts)
                {
                    for ((q, &g), &column_count) in
                        scaled.iter_mut().zip(grad).zip(&s.columns.counts)
                    {
                        *q = g / (count * column_count);
                    }
                    for y in range.clone() {
                        for (r, &q) in spread[y * wo..(y + 1) * wo].iter_mut().zip(scaled.iter()) {
                            *r += q;
                        }
                    }
                }
                for (dx, spread) in dx.chunks_exact_mut(w).zip(spread.chunks_exact(wo)) {
                    for (&g, range) in spread.iter().zip(&s.columns.ranges) {
                        for d in &mut dx[range.clone()] {
                            *d += g;
                        }
                    }
                }
            },
        );
    dx
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// PyTorch's definition, one window at a time.
    fn direct(
        x: &[f32],
        [h, w]: [usize; 2],
        options: &AvgPoolOptions<2>,
    ) -> (Vec<f32>, [usize; 2]) {
        let s = MeanWindows::sliding([1, 1, h, w], options);
        let [ho, wo] = s.out_size();
        let mut out = vec![0.0; ho * wo];
        for i in 0..ho {
            for j in 0..wo {
                let (y0, x0) = (
                    (i * options.stride[0]) as isize - options.padding[0].0 as isize,
                    (j * options.stride[1]) as isize - options.padding[1].0 as isize,
                );
                let y1 =
                    (y0 + options.kernel_size[0] as isize).min((h + options.padding[0].1) as isize);
                let x1 =
                    (x0 + options.kernel_size[1] as isize).min((w + options.padding[1].1) as isize);
                let padded_area = ((y1 - y0) * (x1 - x0)) as f32;
                let (mut sum, mut n) = (0.0f32, 0);
                for y in y0.max(0)..y1.min(h as isize) {
                    for xx in x0.max(0)..x1.min(w as isize) {
                        sum += x[y as usize * w + xx as usize];
                        n += 1;
                    }
                }
                out[i * wo + j] = sum
                    / if options.count_include_pad {
                        padded_area
                    } else {
                        n as f32
                    };
            }
        }
        (out, [ho, wo])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]
        #[test]
        fn sliding_windows_equal_the_definition_and_the_backward_is_the_adjoint(
            h in 1usize..12, w in 1usize..12, k in 1usize..4, kw in 1usize..4, s in 1usize..4,
            pad in 0usize..2, ceil in any::<bool>(), count_pad in any::<bool>(), seed in 0u64..1000,
        ) {
            // PyTorch's limit: padding at most half the kernel.
            prop_assume!(pad * 2 <= k.min(kw));
            let options = AvgPoolOptions::new([k, kw])
                .with_stride([s, s])
                .with_padding([pad, pad])
                .with_ceil_mode(ceil)
                .with_count_include_pad(count_pad);
            let s = MeanWindows::sliding([2, 1, h, w], &options);
            let wave = |i: usize, k: u64| {
                ((i as u64 * 2654435761 + k * 31 + seed) % 1000) as f32 / 500.0 - 1.0
            };
            let x: Vec<f32> = (0..2 * h * w).map(|i| wave(i, 1)).collect();
            let out = forward(&s, &x);
            for p in 0..2 {
                let (expected, size) = direct(&x[p * h * w..(p + 1) * h * w], [h, w], &options);
                prop_assert_eq!(size, s.out_size());
                let plane = &out[p * expected.len()..(p + 1) * expected.len()];
                for (a, e) in plane.iter().zip(&expected) {
                    prop_assert!((a - e).abs() <= 1e-5, "{} vs {}", a, e);
                }
            }
            // ⟨pool(x), g⟩ = ⟨x, pool*(g)⟩
            let g: Vec<f32> = (0..out.len()).map(|i| wave(i, 2)).collect();
            let dx = backward(&s, &g);
            let lhs: f64 = out.iter().zip(&g).map(|(a, b)| (a * b) as f64).sum();
            let rhs: f64 = x.iter().zip(&dx).map(|(a, b)| (a * b) as f64).sum();
            prop_assert!((lhs - rhs).abs() <= 1e-4 * (1.0 + lhs.abs()), "{} vs {}", lhs, rhs);
        }

        #[test]
        fn adaptive_windows_cover_every_pixel_and_average_constants_exactly(
            h in 1usize..20, w in 1usize..20, oh in 1usize..8, ow in 1usize..8,
        ) {
            let s = MeanWindows::adaptive([1, 1, h, w], [oh, ow]);
            let out = forward(&s, &vec![2.5; h * w]);
            prop_assert!(out.iter().all(|&v| v == 2.5));
            let dx = backward(&s, &vec![1.0; oh * ow]);
            prop_assert!(dx.iter().all(|&v| v > 0.0));
        }
    }
}
