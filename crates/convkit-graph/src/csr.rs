//! Compressed sparse row (CSR) graphs.
//!
//! A [`Graph`] stores, for every node `u`, the targets of its outgoing entries in
//! `targets[offsets[u]..offsets[u + 1]]` (and their weights at the same positions of
//! `weights`). Node ids are `u32`, so 100 M stored entries take 400 MB of targets (plus 400 MB
//! of weights if weighted); offsets are `usize` per node.
//!
//! Directed graphs store each edge once, in its source's row. Undirected graphs store each
//! edge `{u, v}` twice (`u -> v` in `u`'s row and `v -> u` in `v`'s row) so that rows are full
//! neighbour lists and the entries are those of the symmetric adjacency matrix; a self loop
//! `{u, u}` is one matrix entry and is stored once. [`Graph::num_entries`] counts stored
//! entries, [`Graph::num_edges`] counts edges.
//!
//! Building from an edge list keeps self loops and duplicate edges as given (a multigraph), and
//! keeps each row in input order; [`Graph::dedupe`] sorts rows and merges duplicates (summing
//! weights, as PyTorch Geometric's `coalesce`), [`Graph::remove_self_loops`] drops loops.

use convkit_core::{Error, Result};

/// The largest number of nodes a [`Graph`] can have: node ids are `u32` below `u32::MAX`
/// (petgraph reserves `u32::MAX` too).
pub const MAX_NODES: usize = u32::MAX as usize;

/// A graph in compressed sparse row form; see the [module docs](self) for the layout.
///
/// Fields are private so that the invariants hold (offsets non-decreasing from 0 to the number
/// of entries, targets below `num_nodes`, undirected graphs symmetric).
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    num_nodes: usize,
    offsets: Vec<usize>,
    targets: Vec<u32>,
    weights: Option<Vec<f32>>,
    directed: bool,
}

/// What [`Graph::compact`] does with one entry.
enum Keep {
    /// Keep the entry.
    Yes,
    /// Drop it.
    No,
    /// Drop it and add its weight to the previous kept entry of the same row.
    IntoPrevious,
}

impl Graph {
    /// Builds a graph from `edges` (`(source, target)` pairs) with optional per-edge `weights`.
    ///
    /// Undirected graphs store both directions of each non-loop edge. Self loops and duplicates
    /// are kept; rows keep the input order (a stable counting sort, O(nodes + edges) time,
    /// memory: the graph only).
    ///
    /// Errors: more than [`MAX_NODES`] nodes, a node id `>= num_nodes` (naming the edge),
    /// `weights` of another length than `edges`.
    pub fn from_edges(
        num_nodes: usize,
        edges: &[(u32, u32)],
        weights: Option<&[f32]>,
        directed: bool,
    ) -> Result<Self> {
        if let Some(w) = weights
            && w.len() != edges.len()
        {
            return Err(Error::invalid(
                "edge weights",
                format!("{} weights for {} edges", w.len(), edges.len()),
            ));
        }
        // Entries of row u counted at u + 1: the layout GraphFill turns into offsets in place.
        let mut counts = vec![0usize; check_num_nodes(num_nodes)? + 1];
        for (i, &(u, v)) in edges.iter().enumerate() {
            if u as usize >= num_nodes || v as usize >= num_nodes {
                return Err(Error::invalid(
                    format!("edge {i}"),
                    format!("({u}, {v}) has a node id >= the number of nodes {num_nodes}"),
                ));
            }
            counts[u as usize + 1] += 1;
            if !directed && u != v {
                counts[v as usize + 1] += 1;
            }
        }
        let mut fill = GraphFill::from_counts(counts, weights.is_some(), directed)?;
        for (i, &(u, v)) in edges.iter().enumerate() {
            // Cannot fail: the counts come from the same edges.
            fill.place(u, v, weights.map_or(1.0, |w| w[i]));
        }
        fill.finish()
            .ok_or_else(|| Error::invalid("edges", "changed while building the graph"))
    }

    /// The number of nodes (ids `0..num_nodes`).
    pub fn num_nodes(&self) -> usize {
        self.num_nodes
    }

    /// The number of stored entries: the non-zeros of the adjacency matrix (each undirected
    /// non-loop edge counts twice).
    pub fn num_entries(&self) -> usize {
        self.targets.len()
    }

    /// The number of edges: stored entries for a directed graph; for an undirected one each
    /// edge once (a pass over the entries, O(entries)).
    pub fn num_edges(&self) -> usize {
        if self.directed {
            self.targets.len()
        } else {
            self.edges().count()
        }
    }

    /// Whether edges have a direction.
    pub fn is_directed(&self) -> bool {
        self.directed
    }

    /// Whether the graph has edge weights.
    pub fn is_weighted(&self) -> bool {
        self.weights.is_some()
    }

    /// Row offsets: `num_nodes + 1` values from 0 to [`num_entries`](Self::num_entries).
    pub fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// The targets of all entries, row after row.
    pub fn targets(&self) -> &[u32] {
        &self.targets
    }

    /// The weights of all entries (aligned with [`targets`](Self::targets)), if weighted.
    pub fn weights(&self) -> Option<&[f32]> {
        self.weights.as_deref()
    }

    /// The targets of `node`'s entries (its neighbours, for an undirected graph).
    ///
    /// # Panics
    /// If `node >= num_nodes` (like slice indexing).
    pub fn neighbors(&self, node: usize) -> &[u32] {
        &self.targets[self.offsets[node]..self.offsets[node + 1]]
    }

    /// The weights of `node`'s entries, aligned with [`neighbors`](Self::neighbors).
    ///
    /// # Panics
    /// If `node >= num_nodes`.
    pub fn neighbor_weights(&self, node: usize) -> Option<&[f32]> {
        let range = self.offsets[node]..self.offsets[node + 1];
        self.weights.as_ref().map(|w| &w[range])
    }

    /// The number of entries of `node` (out-degree; the degree of an undirected graph, where a
    /// self loop counts once).
    ///
    /// # Panics
    /// If `node >= num_nodes`.
    pub fn degree(&self, node: usize) -> usize {
        self.offsets[node + 1] - self.offsets[node]
    }

    /// All stored entries `(source, target, weight)` in CSR order (weight 1 if unweighted).
    pub fn entries(&self) -> impl Iterator<Item = (u32, u32, f32)> + '_ {
        (0..self.num_nodes).flat_map(move |u| {
            (self.offsets[u]..self.offsets[u + 1]).map(move |i| {
                let w = self.weights.as_ref().map_or(1.0, |w| w[i]);
                (u as u32, self.targets[i], w)
            })
        })
    }

    /// Each edge once, in CSR order: all entries of a directed graph; the entries with
    /// `source <= target` of an undirected one.
    pub fn edges(&self) -> impl Iterator<Item = (u32, u32, f32)> + '_ {
        let directed = self.directed;
        self.entries().filter(move |&(u, v, _)| directed || u <= v)
    }

    /// The edge index of PyTorch Geometric: sources and targets of all stored entries (both
    /// directions of undirected edges), in CSR order.
    pub fn to_edge_index(&self) -> (Vec<i64>, Vec<i64>) {
        self.entries()
            .map(|(u, v, _)| (i64::from(u), i64::from(v)))
            .unzip()
    }

    /// Sorts every row by target (stable: duplicates keep their order and weights).
    pub fn sort_neighbors(&mut self) {
        let mut row: Vec<(u32, f32)> = Vec::new();
        for u in 0..self.num_nodes {
            let range = self.offsets[u]..self.offsets[u + 1];
            match &mut self.weights {
                None => self.targets[range].sort_unstable(),
                Some(weights) => {
                    row.clear();
                    row.extend(
                        self.targets[range.clone()]
                            .iter()
                            .copied()
                            .zip(weights[range.clone()].iter().copied()),
                    );
                    row.sort_by_key(|&(v, _)| v);
                    for (i, (v, w)) in range.zip(&row) {
                        self.targets[i] = *v;
                        weights[i] = *w;
                    }
                }
            }
        }
    }

    /// Sorts every row and merges duplicate entries into one whose weight is the sum of theirs
    /// (PyTorch Geometric's `coalesce`); unweighted duplicates simply disappear. In place.
    pub fn dedupe(&mut self) {
        self.sort_neighbors();
        self.compact(|_, v, previous| {
            if previous == Some(v) {
                Keep::IntoPrevious
            } else {
                Keep::Yes
            }
        });
    }

    /// Removes every self loop. In place.
    pub fn remove_self_loops(&mut self) {
        self.compact(|u, v, _| if u == v { Keep::No } else { Keep::Yes });
    }

    /// Adds a self loop of weight `weight` at the end of the row of every node that has none;
    /// nodes that already have one keep theirs (PyTorch Geometric's `add_remaining_self_loops`,
    /// which its GCN layer uses). An unweighted graph stays unweighted if `weight` is 1.
    pub fn add_self_loops(&mut self, weight: f32) {
        let missing: Vec<bool> = (0..self.num_nodes)
            .map(|u| !self.neighbors(u).contains(&(u as u32)))
            .collect();
        let added = missing.iter().filter(|&&m| m).count();
        if added == 0 {
            return;
        }
        if self.weights.is_none() && weight != 1.0 {
            self.weights = Some(vec![1.0; self.targets.len()]);
        }
        let total = self.targets.len() + added;
        let mut targets = Vec::with_capacity(total);
        let mut weights = self.weights.as_ref().map(|_| Vec::with_capacity(total));
        let mut offsets = Vec::with_capacity(self.num_nodes + 1);
        offsets.push(0);
        for (u, &missing) in missing.iter().enumerate() {
            let range = self.offsets[u]..self.offsets[u + 1];
            targets.extend_from_slice(&self.targets[range.clone()]);
            if let (Some(new), Some(old)) = (&mut weights, &self.weights) {
                new.extend_from_slice(&old[range]);
            }
            if missing {
                targets.push(u as u32);
                if let Some(new) = &mut weights {
                    new.push(weight);
                }
            }
            offsets.push(targets.len());
        }
        self.offsets = offsets;
        self.targets = targets;
        self.weights = weights;
    }

    /// The undirected graph with an edge `{u, v}` for every entry `u -> v`, deduplicated:
    /// reciprocal entries become one edge whose weight is the sum of theirs (as PyTorch
    /// Geometric's `to_undirected`). An undirected graph is returned deduplicated.
    pub fn to_undirected(&self) -> Graph {
        let edges: Vec<(u32, u32)> = self.entries().map(|(u, v, _)| (u, v)).collect();
        let mut g = Graph::from_edges(self.num_nodes, &edges, self.weights(), false)
            .expect("the entries of a valid graph are valid edges");
        g.dedupe();
        g
    }

    /// The GCN propagation matrix of Kipf & Welling (2017), `D^-1/2 (A + I) D^-1/2`, as a
    /// weighted graph: self loops of weight 1 added where missing
    /// ([`add_self_loops`](Self::add_self_loops)), then each entry `u -> v` of weight `w`
    /// weighted `w / sqrt(d(u) d(v))`, with `d` the weighted in-degree (the sum of the weights
    /// of the entries pointing to a node; for an undirected graph the degree plus one). Nodes
    /// of degree 0 (only possible with non-positive weights) get weight 0, as in PyTorch
    /// Geometric's `gcn_norm`.
    pub fn gcn_normalized(&self) -> Graph {
        let mut g = self.clone();
        g.add_self_loops(1.0);
        let mut degree = vec![0f64; g.num_nodes];
        for (_, v, w) in g.entries() {
            degree[v as usize] += f64::from(w);
        }
        let scale: Vec<f64> = degree
            .iter()
            .map(|&d| if d > 0.0 { d.sqrt().recip() } else { 0.0 })
            .collect();
        let weights = g
            .entries()
            .map(|(u, v, w)| (scale[u as usize] * f64::from(w) * scale[v as usize]) as f32)
            .collect();
        g.weights = Some(weights);
        g
    }

    /// Rewrites the entries in place, row by row, keeping, dropping or merging each one as
    /// `keep(source, target, target of the previous kept entry of the row)` says.
    fn compact(&mut self, mut keep: impl FnMut(u32, u32, Option<u32>) -> Keep) {
        let mut write = 0;
        let mut read_start = 0;
        for u in 0..self.num_nodes {
            let read_end = self.offsets[u + 1];
            let row_start = write;
            for read in read_start..read_end {
                let v = self.targets[read];
                let previous = (write > row_start).then(|| self.targets[write - 1]);
                match keep(u as u32, v, previous) {
                    Keep::Yes => {
                        self.targets[write] = v;
                        if let Some(w) = &mut self.weights {
                            w[write] = w[read];
                        }
                        write += 1;
                    }
                    Keep::No => {}
                    Keep::IntoPrevious => {
                        if let Some(w) = &mut self.weights {
                            w[write - 1] += w[read];
                        }
                    }
                }
            }
            self.offsets[u + 1] = write;
            read_start = read_end;
        }
        self.targets.truncate(write);
        self.targets.shrink_to_fit();
        if let Some(w) = &mut self.weights {
            w.truncate(write);
            w.shrink_to_fit();
        }
    }
}

/// `num_nodes`, or an error if it is above [`MAX_NODES`].
pub fn check_num_nodes(num_nodes: usize) -> Result<usize> {
    if num_nodes > MAX_NODES {
        return Err(Error::invalid(
            "number of nodes",
            format!("{num_nodes} is more than the {MAX_NODES} that u32 node ids allow"),
        ));
    }
    Ok(num_nodes)
}

/// Builds a [`Graph`] in place from per-node entry counts: the second half of a two-pass build
/// (count, then place) whose only allocations are the graph's own arrays. Readers that stream
/// a file twice (edge lists) and [`Graph::from_edges`] build through it.
///
/// ```
/// use convkit_graph::GraphFill;
/// // Two entries in row 0, one in row 2, of a 3-node directed graph (counts of row u at u + 1).
/// let mut fill = GraphFill::from_counts(vec![0, 2, 0, 1], false, true).unwrap();
/// assert_eq!(fill.place_entry(0, 2, 1.0), Some(0));
/// assert_eq!(fill.place_entry(2, 1, 1.0), Some(2));
/// assert_eq!(fill.place_entry(0, 1, 1.0), Some(1));
/// let g = fill.finish().unwrap();
/// assert_eq!((g.neighbors(0), g.neighbors(2)), (&[2, 1][..], &[1][..]));
/// ```
///
/// While filling, `offsets[u + 1]` is the next free slot of row `u` (it starts at the start of
/// the row and ends at its end, which is the start of row `u + 1`: the final offsets). Rows
/// have no separate end marks, so placing more entries in a row than counted spills into the
/// next row; callers that cannot trust their second pass to match the counts (a file read
/// twice) compare a digest of both passes, and [`finish`](Self::finish) rejects offsets that
/// are not a valid CSR, so a mismatch is an error, never a panic.
pub struct GraphFill {
    offsets: Vec<usize>,
    targets: Vec<u32>,
    weights: Option<Vec<f32>>,
    directed: bool,
}

impl GraphFill {
    /// Allocates a graph with `counts[u + 1]` entries in row `u` (the number of nodes is
    /// `counts.len() - 1`; `counts[0]` is ignored), reusing `counts` as the offsets. Errors if
    /// `counts` is empty or the total overflows.
    pub fn from_counts(counts: Vec<usize>, weighted: bool, directed: bool) -> Result<Self> {
        check_num_nodes(counts.len().saturating_sub(1))?;
        let mut offsets = counts;
        let Some(first) = offsets.first_mut() else {
            return Err(Error::invalid("graph", "no offsets"));
        };
        *first = 0;
        let mut total = 0usize;
        for slot in &mut offsets[1..] {
            let count = *slot;
            *slot = total;
            total = total
                .checked_add(count)
                .ok_or_else(|| Error::invalid("graph", "more entries than memory can address"))?;
        }
        Ok(GraphFill {
            offsets,
            targets: vec![0; total],
            weights: weighted.then(|| vec![0.0; total]),
            directed,
        })
    }

    /// Places edge `u -> v` (and `v -> u` if undirected and `u != v`). False if an id is out
    /// of range or there is no room left.
    pub fn place(&mut self, u: u32, v: u32, weight: f32) -> bool {
        self.place_entry(u, v, weight).is_some()
            && (self.directed || u == v || self.place_entry(v, u, weight).is_some())
    }

    /// Places the one entry `u -> v` in row `u` and returns its position among the graph's
    /// entries (to keep per-entry data beside the graph), or `None` if an id is out of range
    /// or no room is left. (More entries in a row than counted spill into the next row;
    /// [`finish`](Self::finish) then refuses the result.)
    pub fn place_entry(&mut self, u: u32, v: u32, weight: f32) -> Option<usize> {
        let num_nodes = self.offsets.len() - 1;
        let total = self.targets.len();
        match self.offsets.get_mut(u as usize + 1) {
            Some(slot) if *slot < total && (v as usize) < num_nodes => {
                let position = *slot;
                self.targets[position] = v;
                if let Some(w) = &mut self.weights {
                    w[position] = weight;
                }
                *slot += 1;
                Some(position)
            }
            _ => None,
        }
    }

    /// The graph, or `None` if the rows are not filled exactly to their ends (the offsets
    /// are then not non-decreasing up to the number of entries).
    pub fn finish(self) -> Option<Graph> {
        let valid = self.offsets.windows(2).all(|w| w[0] <= w[1])
            && self.offsets.last() == Some(&self.targets.len());
        valid.then(|| Graph {
            num_nodes: self.offsets.len() - 1,
            offsets: self.offsets,
            targets: self.targets,
            weights: self.weights,
            directed: self.directed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(g: &Graph) -> Vec<Vec<u32>> {
        (0..g.num_nodes())
            .map(|u| g.neighbors(u).to_vec())
            .collect()
    }

    #[test]
    fn directed_csr_keeps_input_order_loops_and_duplicates() {
        let g =
            Graph::from_edges(4, &[(2, 0), (0, 3), (0, 1), (2, 2), (0, 3)], None, true).unwrap();
        assert_eq!(g.offsets(), &[0, 3, 3, 5, 5]);
        assert_eq!(g.targets(), &[3, 1, 3, 0, 2]);
        assert_eq!((g.num_entries(), g.num_edges()), (5, 5));
        assert_eq!(g.degree(0), 3);
        assert!(g.is_directed() && !g.is_weighted());
        let (src, dst) = g.to_edge_index();
        assert_eq!(src, [0, 0, 0, 2, 2]);
        assert_eq!(dst, [3, 1, 3, 0, 2]);
    }

    #[test]
    fn undirected_csr_stores_both_directions_and_loops_once() {
        let w = [0.5, 2.0, 3.0];
        let g = Graph::from_edges(3, &[(0, 1), (2, 2), (2, 0)], Some(&w), false).unwrap();
        assert_eq!(g.offsets(), &[0, 2, 3, 5]);
        assert_eq!(g.targets(), &[1, 2, 0, 2, 0]);
        assert_eq!(g.weights().unwrap(), &[0.5, 3.0, 0.5, 2.0, 3.0]);
        assert_eq!((g.num_entries(), g.num_edges()), (5, 3));
        let edges: Vec<_> = g.edges().collect();
        assert_eq!(edges, [(0, 1, 0.5), (0, 2, 3.0), (2, 2, 2.0)]);
        assert_eq!(g.neighbor_weights(2).unwrap(), &[2.0, 3.0]);
    }

    #[test]
    fn dedupe_sums_weights_and_sorts_rows() {
        let edges = [(1, 0), (0, 2), (0, 1), (0, 2), (1, 1), (1, 1)];
        let w = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut g = Graph::from_edges(3, &edges, Some(&w), true).unwrap();
        g.dedupe();
        assert_eq!(g.offsets(), &[0, 2, 4, 4]);
        assert_eq!(g.targets(), &[1, 2, 0, 1]);
        assert_eq!(g.weights().unwrap(), &[3.0, 6.0, 1.0, 11.0]);
        let mut unweighted = Graph::from_edges(3, &edges, None, false).unwrap();
        unweighted.dedupe();
        assert_eq!(rows(&unweighted), [vec![1, 2], vec![0, 1], vec![0]]);
        assert_eq!(unweighted.num_edges(), 3);
    }

    #[test]
    fn self_loops_removed_and_added() {
        let mut g = Graph::from_edges(3, &[(0, 0), (0, 1), (2, 2)], None, false).unwrap();
        g.remove_self_loops();
        assert_eq!(rows(&g), [vec![1], vec![0], vec![]]);
        g.add_self_loops(1.0);
        assert!(!g.is_weighted());
        assert_eq!(rows(&g), [vec![1, 0], vec![0, 1], vec![2]]);
        g.add_self_loops(1.0);
        assert_eq!(g.num_entries(), 5, "existing loops are kept, not doubled");
        let mut h = Graph::from_edges(2, &[(0, 0), (0, 1)], None, true).unwrap();
        h.add_self_loops(0.5);
        assert_eq!(h.offsets(), &[0, 2, 3]);
        assert_eq!(h.targets(), &[0, 1, 1]);
        assert_eq!(h.weights().unwrap(), &[1.0, 1.0, 0.5]);
    }

    #[test]
    fn gcn_normalization_of_a_path() {
        // Path 0 - 1 - 2: with loops, degrees 2, 3, 2.
        let g = Graph::from_edges(3, &[(0, 1), (1, 2)], None, false).unwrap();
        let n = g.gcn_normalized();
        assert_eq!(rows(&n), [vec![1, 0], vec![0, 2, 1], vec![1, 2]]);
        let s6 = (1.0 / 6f64.sqrt()) as f32;
        let expected = [s6, 0.5, s6, s6, 1.0 / 3.0, s6, 0.5];
        for (got, want) in n.weights().unwrap().iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
        // Rows of the symmetric normalisation of a regular graph sum to 1.
        let cycle = Graph::from_edges(3, &[(0, 1), (1, 2), (2, 0)], None, false).unwrap();
        let c = cycle.gcn_normalized();
        for u in 0..3 {
            let sum: f32 = c.neighbor_weights(u).unwrap().iter().sum();
            assert!((sum - 1.0).abs() < 1e-6);
        }
    }

    #[test]
    fn to_undirected_merges_reciprocal_entries() {
        let w = [1.0, 2.0, 4.0];
        let g = Graph::from_edges(3, &[(0, 1), (1, 0), (2, 1)], Some(&w), true).unwrap();
        let u = g.to_undirected();
        assert!(!u.is_directed());
        assert_eq!(rows(&u), [vec![1], vec![0, 2], vec![1]]);
        assert_eq!(u.weights().unwrap(), &[3.0, 3.0, 4.0, 4.0]);
    }

    #[test]
    fn bad_edges_are_errors() {
        let e = Graph::from_edges(2, &[(0, 1), (1, 2)], None, true).unwrap_err();
        assert!(
            e.to_string().contains("edge 1") && e.to_string().contains("(1, 2)"),
            "{e}"
        );
        let e = Graph::from_edges(2, &[(0, 1)], Some(&[]), true).unwrap_err();
        assert!(e.to_string().contains("0 weights for 1 edges"), "{e}");
        assert!(Graph::from_edges(MAX_NODES + 1, &[], None, true).is_err());
    }

    #[test]
    fn fill_rejects_edges_other_than_counted() {
        let mut fill = GraphFill::from_counts(vec![0, 1, 0], false, true).unwrap();
        assert!(!fill.place(0, 5, 1.0), "target out of range");
        assert!(!fill.place(7, 0, 1.0), "source out of range");
        assert!(fill.place(0, 1, 1.0));
        assert!(!fill.place(0, 1, 1.0), "no room left");
        assert_eq!(fill.finish().unwrap().offsets(), &[0, 1, 1]);
        let mut spilled = GraphFill::from_counts(vec![0, 1, 1], false, true).unwrap();
        assert!(spilled.place(0, 1, 1.0) && spilled.place(0, 1, 1.0));
        assert!(spilled.finish().is_none(), "row 0 spilled into row 1");
        assert!(
            GraphFill::from_counts(vec![0, 1], false, true)
                .unwrap()
                .finish()
                .is_none()
        );
        assert!(GraphFill::from_counts(vec![], false, true).is_err());
    }
}
