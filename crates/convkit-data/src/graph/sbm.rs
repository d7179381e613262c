//! Stochastic block model graphs (Holland, Laskey & Leinhardt, "Stochastic blockmodels: First
//! steps", Social Networks 1983) with class-correlated Gaussian node features: a synthetic node
//! classification task whose difficulty is set by the edge probabilities and the feature
//! separation.
//!
//! The nodes are split into blocks of the given sizes (nodes `0..sizes[0]` form block 0, and so
//! on); the block is the label. Each pair of distinct nodes is joined by an undirected edge
//! independently, with probability `p_in` inside a block and `p_out` across blocks. Class `c`
//! has a mean vector `m_c` (a random direction of norm `class_separation`) and a node of class
//! `c` gets the features `m_c + feature_noise * N(0, I)`.
//!
//! Generation jumps over the non-edges of each block pair with geometric skips (Batagelj &
//! Brandes, "Efficient generation of large random networks", Physical Review E 2005): time
//! O(nodes * feature_dim + edges) whatever the probabilities, memory the result plus the edge
//! list it is built from. The same configuration gives the same graph.

use burn::config::Config;
use convkit_core::{Error, Result};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::{Graph, MAX_NODES, NodeData};
use crate::random::gaussian;

/// Configuration of [`generate_sbm`].
#[derive(Config, Debug)]
pub struct SbmConfig {
    /// The number of nodes of each block; block `b` is class `b`.
    pub block_sizes: Vec<usize>,
    /// Edge probability between two nodes of the same block.
    #[config(default = 0.1)]
    pub p_in: f64,
    /// Edge probability between nodes of different blocks.
    #[config(default = 0.01)]
    pub p_out: f64,
    /// Features per node (0 for none).
    #[config(default = 16)]
    pub feature_dim: usize,
    /// The norm of each class mean (0: features carry no class information).
    #[config(default = 1.0)]
    pub class_separation: f32,
    /// Standard deviation of the per-node Gaussian feature noise.
    #[config(default = 1.0)]
    pub feature_noise: f32,
    /// Seed: the same seed gives the same graph and features.
    #[config(default = 0)]
    pub seed: u64,
}

/// Generates the stochastic block model graph of `config`: an undirected unweighted graph,
/// labels = blocks (classes named `block 0`, `block 1`, ...), features as in the
/// [module docs](self), no node names.
///
/// Errors: a probability outside `[0, 1]`, a negative or non-finite noise or separation, more
/// than [`MAX_NODES`] nodes.
pub fn generate_sbm(config: &SbmConfig) -> Result<NodeData> {
    check_probability("p_in", config.p_in)?;
    check_probability("p_out", config.p_out)?;
    check_feature_scales(config.class_separation, config.feature_noise)?;
    let num_nodes = config
        .block_sizes
        .iter()
        .try_fold(0usize, |sum, &size| sum.checked_add(size))
        .filter(|&n| n <= MAX_NODES)
        .ok_or_else(|| {
            Error::invalid(
                "block_sizes",
                format!("more than {MAX_NODES} nodes in total"),
            )
        })?;
    check_feature_size(num_nodes, config.feature_dim)?;
    let mut rng = StdRng::seed_from_u64(config.seed);
    let k = config.block_sizes.len();
    let means = class_means(k, config.feature_dim, config.class_separation, &mut rng);
    let mut labels = Vec::with_capacity(num_nodes);
    let mut members = Vec::with_capacity(k);
    for (block, &size) in config.block_sizes.iter().enumerate() {
        let start = labels.len() as u32;
        members.push((start..start + size as u32).collect::<Vec<u32>>());
        labels.extend(std::iter::repeat_n(block, size));
    }
    let edges = sample_block_edges(&members, config.p_in, config.p_out, &mut rng);
    drop(members);
    let features = node_features(
        &labels,
        &means,
        config.feature_dim,
        config.feature_noise,
        &mut rng,
    );
    Ok(NodeData {
        graph: Graph::from_edges(num_nodes, &edges, None, false)?,
        features,
        feature_dim: config.feature_dim,
        labels: labels.into_iter().map(Some).collect(),
        classes: (0..k).map(|b| format!("block {b}")).collect(),
        node_names: Vec::new(),
    })
}

/// An error unless `p` is a probability.
pub(crate) fn check_probability(what: &str, p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::invalid(
            what,
            format!("{p} is not a probability in [0, 1]"),
        ))
    }
}

/// An error unless the class separation is finite and the noise finite and non-negative.
pub(crate) fn check_feature_scales(class_separation: f32, feature_noise: f32) -> Result<()> {
    if !class_separation.is_finite() {
        return Err(Error::invalid("class_separation", "must be finite"));
    }
    if !(feature_noise.is_finite() && feature_noise >= 0.0) {
        return Err(Error::invalid(
            "feature_noise",
            format!("{feature_noise} is not a finite standard deviation >= 0"),
        ));
    }
    Ok(())
}

/// An error if `num_nodes * feature_dim` features cannot be addressed.
pub(crate) fn check_feature_size(num_nodes: usize, feature_dim: usize) -> Result<()> {
    match num_nodes.checked_mul(feature_dim) {
        Some(len) if len <= isize::MAX as usize / 4 => Ok(()),
        _ => Err(Error::invalid(
            "feature_dim",
            format!("{num_nodes} nodes of {feature_dim} features do not fit in memory"),
        )),
    }
}

/// `k` class means of dimension `dim`, row-major: uniformly random directions of norm
/// `separation`.
pub(crate) fn class_means(k: usize, dim: usize, separation: f32, rng: &mut StdRng) -> Vec<f32> {
    let mut means = Vec::with_capacity(k * dim);
    for _ in 0..k {
        let direction: Vec<f32> = (0..dim).map(|_| gaussian(rng)).collect();
        let norm = direction.iter().map(|x| x * x).sum::<f32>().sqrt();
        let scale = if norm > 0.0 { separation / norm } else { 0.0 };
        means.extend(direction.iter().map(|x| x * scale));
    }
    means
}

/// Row-major `[labels.len(), dim]` features: the mean of each node's class plus Gaussian noise.
pub(crate) fn node_features(
    labels: &[usize],
    means: &[f32],
    dim: usize,
    noise: f32,
    rng: &mut StdRng,
) -> Vec<f32> {
    let mut features = Vec::with_capacity(labels.len() * dim);
    for &label in labels {
        let mean = &means[label * dim..(label + 1) * dim];
        features.extend(mean.iter().map(|m| m + noise * gaussian(rng)));
    }
    features
}

/// Undirected edges between the nodes of the blocks `members`: each pair inside a block with
/// probability `p_in`, each pair across two blocks with `p_out`, in O(nodes + edges) time.
pub(crate) fn sample_block_edges(
    members: &[Vec<u32>],
    p_in: f64,
    p_out: f64,
    rng: &mut StdRng,
) -> Vec<(u32, u32)> {
    let mut edges = Vec::new();
    for (a, block_a) in members.iter().enumerate() {
        // Pairs (v, w), w < v, in order of v then w: pair index i lies in row v when
        // v (v - 1) / 2 <= i < v (v + 1) / 2; the indices come in increasing order.
        let size = block_a.len() as u64;
        let (mut v, mut row_start) = (1u64, 0u64);
        bernoulli_indices(size * size.saturating_sub(1) / 2, p_in, rng, |i| {
            while i >= row_start + v {
                row_start += v;
                v += 1;
            }
            edges.push((block_a[v as usize], block_a[(i - row_start) as usize]));
        });
        for block_b in &members[a + 1..] {
            let cols = block_b.len() as u64;
            bernoulli_indices(size * cols, p_out, rng, |i| {
                edges.push((block_a[(i / cols) as usize], block_b[(i % cols) as usize]));
            });
        }
    }
    edges
}

/// Calls `hit(i)` for each `i` in `0..total` independently with probability `p`, in increasing
/// order, drawing one geometric skip per hit instead of one number per index.
fn bernoulli_indices(total: u64, p: f64, rng: &mut StdRng, mut hit: impl FnMut(u64)) {
    if p <= 0.0 || total == 0 {
        return;
    }
    if p >= 1.0 {
        (0..total).for_each(hit);
        return;
    }
    // ln(1 - p), accurate for small p; 0 (no hits) when p is below f64 resolution.
    let log_miss = (-p).ln_1p();
    let mut next = 0u64;
    loop {
        let r: f64 = rng.random();
        // The number of misses before the next hit: floor(ln(U) / ln(1 - p)), U in (0, 1].
        let skip = ((1.0 - r).ln() / log_miss).floor();
        // Past the end (also infinity), or NaN when log_miss is 0.
        if skip.is_nan() || skip >= (total - next) as f64 {
            return;
        }
        next += skip as u64;
        hit(next);
        next += 1;
        if next >= total {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_with_the_requested_structure() {
        let config = SbmConfig::new(vec![60, 40])
            .with_seed(3)
            .with_feature_dim(4);
        let a = generate_sbm(&config).unwrap();
        assert_eq!(a, generate_sbm(&config).unwrap());
        assert_ne!(a, generate_sbm(&config.clone().with_seed(4)).unwrap());
        a.validate().unwrap();
        assert_eq!(a.num_nodes(), 100);
        assert_eq!(a.classes, ["block 0", "block 1"]);
        assert_eq!(a.labels[59], Some(0));
        assert_eq!(a.labels[60], Some(1));
        assert!(!a.graph.is_directed());
        let g = &a.graph;
        assert!(g.entries().all(|(u, v, _)| u != v), "no self loops");
        let mut deduped = g.clone();
        deduped.dedupe();
        assert_eq!(deduped.num_entries(), g.num_entries(), "no duplicates");
    }

    #[test]
    fn edge_counts_follow_the_probabilities() {
        let config = SbmConfig::new(vec![300, 300])
            .with_p_in(0.05)
            .with_p_out(0.005)
            .with_feature_dim(0);
        let data = generate_sbm(&config).unwrap();
        let (mut inside, mut across) = (0f64, 0f64);
        for (u, v, _) in data.graph.edges() {
            if data.labels[u as usize] == data.labels[v as usize] {
                inside += 1.0;
            } else {
                across += 1.0;
            }
        }
        // Expected: 2 * 300 * 299 / 2 * 0.05 = 4485 inside, 300 * 300 * 0.005 = 450 across;
        // allow 5 standard deviations.
        assert!((inside - 4485.0).abs() < 5.0 * 4485f64.sqrt(), "{inside}");
        assert!((across - 450.0).abs() < 5.0 * 450f64.sqrt(), "{across}");
        let full = generate_sbm(&SbmConfig::new(vec![4, 3]).with_p_in(1.0).with_p_out(0.0));
        assert_eq!(full.unwrap().graph.num_edges(), 6 + 3);
        let none = generate_sbm(&SbmConfig::new(vec![50]).with_p_in(0.0)).unwrap();
        assert_eq!(none.graph.num_edges(), 0);
    }

    #[test]
    fn features_cluster_by_class() {
        let config = SbmConfig::new(vec![200, 200])
            .with_feature_dim(8)
            .with_class_separation(3.0)
            .with_feature_noise(0.5);
        let data = generate_sbm(&config).unwrap();
        let mean = |class: usize| -> Vec<f32> {
            let mut m = vec![0.0; 8];
            for i in (0..400).filter(|&i| data.labels[i] == Some(class)) {
                for (acc, x) in m.iter_mut().zip(data.feature_row(i).unwrap()) {
                    *acc += x / 200.0;
                }
            }
            m
        };
        let (m0, m1) = (mean(0), mean(1));
        let norm = |m: &[f32]| m.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm(&m0) - 3.0).abs() < 0.3, "{}", norm(&m0));
        let gap: Vec<f32> = m0.iter().zip(&m1).map(|(a, b)| a - b).collect();
        assert!(norm(&gap) > 1.0, "class means are apart");
    }

    #[test]
    fn invalid_configs() {
        let e = generate_sbm(&SbmConfig::new(vec![3]).with_p_in(1.5)).unwrap_err();
        assert!(e.to_string().contains("p_in"), "{e}");
        assert!(generate_sbm(&SbmConfig::new(vec![3]).with_p_out(f64::NAN)).is_err());
        assert!(generate_sbm(&SbmConfig::new(vec![3]).with_feature_noise(-1.0)).is_err());
        assert!(generate_sbm(&SbmConfig::new(vec![usize::MAX, 2])).is_err());
        assert_eq!(
            generate_sbm(&SbmConfig::new(vec![])).unwrap().num_nodes(),
            0
        );
    }
}
