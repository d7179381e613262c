//! Batch normalisation in training (batch statistics) on host slices, forward and backward,
//! each in two passes over the activation instead of the dozen elementwise passes (and
//! their saved intermediates) of the composed ops.
//!
//! With `x` viewed as `[N, C, R]` (`R` the product of the spatial sizes), `M = N·R`:
//!
//! - forward: `μ_c = Σ x / M`, `σ²_c = Σ (x − μ_c)² / M` (biased; two passes, not `E[x²] −
//!   μ²`, which loses digits on large means), `y = (x − μ_c) · γ_c / sqrt(σ²_c + ε) + β_c`;
//! - backward, with `x̂ = (x − μ_c) / sqrt(σ²_c + ε)`: `dβ_c = Σ dy`, `dγ_c = Σ dy · x̂`,
//!   `dx = γ_c / sqrt(σ²_c + ε) · (dy − dβ_c / M − x̂ · dγ_c / M)`.
//!
//! Sums run per channel in parallel (16 f32 lanes along each contiguous `R`-row, rows added
//! in `n` order in f64), elementwise passes over the `N·C` rows in parallel: the same bits
//! for any thread count.

use rayon::prelude::*;

/// The `[N, C, R]` view of a batch-norm input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Planes {
    pub batch: usize,
    pub channels: usize,
    /// Elements per `(n, c)` row: the product of the spatial sizes (1 for `[N, C]`).
    pub row: usize,
}

/// Rows handed to one rayon task at least: per-row work is short on small feature maps.
const MIN_ROWS_PER_TASK: usize = 16;

impl Planes {
    fn len(&self) -> usize {
        self.batch * self.channels * self.row
    }

    /// `M`: the elements behind each channel's statistics.
    fn count(&self) -> f64 {
        (self.batch * self.row) as f64
    }

    /// `Σ_n Σ_r f(a[n, c, r], b[n, c, r])` for every channel `c`.
    fn channel_sums(
        &self,
        a: &[f32],
        b: &[f32],
        f: impl Fn(usize, f32, f32) -> f32 + Sync,
    ) -> Vec<f64> {
        (0..self.channels)
            .into_par_iter()
            .map(|c| {
                (0..self.batch)
                    .map(|n| {
                        let start = (n * self.channels + c) * self.row;
                        let range = start..start + self.row;
                        lane_sum(&a[range.clone()], &b[range], |x, y| f(c, x, y))
                    })
                    .sum()
            })
            .collect()
    }

    /// `out[n, c, r] = p_c · (a[n, c, r] − m_c) + q_c · b[n, c, r] + r_c` with
    /// `[p, m, q, r] = coefficients(c)`: both elementwise passes (`y` and `dx`) in one
    /// vectorised loop per row.
    fn affine_rows(
        &self,
        a: &[f32],
        b: &[f32],
        coefficients: impl Fn(usize) -> [f32; 4] + Sync,
    ) -> Vec<f32> {
        let mut out = vec![0.0f32; self.len()];
        if self.row == 0 {
            return out;
        }
        out.par_chunks_mut(self.row)
            .zip(a.par_chunks(self.row).zip(b.par_chunks(self.row)))
            .enumerate()
            .with_min_len(MIN_ROWS_PER_TASK)
            .for_each(|(index, (out, (a, b)))| {
                let [p, m, q, r] = coefficients(index % self.channels);
                for ((o, &a), &b) in out.iter_mut().zip(a).zip(b) {
                    *o = p * (a - m) + q * b + r;
                }
            });
        out
    }
}

/// `Σ f(a_i, b_i)` in 16 f32 lanes (vectorised), the lanes then added in f64.
fn lane_sum(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f64 {
    const LANES: usize = 16;
    let mut lanes = [0.0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (a_tail, b_tail) = (a_chunks.remainder(), b_chunks.remainder());
    for (a, b) in a_chunks.zip(b_chunks) {
        for i in 0..LANES {
            lanes[i] += f(a[i], b[i]);
        }
    }
    let tail: f64 = a_tail
        .iter()
        .zip(b_tail)
        .map(|(&x, &y)| f(x, y) as f64)
        .sum();
    lanes.iter().map(|&l| l as f64).sum::<f64>() + tail
}

/// The batch statistics and normalised output of one training forward pass.
pub(crate) struct Normalized {
    pub y: Vec<f32>,
    /// `μ` per channel.
    pub mean: Vec<f32>,
    /// Biased `σ²` per channel.
    pub variance: Vec<f32>,
}

/// `y = (x − μ) · γ / sqrt(σ² + ε) + β` with the batch's statistics (see the module
/// documentation). An input without elements per channel gives NaN statistics, as the
/// composed ops would.
///
/// # Panics
/// When the slices disagree with `p`.
pub(crate) fn forward(
    p: &Planes,
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f64,
) -> Normalized {
    assert_eq!(x.len(), p.len(), "batch_norm: input length");
    assert!(
        gamma.len() == p.channels && beta.len() == p.channels,
        "batch_norm: γ, β length"
    );
    let count = p.count();
    let mean: Vec<f64> = p
        .channel_sums(x, x, |_, v, _| v)
        .into_iter()
        .map(|s| s / count)
        .collect();
    let mean32: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
    let variance: Vec<f64> = p
        .channel_sums(x, x, |c, v, _| (v - mean32[c]) * (v - mean32[c]))
        .into_iter()
        .map(|s| s / count)
        .collect();
    let scale: Vec<f32> = (0..p.channels)
        .map(|c| (gamma[c] as f64 / (variance[c] + epsilon).sqrt()) as f32)
        .collect();
    let y = p.affine_rows(x, x, |c| [scale[c], mean32[c], 0.0, beta[c]]);
    Normalized {
        y,
        mean: mean32,
        variance: variance.iter().map(|&v| v as f32).collect(),
    }
}

/// The gradients of [`forward`]'s `y` with respect to `x`, `γ` and `β`, given the upstream
/// gradient `dy` and the forward pass's statistics.
pub(crate) struct Gradients {
    pub x: Vec<f32>,
    pub gamma: Vec<f32>,
    pub beta: Vec<f32>,
}

/// The backward pass of [`forward`] (formulas in the module documentation).
///
/// # Panics
/// When the slices disagree with `p`.
pub(crate) fn backward(
    p: &Planes,
    x: &[f32],
    gamma: &[f32],
    mean: &[f32],
    variance: &[f32],
    epsilon: f64,
    dy: &[f32],
) -> Gradients {
    assert!(
        x.len() == p.len() && dy.len() == p.len(),
        "batch_norm backward: lengths"
    );
    assert!(
        gamma.len() == p.channels && mean.len() == p.channels && variance.len() == p.channels,
        "batch_norm backward: per-channel lengths"
    );
    let count = p.count();
    let inv_std: Vec<f64> = variance
        .iter()
        .map(|&v| 1.0 / (v as f64 + epsilon).sqrt())
        .collect();
    let sum_dy = p.channel_sums(dy, dy, |_, g, _| g);
    // Σ dy · (x − μ), then · 1/σ: x̂ is never stored.
    let sum_dy_centered = p.channel_sums(dy, x, |c, g, v| g * (v - mean[c]));
    let grad_gamma: Vec<f64> = (0..p.channels)
        .map(|c| sum_dy_centered[c] * inv_std[c])
        .collect();
    // dx = k_c · dy − a_c · (x − μ_c) − b_c, with k = γ/σ, a = k · dγ / (M σ), b = k · dβ / M.
    let k: Vec<f32> = (0..p.channels)
        .map(|c| (gamma[c] as f64 * inv_std[c]) as f32)
        .collect();
    let a: Vec<f32> = (0..p.channels)
        .map(|c| (gamma[c] as f64 * inv_std[c] * grad_gamma[c] * inv_std[c] / count) as f32)
        .collect();
    let b: Vec<f32> = (0..p.channels)
        .map(|c| (gamma[c] as f64 * inv_std[c] * sum_dy[c] / count) as f32)
        .collect();
    let dx = p.affine_rows(x, dy, |c| [-a[c], mean[c], k[c], -b[c]]);
    Gradients {
        x: dx,
        gamma: grad_gamma.iter().map(|&g| g as f32).collect(),
        beta: sum_dy.iter().map(|&g| g as f32).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The formulas of the module documentation, term by term in f64.
    fn reference(
        p: &Planes,
        x: &[f32],
        gamma: &[f32],
        beta: &[f32],
        dy: &[f32],
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let eps = 1e-5;
        let m = p.count();
        let at = |n: usize, c: usize, r: usize| (n * p.channels + c) * p.row + r;
        let (mut y, mut dx) = (vec![0.0; p.len()], vec![0.0; p.len()]);
        let (mut dgamma, mut dbeta) = (vec![0.0; p.channels], vec![0.0; p.channels]);
        for c in 0..p.channels {
            let idx: Vec<usize> = (0..p.batch)
                .flat_map(|n| (0..p.row).map(move |r| (n, r)))
                .map(|(n, r)| at(n, c, r))
                .collect();
            let mean = idx.iter().map(|&i| x[i] as f64).sum::<f64>() / m;
            let var = idx
                .iter()
                .map(|&i| (x[i] as f64 - mean).powi(2))
                .sum::<f64>()
                / m;
            let std = (var + eps).sqrt();
            let xhat = |i: usize| (x[i] as f64 - mean) / std;
            dbeta[c] = idx.iter().map(|&i| dy[i] as f64).sum();
            dgamma[c] = idx.iter().map(|&i| dy[i] as f64 * xhat(i)).sum();
            for &i in &idx {
                y[i] = xhat(i) * gamma[c] as f64 + beta[c] as f64;
                dx[i] =
                    gamma[c] as f64 / std * (dy[i] as f64 - dbeta[c] / m - xhat(i) * dgamma[c] / m);
            }
        }
        (y, dx, dgamma, dbeta)
    }

    fn close(actual: &[f32], expected: &[f64], what: &str) {
        for (i, (&a, &e)) in actual.iter().zip(expected).enumerate() {
            assert!(
                (a as f64 - e).abs() <= 1e-4 * (1.0 + e.abs()),
                "{what}[{i}]: {a} vs {e}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn forward_and_backward_equal_the_formulas(
            batch in 1usize..4,
            channels in 1usize..5,
            row in 1usize..40,
            offset in -50.0f32..50.0,
            seed in 0u64..1000,
        ) {
            let p = Planes { batch, channels, row };
            prop_assume!(p.count() >= 2.0);
            let wave = |i: usize, k: u64| {
                ((i as u64 * 2654435761 + k * 97 + seed) % 1000) as f32 / 500.0 - 1.0
            };
            let x: Vec<f32> = (0..p.len()).map(|i| offset + 3.0 * wave(i, 1)).collect();
            let dy: Vec<f32> = (0..p.len()).map(|i| wave(i, 2)).collect();
            let gamma: Vec<f32> = (0..channels).map(|c| 0.5 + wave(c, 3)).collect();
            let beta: Vec<f32> = (0..channels).map(|c| wave(c, 4)).collect();
            let (y, dx, dgamma, dbeta) = reference(&p, &x, &gamma, &beta, &dy);
            let out = forward(&p, &x, &gamma, &beta, 1e-5);
            close(&out.y, &y, "y");
            let g = backward(&p, &x, &gamma, &out.mean, &out.variance, 1e-5, &dy);
            close(&g.x, &dx, "dx");
            close(&g.gamma, &dgamma, "dγ");
            close(&g.beta, &dbeta, "dβ");
        }
    }

    #[test]
    fn an_input_without_elements_gives_nan_statistics_and_no_panic() {
        let p = Planes {
            batch: 0,
            channels: 3,
            row: 4,
        };
        let out = forward(&p, &[], &[1.0; 3], &[0.0; 3], 1e-5);
        assert!(out.y.is_empty() && out.mean.iter().all(|m| m.is_nan()));
        let p = Planes {
            batch: 2,
            channels: 3,
            row: 0,
        };
        let out = forward(&p, &[], &[1.0; 3], &[0.0; 3], 1e-5);
        assert!(out.y.is_empty() && out.variance.iter().all(|v| v.is_nan()));
    }
}
