//! The host kernel of inference-mode 2-D convolution: tiled matrix products on NCHW data,
//! without burn-flex's per-call layout conversions.
//!
//! `y[b, o, i, j] = α[o] · Σ_{c, u, v} w[o, c, u, v] · x[b, c, i·s_h + u − p_h, j·s_w + v − p_w] + β[o]`
//! (zero outside the input): PyTorch's `torch.nn.functional.conv2d` with `groups=1`,
//! `dilation=1`, followed by a per-channel affine map (`α = 1`, `β` = the bias for a plain
//! convolution; a batch norm's scale and shift when one is folded in).
//!
//! burn-flex 0.22 converts every input to NHWC on one thread and re-flattens the weights on
//! every call; on Inception-v4 that costs about as much as the GEMMs themselves. Here
//! everything stays NCHW: the weight `[C_out, C_in, k_h, k_w]` already is the GEMM's left
//! operand `[C_out, C_in·k_h·k_w]`. The output of each batch item is cut into tiles of whole
//! output rows; a tile's right operand is its im2col matrix `[C_in·k_h·k_w, pixels]`, whose row
//! `(c, u, v)` is input plane `c` shifted by `(u, v)` (for stride 1, one slice copy per output
//! row between zero edges). Tiles run in parallel (rayon), each building its matrix in a
//! per-thread buffer that stays in cache and is reused across calls, and multiplying it with
//! burn-flex's matmul (the `gemm` crate; the workspace forbids `unsafe`, which rules out
//! calling `gemm` directly). The tile products are then copied into the NCHW output through
//! the affine map, so a folded batch norm needs no scaled copy of the weights.
//!
//! 1×1 stride-1 unpadded convolutions are left to burn-flex, which already runs them as one
//! GEMM on the NCHW data (measured 5-30% faster than tiles of them here). [`crate::conv2d`]
//! decides which convolutions come here.

use std::cell::RefCell;

use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, Device, Tensor, TensorData};
use rayon::prelude::*;

/// Target size of one tile's im2col matrix, in floats (512 KiB: the L2 cache of one core on
/// the machine measured, where larger tiles ran slower).
const TILE_FLOATS: usize = 1 << 17;

/// Fewest output pixels per tile: each tile's product packs the whole weight matrix, which
/// narrower tiles do not amortise (measured on Inception-v4's 17×17 and 35×35 layers).
const MIN_TILE_PIXELS: usize = 256;

thread_local! {
    /// The im2col buffer of the tiles this thread runs, kept between calls (as large as the
    /// largest tile seen: `C_in·k_h·k_w` × at least 256 floats).
    static COLUMNS: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Whether the host kernel takes this convolution: f32 tensors, none empty, on flex without
/// autodiff, `groups = 1`, `dilation = 1`, symmetric padding, and not a 1×1 stride-1 unpadded
/// convolution.
pub(crate) fn takes(
    x: &Tensor<4>,
    weight: &Tensor<4>,
    vectors: [Option<&Tensor<1>>; 2],
    options: &ConvOptions<2>,
) -> bool {
    let device = x.device();
    let pointwise =
        weight.dims()[2..] == [1, 1] && options.stride == [1, 1] && options.padding == [(0, 0); 2];
    let symmetric = options
        .padding
        .iter()
        .all(|(before, after)| before == after);
    !pointwise
        && symmetric
        && options.dilation == [1, 1]
        && options.groups == 1
        && device == Device::flex()
        && !device.is_autodiff()
        && x.dtype() == DType::F32
        && weight.dtype() == DType::F32
        && vectors.iter().flatten().all(|v| v.dtype() == DType::F32)
        && !x.dims().contains(&0)
        && !weight.dims().contains(&0)
}

/// The convolution of `x` by `weight` on the host, each output channel `o` mapped by
/// `scale[o] · y + shift[o]` as it is written (see the module documentation). Call only where
/// [`takes`] holds.
///
/// # Panics
/// Like burn's `conv2d`: when the channel counts or the vector lengths disagree, a stride is
/// 0, or the kernel is larger than the padded input.
pub(crate) fn conv2d(
    x: Tensor<4>,
    weight: Tensor<4>,
    scale: Option<Tensor<1>>,
    shift: Option<Tensor<1>>,
    options: &ConvOptions<2>,
) -> Tensor<4> {
    let affine = ChannelAffine {
        scale: scale.map(host_values),
        shift: shift.map(host_values),
    };
    let padding = options.padding.map(|(before, _)| before);
    conv_on_host(x, weight, affine, options.stride, padding)
}

/// `y = scale · y + shift` per output channel; `None` is the identity part.
struct ChannelAffine {
    scale: Option<Vec<f32>>,
    shift: Option<Vec<f32>>,
}

impl ChannelAffine {
    /// Writes `src` (one output channel of a tile product) mapped into `dst`.
    fn write(&self, channel: usize, src: &[f32], dst: &mut [f32]) {
        let scale = self.scale.as_ref().map(|s| s[channel]);
        let shift = self.shift.as_ref().map(|s| s[channel]);
        let pairs = dst.iter_mut().zip(src);
        match (scale, shift) {
            (Some(a), Some(b)) => pairs.for_each(|(d, &s)| *d = s * a + b),
            (Some(a), None) => pairs.for_each(|(d, &s)| *d = s * a),
            (None, Some(b)) => pairs.for_each(|(d, &s)| *d = s + b),
            (None, None) => dst.copy_from_slice(src),
        }
    }
}

/// The convolution on the host (see the module documentation).
fn conv_on_host(
    x: Tensor<4>,
    weight: Tensor<4>,
    affine: ChannelAffine,
    stride: [usize; 2],
    padding: [usize; 2],
) -> Tensor<4> {
    let device = x.device();
    let g = Geometry::new(x.dims(), weight.dims(), stride, padding);
    for (what, v) in [("scale", &affine.scale), ("shift", &affine.shift)] {
        if let Some(v) = v {
            assert_eq!(
                v.len(),
                g.out_channels,
                "conv2d: the {what} has {} entries for {} output channels",
                v.len(),
                g.out_channels
            );
        }
    }
    let batch = x.dims()[0];
    let patch = g.in_channels * g.kernel[0] * g.kernel[1];
    let weights = weight.reshape([1, g.out_channels, patch]);
    let out_pixels = g.out_h * g.out_w;
    let shape = [batch, g.out_channels, g.out_h, g.out_w];

    let tiling = Tiling::new(&g, batch, patch);
    let mut output = vec![0.0f32; batch * g.out_channels * out_pixels];
    output
        .par_chunks_mut(g.out_channels * out_pixels)
        .enumerate()
        .for_each(|(item, out)| {
            // The item's input, copied out by the thread that reads it (a copy of the whole
            // batch in the calling thread made the allocator fault its pages in on every call).
            let input = x.clone().narrow(0, item, 1).into_data();
            let input = input
                .as_slice::<f32>()
                .expect("the input was checked to be f32");
            // Each tile's rows of every output channel: disjoint slices, filled in parallel.
            let mut tiles: Vec<Vec<&mut [f32]>> = (0..tiling.per_item)
                .map(|_| Vec::with_capacity(g.out_channels))
                .collect();
            for plane in out.chunks_mut(out_pixels) {
                for (tile, rows) in tiles.iter_mut().zip(plane.chunks_mut(tiling.pixels(&g))) {
                    tile.push(rows);
                }
            }
            tiles
                .into_par_iter()
                .enumerate()
                .for_each(|(tile, mut out)| {
                    let product = tiling.product(tile, &weights, input, &g, &device);
                    for (channel, out) in out.iter_mut().enumerate() {
                        let start = channel * tiling.pixels(&g);
                        affine.write(channel, &product[start..start + out.len()], out);
                    }
                });
        });
    Tensor::from_data(TensorData::new(output, shape), &device)
}

/// The values of an f32 tensor (its buffer taken over when nothing else holds it).
fn host_values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor
        .into_data()
        .try_into_vec::<f32>()
        .expect("the tensor was checked to be f32")
}

/// How the output is cut into tiles of `rows` output rows of one batch item (`per_item` tiles
/// per item, the last one padded with zero columns past the output).
///
/// A tile's im2col matrix holds about [`TILE_FLOATS`] (so that it is still in cache when the
/// product reads it) but at least [`MIN_TILE_PIXELS`] pixels (each tile's product packs the
/// whole weight matrix, which narrower tiles do not amortise), and an item is cut into enough
/// tiles for two per thread when the batch is small. Tiles run in parallel, one product each,
/// copied into the output by the thread that made it (measured faster than multiplying groups
/// of tiles as one batched product, which reads im2col matrices that have left the cache, and
/// than keeping the products until all are done, which makes the allocator return their
/// memory to the system and fault it back in on every call).
struct Tiling {
    rows: usize,
    per_item: usize,
}

impl Tiling {
    fn new(g: &Geometry, batch: usize, patch: usize) -> Self {
        let threads = rayon::current_num_threads();
        let by_size = (TILE_FLOATS / (patch * g.out_w))
            .max(MIN_TILE_PIXELS.div_ceil(g.out_w))
            .max(1);
        let by_count = g.out_h.div_ceil((2 * threads).div_ceil(batch));
        // Rows spread evenly over the fewest tiles of at most that many rows.
        let rows = g
            .out_h
            .div_ceil(g.out_h.div_ceil(by_size.min(by_count).max(1)));
        Tiling {
            rows,
            per_item: g.out_h.div_ceil(rows),
        }
    }

    /// Columns of a tile's im2col matrix.
    fn pixels(&self, g: &Geometry) -> usize {
        self.rows * g.out_w
    }

    /// The product `[C_out, pixels]` of tile `tile` of one batch item whose input is `input`;
    /// the im2col matrix is built in the running thread's reused buffer.
    fn product(
        &self,
        tile: usize,
        weights: &Tensor<3>,
        input: &[f32],
        g: &Geometry,
        device: &Device,
    ) -> Vec<f32> {
        let patch = weights.dims()[2];
        let mut columns = COLUMNS.with_borrow_mut(std::mem::take);
        columns.resize(patch * self.pixels(g), 0.0);
        self.im2col(tile, &mut columns, input, g);
        let shape = [1, patch, self.pixels(g)];
        let matrix = Tensor::<3>::from_data(TensorData::new(columns, shape), device);
        let product = weights.clone().matmul(matrix.clone());
        // The product no longer holds the matrix: its buffer comes back, uncopied.
        if let Ok(buffer) = matrix.into_data().try_into_vec::<f32>() {
            COLUMNS.set(buffer);
        }
        host_values(product)
    }

    /// Writes the im2col matrix `[C_in·k_h·k_w, pixels]` of tile `tile` of the batch item `x`
    /// into `columns` (every value, as the buffer is reused): row `(c, u, v)` holds
    /// `x[c, i·s_h + u − p_h, j·s_w + v − p_w]` at column `(i − first row)·W_out + j`, zero in
    /// the padding and past the last output row.
    fn im2col(&self, tile: usize, columns: &mut [f32], x: &[f32], g: &Geometry) {
        let [kh, kw] = g.kernel;
        let plane = g.in_h * g.in_w;
        let first_row = tile * self.rows;
        for (r, row) in columns.chunks_exact_mut(self.pixels(g)).enumerate() {
            let (c, u, v) = (r / (kh * kw), r / kw % kh, r % kw);
            let plane = &x[c * plane..(c + 1) * plane];
            for (i, out_row) in (first_row..).zip(row.chunks_exact_mut(g.out_w)) {
                g.shifted_row(out_row, plane, i, [u, v]);
            }
        }
    }
}

/// Sizes of one convolution.
struct Geometry {
    in_channels: usize,
    in_h: usize,
    in_w: usize,
    out_channels: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    out_h: usize,
    out_w: usize,
}

impl Geometry {
    /// Checks the shapes as burn's `conv2d` does and computes the output size.
    fn new(x: [usize; 4], weight: [usize; 4], stride: [usize; 2], padding: [usize; 2]) -> Self {
        let [_, in_channels, in_h, in_w] = x;
        let [out_channels, weight_channels, kh, kw] = weight;
        assert_eq!(
            in_channels, weight_channels,
            "conv2d: the input has {in_channels} channels, the weight expects {weight_channels}"
        );
        assert!(!stride.contains(&0), "conv2d: the stride must be positive");
        let out_size = |n: usize, k: usize, p: usize, s: usize| {
            let padded = n + 2 * p;
            assert!(
                padded >= k,
                "conv2d: the {k}-wide kernel is larger than the padded input ({n} + 2·{p})"
            );
            (padded - k) / s + 1
        };
        Geometry {
            in_channels,
            in_h,
            in_w,
            out_channels,
            kernel: [kh, kw],
            stride,
            padding,
            out_h: out_size(in_h, kh, padding[0], stride[0]),
            out_w: out_size(in_w, kw, padding[1], stride[1]),
        }
    }

    /// Writes output row `i` of the input plane shifted by the kernel offset `[u, v]` and
    /// subsampled by the stride into `out_row`: zeros where the shift reaches the padding, and
    /// for rows past the output (a tile's padding).
    fn shifted_row(&self, out_row: &mut [f32], plane: &[f32], i: usize, [u, v]: [usize; 2]) {
        let [sh, sw] = self.stride;
        let [ph, pw] = self.padding;
        // Output columns j whose input column j·s_w + v − p_w lies inside [0, W).
        let first = pw.saturating_sub(v).div_ceil(sw).min(self.out_w);
        let end = (self.in_w + pw)
            .saturating_sub(v)
            .div_ceil(sw)
            .clamp(first, self.out_w);
        let y = (i * sh + u)
            .checked_sub(ph)
            .filter(|&y| y < self.in_h && i < self.out_h && first < end);
        let Some(y) = y else {
            out_row.fill(0.0);
            return;
        };
        out_row[..first].fill(0.0);
        out_row[end..].fill(0.0);
        let start = first * sw + v - pw;
        let src = &plane[y * self.in_w..(y + 1) * self.in_w];
        let dst = &mut out_row[first..end];
        if sw == 1 {
            dst.copy_from_slice(&src[start..start + dst.len()]);
        } else {
            for (d, s) in dst.iter_mut().zip(src[start..].iter().step_by(sw)) {
                *d = *s;
            }
        }
    }
}
