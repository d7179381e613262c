//! Max pooling on host slices with its argmax, and the backward pass that scatters the output
//! gradient to the argmaxes: `torch.nn.functional.max_pool2d` (kernel, stride, padding that
//! never wins, dilation, ceil mode). Planes (`N·C`) run in parallel; within a plane the
//! backward adds in output order, so the result is the same for any thread count.
//!
//! The argmax is the first maximum of the window in row-major order, and a NaN wins (as in
//! PyTorch); it is stored as the flat index `y·W + x` into the plane.

use burn::tensor::ops::MaxPoolOptions;
use rayon::prelude::*;

/// PyTorch's number of pooling windows of `span` inputs (the dilated kernel), `stride` apart,
/// over `len` inputs padded by `(before, after)`: `floor((len + before + after − span) /
/// stride) + 1`, or in ceil mode rounded up unless the last window would start past the
/// input and its leading padding; 0 when the padded input is shorter than a window.
pub(crate) fn pooled_len(
    len: usize,
    span: usize,
    stride: usize,
    (before, after): (usize, usize),
    ceil: bool,
) -> usize {
    let padded = len + before + after;
    if padded < span {
        return 0;
    }
    if !ceil {
        return (padded - span) / stride + 1;
    }
    let out = (padded - span).div_ceil(stride) + 1;
    if (out - 1) * stride >= len + before {
        out - 1
    } else {
        out
    }
}

/// The sizes of one max pooling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PoolShape {
    /// `N·C`.
    pub planes: usize,
    pub in_size: [usize; 2],
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub dilation: [usize; 2],
    pub pad_before: [usize; 2],
    pub out_size: [usize; 2],
}

impl PoolShape {
    /// The pooling of `[N, C, H, W]` by `options`.
    ///
    /// # Panics
    /// On a zero kernel size, stride or dilation (as burn's pooling).
    pub fn new(x: [usize; 4], options: &MaxPoolOptions<2>) -> Self {
        let [n, c, h, w] = x;
        assert!(
            !options.kernel_size.contains(&0)
                && !options.stride.contains(&0)
                && !options.dilation.contains(&0),
            "max_pool2d: kernel size, stride and dilation must be positive"
        );
        let out_len = |i: usize| {
            let span = options.dilation[i] * (options.kernel_size[i] - 1) + 1;
            let s = options.stride[i];
            pooled_len([h, w][i], span, s, options.padding[i], options.ceil_mode)
        };
        PoolShape {
            planes: n * c,
            in_size: [h, w],
            kernel: options.kernel_size,
            stride: options.stride,
            dilation: options.dilation,
            pad_before: options.padding.map(|(before, _)| before),
            out_size: [out_len(0), out_len(1)],
        }
    }

    /// Whether every window is a whole 2×2 tile of the input (kernel 2, stride 2, no
    /// dilation or padding), the common case [`forward`] takes without bounds per tap.
    fn tiles_2x2(&self) -> bool {
        self.kernel == [2, 2]
            && self.stride == [2, 2]
            && self.dilation == [1, 1]
            && self.pad_before == [0, 0]
            && 2 * self.out_size[0] <= self.in_size[0]
            && 2 * self.out_size[1] <= self.in_size[1]
    }

    fn in_plane(&self) -> usize {
        self.in_size[0] * self.in_size[1]
    }

    fn out_plane(&self) -> usize {
        self.out_size[0] * self.out_size[1]
    }

    /// For each output position along `axis`, the input positions its window reads as
    /// `(first, count)`: `first + t·dilation` for `t < count` (padding and positions past the
    /// input left out).
    fn taps(&self, axis: usize) -> Vec<(usize, usize)> {
        let (s, d, k) = (self.stride[axis], self.dilation[axis], self.kernel[axis]);
        let (len, pad) = (self.in_size[axis] as isize, self.pad_before[axis] as isize);
        (0..self.out_size[axis])
            .map(|o| {
                let start = (o * s) as isize - pad;
                let d = d as isize;
                // First tap at or after 0, last tap before `len`.
                let k0 = if start < 0 { (-start + d - 1) / d } else { 0 };
                let k_end = if len - 1 - start < 0 {
                    0
                } else {
                    ((len - 1 - start) / d + 1).min(k as isize)
                };
                let count = (k_end - k0).max(0) as usize;
                let first = if count > 0 {
                    (start + k0 * d) as usize
                } else {
                    0
                };
                (first, count)
            })
            .collect()
    }
}

/// The pooled values `[N·C, H_out·W_out]` and their argmaxes (flat plane indices; a window
/// that covers no input value — only padding, or dilated taps that skip a tiny input — gives
/// `-inf` and index −1, which the backward pass skips).
pub(crate) fn forward(s: &PoolShape, x: &[f32]) -> (Vec<f32>, Vec<i64>) {
    assert_eq!(
        x.len(),
        s.planes * s.in_plane(),
        "max_pool2d: the input has the wrong length"
    );
    let len = s.planes * s.out_plane();
    let (mut out, mut indices) = (vec![0.0f32; len], vec![0i64; len]);
    if len == 0 {
        return (out, indices);
    }
    if s.tiles_2x2() {
        forward_2x2(s, x, &mut out, &mut indices);
        return (out, indices);
    }
    let w = s.in_size[1];
    let (rows, cols) = (s.taps(0), s.taps(1));
    let [dh, dw] = s.dilation;
    out.par_chunks_mut(s.out_plane())
        .zip(indices.par_chunks_mut(s.out_plane()))
        .zip(x.par_chunks(s.in_plane().max(1)))
        .for_each(|((out, indices), plane)| {
            let outputs = out.iter_mut().zip(indices.iter_mut());
            let windows = rows.iter().flat_map(|r| cols.iter().map(move |c| (r, c)));
            for ((out, index), (&(y0, ny), &(x0, nx))) in outputs.zip(windows) {
                if ny == 0 || nx == 0 {
                    (*out, *index) = (f32::NEG_INFINITY, -1);
                    continue;
                }
                let (mut best, mut at) = (plane[y0 * w + x0], y0 * w + x0);
                for y in (0..ny).map(|t| y0 + t * dh) {
                    for i in (0..nx).map(|t| y * w + x0 + t * dw) {
                        (best, at) = running_max((best, at), plane[i], i);
                    }
                }
                (*out, *index) = (best, at as i64);
            }
        });
    (out, indices)
}

/// The window maximum so far after reading `v` at `i`: the first maximum stays, a NaN wins
/// (PyTorch's rules). Written as selects: which side wins depends on the data, so a branch
/// would mispredict.
#[inline]
fn running_max((best, at): (f32, usize), v: f32, i: usize) -> (f32, usize) {
    let take = (v > best) | (v.is_nan() & !best.is_nan());
    (if take { v } else { best }, if take { i } else { at })
}

/// [`forward`] for whole 2×2 tiles: four values per output, compared in window order.
fn forward_2x2(s: &PoolShape, x: &[f32], out: &mut [f32], indices: &mut [i64]) {
    let (w, [ho, wo]) = (s.in_size[1], s.out_size);
    out.par_chunks_mut(s.out_plane())
        .zip(indices.par_chunks_mut(s.out_plane()))
        .zip(x.par_chunks(s.in_plane()))
        .for_each(|((out, indices), plane)| {
            for i in 0..ho {
                let top_start = 2 * i * w;
                let top = &plane[top_start..top_start + 2 * wo];
                let bottom = &plane[top_start + w..top_start + w + 2 * wo];
                let out = &mut out[i * wo..(i + 1) * wo];
                let indices = &mut indices[i * wo..(i + 1) * wo];
                // Offsets of the window's taps from its top-left corner, in window order;
                // slices of exact length so that the loop runs without bounds checks.
                let (right, below) = (1, w);
                for (j, ((out, index), (t, b))) in out
                    .iter_mut()
                    .zip(indices.iter_mut())
                    .zip(top.chunks_exact(2).zip(bottom.chunks_exact(2)))
                    .enumerate()
                {
                    let (mut best, mut at) = (t[0], 0);
                    (best, at) = running_max((best, at), t[1], right);
                    (best, at) = running_max((best, at), b[0], below);
                    (best, at) = running_max((best, at), b[1], below + right);
                    (*out, *index) = (best, (top_start + 2 * j + at) as i64);
                }
            }
        });
}

/// The gradient `[N·C, H·W]` of the input: each output gradient added at its argmax.
///
/// # Panics
/// When the lengths disagree with the shape or an index lies outside its plane.
pub(crate) fn backward(s: &PoolShape, indices: &[i64], grad: &[f32]) -> Vec<f32> {
    let len = s.planes * s.out_plane();
    assert!(
        indices.len() == len && grad.len() == len,
        "max_pool2d backward: the indices or the gradient have the wrong length"
    );
    let mut dx = vec![0.0f32; s.planes * s.in_plane()];
    if len == 0 || dx.is_empty() {
        return dx;
    }
    dx.par_chunks_mut(s.in_plane())
        .zip(indices.par_chunks(s.out_plane()))
        .zip(grad.par_chunks(s.out_plane()))
        .for_each(|((dx, indices), grad)| {
            for (&i, &g) in indices.iter().zip(grad).filter(|(i, _)| **i != -1) {
                let slot = usize::try_from(i).ok().and_then(|i| dx.get_mut(i));
                *slot.expect("max_pool2d backward: an index lies outside its plane") += g;
            }
        });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The definition: each window's maximum and the first position holding it, and the
    /// gradient of the input as the sum over the windows whose maximum it is.
    fn direct(s: &PoolShape, x: &[f32], grad: &[f32]) -> Option<(Vec<f32>, Vec<f32>)> {
        let ([h, w], [ho, wo]) = (s.in_size, s.out_size);
        let (mut out, mut dx) = (Vec::new(), vec![0.0; x.len()]);
        for p in 0..s.planes {
            for i in 0..ho {
                for j in 0..wo {
                    let mut best: Option<(f32, usize)> = None;
                    for u in 0..s.kernel[0] {
                        for v in 0..s.kernel[1] {
                            let y = (i * s.stride[0] + u * s.dilation[0]) as isize
                                - s.pad_before[0] as isize;
                            let q = (j * s.stride[1] + v * s.dilation[1]) as isize
                                - s.pad_before[1] as isize;
                            if y < 0 || q < 0 || y >= h as isize || q >= w as isize {
                                continue;
                            }
                            let at = p * h * w + y as usize * w + q as usize;
                            if best.is_none_or(|(b, _)| x[at] > b) {
                                best = Some((x[at], at));
                            }
                        }
                    }
                    let (value, at) = best?;
                    out.push(value);
                    dx[at] += grad[(p * ho + i) * wo + j];
                }
            }
        }
        Some((out, dx))
    }

    fn values(n: usize, seed: u64) -> Vec<f32> {
        // Distinct values: no ties, so the argmax is unambiguous.
        let mut v: Vec<f32> = (0..n).map(|i| i as f32 - n as f32 / 2.0).collect();
        let mut state = seed | 1;
        for i in (1..n).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            v.swap(i, (state % (i as u64 + 1)) as usize);
        }
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn pooling_and_its_gradient_follow_the_definition(
            (n, c, h, w) in (0usize..3, 1usize..3, 1usize..12, 1usize..12),
            (kh, kw, sh, sw) in (1usize..4, 1usize..4, 1usize..4, 1usize..4),
            (dh, dw, ceil_mode, padded) in (1usize..3, 1usize..3, any::<bool>(), any::<bool>()),
            seed in 0u64..1000,
        ) {
            // PyTorch's limit: padding at most half the kernel. Unpadded cases include the
            // whole-tile 2×2 path.
            let (ph, pw) = if padded { (kh / 2, kw / 2) } else { (0, 0) };
            let options = MaxPoolOptions {
                kernel_size: [kh, kw],
                stride: [sh, sw],
                padding: [(ph, ph), (pw, pw)],
                dilation: [dh, dw],
                ceil_mode,
            };
            let s = PoolShape::new([n, c, h, w], &options);
            prop_assume!(s.out_size[0] > 0 && s.out_size[1] > 0);
            let x = values(s.planes * s.in_plane(), seed);
            let grad = values(s.planes * s.out_plane(), seed + 1);
            // Windows that cover no input (tiny inputs, dilated taps) are checked below.
            let Some((want_out, want_dx)) = direct(&s, &x, &grad) else {
                return Ok(());
            };
            let (out, indices) = forward(&s, &x);
            prop_assert_eq!(&out, &want_out);
            prop_assert_eq!(backward(&s, &indices, &grad), want_dx);
        }
    }

    #[test]
    fn nan_wins_and_the_first_maximum_is_kept() {
        let options = MaxPoolOptions::new([2, 2]).with_stride([2, 2]);
        let s = PoolShape::new([1, 1, 2, 4], &options);
        let (out, indices) = forward(&s, &[1.0, 3.0, 5.0, 5.0, 3.0, 2.0, f32::NAN, 9.0]);
        assert_eq!(out[0], 3.0);
        assert_eq!(indices[0], 1);
        assert!(out[1].is_nan());
        assert_eq!(indices[1], 6);
        let (_, indices) = forward(&s, &[5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0]);
        assert_eq!(indices, vec![0, 2]);
    }

    #[test]
    fn a_window_over_no_input_is_minus_infinity_without_gradient() {
        // Kernel 2 with dilation 2 and padding 1 on a 1×1 input: taps at −1 and 1.
        let options = MaxPoolOptions::new([2, 2])
            .with_padding([1, 1])
            .with_dilation([2, 2]);
        let s = PoolShape::new([1, 1, 1, 1], &options);
        let (out, indices) = forward(&s, &[7.0]);
        assert_eq!((out, indices.clone()), (vec![f32::NEG_INFINITY], vec![-1]));
        assert_eq!(backward(&s, &indices, &[1.0]), vec![0.0]);
    }

    #[test]
    #[should_panic(expected = "outside")]
    fn an_index_outside_its_plane_is_refused() {
        let s = PoolShape::new([1, 1, 2, 2], &MaxPoolOptions::new([2, 2]));
        backward(&s, &[4], &[1.0]);
    }
}
