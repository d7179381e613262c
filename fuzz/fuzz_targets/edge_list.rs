//! Any byte string as an edge list, its first byte choosing the options (direction, index
//! base, weight columns, given node count): parsing returns a graph or an error, never panics;
//! a parsed graph is a valid CSR (symmetric if undirected), and writing it and reading it back
//! gives the same graph up to the order within rows.
#![no_main]

use convkit_data::graph::Graph;
use convkit_data::graph::edge_list::{
    EdgeListOptions, IndexBase, Weights, format_edge_list, parse_edge_list,
};
use libfuzzer_sys::fuzz_target;

fn check_csr(g: &Graph) {
    let offsets = g.offsets();
    assert_eq!(offsets.len(), g.num_nodes() + 1);
    assert_eq!(offsets[0], 0);
    assert_eq!(offsets[g.num_nodes()], g.num_entries());
    assert!(offsets.windows(2).all(|w| w[0] <= w[1]));
    assert!(g.targets().iter().all(|&v| (v as usize) < g.num_nodes()));
    if let Some(w) = g.weights() {
        assert_eq!(w.len(), g.num_entries());
        assert!(w.iter().all(|w| w.is_finite()));
    }
    if !g.is_directed() {
        let key = |(u, v, w): (u32, u32, f32)| (u, v, w.to_bits());
        let mut forward: Vec<_> = g.entries().map(key).collect();
        let mut backward: Vec<_> = g.entries().map(|(u, v, w)| key((v, u, w))).collect();
        forward.sort_unstable();
        backward.sort_unstable();
        assert_eq!(forward, backward, "undirected graphs are symmetric");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, text)) = data.split_first() else {
        return;
    };
    let bases = [IndexBase::Zero, IndexBase::One, IndexBase::Auto];
    let weights = [Weights::Auto, Weights::Unweighted, Weights::Weighted];
    let options = EdgeListOptions::new()
        .with_directed(mode & 1 != 0)
        .with_index_base(bases[usize::from(mode >> 1 & 3) % 3])
        .with_weights(weights[usize::from(mode >> 3 & 3) % 3])
        .with_num_nodes((mode & 0x40 != 0).then_some(usize::from(mode >> 4)))
        .with_max_inferred_nodes(1 << 16);
    let Ok(graph) = parse_edge_list(text, "fuzz.edges", &options) else {
        return;
    };
    check_csr(&graph);
    let one_based = mode & 0x80 != 0;
    let mut written = Vec::new();
    format_edge_list(&mut written, &graph, one_based).unwrap();
    let again = EdgeListOptions::new()
        .with_directed(graph.is_directed())
        .with_num_nodes(Some(graph.num_nodes()))
        .with_index_base(if one_based {
            IndexBase::One
        } else {
            IndexBase::Zero
        })
        .with_weights(if graph.is_weighted() {
            Weights::Weighted
        } else {
            Weights::Unweighted
        });
    let mut back = parse_edge_list(&written[..], "fuzz.edges", &again).unwrap();
    let mut graph = graph;
    graph.sort_neighbors();
    back.sort_neighbors();
    assert_eq!(back, graph);
});
