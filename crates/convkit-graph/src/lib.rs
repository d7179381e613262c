//! # convkit-graph
//!
//! Graphs for convkit, below every crate that reads or learns on them: the one host-side graph
//! type, [`Graph`] (compressed sparse rows with `u32` node ids, optional `f32` edge weights,
//! directed or undirected), its builder [`GraphFill`], node attributes ([`NodeData`]) and, with
//! the default `petgraph` feature, conversions to and from petgraph.
//!
//! `convkit-data`'s readers (edge lists, Cora/CiteSeer, Elliptic, interactions) produce these
//! types, and graph layers consume them, so a user who only wants graph layers builds no image
//! or archive decoders: this crate depends on `convkit-core` alone (and petgraph).
//!
//! ```
//! use convkit_graph::Graph;
//! let g = Graph::from_edges(3, &[(0, 1), (1, 2)], None, false).unwrap();
//! assert_eq!(g.neighbors(1), &[0, 2]);
//! let (src, dst) = g.to_edge_index();
//! assert_eq!((src, dst), (vec![0, 1, 1, 2], vec![1, 0, 2, 1]));
//! ```

pub mod csr;
mod node_data;
#[cfg(feature = "petgraph")]
mod petgraph_interop;

pub use csr::{Graph, GraphFill, MAX_NODES, check_num_nodes};
pub use node_data::NodeData;
