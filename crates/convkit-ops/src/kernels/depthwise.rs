//! The depth-wise case of [`super::conv2d`] (one input and one output channel per group,
//! `groups = C_in = C_out`): as products it would be one single-row GEMM per channel and
//! image, which runs far below the GEMM's speed, so each kernel tap is applied to whole output
//! rows instead — `y_row += w[u, v] · x_row` shifted by the tap — a loop the compiler
//! vectorises. Same results as the general kernel up to rounding order; planes run in
//! parallel, and the weight gradient sums the batch in order per channel, so every thread
//! count gives the same bits.

use rayon::prelude::*;

use super::conv2d::{ChannelAffine, Conv2dShape};

/// Whether `s` is depth-wise with one filter per channel.
pub(crate) fn takes(s: &Conv2dShape) -> bool {
    s.in_per_group == 1 && s.out_per_group == 1
}

/// Every kernel tap `(u, v)` of output plane rows that read input: `(tap index, output row
/// i, input row y, first output column, end output column, first input column)`.
fn taps(s: &Conv2dShape) -> Vec<(usize, usize, usize, usize, usize, usize)> {
    let [kh, kw] = s.kernel;
    let mut taps = Vec::new();
    for u in 0..kh {
        for v in 0..kw {
            let (first, end, start) = s.columns(v);
            if first == end {
                continue;
            }
            for i in 0..s.out_size[0] {
                if let Some(y) = s.input_row(i, u) {
                    taps.push((u * kw + v, i, y, first, end, start));
                }
            }
        }
    }
    taps
}

pub(crate) fn forward(
    s: &Conv2dShape,
    x: &[f32],
    weight: &[f32],
    affine: ChannelAffine<'_>,
) -> Vec<f32> {
    let ([in_plane, out_plane], taps) = ([s.in_plane(), s.out_plane()], taps(s));
    let (channels, k, [in_w, out_w], sw) = (
        s.groups,
        s.kernel[0] * s.kernel[1],
        [s.in_size[1], s.out_size[1]],
        s.stride[1],
    );
    let mut out = vec![0.0f32; s.batch * channels * out_plane];
    out.par_chunks_mut(out_plane)
        .zip(x.par_chunks(in_plane.max(1)))
        .enumerate()
        .for_each(|(plane, (out, x))| {
            let c = plane % channels;
            let w = &weight[c * k..(c + 1) * k];
            for &(tap, i, y, first, end, start) in &taps {
                let dst = &mut out[i * out_w + first..i * out_w + end];
                let src = &x[y * in_w + start..];
                let wv = w[tap];
                if sw == 1 {
                    dst.iter_mut().zip(src).for_each(|(d, s)| *d += wv * s);
                } else {
                    dst.iter_mut()
                        .zip(src.iter().step_by(sw))
                        .for_each(|(d, s)| *d += wv * s);
                }
            }
            affine.apply(c, out);
        });
    out
}

pub(crate) fn backward_input(s: &Conv2dShape, weight: &[f32], dy: &[f32]) -> Vec<f32> {
    let ([in_plane, out_plane], taps) = ([s.in_plane(), s.out_plane()], taps(s));
    let (channels, k, [in_w, out_w], sw) = (
        s.groups,
        s.kernel[0] * s.kernel[1],
        [s.in_size[1], s.out_size[1]],
        s.stride[1],
    );
    let mut dx = vec![0.0f32; s.batch * channels * in_plane];
    dx.par_chunks_mut(in_plane)
        .zip(dy.par_chunks(out_plane.max(1)))
        .enumerate()
        .for_each(|(plane, (dx, dy))| {
            let w = &weight[(plane % channels) * k..(plane % channels + 1) * k];
            for &(tap, i, y, first, end, start) in &taps {
                let src = &dy[i * out_w + first..i * out_w + end];
                let dst = &mut dx[y * in_w + start..];
                let wv = w[tap];
                if sw == 1 {
                    dst.iter_mut().zip(src).for_each(|(d, g)| *d += wv * g);
                } else {
                    dst.iter_mut()
                        .step_by(sw)
                        .zip(src)
                        .for_each(|(d, g)| *d += wv * g);
                }
            }
        });
    dx
}

pub(crate) fn backward_weight(s: &Conv2dShape, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let ([in_plane, out_plane], taps) = ([s.in_plane(), s.out_plane()], taps(s));
    let (channels, k, [in_w, out_w], sw) = (
        s.groups,
        s.kernel[0] * s.kernel[1],
        [s.in_size[1], s.out_size[1]],
        s.stride[1],
    );
    let mut dw = vec![0.0f32; channels * k];
    dw.par_chunks_mut(k.max(1)).enumerate().for_each(|(c, dw)| {
        for n in 0..s.batch {
            let plane = n * channels + c;
            let x = &x[plane * in_plane..(plane + 1) * in_plane];
            let dy = &dy[plane * out_plane..(plane + 1) * out_plane];
            for &(tap, i, y, first, end, start) in &taps {
                let g = &dy[i * out_w + first..i * out_w + end];
                let src = &x[y * in_w + start..];
                dw[tap] += if sw == 1 {
                    dot(g, &src[..g.len()])
                } else {
                    g.iter()
                        .zip(src.iter().step_by(sw))
                        .map(|(g, x)| g * x)
                        .sum::<f32>()
                };
            }
        }
    });
    dw
}

/// `Σ a[i]·b[i]` in 16 interleaved partial sums (a sequential `f32` sum cannot be vectorised;
/// the order is fixed, so the result does not depend on anything but the inputs).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 16;
    let mut lanes = [0.0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for l in 0..LANES {
            lanes[l] += x[l] * y[l];
        }
    }
    lanes.iter().sum::<f32>() + tail
}
