//! Edge lists: one edge per line, read straight into a CSR [`Graph`].
//!
//! The plain-text graph format of SNAP, KONECT, networkx `write_edgelist` and most papers'
//! data releases:
//!
//! ```text
//! % comment lines start with % or #, blank lines are skipped
//! source target             <- optional header line (detected: its first field is not a number)
//! 0 1
//! 0 2 0.5                    <- an optional third column is the weight
//! ```
//!
//! - Fields are separated by commas (CSV) if the first data line has a comma, by single tabs if
//!   it has tabs and no spaces, by runs of blanks otherwise; fields are trimmed.
//! - Node ids are non-negative integers, zero-based by default ([`IndexBase`]); with one-based
//!   ids an id 0 is an error. The number of nodes is given ([`EdgeListOptions::num_nodes`], ids
//!   out of range are errors) or inferred as the largest id plus one (zero-based), capped by
//!   [`EdgeListOptions::max_inferred_nodes`] so that one stray huge id is an error, not a
//!   huge allocation.
//! - Weights ([`Weights`]): by default the first data line decides (2 fields: unweighted, 3:
//!   weighted) and every line must have as many; explicit modes read the first 2 or 3 columns
//!   and ignore the rest (KONECT's timestamp column). Weights must be finite.
//! - Undirected lists (the default) store both directions ([`Graph`]); self loops and
//!   duplicate lines are kept ([`Graph::dedupe`] merges them).
//!
//! Errors name the file, line and column, what was expected and what was found.
//!
//! Large files stream. [`read_edge_list`] reads a file twice: the first pass validates every
//! line and counts each node's entries (the counts become the CSR offsets in place), the
//! second places the entries into the allocated CSR arrays, so peak memory is the graph itself
//! (4 bytes per stored entry, 4 more if weighted, 8 per node) plus the line buffer (1 MiB)
//! and batch buffers (8 MiB at most); a digest of the edges of both passes must agree, so a
//! file changed in between is an error. A gzip file is decompressed twice. [`parse_edge_list`] reads a non-seekable
//! source once into compact `(u32, u32)` pairs (8 bytes per edge, plus 4 for a weight) and
//! builds the CSR from them: faster, with that much more memory.
//!
//! Speed: data lines of the usual shape (`digits SEP digits [SEP weight]`, ids in range) are
//! parsed straight from the line reader's buffer, ids by hand; every other line (comments, a
//! header, other spacing, anything wrong) goes through the general per-line path, which also
//! words every error, so both paths accept the same lines. The second pass of a directed
//! graph groups each batch of edges by source before placing them, so the CSR arrays are
//! written in order rather than at random.

use std::fs::File;
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use burn::config::Config;
use convkit_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::{Graph, MAX_NODES, parse_finite};
use crate::lines::{Field, Line, LineReader, Separator, quoted};
use convkit_graph::{GraphFill, check_num_nodes};

mod place;
mod scan;
#[cfg(test)]
mod tests;

use place::{CHANGED, EdgeDigest, Placer, not_counted};
use scan::scan;

/// How node ids are numbered in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IndexBase {
    /// Ids start at 0 (node `i` is id `i`).
    Zero,
    /// Ids start at 1 (node `i` is id `i + 1`; id 0 is an error).
    One,
    /// One-based if no id is 0, zero-based otherwise. A zero-based file whose node 0 has no
    /// edge is then read one-based (every node shifted): name the base where that matters.
    Auto,
}

/// Whether the first content line is a header (column names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Header {
    /// A header if its first field is not a number.
    Auto,
    /// The first line that is not blank or a comment is a header and is skipped.
    Present,
    /// Every content line is an edge.
    Absent,
}

/// Which columns are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Weights {
    /// The first data line decides: 2 fields unweighted, 3 weighted; every line must then have
    /// that many fields.
    Auto,
    /// The first 2 columns; further columns are ignored.
    Unweighted,
    /// The first 3 columns, the third being the weight; further columns are ignored.
    Weighted,
}

/// How to read an edge list.
#[derive(Config, Debug)]
pub struct EdgeListOptions {
    /// Keep edge directions; otherwise each edge is stored in both directions.
    #[config(default = false)]
    pub directed: bool,
    /// How ids are numbered.
    #[config(default = "IndexBase::Zero")]
    pub index_base: IndexBase,
    /// The number of nodes; `None` infers the largest id plus one (after the base shift).
    pub num_nodes: Option<usize>,
    /// Header detection.
    #[config(default = "Header::Auto")]
    pub header: Header,
    /// Which columns are read.
    #[config(default = "Weights::Auto")]
    pub weights: Weights,
    /// When `num_nodes` is inferred, ids needing more nodes than this are errors (2^28 by
    /// default: 2 GiB of offsets).
    #[config(default = 268_435_456)]
    pub max_inferred_nodes: usize,
}

/// Edges per batch of the first pass of [`read_edge_list`].
const BATCH: usize = 4096;

/// Comment prefixes: `#` (SNAP, networkx) and `%` (KONECT, Matrix Market).
const COMMENTS: [&str; 2] = ["#", "%"];

/// The layout of the data lines, fixed by the first of them.
#[derive(Debug, Clone, Copy)]
struct DataLayout {
    separator: Separator,
    weighted: bool,
    /// With [`Weights::Auto`]: the number of fields every line must have.
    exact_fields: Option<usize>,
    /// The first data line (named by field-count errors).
    first_line: usize,
}

/// What the first pass learned about a file, reused by the second.
#[derive(Debug, Clone, Copy, Default)]
struct Layout {
    header_decided: bool,
    header_line: Option<usize>,
    data: Option<DataLayout>,
}

/// An id and where it was first seen.
#[derive(Debug, Clone, Copy)]
struct Seen {
    id: u64,
    line: usize,
    column: usize,
}

/// The smallest and largest id of a file.
#[derive(Debug, Clone, Copy, Default)]
struct IdRange {
    min: Option<Seen>,
    max: Option<Seen>,
}

impl IdRange {
    fn update(&mut self, id: u64, line: usize, column: usize) {
        let seen = Seen { id, line, column };
        if self.min.is_none_or(|m| id < m.id) {
            self.min = Some(seen);
        }
        if self.max.is_none_or(|m| id > m.id) {
            self.max = Some(seen);
        }
    }
}

/// Reads an edge-list file (plain or gzip) into a [`Graph`] in two streaming passes (see the
/// [module docs](self)): peak memory is about the graph itself.
pub fn read_edge_list(path: impl AsRef<Path>, options: &EdgeListOptions) -> Result<Graph> {
    let path = path.as_ref();
    let mut layout = Layout::default();
    let mut ids = IdRange::default();
    let mut first_pass = EdgeDigest::default();
    // The entries of raw id r are counted at r + 1, the layout `GraphFill` wants for zero-based
    // ids; for one-based ids one leading slot is dropped afterwards.
    let mut counts: Vec<usize> = Vec::new();
    if let Some(n) = options.num_nodes {
        // Raw ids go up to n with one-based ids.
        counts = vec![0; check_num_nodes(n)? + 2];
    }
    let directed = options.directed;
    // Edges are counted and placed in batches, in tight loops apart from the parsing, so that
    // the cache misses of unsorted files overlap (interleaved with parsing they do not).
    let mut batch: Vec<(u64, u64)> = Vec::with_capacity(BATCH);
    let mut count = |batch: &mut Vec<(u64, u64)>| {
        for (u, v) in batch.drain(..) {
            let ends = if directed || u == v { 1 } else { 2 };
            for id in [u, v].into_iter().take(ends) {
                // scan bounded the ids: by num_nodes, or by max_inferred_nodes + 1.
                let slot = id as usize + 1;
                if slot >= counts.len() {
                    counts.resize(slot + 1, 0);
                }
                counts[slot] += 1;
            }
        }
    };
    scan(
        &mut LineReader::open(path)?,
        options,
        &mut layout,
        &mut ids,
        |_, [u, v], weight| {
            first_pass.add(u, v, weight);
            batch.push((u, v));
            if batch.len() == BATCH {
                count(&mut batch);
            }
            Ok(())
        },
    )?;
    count(&mut batch);
    let (shift, num_nodes) = resolve(options, &ids, path)?;
    if shift == 1 && !counts.is_empty() {
        // Slot 1 counted raw id 0, which a one-based file does not have.
        counts.remove(0);
    }
    counts.truncate(num_nodes + 1);
    counts.reserve_exact(num_nodes + 1 - counts.len());
    counts.resize(num_nodes + 1, 0);
    counts.shrink_to_fit();
    let weighted = layout
        .data
        .map_or(options.weights == Weights::Weighted, |d| d.weighted);
    let mut placer = Placer::new(
        GraphFill::from_counts(counts, weighted, directed)?,
        num_nodes,
        directed,
    );
    let mut second_pass = EdgeDigest::default();
    let mut lines = LineReader::open(path)?;
    scan(
        &mut lines,
        options,
        &mut layout,
        &mut IdRange::default(),
        |line, [u, v], weight| {
            second_pass.add(u, v, weight);
            let node = |id: u64| id.checked_sub(shift).and_then(|i| u32::try_from(i).ok());
            let (Some(u), Some(v)) = (node(u), node(v)) else {
                return Err(not_counted(path, line));
            };
            placer.push(u, v, weight.unwrap_or(1.0), line, path)
        },
    )?;
    match placer.finish(path)? {
        Some(graph) if second_pass == first_pass => Ok(graph),
        _ => Err(lines.error_at_end(format!("{CHANGED} (other edges than counted)"))),
    }
}

/// Reads an edge list from `reader` (`name` is what errors call it) in one pass: the edges are
/// collected as `(u32, u32)` pairs (plus `f32` weights), then counting-sorted into CSR.
pub fn parse_edge_list(
    reader: impl BufRead,
    name: impl AsRef<Path>,
    options: &EdgeListOptions,
) -> Result<Graph> {
    let name = name.as_ref();
    let mut layout = Layout::default();
    let mut ids = IdRange::default();
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    let mut weights: Vec<f32> = Vec::new();
    scan(
        &mut LineReader::new(reader, name),
        options,
        &mut layout,
        &mut ids,
        |_, [u, v], weight| {
            // scan checked that ids fit in u32.
            pairs.push((u as u32, v as u32));
            weights.extend(weight);
            Ok(())
        },
    )?;
    let (shift, num_nodes) = resolve(options, &ids, name)?;
    if shift > 0 {
        // resolve chose one-based ids only if no id is 0.
        for (u, v) in &mut pairs {
            *u -= 1;
            *v -= 1;
        }
    }
    let weighted = layout
        .data
        .map_or(options.weights == Weights::Weighted, |d| d.weighted);
    Graph::from_edges(
        num_nodes,
        &pairs,
        weighted.then_some(&weights[..]),
        options.directed,
    )
}

/// Writes `graph` as an edge list: a `#` comment line (nodes, edges, direction), then one edge
/// per line, `source<TAB>target[<TAB>weight]`, each undirected edge once ([`Graph::edges`]),
/// ids zero- or one-based. Reading it back with the same direction, base and `num_nodes`
/// gives the same graph up to the order within rows ([`Graph::sort_neighbors`]); without
/// `num_nodes`, trailing nodes without edges are lost.
pub fn write_edge_list(path: impl AsRef<Path>, graph: &Graph, one_based: bool) -> Result<()> {
    let path = path.as_ref();
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut out = BufWriter::with_capacity(1 << 16, file);
    format_edge_list(&mut out, graph, one_based)
        .and_then(|()| out.flush())
        .map_err(|e| Error::io(path, e))
}

/// Writes `graph` to `out` in the layout of [`write_edge_list`].
pub fn format_edge_list(
    mut out: impl Write,
    graph: &Graph,
    one_based: bool,
) -> std::io::Result<()> {
    writeln!(
        out,
        "# convkit edge list: {} nodes, {} edges, {}, {}, {}-based ids",
        graph.num_nodes(),
        graph.num_edges(),
        if graph.is_directed() {
            "directed"
        } else {
            "undirected"
        },
        if graph.is_weighted() {
            "weighted"
        } else {
            "unweighted"
        },
        if one_based { "one" } else { "zero" },
    )?;
    let base = u64::from(one_based);
    for (u, v, w) in graph.edges() {
        let (u, v) = (u64::from(u) + base, u64::from(v) + base);
        if graph.is_weighted() {
            writeln!(out, "{u}\t{v}\t{w}")?;
        } else {
            writeln!(out, "{u}\t{v}")?;
        }
    }
    Ok(())
}

/// The layout fixed by the first data line.
fn first_data_line(line: &Line<'_>, weights: Weights) -> Result<DataLayout> {
    let separator = Separator::detect(line.text);
    let count = line.fields(separator).count();
    let (weighted, exact_fields) = match (weights, count) {
        (Weights::Auto, 2) => (false, Some(2)),
        (Weights::Auto, 3) => (true, Some(3)),
        (Weights::Auto, _) => {
            return Err(line.error(format!(
                "expected 2 fields (source, target) or 3 (source, target, weight), found \
                 {count}; set the `weights` option to read the first columns of wider lines"
            )));
        }
        (Weights::Unweighted, _) => (false, None),
        (Weights::Weighted, _) => (true, None),
    };
    Ok(DataLayout {
        separator,
        weighted,
        exact_fields,
        first_line: line.number,
    })
}

/// A node id: ASCII digits, at most `u32::MAX`.
fn parse_id(line: &Line<'_>, field: Field<'_>) -> Result<u64> {
    let bytes = field.text.as_bytes();
    let mut id = 0u64;
    for &b in bytes {
        if !b.is_ascii_digit() {
            id = u64::MAX;
            break;
        }
        id = id.saturating_mul(10).saturating_add(u64::from(b - b'0'));
    }
    if bytes.is_empty() || id == u64::MAX {
        return Err(line.error_at(
            field.start,
            format!(
                "expected a node id (a non-negative integer), found {}",
                quoted(field.text)
            ),
        ));
    }
    if id > u64::from(u32::MAX) {
        return Err(line.error_at(
            field.start,
            format!(
                "expected a node id of at most {}, found {}",
                u32::MAX,
                quoted(field.text)
            ),
        ));
    }
    Ok(id)
}

/// The id shift (0 or 1) and the number of nodes, once every id has been seen.
fn resolve(options: &EdgeListOptions, ids: &IdRange, path: &Path) -> Result<(u64, usize)> {
    let shift = match options.index_base {
        IndexBase::Zero => 0,
        IndexBase::One => 1,
        IndexBase::Auto => u64::from(ids.min.is_some_and(|m| m.id > 0)),
    };
    let at = |seen: Seen, message: String| {
        Error::file(
            path,
            format!("line {}, column {}: {message}", seen.line, seen.column),
        )
    };
    // Every id is >= shift: one-based files have no id 0 (checked by scan or chosen so).
    let needed = ids.max.map_or(0, |m| m.id.saturating_sub(shift) + 1);
    match (options.num_nodes, ids.max) {
        (Some(n), Some(max)) if needed > n as u64 => Err(at(max, out_of_range(max.id, n, shift))),
        (Some(n), _) => Ok((shift, check_num_nodes(n)?)),
        (None, Some(max)) if needed > options.max_inferred_nodes.min(MAX_NODES) as u64 => {
            Err(at(max, too_many_nodes(max.id, options)))
        }
        // needed <= max_inferred_nodes, a usize.
        (None, _) => Ok((shift, needed as usize)),
    }
}

fn out_of_range(id: u64, num_nodes: usize, shift: u64) -> String {
    let base = if shift == 0 { "zero" } else { "one" };
    let last = num_nodes as u64 + shift;
    format!(
        "expected a node id from {shift} to {} ({num_nodes} nodes, {base}-based ids), found {id}",
        last.saturating_sub(1)
    )
}

fn too_many_nodes(id: u64, options: &EdgeListOptions) -> String {
    format!(
        "node id {id} would make more nodes than max_inferred_nodes ({}, and at most {MAX_NODES}); \
         give num_nodes or raise max_inferred_nodes",
        options.max_inferred_nodes
    )
}
