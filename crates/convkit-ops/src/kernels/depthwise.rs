//! The depth-wise case of [`super::conv2d`] (one input and one output channel per group,
//! `groups = C_in = C_out`): as products it would be one single-row GEMM per channel and
//! image, which runs far below the GEMM's speed, so each kernel tap is applied to whole output
//! rows instead — `y_row += w[u, v] · x_row` shifted by the tap — a loop the compiler
//! vectorises. Same results as the general kernel up to rounding order; planes run in
//! parallel, and the weight gradient sums the batch in order per channel, so every thread
//! count gives the same bits.

use std::ops::Range;

use rayon::prelude::*;

use super::conv2d::{ChannelAffine, Conv2dShape};

/// Whether `s` is depth-wise with one filter per channel.
pub(crate) fn takes(s: &Conv2dShape) -> bool {
    s.in_per_group == 1 && s.out_per_group == 1
}

/// One kernel tap over one output row: output values `out` (flat in the output plane) read
/// the input from flat position `input` on, every `stride`-th value.
struct TapRow {
    /// `u·k_w + v`.
    tap: usize,
    out: Range<usize>,
    input: usize,
}

/// What the three passes share: the tap rows and the plane sizes of `s`.
struct Depthwise {
    rows: Vec<TapRow>,
    in_plane: usize,
    out_plane: usize,
    channels: usize,
    /// Taps per filter, `k_h·k_w`.
    taps: usize,
    stride: usize,
}

impl Depthwise {
    /// Every tap row of `s` that reads input (padding skipped).
    fn of(s: &Conv2dShape) -> Self {
        let [kh, kw] = s.kernel;
        let [in_w, out_w] = [s.in_size[1], s.out_size[1]];
        let mut rows = Vec::new();
        for u in 0..kh {
            for v in 0..kw {
                let (first, end, start) = s.columns(v);
                if first == end {
                    continue;
                }
                for i in 0..s.out_size[0] {
                    if let Some(y) = s.input_row(i, u) {
                        rows.push(TapRow {
                            tap: u * kw + v,
                            out: i * out_w + first..i * out_w + end,
                            input: y * in_w + start,
                        });
                    }
                }
            }
        }
        Depthwise {
            rows,
            in_plane: s.in_plane(),
            out_plane: s.out_plane(),
            channels: s.groups,
            taps: kh * kw,
            stride: s.stride[1],
        }
    }

    /// The filter of `plane` (`n·C + c`).
    fn filter<'a>(&self, weight: &'a [f32], plane: usize) -> &'a [f32] {
        let c = plane % self.channels;
        &weight[c * self.taps..(c + 1) * self.taps]
    }
}

pub(crate) fn forward(
    s: &Conv2dShape,
    x: &[f32],
    weight: &[f32],
    affine: ChannelAffine<'_>,
) -> Vec<f32> {
    let d = Depthwise::of(s);
    let mut out = vec![0.0f32; s.batch * d.channels * d.out_plane];
    out.par_chunks_mut(d.out_plane)
        .zip(x.par_chunks(d.in_plane.max(1)))
        .enumerate()
        .for_each(|(plane, (out, x))| {
            let w = d.filter(weight, plane);
            for row in &d.rows {
                let dst = &mut out[row.out.clone()];
                axpy(w[row.tap], &x[row.input..], d.stride, dst, 1);
            }
            affine.apply(plane % d.channels, out);
        });
    out
}

pub(crate) fn backward_input(s: &Conv2dShape, weight: &[f32], dy: &[f32]) -> Vec<f32> {
    let d = Depthwise::of(s);
    let mut dx = vec![0.0f32; s.batch * d.channels * d.in_plane];
    dx.par_chunks_mut(d.in_plane)
        .zip(dy.par_chunks(d.out_plane.max(1)))
        .enumerate()
        .for_each(|(plane, (dx, dy))| {
            let w = d.filter(weight, plane);
            for row in &d.rows {
                let dst = &mut dx[row.input..];
                axpy(w[row.tap], &dy[row.out.clone()], 1, dst, d.stride);
            }
        });
    dx
}

pub(crate) fn backward_weight(s: &Conv2dShape, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let d = Depthwise::of(s);
    let mut dw = vec![0.0f32; d.channels * d.taps];
    dw.par_chunks_mut(d.taps.max(1))
        .enumerate()
        .for_each(|(c, dw)| {
            for n in 0..s.batch {
                let plane = n * d.channels + c;
                let x = &x[plane * d.in_plane..(plane + 1) * d.in_plane];
                let dy = &dy[plane * d.out_plane..(plane + 1) * d.out_plane];
                for row in &d.rows {
                    let (g, src) = (&dy[row.out.clone()], &x[row.input..]);
                    dw[row.tap] += if d.stride == 1 {
                        dot(g, &src[..g.len()])
                    } else {
                        g.iter()
                            .zip(src.iter().step_by(d.stride))
                            .map(|(g, x)| g * x)
                            .sum::<f32>()
                    };
                }
            }
        });
    dw
}

/// `dst[j·dst_step] += a · src[j·src_step]` for every `j` both sides reach (the contiguous
/// case as plain slices, which the compiler vectorises).
fn axpy(a: f32, src: &[f32], src_step: usize, dst: &mut [f32], dst_step: usize) {
    if src_step == 1 && dst_step == 1 {
        dst.iter_mut().zip(src).for_each(|(d, s)| *d += a * s);
    } else {
        dst.iter_mut()
            .step_by(dst_step)
            .zip(src.iter().step_by(src_step))
            .for_each(|(d, s)| *d += a * s);
    }
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
