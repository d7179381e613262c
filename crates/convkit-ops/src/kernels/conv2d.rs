//! The convolution kernel on host slices: forward, input gradient and weight gradient of
//! `torch.nn.functional.conv2d` (stride, asymmetric padding, dilation, groups) as blocked
//! matrix products over NCHW data.
//!
//! For batch item `n` and group `g` (`C_g = C_in/G` input and `O_g = C_out/G` output channels,
//! `K = C_g·k_h·k_w`, `P` output pixels), with `X_col [K, P]` the im2col matrix whose row
//! `(c, u, v)` is input plane `c` shifted by the dilated kernel offset `(u·d_h, v·d_w)` and
//! subsampled by the stride (zeros in the padding):
//!
//! - forward: `Y[n, g] = W_g · X_col` (`W_g [O_g, K]` is the weight as stored), then a
//!   per-channel `α·y + β` as the output is written (the bias, or a folded batch norm);
//! - input gradient: `dX[n, g] = col2im(W_gᵀ · dY[n, g])`, col2im adding each column back
//!   where im2col read it (the adjoint of im2col);
//! - weight gradient: `dW_g = Σ_n dY[n, g] · X_colᵀ`.
//!
//! The output is cut into bands of whole output rows so that a band's im2col matrix stays in
//! cache (about [`BAND_FLOATS`]); bands are built in a per-thread buffer reused across calls.
//! Nothing is computed per element outside the products except the copies of im2col/col2im.
//! A 1×1 convolution with stride 1 and no padding needs no im2col: its matrix is the input.
//!
//! Determinism: the forward and input gradient give the same bits for any thread count (every
//! output value is one product over the whole of `K`, and col2im adds in a fixed order). The
//! weight gradient sums bands in [`weight_partials`] fixed chunks whose number depends on the
//! shapes only, then adds the chunks in order: also the same for any thread count.

use std::cell::RefCell;
use std::ops::Range;

use burn::tensor::ops::ConvOptions;
use rayon::prelude::*;

use super::gemm::{MatRef, gemm};
use super::{depthwise, direct};

/// Target size of one band's im2col matrix, in floats (512 KiB: the L2 cache of one core on
/// the machine measured; larger bands ran slower).
pub(crate) const BAND_FLOATS: usize = 1 << 17;

/// Fewest output pixels per band: each band's product packs the whole weight matrix, which
/// narrower bands do not amortise.
const MIN_BAND_PIXELS: usize = 256;

/// Most floats the weight gradient's per-chunk partial sums may take together (64 MiB).
const PARTIAL_FLOATS: usize = 1 << 24;

/// Most chunks the weight gradient's bands are summed in.
const MAX_PARTIALS: usize = 16;

thread_local! {
    /// The im2col buffer of the bands this thread runs, kept between calls.
    static COLUMNS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
    /// The product buffer of the bands this thread runs.
    static PRODUCT: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// The sizes of one convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Conv2dShape {
    pub batch: usize,
    pub groups: usize,
    /// Input channels per group.
    pub in_per_group: usize,
    /// Output channels per group.
    pub out_per_group: usize,
    pub in_size: [usize; 2],
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub dilation: [usize; 2],
    /// Zero padding before (top, left); the padding after only shapes the output size.
    pub pad_before: [usize; 2],
    pub out_size: [usize; 2],
}

impl Conv2dShape {
    /// The convolution of an input `[N, C_in, H, W]` by a weight `[C_out, C_in/G, k_h, k_w]`.
    ///
    /// # Panics
    /// As burn's `conv2d`, with a message: channel counts that disagree with the groups, a
    /// zero stride, dilation or group count, or a dilated kernel larger than the padded input.
    pub fn new(x: [usize; 4], weight: [usize; 4], options: &ConvOptions<2>) -> Self {
        let [batch, in_channels, in_h, in_w] = x;
        let [out_channels, in_per_group, kh, kw] = weight;
        let groups = options.groups;
        assert!(
            groups > 0 && !options.stride.contains(&0) && !options.dilation.contains(&0),
            "conv2d: stride, dilation and groups must be positive"
        );
        assert!(
            in_channels == in_per_group * groups && out_channels.is_multiple_of(groups),
            "conv2d: the input has {in_channels} channels and the weight is \
             {out_channels}x{in_per_group} in {groups} group(s)"
        );
        let out_len = |n: usize, k: usize, (before, after): (usize, usize), s: usize, d: usize| {
            let padded = n + before + after;
            let span = d * (k.max(1) - 1) + 1;
            assert!(
                k > 0 && padded >= span,
                "conv2d: the kernel spans {span} values, more than the padded input's {padded}"
            );
            (padded - span) / s + 1
        };
        Conv2dShape {
            batch,
            groups,
            in_per_group,
            out_per_group: out_channels / groups,
            in_size: [in_h, in_w],
            kernel: [kh, kw],
            stride: options.stride,
            dilation: options.dilation,
            pad_before: options.padding.map(|(before, _)| before),
            out_size: [
                out_len(
                    in_h,
                    kh,
                    options.padding[0],
                    options.stride[0],
                    options.dilation[0],
                ),
                out_len(
                    in_w,
                    kw,
                    options.padding[1],
                    options.stride[1],
                    options.dilation[1],
                ),
            ],
        }
    }

    /// `[N, C_in, H, W]`.
    pub fn input_dims(&self) -> [usize; 4] {
        [
            self.batch,
            self.in_channels(),
            self.in_size[0],
            self.in_size[1],
        ]
    }

    /// `[N, C_out, H_out, W_out]`.
    pub fn output_dims(&self) -> [usize; 4] {
        [
            self.batch,
            self.out_channels(),
            self.out_size[0],
            self.out_size[1],
        ]
    }

    pub(crate) fn in_channels(&self) -> usize {
        self.groups * self.in_per_group
    }

    fn out_channels(&self) -> usize {
        self.groups * self.out_per_group
    }

    pub(crate) fn in_plane(&self) -> usize {
        self.in_size[0] * self.in_size[1]
    }

    pub(crate) fn out_plane(&self) -> usize {
        self.out_size[0] * self.out_size[1]
    }

    /// Rows of the im2col matrix: `C_g·k_h·k_w`.
    pub(crate) fn patch(&self) -> usize {
        self.in_per_group * self.kernel[0] * self.kernel[1]
    }

    /// Whether the im2col matrix is the input itself (1×1, stride 1, no padding).
    fn pointwise(&self) -> bool {
        self.kernel == [1, 1]
            && self.stride == [1, 1]
            && self.pad_before == [0, 0]
            && self.out_size == self.in_size
    }

    /// Output rows per band: about [`BAND_FLOATS`] of im2col matrix, at least
    /// [`MIN_BAND_PIXELS`] pixels, spread evenly. With `items` parallel items and the forward
    /// pass's `spread`, also enough bands for two per thread.
    fn band_rows(&self, spread: Option<usize>) -> usize {
        let [out_h, out_w] = self.out_size;
        let by_size = (BAND_FLOATS / (self.patch() * out_w).max(1))
            .max(MIN_BAND_PIXELS.div_ceil(out_w.max(1)))
            .max(1);
        let limit = match spread {
            Some(items) => {
                let threads = rayon::current_num_threads();
                by_size.min(out_h.div_ceil((2 * threads).div_ceil(items.max(1))))
            }
            None => by_size,
        };
        out_h.div_ceil(out_h.div_ceil(limit.max(1)).max(1)).max(1)
    }

    /// The input columns `first..end` that output columns read at kernel column `v`, as
    /// `(first output column, end output column, first input column)`.
    pub(crate) fn columns(&self, v: usize) -> (usize, usize, usize) {
        let [_, in_w] = self.in_size;
        let [_, out_w] = self.out_size;
        let [_, sw] = self.stride;
        let offset = v * self.dilation[1];
        let pl = self.pad_before[1];
        let first = pl.saturating_sub(offset).div_ceil(sw).min(out_w);
        let end = (in_w + pl)
            .saturating_sub(offset)
            .div_ceil(sw)
            .clamp(first, out_w);
        (first, end, (first * sw + offset).saturating_sub(pl))
    }

    /// The input row output row `i` reads at kernel row `u`, if inside the input.
    pub(crate) fn input_row(&self, i: usize, u: usize) -> Option<usize> {
        (i * self.stride[0] + u * self.dilation[0])
            .checked_sub(self.pad_before[0])
            .filter(|&y| y < self.in_size[0])
    }

    /// Writes the im2col matrix `[K, rows·W_out]` of output rows `rows` of one group's input
    /// planes `x` (`C_g` planes) into `columns`, every value (the buffer is reused).
    fn im2col(&self, x: &[f32], rows: Range<usize>, columns: &mut [f32]) {
        let [kh, kw] = self.kernel;
        let [in_w, out_w] = [self.in_size[1], self.out_size[1]];
        let sw = self.stride[1];
        let width = rows.len() * out_w;
        for (r, row) in columns.chunks_exact_mut(width).enumerate() {
            let (c, u, v) = (r / (kh * kw), r / kw % kh, r % kw);
            let plane = &x[c * self.in_plane()..(c + 1) * self.in_plane()];
            let (first, end, start) = self.columns(v);
            for (i, out_row) in rows.clone().zip(row.chunks_exact_mut(out_w)) {
                let Some(y) = self.input_row(i, u).filter(|_| first < end) else {
                    out_row.fill(0.0);
                    continue;
                };
                out_row[..first].fill(0.0);
                out_row[end..].fill(0.0);
                let src = &plane[y * in_w + start..(y + 1) * in_w];
                let dst = &mut out_row[first..end];
                if sw == 1 {
                    dst.copy_from_slice(&src[..dst.len()]);
                } else {
                    dst.iter_mut()
                        .zip(src.iter().step_by(sw))
                        .for_each(|(d, s)| *d = *s);
                }
            }
        }
    }

    /// The adjoint of [`Conv2dShape::im2col`]: adds each column of `columns`
    /// (`[K, rows·W_out]`) into the input planes `dx` (`C_g` planes) where im2col read it.
    fn col2im(&self, columns: &[f32], rows: Range<usize>, dx: &mut [f32]) {
        let [kh, kw] = self.kernel;
        let [in_w, out_w] = [self.in_size[1], self.out_size[1]];
        let sw = self.stride[1];
        let width = rows.len() * out_w;
        let in_plane = self.in_plane();
        for (r, row) in columns.chunks_exact(width).enumerate() {
            let (c, u, v) = (r / (kh * kw), r / kw % kh, r % kw);
            let plane = &mut dx[c * in_plane..(c + 1) * in_plane];
            let (first, end, start) = self.columns(v);
            if first == end {
                continue;
            }
            for (i, grad_row) in rows.clone().zip(row.chunks_exact(out_w)) {
                let Some(y) = self.input_row(i, u) else {
                    continue;
                };
                let dst = &mut plane[y * in_w + start..(y + 1) * in_w];
                let src = &grad_row[first..end];
                if sw == 1 {
                    dst.iter_mut().zip(src).for_each(|(d, s)| *d += *s);
                } else {
                    dst.iter_mut()
                        .step_by(sw)
                        .zip(src)
                        .for_each(|(d, s)| *d += *s);
                }
            }
        }
    }

    /// The im2col matrix of output rows `rows` of item `n`, group `g` of the input `x`: a
    /// view of `x` for a pointwise convolution, else built in `buffer`.
    fn columns_of<'a>(
        &self,
        x: &'a [f32],
        n: usize,
        g: usize,
        rows: &Range<usize>,
        buffer: &'a mut Vec<f32>,
    ) -> MatRef<'a> {
        let start = (n * self.in_channels() + g * self.in_per_group) * self.in_plane();
        let width = rows.len() * self.out_size[1];
        if self.pointwise() {
            return MatRef::row_major(x, start + rows.start * self.in_size[1], self.patch(), width)
                .with_row_stride(self.in_plane());
        }
        buffer.resize(self.patch() * width, 0.0);
        let group = &x[start..start + self.in_per_group * self.in_plane()];
        self.im2col(group, rows.clone(), buffer);
        MatRef::row_major(buffer, 0, self.patch(), width)
    }

    /// `W_g`: the `[O_g, K]` rows of group `g` of the weight.
    fn weight_of<'a>(&self, weight: &'a [f32], g: usize) -> MatRef<'a> {
        let (rows, patch) = (self.out_per_group, self.patch());
        MatRef::row_major(weight, g * rows * patch, rows, patch)
    }

    /// Output rows `rows` of item `n`, group `g` of `dy` as a `[O_g, rows·W_out]` view.
    fn output_band<'a>(
        &self,
        dy: &'a [f32],
        n: usize,
        g: usize,
        rows: &Range<usize>,
    ) -> MatRef<'a> {
        let start = (n * self.out_channels() + g * self.out_per_group) * self.out_plane()
            + rows.start * self.out_size[1];
        MatRef::row_major(dy, start, self.out_per_group, rows.len() * self.out_size[1])
            .with_row_stride(self.out_plane())
    }

    fn bands(&self, rows_per_band: usize) -> impl Iterator<Item = Range<usize>> + Clone {
        let out_h = self.out_size[0];
        (0..out_h.div_ceil(rows_per_band))
            .map(move |b| b * rows_per_band..((b + 1) * rows_per_band).min(out_h))
    }

    /// Values of the input, the weight and the output.
    fn lengths(&self) -> [usize; 3] {
        [
            self.batch * self.in_channels() * self.in_plane(),
            self.out_channels() * self.patch(),
            self.batch * self.out_channels() * self.out_plane(),
        ]
    }

    /// Checks the lengths of the buffers given (input, weight, output or its gradient);
    /// whether any of the three is empty (then every result is zeros).
    fn check_lengths(&self, buffers: [Option<&[f32]>; 3]) -> bool {
        let lengths = self.lengths();
        for ((buffer, len), what) in buffers
            .iter()
            .zip(lengths)
            .zip(["input", "weight", "output"])
        {
            if let Some(buffer) = buffer {
                assert_eq!(buffer.len(), len, "conv2d: the {what} has the wrong length");
            }
        }
        lengths.contains(&0)
    }
}

/// A per-output-channel `α·y + β` applied as the output is written; `None` parts are the
/// identity.
#[derive(Clone, Copy, Default)]
pub(crate) struct ChannelAffine<'a> {
    pub scale: Option<&'a [f32]>,
    pub shift: Option<&'a [f32]>,
}

impl ChannelAffine<'_> {
    /// Writes `src` (one output channel's values) mapped into `dst`.
    pub(crate) fn write(&self, channel: usize, src: &[f32], dst: &mut [f32]) {
        dst.copy_from_slice(src);
        self.apply(channel, dst);
    }

    /// Maps one output channel's values in place.
    pub(crate) fn apply(&self, channel: usize, values: &mut [f32]) {
        let scale = self.scale.map(|s| s[channel]);
        let shift = self.shift.map(|s| s[channel]);
        match (scale, shift) {
            (Some(a), Some(b)) => values.iter_mut().for_each(|v| *v = *v * a + b),
            (Some(a), None) => values.iter_mut().for_each(|v| *v *= a),
            (None, Some(b)) => values.iter_mut().for_each(|v| *v += b),
            (None, None) => {}
        }
    }
}

/// The convolution `[N, C_out, H_out, W_out]` of `x` by `weight`, each output channel mapped
/// by `affine` (see the module documentation): [`direct::forward`] where it
/// [takes](direct::takes) the shape, else the im2col products.
pub(crate) fn forward(
    s: &Conv2dShape,
    x: &[f32],
    weight: &[f32],
    affine: ChannelAffine<'_>,
) -> Vec<f32> {
    s.check_lengths([Some(x), Some(weight), None]);
    if direct::takes(s) {
        return direct::forward(s, x, weight, affine);
    }
    forward_im2col(s, x, weight, affine)
}

/// [`forward`] as im2col products (or depth-wise row operations).
pub(crate) fn forward_im2col(
    s: &Conv2dShape,
    x: &[f32],
    weight: &[f32],
    affine: ChannelAffine<'_>,
) -> Vec<f32> {
    let empty = s.check_lengths([Some(x), Some(weight), None]);
    for v in [affine.scale, affine.shift].into_iter().flatten() {
        assert_eq!(
            v.len(),
            s.out_channels(),
            "conv2d: one scale and shift per output channel"
        );
    }
    let (og, out_plane, out_w) = (s.out_per_group, s.out_plane(), s.out_size[1]);
    if !empty && depthwise::takes(s) {
        return depthwise::forward(s, x, weight, affine);
    }
    let mut out = vec![0.0f32; s.lengths()[2]];
    if empty {
        return out;
    }
    let items = s.batch * s.groups;
    let rows_per_band = s.band_rows(Some(items));
    // Every band of every (item, group): its rows of each of the group's output planes, as
    // disjoint slices, so that bands run in parallel.
    let mut work = Vec::new();
    for (item, chunk) in out.chunks_mut(og * out_plane).enumerate() {
        let mut bands: Vec<Vec<&mut [f32]>> = s
            .bands(rows_per_band)
            .map(|_| Vec::with_capacity(og))
            .collect();
        for plane in chunk.chunks_mut(out_plane) {
            for (band, rows) in bands
                .iter_mut()
                .zip(plane.chunks_mut(rows_per_band * out_w))
            {
                band.push(rows);
            }
        }
        work.extend(
            bands
                .into_iter()
                .zip(s.bands(rows_per_band))
                .map(|(b, rows)| (item, rows, b)),
        );
    }
    work.into_par_iter().for_each(|(item, rows, mut band)| {
        let (n, g) = (item / s.groups, item % s.groups);
        let width = rows.len() * out_w;
        COLUMNS.with_borrow_mut(|columns| {
            PRODUCT.with_borrow_mut(|product| {
                let cols = s.columns_of(x, n, g, &rows, columns);
                product.resize(og * width, 0.0);
                gemm(product, width, false, s.weight_of(weight, g), cols, false);
                for (o, dst) in band.iter_mut().enumerate() {
                    affine.write(g * og + o, &product[o * width..(o + 1) * width], dst);
                }
            })
        })
    });
    out
}

/// The gradient `[N, C_in, H, W]` of the convolution's input, given the output gradient `dy`.
pub(crate) fn backward_input(s: &Conv2dShape, weight: &[f32], dy: &[f32]) -> Vec<f32> {
    s.check_lengths([None, Some(weight), Some(dy)]);
    if let Some((t, flipped)) =
        direct::transposed_for_input_grad(s, weight).filter(|(t, _)| direct::takes(t))
    {
        return direct::forward(&t, dy, &flipped, ChannelAffine::default());
    }
    backward_input_im2col(s, weight, dy)
}

/// [`backward_input`] as im2col products and col2im (or depth-wise row operations).
pub(crate) fn backward_input_im2col(s: &Conv2dShape, weight: &[f32], dy: &[f32]) -> Vec<f32> {
    let empty = s.check_lengths([None, Some(weight), Some(dy)]);
    let in_plane = s.in_plane();
    if !empty && depthwise::takes(s) {
        return depthwise::backward_input(s, weight, dy);
    }
    let mut dx = vec![0.0f32; s.lengths()[0]];
    if empty {
        return dx;
    }
    let items = s.batch * s.groups;
    // Few items: each product uses the pool instead (gemm splits the output, not the sum,
    // so the values are the same).
    let parallel_products = items < rayon::current_num_threads();
    let rows_per_band = s.band_rows(None);
    dx.par_chunks_mut(s.in_per_group * in_plane)
        .enumerate()
        .for_each(|(item, dx)| {
            let (n, g) = (item / s.groups, item % s.groups);
            let weight_t = s.weight_of(weight, g).t();
            for rows in s.bands(rows_per_band) {
                let band = s.output_band(dy, n, g, &rows);
                if s.pointwise() {
                    let start = rows.start * s.in_size[1];
                    gemm(
                        &mut dx[start..],
                        in_plane,
                        false,
                        weight_t,
                        band,
                        parallel_products,
                    );
                    continue;
                }
                COLUMNS.with_borrow_mut(|columns| {
                    let width = band.cols;
                    columns.resize(s.patch() * width, 0.0);
                    gemm(columns, width, false, weight_t, band, parallel_products);
                    s.col2im(&columns[..s.patch() * width], rows, dx);
                });
            }
        });
    dx
}

/// How the weight gradient's bands (all `(item, band)` pairs of a group, in order) are cut
/// into chunks summed separately: depends on the shapes only, never on the thread count.
fn weight_partials(s: &Conv2dShape, pairs: usize) -> usize {
    let weight_floats = (s.out_channels() * s.patch()).max(1);
    (PARTIAL_FLOATS / weight_floats)
        .clamp(1, MAX_PARTIALS)
        .min(pairs.max(1))
}

/// The gradient `[C_out, C_in/G, k_h, k_w]` of the convolution's weight, given its input `x`
/// and output gradient `dy`.
pub(crate) fn backward_weight(s: &Conv2dShape, x: &[f32], dy: &[f32]) -> Vec<f32> {
    if s.check_lengths([Some(x), None, Some(dy)]) {
        return vec![0.0; s.lengths()[1]];
    }
    if depthwise::takes(s) {
        return depthwise::backward_weight(s, x, dy);
    }
    let (og, patch) = (s.out_per_group, s.patch());
    let rows_per_band = s.band_rows(None);
    let bands: Vec<Range<usize>> = s.bands(rows_per_band).collect();
    let pairs = s.batch * bands.len();
    let chunks = weight_partials(s, pairs);
    let per_chunk = pairs.div_ceil(chunks);
    let group_floats = og * patch;
    // Partial sums `[G, chunks, O_g, K]`, each chunk's bands summed by one thread in order.
    let mut partials = vec![0.0f32; s.groups * chunks * group_floats];
    partials
        .par_chunks_mut(group_floats)
        .enumerate()
        .for_each(|(index, partial)| {
            let (g, chunk) = (index / chunks, index % chunks);
            let mut first = true;
            for pair in chunk * per_chunk..((chunk + 1) * per_chunk).min(pairs) {
                let (n, rows) = (pair / bands.len(), &bands[pair % bands.len()]);
                let band = s.output_band(dy, n, g, rows);
                COLUMNS.with_borrow_mut(|columns| {
                    let cols = s.columns_of(x, n, g, rows, columns);
                    gemm(partial, patch, !first, band, cols.t(), false);
                });
                first = false;
            }
        });
    let mut dw = vec![0.0f32; s.lengths()[1]];
    for (g, dw) in dw.chunks_mut(group_floats).enumerate() {
        let group = &partials[g * chunks * group_floats..(g + 1) * chunks * group_floats];
        for partial in group.chunks(group_floats) {
            dw.iter_mut().zip(partial).for_each(|(d, p)| *d += *p);
        }
    }
    dw
}

#[cfg(test)]
mod tests;
