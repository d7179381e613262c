//! The readers of the common graph dataset formats and deterministic synthetic graphs, all
//! producing `convkit-graph`'s types (re-exported here).
//!
//! Everything here is plain Rust (no tensors): the graph models build their tensors from these
//! types.
//!
//! - [`Graph`] ([`csr`], from `convkit-graph`): CSR adjacency with `u32` node ids, optional
//!   `f32` edge weights, directed or undirected; edge index export in the PyTorch Geometric
//!   layout, self loops and the GCN normalisation `D^-1/2 (A+I) D^-1/2` of Kipf & Welling
//!   (2017); conversions to and from `petgraph`.
//! - [`NodeData`]: a graph with node features, labels (possibly unknown), class names and node
//!   names.
//! - Readers: [`edge_list`] (whitespace or CSV edge lists, streamed into CSR), [`linqs`] (the
//!   Cora/CiteSeer `.content`/`.cites` pair), [`elliptic`] (the Elliptic Bitcoin transaction
//!   graph of Weber et al. 2019). Every error names the file, line and column.
//! - Generators, deterministic by seed: [`sbm`] (stochastic block model with class-correlated
//!   features), [`temporal`] (snapshots with drifting communities), and [`karate`] (Zachary's
//!   karate club, embedded).
//!
//! ```
//! use convkit_data::graph::{Graph, karate};
//! let club = karate::karate_club();
//! assert_eq!((club.graph.num_nodes(), club.graph.num_edges()), (34, 78));
//! let g = Graph::from_edges(3, &[(0, 1), (1, 2)], None, false).unwrap();
//! assert_eq!(g.neighbors(1), &[0, 2]);
//! let (src, dst) = g.to_edge_index();
//! assert_eq!((src, dst), (vec![0, 1, 1, 2], vec![1, 0, 2, 1]));
//! ```

pub mod edge_list;
pub mod elliptic;
pub mod karate;
pub mod linqs;
pub mod sbm;
pub mod temporal;

pub use convkit_graph::{Graph, GraphFill, MAX_NODES, NodeData, csr};

use convkit_core::Result;

use crate::lines::{Field, Line, quoted};

/// Parses a field as a finite `f32` (weights and features: NaN or infinity would poison a
/// model without an error).
fn parse_finite(line: &Line<'_>, field: Field<'_>, what: &str) -> Result<f32> {
    match field.text.parse::<f32>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(line.error_at(
            field.start,
            format!(
                "expected {what} (a finite number), found {}",
                quoted(field.text)
            ),
        )),
    }
}
