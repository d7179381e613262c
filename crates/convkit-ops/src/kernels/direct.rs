//! Direct convolution with AVX-512 register blocking, for stride-1, ungrouped convolutions on
//! few input channels (the U-Net's 16–32-channel layers at 128×128, a 5×5 stem on a
//! grey-scale image), where the im2col product runs at a third of the machine's GEMM speed:
//! its matrices are thin (`K = C_in·k_h·k_w` of 25–288) and im2col writes `k_h·k_w` copies of
//! the input that the GEMM then packs again.
//!
//! Each task computes `OB` output channels of one output row, `XV·16` pixels at a time, in
//! `OB·XV = 16` vector accumulators (8 channels × 32 pixels on maps wider than 16, 16 channels
//! × 16 pixels on narrower ones, so that a 14-pixel row wastes 2 lanes, not 18): for every input channel and tap `(c, u, v)` it loads the
//! `XV` input vectors the tap shifts under the tile and multiplies them by the `OB` weights
//! of that tap, broadcast (`y[o, i, j..j+16] += w[o, c, u, v] · x_pad[c, i+u·d_h,
//! j+v·d_w..]`). The input is copied once into zero-padded planes wide enough that every tile
//! reads inside them; the weight is transposed to `[c, u, v, o]` (padded to a multiple of
//! `OB` output channels) so that a tap's weights are contiguous. No im2col, no packing.
//!
//! The input gradient of such a convolution is the same kind of convolution (of the output
//! gradient, by the flipped and transposed weight: [`transposed_for_input_grad`]), so both
//! passes use this kernel; the weight gradient stays a product ([`super::conv2d`]).
//!
//! Every output value is one sum in a fixed order (channels, then taps): the same bits for any
//! thread count. Taken only where the CPU has AVX-512F (detected at run time); elsewhere the
//! im2col kernel runs.

#![allow(unsafe_code)]

use rayon::prelude::*;

use super::conv2d::{ChannelAffine, Conv2dShape};

/// Most `C_in·k_h·k_w` the kernel takes: above it the im2col products are long enough to run
/// near GEMM speed (64 → 64 channels 3×3, `K = 576`, ran at the same speed both ways).
const MAX_PATCH: usize = 450;

/// The output channels the kernel takes: fewer would leave most accumulators idle (the input
/// gradient of a 1-channel stem); from 64 on, the im2col products use the GEMM well (a
/// dilated 64 → 64 conv1d ran 7% slower direct).
const OUT_CHANNELS: std::ops::RangeInclusive<usize> = 8..=32;

/// Whether this CPU runs the kernel (AVX-512F and FMA).
fn cpu_supported() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx512f") && std::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Whether the direct kernel computes the forward pass of `s`: stride 1, one group, a kernel
/// larger than 1×1 (a 1×1 convolution is one product of the input as it is), few input
/// channels, [`OUT_CHANNELS`] output channels and at least 8 output columns, on a CPU with
/// AVX-512F.
pub(crate) fn takes(s: &Conv2dShape) -> bool {
    s.stride == [1, 1]
        && s.groups == 1
        && s.kernel != [1, 1]
        && s.patch() <= MAX_PATCH
        && OUT_CHANNELS.contains(&s.out_per_group)
        && s.out_size[1] >= 8
        && s.out_size[0] > 0
        && s.batch * s.in_channels() > 0
        && cpu_supported()
}

/// The input planes zero-padded so that every `tile`-pixel tile of every window reads inside
/// them: `(values, padded height, padded width)`.
fn padded_input(s: &Conv2dShape, x: &[f32], tile: usize) -> (Vec<f32>, usize, usize) {
    let [h, w] = s.in_size;
    let [top, left] = s.pad_before;
    let tiles = s.out_size[1].div_ceil(tile);
    let hp = (s.out_size[0] + s.dilation[0] * (s.kernel[0] - 1)).max(top + h);
    let wp = (tiles * tile + s.dilation[1] * (s.kernel[1] - 1)).max(left + w);
    let mut padded = vec![0.0f32; s.batch * s.in_channels() * hp * wp];
    padded
        .par_chunks_mut(hp * wp)
        .zip(x.par_chunks(h * w))
        .for_each(|(dst, src)| {
            for (y, row) in src.chunks_exact(w).enumerate() {
                let start = (y + top) * wp + left;
                dst[start..start + w].copy_from_slice(row);
            }
        });
    (padded, hp, wp)
}

/// `[c, u, v, o]` with `o` padded to a multiple of `block` (zeros).
fn transposed_weight(s: &Conv2dShape, weight: &[f32], block: usize) -> (Vec<f32>, usize) {
    let (out, patch) = (s.out_per_group, s.patch());
    let out_padded = out.div_ceil(block) * block;
    let mut wt = vec![0.0f32; patch * out_padded];
    for (o, filter) in weight.chunks_exact(patch).enumerate() {
        for (k, &value) in filter.iter().enumerate() {
            wt[k * out_padded + o] = value;
        }
    }
    (wt, out_padded)
}

/// The geometry one tile reads.
#[derive(Clone, Copy)]
struct TileGeometry {
    channels: usize,
    plane: usize,
    row: usize,
    kernel: [usize; 2],
    dilation: [usize; 2],
    out_padded: usize,
}

/// `OB × 16·XV` outputs: channels `block·OB..`, pixels from `base` in the padded plane layout,
/// row by row in `out` (`16·XV` values per channel).
///
/// # Panics
/// When a read would leave `x` or `wt` (checked before the vector loop), or `out` is not
/// `OB·16·XV` long.
fn tile<const OB: usize, const XV: usize>(
    g: &TileGeometry,
    x: &[f32],
    wt: &[f32],
    block: usize,
    base: usize,
    out: &mut [f32],
) {
    let [kh, kw] = g.kernel;
    let [dh, dw] = g.dilation;
    let last_x =
        base + (g.channels - 1) * g.plane + (kh - 1) * dh * g.row + (kw - 1) * dw + 16 * XV;
    let last_w = (g.channels * kh * kw - 1) * g.out_padded + (block + 1) * OB;
    assert!(
        last_x <= x.len() && last_w <= wt.len() && out.len() == OB * 16 * XV,
        "direct conv: a tile would read or write outside its buffers"
    );
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: `takes` (the only way into this module's pass) checked at run time that the
        // CPU has AVX-512F and FMA; the assertion above bounds every index the vector loop
        // touches: the furthest input read is `last_x − 1`, the furthest weight `last_w − 1`,
        // and the stores fill `out` exactly.
        unsafe { avx512::tile::<OB, XV>(g, x.as_ptr(), wt.as_ptr(), block, base, out.as_mut_ptr()) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (g, x, wt, block, base, out);
        unreachable!("the direct kernel runs on x86-64 only")
    }
}

#[cfg(target_arch = "x86_64")]
mod avx512 {
    use std::arch::x86_64::*;

    use super::TileGeometry;

    /// The vector loop of [`super::tile`].
    ///
    /// # Safety
    /// The CPU has AVX-512F and FMA; `x`, `wt` and `out` are valid for the accesses
    /// [`super::tile`] bounds.
    #[target_feature(enable = "avx512f,fma")]
    pub(super) unsafe fn tile<const OB: usize, const XV: usize>(
        g: &TileGeometry,
        x: *const f32,
        wt: *const f32,
        block: usize,
        base: usize,
        out: *mut f32,
    ) {
        let [kh, kw] = g.kernel;
        let [dh, dw] = g.dilation;
        let mut acc = [[_mm512_setzero_ps(); XV]; OB];
        // SAFETY: every offset below stays under the bounds the caller checked.
        unsafe {
            for c in 0..g.channels {
                for u in 0..kh {
                    let row = x.add(base + c * g.plane + u * dh * g.row);
                    for v in 0..kw {
                        let at = row.add(v * dw);
                        let mut xs = [_mm512_setzero_ps(); XV];
                        for (t, x) in xs.iter_mut().enumerate() {
                            *x = _mm512_loadu_ps(at.add(16 * t));
                        }
                        let w = wt.add(((c * kh + u) * kw + v) * g.out_padded + block * OB);
                        for (o, acc) in acc.iter_mut().enumerate() {
                            let weight = _mm512_set1_ps(*w.add(o));
                            for (a, &x) in acc.iter_mut().zip(&xs) {
                                *a = _mm512_fmadd_ps(weight, x, *a);
                            }
                        }
                    }
                }
            }
            for (o, acc) in acc.iter().enumerate() {
                for (t, &a) in acc.iter().enumerate() {
                    _mm512_storeu_ps(out.add((o * XV + t) * 16), a);
                }
            }
        }
    }
}

/// The convolution `[N, C_out, H_out, W_out]` of `x` by `weight` (`[C_out, C_in, k_h, k_w]`),
/// each output channel mapped by `affine`, for a shape [`takes`] accepts.
///
/// # Panics
/// When `s` is not one [`takes`] accepts, or the lengths disagree with it.
pub(crate) fn forward(
    s: &Conv2dShape,
    x: &[f32],
    weight: &[f32],
    affine: ChannelAffine<'_>,
) -> Vec<f32> {
    assert!(
        takes(s),
        "direct conv: {s:?} is not a stride-1 ungrouped convolution"
    );
    if s.out_size[1] > 16 {
        forward_blocked::<8, 2>(s, x, weight, affine)
    } else {
        forward_blocked::<16, 1>(s, x, weight, affine)
    }
}

/// [`forward`] with `OB` output channels × `16·XV` pixels per tile.
fn forward_blocked<const OB: usize, const XV: usize>(
    s: &Conv2dShape,
    x: &[f32],
    weight: &[f32],
    affine: ChannelAffine<'_>,
) -> Vec<f32> {
    let width = 16 * XV;
    let (padded, hp, wp) = padded_input(s, x, width);
    let (wt, out_padded) = transposed_weight(s, weight, OB);
    let geometry = TileGeometry {
        channels: s.in_per_group,
        plane: hp * wp,
        row: wp,
        kernel: s.kernel,
        dilation: s.dilation,
        out_padded,
    };
    let [ho, wo] = s.out_size;
    let (out_channels, out_plane) = (s.out_per_group, s.out_plane());
    let image = s.in_channels() * hp * wp;
    let mut out = vec![0.0f32; s.batch * out_channels * out_plane];
    out.par_chunks_mut(out_channels * out_plane)
        .enumerate()
        .for_each(|(n, out)| {
            let x = &padded[n * image..(n + 1) * image];
            out.par_chunks_mut(OB * out_plane)
                .enumerate()
                .for_each(|(block, out)| {
                    let mut values = vec![0.0f32; OB * width];
                    for i in 0..ho {
                        for j in (0..wo).step_by(width) {
                            tile::<OB, XV>(&geometry, x, &wt, block, i * wp + j, &mut values);
                            let len = width.min(wo - j);
                            for (o, plane) in out.chunks_exact_mut(out_plane).enumerate() {
                                let dst = &mut plane[i * wo + j..i * wo + j + len];
                                let src = &values[o * width..o * width + len];
                                affine.write(block * OB + o, src, dst);
                            }
                        }
                    }
                });
        });
    out
}

/// For a stride-1 ungrouped convolution `s`, the convolution whose forward pass is `s`'s input
/// gradient, and its weight: `dX = conv(dY, W')` with `W'[c, o, u, v] = W[o, c, k_h−1−u,
/// k_w−1−v]` and padding `d(k−1) − p` before (and after); `None` when that padding would be
/// negative (a padding wider than the dilated kernel).
pub(crate) fn transposed_for_input_grad(
    s: &Conv2dShape,
    weight: &[f32],
) -> Option<(Conv2dShape, Vec<f32>)> {
    if s.stride != [1, 1] || s.groups != 1 {
        return None;
    }
    let [kh, kw] = s.kernel;
    let reach = [s.dilation[0] * (kh - 1), s.dilation[1] * (kw - 1)];
    let mut pad_before = [0; 2];
    for a in 0..2 {
        pad_before[a] = reach[a].checked_sub(s.pad_before[a])?;
        // The padding after: what brings the output back to the input's size.
        (s.in_size[a] + reach[a]).checked_sub(s.out_size[a] + pad_before[a])?;
    }
    let (out, cin) = (s.out_per_group, s.in_per_group);
    let mut flipped = vec![0.0f32; weight.len()];
    for o in 0..out {
        for c in 0..cin {
            for u in 0..kh {
                for v in 0..kw {
                    flipped[((c * out + o) * kh + (kh - 1 - u)) * kw + (kw - 1 - v)] =
                        weight[((o * cin + c) * kh + u) * kw + v];
                }
            }
        }
    }
    let shape = Conv2dShape {
        batch: s.batch,
        groups: 1,
        in_per_group: out,
        out_per_group: cin,
        in_size: s.out_size,
        kernel: s.kernel,
        stride: [1, 1],
        dilation: s.dilation,
        pad_before,
        out_size: s.in_size,
    };
    Some((shape, flipped))
}

#[cfg(test)]
mod tests {
    use burn::tensor::ops::ConvOptions;
    use proptest::prelude::*;

    use super::*;
    use crate::kernels::conv2d;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        /// The kernel equals the im2col kernel (itself tested against the definition), for
        /// output widths around the tile, channel counts around the block, asymmetric padding
        /// and dilation; and so does the input gradient through the transposed convolution.
        #[test]
        fn forward_and_input_gradient_equal_the_im2col_kernel(
            batch in 1usize..3,
            cin in 1usize..5,
            cout in 8usize..33,
            h in 1usize..7,
            w in 6usize..70,
            k in 1usize..4,
            d in 1usize..3,
            pads in (0usize..3, 0usize..3, 0usize..3, 0usize..3),
        ) {
            if !cpu_supported() {
                // Nothing to compare: the dispatch never takes this kernel here.
                return Ok(());
            }
            let (pt, pb, pl, pr) = pads;
            let options = ConvOptions {
                stride: [1, 1],
                padding: [(pt, pb), (pl, pr)],
                dilation: [d, d],
                groups: 1,
            };
            let span = d * (k - 1) + 1;
            prop_assume!(h + pt + pb >= span && w + pl + pr >= span);
            let s = Conv2dShape::new([batch, cin, h, w], [cout, cin, k, k], &options);
            prop_assume!(takes(&s));
            let wave = |i: usize, m: usize| ((i * m) % 997) as f32 / 498.5 - 1.0;
            // Both blockings: 16 channels × 16 pixels up to 16 columns, 8 × 32 above.
            let x: Vec<f32> = (0..batch * cin * h * w).map(|i| wave(i, 7919)).collect();
            let weight: Vec<f32> = (0..cout * cin * k * k).map(|i| wave(i, 104729)).collect();
            let expected = conv2d::forward_im2col(&s, &x, &weight, ChannelAffine::default());
            let actual = forward(&s, &x, &weight, ChannelAffine::default());
            for (a, e) in actual.iter().zip(&expected) {
                prop_assert!((a - e).abs() <= 1e-4 * (1.0 + e.abs()), "{} vs {}", a, e);
            }
            let dy: Vec<f32> = (0..expected.len()).map(|i| wave(i, 31)).collect();
            if let Some((t, flipped)) = transposed_for_input_grad(&s, &weight) {
                let expected = conv2d::backward_input_im2col(&s, &weight, &dy);
                let identity = ChannelAffine::default();
                let actual = if takes(&t) {
                    forward(&t, &dy, &flipped, identity)
                } else {
                    conv2d::forward_im2col(&t, &dy, &flipped, identity)
                };
                for (a, e) in actual.iter().zip(&expected) {
                    prop_assert!((a - e).abs() <= 1e-4 * (1.0 + e.abs()), "dx {} vs {}", a, e);
                }
            }
        }
    }

    #[test]
    #[should_panic(expected = "outside its buffers")]
    fn a_tile_past_its_buffers_is_refused() {
        let g = TileGeometry {
            channels: 2,
            plane: 100,
            row: 10,
            kernel: [3, 3],
            dilation: [1, 1],
            out_padded: 8,
        };
        // The second channel's last row starts past the 150 values given.
        let (x, wt) = (vec![0.0f32; 150], vec![0.0f32; 2 * 9 * 8]);
        tile::<8, 2>(&g, &x, &wt, 0, 0, &mut [0.0f32; 8 * 32]);
    }

    #[test]
    #[should_panic(expected = "outside its buffers")]
    fn a_tile_into_a_short_output_is_refused() {
        let g = TileGeometry {
            channels: 1,
            plane: 1000,
            row: 40,
            kernel: [1, 1],
            dilation: [1, 1],
            out_padded: 16,
        };
        let (x, wt) = (vec![0.0f32; 1000], vec![0.0f32; 16]);
        tile::<16, 1>(&g, &x, &wt, 0, 0, &mut [0.0f32; 16 * 15]);
    }
}
