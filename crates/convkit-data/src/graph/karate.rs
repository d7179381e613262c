//! Zachary's karate club (W. W. Zachary, "An Information Flow Model for Conflict and Fission
//! in Small Groups", Journal of Anthropological Research 33(4), 1977): the friendships of 34
//! members of a university karate club, which split in two after a conflict between the
//! instructor ("Mr. Hi", node 0) and the club's officer (node 33).
//!
//! The data is embedded exactly as networkx 3.6 `karate_club_graph()` builds it: 78 undirected
//! edges, and the `club` node attribute (the faction each member joined) as the label. The
//! tests compare it with `tests/data/graph/karate_*`, exported from networkx by
//! `tools/refgen/karate.py`. A common semi-supervised demo (Kipf & Welling 2017) trains a GCN
//! on one labelled node per faction with one-hot node ids as features.

use super::{Graph, NodeData};

/// The 78 friendships, zero-based, in networkx's edge order.
pub const EDGES: [(u8, u8); 78] = [
    (0, 1),
    (0, 2),
    (0, 3),
    (0, 4),
    (0, 5),
    (0, 6),
    (0, 7),
    (0, 8),
    (0, 10),
    (0, 11),
    (0, 12),
    (0, 13),
    (0, 17),
    (0, 19),
    (0, 21),
    (0, 31),
    (1, 2),
    (1, 3),
    (1, 7),
    (1, 13),
    (1, 17),
    (1, 19),
    (1, 21),
    (1, 30),
    (2, 3),
    (2, 7),
    (2, 8),
    (2, 9),
    (2, 13),
    (2, 27),
    (2, 28),
    (2, 32),
    (3, 7),
    (3, 12),
    (3, 13),
    (4, 6),
    (4, 10),
    (5, 6),
    (5, 10),
    (5, 16),
    (6, 16),
    (8, 30),
    (8, 32),
    (8, 33),
    (9, 33),
    (13, 33),
    (14, 32),
    (14, 33),
    (15, 32),
    (15, 33),
    (18, 32),
    (18, 33),
    (19, 33),
    (20, 32),
    (20, 33),
    (22, 32),
    (22, 33),
    (23, 25),
    (23, 27),
    (23, 29),
    (23, 32),
    (23, 33),
    (24, 25),
    (24, 27),
    (24, 31),
    (25, 31),
    (26, 29),
    (26, 33),
    (27, 33),
    (28, 31),
    (28, 33),
    (29, 32),
    (29, 33),
    (30, 32),
    (30, 33),
    (31, 32),
    (31, 33),
    (32, 33),
];

/// The faction of each member as a label: 0 for "Mr. Hi", 1 for "Officer".
pub const CLUBS: [u8; 34] = [
    0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1,
];

/// The class names in label order (sorted).
pub const CLASSES: [&str; 2] = ["Mr. Hi", "Officer"];

/// The karate club: an undirected unweighted graph of 34 nodes and 78 edges (rows in
/// [`EDGES`] order), labelled by faction, without features (`feature_dim` 0), nodes named
/// `"0"` to `"33"`.
pub fn karate_club() -> NodeData {
    let edges: Vec<(u32, u32)> = EDGES
        .iter()
        .map(|&(u, v)| (u32::from(u), u32::from(v)))
        .collect();
    NodeData {
        graph: Graph::from_edges(CLUBS.len(), &edges, None, false)
            .expect("the embedded edges are valid"),
        features: Vec::new(),
        feature_dim: 0,
        labels: CLUBS.iter().map(|&c| Some(usize::from(c))).collect(),
        classes: CLASSES.map(String::from).to_vec(),
        node_names: (0..CLUBS.len()).map(|i| i.to_string()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::edge_list::{EdgeListOptions, read_edge_list};

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/graph");

    #[test]
    fn matches_networkx_export() {
        let club = karate_club();
        club.validate().unwrap();
        let options = EdgeListOptions::new().with_num_nodes(Some(34));
        let exported = read_edge_list(format!("{DIR}/karate_edges.txt"), &options).unwrap();
        assert_eq!(club.graph, exported, "same edges in the same order");
        assert_eq!((exported.num_nodes(), exported.num_edges()), (34, 78));
        let clubs = std::fs::read_to_string(format!("{DIR}/karate_clubs.tsv")).unwrap();
        let names: Vec<&str> = clubs
            .lines()
            .enumerate()
            .map(|(i, line)| {
                let (node, name) = line.split_once('\t').unwrap();
                assert_eq!(node, i.to_string());
                name
            })
            .collect();
        let ours: Vec<&str> = club.labels.iter().map(|l| CLASSES[l.unwrap()]).collect();
        assert_eq!(ours, names);
        // The two leaders, and their degrees.
        assert_eq!(club.labels[0], Some(0));
        assert_eq!(club.labels[33], Some(1));
        assert_eq!(club.graph.degree(33), 17);
        assert_eq!(club.graph.degree(0), 16);
    }
}
