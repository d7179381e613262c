//! Conversions between [`Graph`] and `petgraph::Graph`, for petgraph's algorithms (shortest
//! paths, components, isomorphism ...) on data read by this crate, and for graphs built with
//! petgraph fed to the models.

use convkit_core::{Error, Result};
use petgraph::EdgeType;
use petgraph::graph::{IndexType, NodeIndex};

use crate::Graph;

impl Graph {
    /// This graph as a petgraph graph with `()` nodes, `f32` edge weights (1 if unweighted) and
    /// `u32` indices, directed or not by `Ty` (`petgraph::Directed` / `petgraph::Undirected`):
    ///
    /// - `Directed`: one petgraph edge per stored entry (an undirected graph gives both
    ///   directions, self loops once);
    /// - `Undirected`: one petgraph edge per [`Graph::edges`] item (each undirected edge once;
    ///   each entry of a directed graph becomes an undirected edge).
    ///
    /// Errors if there are more entries than petgraph's `u32` edge indices allow.
    pub fn to_petgraph<Ty: EdgeType>(&self) -> Result<petgraph::Graph<(), f32, Ty, u32>> {
        let edges: Box<dyn Iterator<Item = (u32, u32, f32)>> = if Ty::is_directed() {
            Box::new(self.entries())
        } else {
            Box::new(self.edges())
        };
        let mut g = petgraph::Graph::with_capacity(self.num_nodes(), self.num_entries());
        let too_big = |_| Error::invalid("graph", "too large for petgraph's u32 indices");
        for _ in 0..self.num_nodes() {
            g.try_add_node(()).map_err(too_big)?;
        }
        for (u, v, w) in edges {
            g.try_add_edge(NodeIndex::new(u as usize), NodeIndex::new(v as usize), w)
                .map_err(too_big)?;
        }
        Ok(g)
    }

    /// A graph from a petgraph graph: its nodes in index order, an edge per petgraph edge
    /// (directed or not as `Ty`), weighted by the `f32` edge weights if `weighted`. Rows list
    /// edges in petgraph's edge order. Errors if there are more than [`super::MAX_NODES`]
    /// nodes.
    pub fn from_petgraph<N, Ty: EdgeType, Ix: IndexType>(
        graph: &petgraph::Graph<N, f32, Ty, Ix>,
        weighted: bool,
    ) -> Result<Graph> {
        let raw = graph.raw_edges();
        // Node indices are below node_count <= MAX_NODES (checked by from_edges).
        let edges: Vec<(u32, u32)> = raw
            .iter()
            .map(|e| (e.source().index() as u32, e.target().index() as u32))
            .collect();
        let weights: Option<Vec<f32>> = weighted.then(|| raw.iter().map(|e| e.weight).collect());
        Graph::from_edges(
            graph.node_count(),
            &edges,
            weights.as_deref(),
            Ty::is_directed(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use petgraph::{Directed, Undirected};

    #[test]
    fn round_trips_through_petgraph() {
        let w = [1.0, 2.0, 3.0, 4.0];
        let edges = [(0, 1), (1, 2), (2, 2), (3, 0)];
        for directed in [true, false] {
            let g = Graph::from_edges(5, &edges, Some(&w), directed).unwrap();
            let back = if directed {
                Graph::from_petgraph(&g.to_petgraph::<Directed>().unwrap(), true)
            } else {
                Graph::from_petgraph(&g.to_petgraph::<Undirected>().unwrap(), true)
            };
            let (mut a, mut b) = (g.clone(), back.unwrap());
            a.sort_neighbors();
            b.sort_neighbors();
            assert_eq!(a, b);
        }
        let g = Graph::from_edges(3, &[(0, 1), (1, 2)], None, false).unwrap();
        let p = g.to_petgraph::<Directed>().unwrap();
        assert_eq!((p.node_count(), p.edge_count()), (3, 4));
        assert_eq!(petgraph::algo::connected_components(&p), 1);
        let u = g.to_petgraph::<Undirected>().unwrap();
        assert_eq!(u.edge_count(), 2);
        let plain = Graph::from_petgraph(&u, false).unwrap();
        assert_eq!(plain, g);
    }
}
