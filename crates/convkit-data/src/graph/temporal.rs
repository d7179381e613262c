//! Temporal graphs: a sequence of stochastic block model snapshots over the same nodes whose
//! communities drift, for dynamic graph models (EvolveGCN and the like) without downloads.
//!
//! Node `i` starts in community `i mod num_communities`. Before each snapshot after the first,
//! every node moves to another community (uniformly among the others) with probability
//! `move_probability`, and every community mean takes a Gaussian step of expected norm about
//! `mean_drift`. Each snapshot is then drawn like [`sbm`](super::sbm): edges independently with
//! probability `p_in` inside a community and `p_out` across, features the node's current
//! community mean plus fresh noise. Node ids mean the same node in every snapshot; the label of
//! a node is its community at that time. Deterministic by seed; time O(snapshots * (nodes *
//! feature_dim + edges)).

use burn::config::Config;
use convkit_core::{Error, Result};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::sbm::{
    check_feature_scales, check_feature_size, check_probability, class_means, node_features,
    sample_block_edges,
};
use super::{Graph, MAX_NODES, NodeData};
use crate::random::gaussian;

/// Configuration of [`generate_temporal_sbm`].
#[derive(Config, Debug)]
pub struct TemporalSbmConfig {
    /// Nodes (the same in every snapshot).
    pub num_nodes: usize,
    /// Communities, which are the classes.
    #[config(default = 3)]
    pub num_communities: usize,
    /// Snapshots (time steps).
    #[config(default = 8)]
    pub num_snapshots: usize,
    /// Probability that a node changes community between two snapshots.
    #[config(default = 0.05)]
    pub move_probability: f64,
    /// Edge probability inside a community.
    #[config(default = 0.1)]
    pub p_in: f64,
    /// Edge probability across communities.
    #[config(default = 0.01)]
    pub p_out: f64,
    /// Features per node (0 for none).
    #[config(default = 16)]
    pub feature_dim: usize,
    /// The norm of each community's initial mean.
    #[config(default = 1.0)]
    pub class_separation: f32,
    /// About the norm of each community mean's random step between snapshots.
    #[config(default = 0.1)]
    pub mean_drift: f32,
    /// Standard deviation of the per-node Gaussian feature noise.
    #[config(default = 1.0)]
    pub feature_noise: f32,
    /// Seed: the same seed gives the same snapshots.
    #[config(default = 0)]
    pub seed: u64,
}

/// Generates the snapshots of `config` (see the [module docs](self)): undirected unweighted
/// graphs, labels = current communities (classes `community 0`, ...), no node names.
///
/// Errors: no community, a probability outside `[0, 1]`, a negative or non-finite noise,
/// separation or drift, more than [`MAX_NODES`] nodes.
pub fn generate_temporal_sbm(config: &TemporalSbmConfig) -> Result<Vec<NodeData>> {
    check_probability("move_probability", config.move_probability)?;
    check_probability("p_in", config.p_in)?;
    check_probability("p_out", config.p_out)?;
    check_feature_scales(config.class_separation, config.feature_noise)?;
    if !(config.mean_drift.is_finite() && config.mean_drift >= 0.0) {
        return Err(Error::invalid("mean_drift", "must be finite and >= 0"));
    }
    let (n, k, dim) = (config.num_nodes, config.num_communities, config.feature_dim);
    if k == 0 {
        return Err(Error::invalid("num_communities", "must be at least 1"));
    }
    if n > MAX_NODES {
        return Err(Error::invalid(
            "num_nodes",
            format!("{n} is more than {MAX_NODES}"),
        ));
    }
    check_feature_size(n, dim)?;
    let mut rng = StdRng::seed_from_u64(config.seed);
    let mut means = class_means(k, dim, config.class_separation, &mut rng);
    let mut community: Vec<usize> = (0..n).map(|i| i % k).collect();
    let step_scale = config.mean_drift / (dim.max(1) as f32).sqrt();
    let mut snapshots = Vec::with_capacity(config.num_snapshots);
    for t in 0..config.num_snapshots {
        if t > 0 {
            for c in community.iter_mut() {
                if k > 1 && rng.random::<f64>() < config.move_probability {
                    // Uniform among the other k - 1 communities.
                    let other = rng.random_range(0..k - 1);
                    *c = if other >= *c { other + 1 } else { other };
                }
            }
            for m in means.iter_mut() {
                *m += step_scale * gaussian(&mut rng);
            }
        }
        let mut members = vec![Vec::new(); k];
        for (node, &c) in community.iter().enumerate() {
            members[c].push(node as u32);
        }
        let edges = sample_block_edges(&members, config.p_in, config.p_out, &mut rng);
        let features = node_features(&community, &means, dim, config.feature_noise, &mut rng);
        snapshots.push(NodeData {
            graph: Graph::from_edges(n, &edges, None, false)?,
            features,
            feature_dim: dim,
            labels: community.iter().map(|&c| Some(c)).collect(),
            classes: (0..k).map(|c| format!("community {c}")).collect(),
            node_names: Vec::new(),
        });
    }
    Ok(snapshots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_share_nodes_and_drift() {
        let config = TemporalSbmConfig::new(90)
            .with_num_snapshots(5)
            .with_move_probability(0.2)
            .with_feature_dim(4)
            .with_seed(11);
        let snapshots = generate_temporal_sbm(&config).unwrap();
        assert_eq!(snapshots, generate_temporal_sbm(&config).unwrap());
        assert_eq!(snapshots.len(), 5);
        for s in &snapshots {
            s.validate().unwrap();
            assert_eq!(s.num_nodes(), 90);
            assert_eq!(s.classes, ["community 0", "community 1", "community 2"]);
        }
        let first: Vec<_> = (0..90).map(|i| Some(i % 3)).collect();
        assert_eq!(snapshots[0].labels, first);
        let moved = |a: &NodeData, b: &NodeData| {
            a.labels
                .iter()
                .zip(&b.labels)
                .filter(|(x, y)| x != y)
                .count()
        };
        // 90 nodes * 0.2: about 18 moves per step.
        let m = moved(&snapshots[0], &snapshots[1]);
        assert!((5..=35).contains(&m), "{m} moves");
        assert_ne!(snapshots[1].graph, snapshots[2].graph);
    }

    #[test]
    fn no_moves_without_move_probability() {
        let config = TemporalSbmConfig::new(20)
            .with_num_snapshots(3)
            .with_move_probability(0.0)
            .with_num_communities(1);
        let snapshots = generate_temporal_sbm(&config).unwrap();
        assert!(snapshots.iter().all(|s| s.labels == vec![Some(0); 20]));
        assert!(generate_temporal_sbm(&config.clone().with_num_communities(0)).is_err());
        assert!(generate_temporal_sbm(&config.clone().with_mean_drift(-1.0)).is_err());
        assert!(generate_temporal_sbm(&config.with_move_probability(2.0)).is_err());
    }
}
