//! Spatial pyramid pooling: a fixed-length vector from a feature map of any size.

use std::ops::Range;

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Device, Int, Tensor, TensorData};
use convkit_core::{Error, InputSpec, Result, SiteKind, Tapped, Taps};
use serde::{Deserialize, Serialize};

/// The pooling applied in every bin of a [`SpatialPyramidPool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum PoolKind {
    /// The maximum of the bin (He et al.'s choice; `adaptive_max_pool2d`).
    #[default]
    Max,
    /// The mean of the bin (`adaptive_avg_pool2d`).
    Average,
}

/// Configuration of [`SpatialPyramidPool`].
#[derive(Config, Debug)]
pub struct SpatialPyramidPoolConfig {
    /// Channels of the feature map.
    pub channels: usize,
    /// Pyramid levels: level `n` pools the map into an `n × n` grid of bins. `[4, 2, 1]` is
    /// the 3-level pyramid of He et al. (21 bins per channel).
    #[config(default = "vec![4, 2, 1]")]
    pub levels: Vec<usize>,
    /// Max or average pooling in each bin.
    #[config(default = "PoolKind::Max")]
    pub pool: PoolKind,
}

impl SpatialPyramidPoolConfig {
    /// Checks that there are channels and at least one level, and that every level is
    /// positive.
    pub fn validate(&self) -> Result<()> {
        let what = "SpatialPyramidPool config";
        if self.channels == 0 {
            return Err(Error::invalid(what, "channels must be positive"));
        }
        if self.levels.is_empty() || self.levels.contains(&0) {
            return Err(Error::invalid(
                what,
                format!(
                    "levels must be a non-empty list of positive grid sizes, got {:?}",
                    self.levels
                ),
            ));
        }
        Ok(())
    }

    /// Creates the layer (it has no parameters).
    ///
    /// # Panics
    /// If the configuration is invalid (see [`SpatialPyramidPoolConfig::validate`]); use
    /// [`SpatialPyramidPoolConfig::try_init`] to get the error instead.
    pub fn init(&self) -> SpatialPyramidPool {
        self.try_init()
            .unwrap_or_else(|e| panic!("invalid SpatialPyramidPool configuration: {e}"))
    }

    /// Creates the layer, or says why the configuration is invalid.
    pub fn try_init(&self) -> Result<SpatialPyramidPool> {
        self.validate()?;
        Ok(SpatialPyramidPool {
            channels: self.channels,
            levels: self.levels.clone(),
            pool: self.pool,
        })
    }
}

/// Spatial pyramid pooling, "Spatial Pyramid Pooling in Deep Convolutional Networks for
/// Visual Recognition" (He, Zhang, Ren & Sun, ECCV 2014 / TPAMI 2015).
///
/// Each level `n` pools the `H × W` map into an `n × n` grid of bins; the pooled values of
/// all levels are concatenated into one vector of fixed length `C · Σ n²`, whatever the input
/// size, so a classifier head can follow convolutions on variable-size inputs.
///
/// # Bins
/// Bin `i` of `n` along a dimension of size `H` spans `[floor(i·H / n), ceil((i+1)·H / n))`
/// ([`SpatialPyramidPool::bins`]), the rule of PyTorch's `adaptive_max_pool2d` /
/// `adaptive_avg_pool2d`, which this layer matches exactly. Every bin is non-empty (even for
/// `H < n`, where bins share pixels) and together they cover every pixel. The paper's sliding
/// window (size `ceil(H / n)`, stride `floor(H / n)`) does not: for `H = 7, n = 4` it yields
/// windows `[0,2) [1,3) [2,4) [3,5)` and never sees pixels 5 and 6, and for `H < n` the
/// stride is 0.
///
/// # Output order
/// Level by level in the configured order; within a level, `torch.flatten(pool(x), 1)`
/// order (channel, then bin row, then bin column). This is the common PyTorch SPP-layer
/// convention: `torch.cat([torch.flatten(adaptive_pool(x, n), 1) for n in levels], 1)`.
///
/// # Computation
/// No per-bin tensor operations. Max pooling gathers the bins of the finest level with one
/// index select and one reduction, and derives every level that divides an already pooled one
/// from it, so the default `[4, 2, 1]` reads the input once; average pooling is one matmul
/// with the pooling matrix. Both are differentiable (training works; the gradient of a
/// maximum goes to its pixel, as in PyTorch).
///
/// Tap sites: with max pooling, `levels.{i}.indices` for the `i`-th configured level
/// ([`SiteKind::PoolIndices`], `[N·C, n²]` flat pixel indices into each `H × W` plane: the
/// bins' argmaxes, computed only when wanted; the level is then the input gathered there, so
/// replaying them freezes the pooling), and `out`.
///
/// # Shapes
/// - input `[N, C, H, W]` with `H, W >= 1`
/// - output `[N, C · Σ n²]` (`[N, 21 C]` for the default levels).
#[derive(Module, Debug)]
pub struct SpatialPyramidPool {
    #[module(skip)]
    channels: usize,
    #[module(skip)]
    levels: Vec<usize>,
    #[module(skip)]
    pool: PoolKind,
}

impl SpatialPyramidPool {
    /// The `bins` adaptive-pooling bins of a dimension of size `size`:
    /// `floor(i · size / bins) .. ceil((i + 1) · size / bins)` for `i` in `0..bins`.
    pub fn bins(size: usize, bins: usize) -> Vec<Range<usize>> {
        (0..bins)
            .map(|i| i * size / bins..((i + 1) * size).div_ceil(bins))
            .collect()
    }

    /// Every level's averages `[N·C, level²]`, in the configured order, from one matmul of
    /// `planes` `[N·C, H·W]` with the pooling matrix `[H·W, Σ level²]` (weight `1 / area` where
    /// a pixel lies in a bin). On the small maps SPP is used on (13×13 in the paper) this one
    /// dense product is several times faster than gathering each level's bins; its cost grows
    /// as `H·W·Σ level²` per plane.
    fn average_levels(&self, planes: Tensor<2>, [h, w]: [usize; 2]) -> Vec<Tensor<2>> {
        let total: usize = self.levels.iter().map(|l| l * l).sum();
        let mut matrix = vec![0.0f32; h * w * total];
        let mut column = 0;
        for &level in &self.levels {
            for rows in Self::bins(h, level) {
                for cols in Self::bins(w, level) {
                    let weight = 1.0 / (rows.len() * cols.len()) as f32;
                    for r in rows.clone() {
                        for q in cols.clone() {
                            matrix[(r * w + q) * total + column] = weight;
                        }
                    }
                    column += 1;
                }
            }
        }
        let matrix =
            Tensor::<2>::from_data(TensorData::new(matrix, [h * w, total]), &planes.device());
        let pooled = planes.matmul(matrix);
        let mut offset = 0;
        self.levels
            .iter()
            .map(|&level| {
                let part = pooled.clone().narrow(1, offset, level * level);
                offset += level * level;
                part
            })
            .collect()
    }

    /// Every level's maxima `[N·C, level²]`, in the configured order, from the argmaxes
    /// the taps return for the sites `levels.{i}.indices`.
    fn max_levels_tapped(
        &self,
        planes: Tensor<2>,
        [h, w]: [usize; 2],
        taps: &mut Taps<'_>,
    ) -> Vec<Tensor<2>> {
        let [planes_len, _] = planes.dims();
        self.levels
            .iter()
            .enumerate()
            .map(|(i, &level)| {
                let (table, [kh, kw]) = Self::window_table(h, w, level, &planes.device());
                let windows = table.dims()[0];
                let slots = planes
                    .clone()
                    .select(1, table.clone())
                    .reshape([planes_len, level * level, kh * kw])
                    .argmax(2)
                    .reshape([planes_len, level * level]);
                // Window slot → position in the table → pixel of the plane.
                let offsets = Tensor::<1, Int>::arange(0..windows as i64, &planes.device())
                    .reshape([level * level, kh * kw])
                    .narrow(1, 0, 1)
                    .reshape([1, level * level]);
                let positions = (slots + offsets).flatten::<1>(0, 1);
                let indices = table
                    .select(0, positions)
                    .reshape([planes_len, level * level]);
                let indices = taps.tap(
                    &format!("levels.{i}.indices"),
                    SiteKind::PoolIndices,
                    indices,
                );
                planes.clone().gather(1, indices)
            })
            .collect()
    }

    /// Every level's maxima `[N·C, level²]`, in the configured order.
    ///
    /// Levels are computed finest first. A level that divides an already computed finer level
    /// `m` takes the maximum over blocks of `m / level` × `m / level` of its bins: adaptive bin
    /// `i` of `level` is exactly the union of bins `i·k .. (i+1)·k` of `m = k·level`, and a
    /// maximum over a union of overlapping sets is the maximum of their maxima. So the default
    /// `[4, 2, 1]` gathers pixels only once, for level 4.
    fn max_levels(&self, planes: Tensor<2>, [h, w]: [usize; 2]) -> Vec<Tensor<2>> {
        let mut finest_first = self.levels.clone();
        finest_first.sort_unstable_by(|a, b| b.cmp(a));
        finest_first.dedup();
        let mut computed: Vec<(usize, Tensor<2>)> = Vec::with_capacity(finest_first.len());
        for level in finest_first {
            // The coarsest finer level that `level` divides: the fewest bins to reduce.
            let finer = computed
                .iter()
                .rev()
                .find(|(m, _)| m.is_multiple_of(level))
                .map(|(m, t)| (*m, t.clone()));
            let pooled = match finer {
                Some((m, fine)) => {
                    let [planes_len, _] = fine.dims();
                    let k = m / level;
                    fine.reshape([planes_len, level, k, level, k])
                        .max_dim(4)
                        .max_dim(2)
                        .reshape([planes_len, level * level])
                }
                None if level == 1 => planes.clone().max_dim(1),
                None => Self::gather_max(planes.clone(), [h, w], level),
            };
            computed.push((level, pooled));
        }
        self.levels
            .iter()
            .map(|level| {
                let (_, pooled) = computed
                    .iter()
                    .find(|(m, _)| m == level)
                    .expect("every configured level was computed");
                pooled.clone()
            })
            .collect()
    }

    /// One level's maxima `[N·C, level²]` by one gather and one reduction: every bin is padded
    /// to the largest bin's `kh × kw` window by repeating one of its own pixels (harmless to a
    /// maximum), so the gathered `[N·C, level² · kh · kw]` reshapes to
    /// `[N·C, level², kh · kw]` and reduces along its last dimension. Adaptive bins overlap by
    /// at most one pixel, so the gather reads about `(H + level) · (W + level)` values per
    /// plane.
    fn gather_max(planes: Tensor<2>, [h, w]: [usize; 2], level: usize) -> Tensor<2> {
        let [planes_len, _] = planes.dims();
        let (table, [kh, kw]) = Self::window_table(h, w, level, &planes.device());
        planes
            .select(1, table)
            .reshape([planes_len, level * level, kh * kw])
            .max_dim(2)
            .reshape([planes_len, level * level])
    }

    /// The pixels of every bin of `level` on an `h × w` plane, each bin padded to the largest
    /// bin's `kh × kw` window by repeating one of its own pixels: flat plane indices
    /// `[level² · kh · kw]`, bin by bin, and `[kh, kw]`.
    fn window_table(
        h: usize,
        w: usize,
        level: usize,
        device: &Device,
    ) -> (Tensor<1, Int>, [usize; 2]) {
        let rows = Self::bins(h, level);
        let cols = Self::bins(w, level);
        let kh = rows.iter().map(|r| r.len()).max().unwrap_or(1);
        let kw = cols.iter().map(|r| r.len()).max().unwrap_or(1);
        let mut index = Vec::with_capacity(level * level * kh * kw);
        for row in &rows {
            for col in &cols {
                for a in 0..kh {
                    for b in 0..kw {
                        let r = row.start + a.min(row.len() - 1);
                        let q = col.start + b.min(col.len() - 1);
                        index.push((r * w + q) as i64);
                    }
                }
            }
        }
        let len = index.len();
        (
            Tensor::from_data(TensorData::new(index, [len]), device),
            [kh, kw],
        )
    }

    /// Channels of the feature map.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The pyramid levels.
    pub fn levels(&self) -> &[usize] {
        &self.levels
    }

    /// Length of the output vector, `C · Σ n²`.
    pub fn output_len(&self) -> usize {
        self.channels * self.levels.iter().map(|l| l * l).sum::<usize>()
    }
}

impl Tapped<Tensor<4>> for SpatialPyramidPool {
    type Output = Tensor<2>;

    /// Pools `x` into the fixed-length pyramid vector.
    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<2> {
        let [n, c, h, w] = x.dims();
        // One row per (sample, channel) plane: burn's 2-D gathers and matmuls are its fastest.
        let planes = x.reshape([n * c, h * w]);
        let decisions_wanted = (0..self.levels.len())
            .any(|i| taps.wants(&format!("levels.{i}.indices"), SiteKind::PoolIndices));
        let pooled = match self.pool {
            PoolKind::Max if decisions_wanted => self.max_levels_tapped(planes, [h, w], taps),
            PoolKind::Max => self.max_levels(planes, [h, w]),
            PoolKind::Average => self.average_levels(planes, [h, w]),
        };
        let flat = pooled
            .into_iter()
            .map(|level| {
                let bins = level.dims()[1];
                level.reshape([n, c * bins])
            })
            .collect();
        taps.float("out", Tensor::cat(flat, 1))
    }

    /// `[N, C, H >= 1, W >= 1]`.
    fn input_spec(&self) -> InputSpec {
        InputSpec::image("SpatialPyramidPool input", self.channels, [1, 1])
    }
}
