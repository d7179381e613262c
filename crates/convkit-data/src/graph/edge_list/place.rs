//! The second pass of the edge-list reader: placing edges into the CSR arrays, checked against the first pass.

use super::*;

/// What the second pass of [`read_edge_list`] reports when it finds other edges than the first.
pub(super) const CHANGED: &str = "the file changed between the two passes of the reader";

pub(super) fn not_counted(path: &Path, line: usize) -> Error {
    Error::file(
        path,
        format!("line {line}: {CHANGED} (this edge was not counted)"),
    )
}

/// Edges per batch of the second pass of [`read_edge_list`] (16 bytes each, twice over).
pub(super) const PLACE_BATCH: usize = 1 << 18;

/// The second pass of [`read_edge_list`]: places edges into the CSR in batches. The entries of
/// a directed batch are first grouped by blocks of source ids (a stable counting sort, so each
/// row keeps the file order): placing them block by block writes the offsets and targets
/// arrays front to back instead of at random, several times faster on unsorted files.
/// Undirected edges also write the target's row, which grouping by source would reorder: they
/// are placed in file order.
pub(super) struct Placer {
    fill: GraphFill,
    /// (source, target, weight, line - `first_line`)
    batch: Vec<(u32, u32, f32, u32)>,
    first_line: usize,
    /// The grouped batch and the block starts (directed graphs only).
    grouped: Vec<(u32, u32, f32, u32)>,
    starts: Vec<usize>,
    /// A source's block is `source >> block_shift`.
    block_shift: u32,
}

impl Placer {
    pub(super) fn new(fill: GraphFill, num_nodes: usize, directed: bool) -> Self {
        // About 4 edges per block of a full batch: the blocks then cover the rows densely.
        let blocks = if directed { PLACE_BATCH / 4 } else { 0 };
        let id_bits = usize::BITS - num_nodes.leading_zeros();
        let block_shift = id_bits.saturating_sub(blocks.trailing_zeros());
        Placer {
            fill,
            batch: Vec::new(),
            first_line: 0,
            grouped: Vec::new(),
            starts: vec![
                0;
                if directed {
                    (num_nodes >> block_shift) + 2
                } else {
                    0
                }
            ],
            block_shift,
        }
    }

    pub(super) fn push(
        &mut self,
        u: u32,
        v: u32,
        weight: f32,
        line: usize,
        path: &Path,
    ) -> Result<()> {
        if self.batch.is_empty() {
            self.first_line = line;
        }
        let offset = match u32::try_from(line - self.first_line) {
            Ok(offset) => offset,
            Err(_) => {
                self.flush(path)?;
                self.first_line = line;
                0
            }
        };
        self.batch.push((u, v, weight, offset));
        if self.batch.len() == PLACE_BATCH {
            self.flush(path)?;
        }
        Ok(())
    }

    pub(super) fn flush(&mut self, path: &Path) -> Result<()> {
        let batch = if self.starts.len() > 1 && self.batch.len() > 1 {
            let last = self.starts.len() - 2;
            let block = |u: u32| ((u >> self.block_shift) as usize).min(last);
            self.starts.fill(0);
            for &(u, ..) in &self.batch {
                self.starts[block(u) + 1] += 1;
            }
            for i in 1..self.starts.len() {
                self.starts[i] += self.starts[i - 1];
            }
            self.grouped.clear();
            self.grouped.resize(self.batch.len(), (0, 0, 0.0, 0));
            for &entry in &self.batch {
                let at = &mut self.starts[block(entry.0)];
                self.grouped[*at] = entry;
                *at += 1;
            }
            &self.grouped
        } else {
            &self.batch
        };
        for &(u, v, weight, offset) in batch {
            if !self.fill.place(u, v, weight) {
                return Err(not_counted(path, self.first_line + offset as usize));
            }
        }
        self.batch.clear();
        Ok(())
    }

    /// The graph, or `None` if the rows are not filled exactly.
    pub(super) fn finish(mut self, path: &Path) -> Result<Option<Graph>> {
        self.flush(path)?;
        Ok(self.fill.finish())
    }
}

/// An order-independent digest of a multiset of edges, to check that the second pass over a
/// file saw the edges the first one counted.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct EdgeDigest {
    edges: u64,
    sum: u64,
}

impl EdgeDigest {
    pub(super) fn add(&mut self, u: u64, v: u64, weight: Option<f32>) {
        // SplitMix64's finaliser over the pair (ids fit in 32 bits) and the weight bits.
        let w = weight.map_or(0, |w| u64::from(w.to_bits()) | 1 << 32);
        let mut z = (u << 32 | v) ^ w.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        self.sum = self.sum.wrapping_add(z ^ (z >> 31));
        self.edges += 1;
    }
}
