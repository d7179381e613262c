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

/// What the second pass of [`read_edge_list`] reports when it finds other edges than the first.
const CHANGED: &str = "the file changed between the two passes of the reader";

fn not_counted(path: &Path, line: usize) -> Error {
    Error::file(
        path,
        format!("line {line}: {CHANGED} (this edge was not counted)"),
    )
}

/// Edges per batch of the second pass of [`read_edge_list`] (16 bytes each, twice over).
const PLACE_BATCH: usize = 1 << 18;

/// The second pass of [`read_edge_list`]: places edges into the CSR in batches. The entries of
/// a directed batch are first grouped by blocks of source ids (a stable counting sort, so each
/// row keeps the file order): placing them block by block writes the offsets and targets
/// arrays front to back instead of at random, several times faster on unsorted files.
/// Undirected edges also write the target's row, which grouping by source would reorder: they
/// are placed in file order.
struct Placer {
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
    fn new(fill: GraphFill, num_nodes: usize, directed: bool) -> Self {
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

    fn push(&mut self, u: u32, v: u32, weight: f32, line: usize, path: &Path) -> Result<()> {
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

    fn flush(&mut self, path: &Path) -> Result<()> {
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
    fn finish(mut self, path: &Path) -> Result<Option<Graph>> {
        self.flush(path)?;
        Ok(self.fill.finish())
    }
}

/// An order-independent digest of a multiset of edges, to check that the second pass over a
/// file saw the edges the first one counted.
#[derive(Debug, Default, PartialEq, Eq)]
struct EdgeDigest {
    edges: u64,
    sum: u64,
}

impl EdgeDigest {
    fn add(&mut self, u: u64, v: u64, weight: Option<f32>) {
        // SplitMix64's finaliser over the pair (ids fit in 32 bits) and the weight bits.
        let w = weight.map_or(0, |w| u64::from(w.to_bits()) | 1 << 32);
        let mut z = (u << 32 | v) ^ w.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        self.sum = self.sum.wrapping_add(z ^ (z >> 31));
        self.edges += 1;
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

/// Reads every data line of `lines`, checks it, and hands its raw ids (before the base shift)
/// and weight to `visit`. Fixes `layout` on the first pass; a second pass gets it back.
fn scan<R: BufRead>(
    lines: &mut LineReader<R>,
    options: &EdgeListOptions,
    layout: &mut Layout,
    ids: &mut IdRange,
    mut visit: impl FnMut(usize, [u64; 2], Option<f32>) -> Result<()>,
) -> Result<()> {
    let explicit_shift = match options.index_base {
        IndexBase::Zero => Some(0),
        IndexBase::One => Some(1),
        IndexBase::Auto => None,
    };
    let mut fast = layout.data.and_then(|data| FastLines::new(data, options));
    loop {
        if let Some(fast) = &fast
            && lines.line_number() + 1 >= fast.first_line
        {
            fast.scan(lines, ids, &mut visit)?;
        }
        // The slow path: any other line, read as a `Line`, which names any error.
        let Some(line) = lines.next_line()? else {
            return Ok(());
        };
        let content = line.text.trim_start();
        if content.is_empty() || COMMENTS.iter().any(|c| content.starts_with(c)) {
            continue;
        }
        if !layout.header_decided {
            layout.header_decided = true;
            let is_header = match options.header {
                Header::Present => true,
                Header::Absent => false,
                Header::Auto => line
                    .fields(Separator::detect(line.text))
                    .next()
                    .is_some_and(|f| f.text.parse::<f64>().is_err()),
            };
            if is_header {
                layout.header_line = Some(line.number);
                continue;
            }
        }
        if layout.header_line == Some(line.number) {
            continue;
        }
        let data = match layout.data {
            Some(data) => data,
            None => {
                let data = first_data_line(&line, options.weights)?;
                fast = FastLines::new(data, options);
                *layout.data.insert(data)
            }
        };
        let mut fields = [Field { text: "", start: 0 }; 3];
        let count = split_fields(line.text, data.separator, &mut fields);
        let needed = if data.weighted { 3 } else { 2 };
        if let Some(exact) = data.exact_fields
            && count != exact
        {
            return Err(line.error(format!(
                "expected {exact} fields (as on line {}), found {count}",
                data.first_line
            )));
        }
        if count < needed {
            return Err(line.error(format!(
                "expected at least {needed} fields (source, target{}), found {count}",
                if data.weighted { ", weight" } else { "" }
            )));
        }
        let mut pair = [0u64; 2];
        for (slot, field) in pair.iter_mut().zip(&fields) {
            let id = parse_id(&line, *field)?;
            if options.num_nodes.is_none() && id > options.max_inferred_nodes as u64 {
                return Err(line.error_at(field.start, too_many_nodes(id, options)));
            }
            // Out of range whichever the base (and the counts of the first pass must not grow
            // past the given size).
            if explicit_shift.is_none()
                && let Some(n) = options.num_nodes
                && id > n as u64
            {
                return Err(line.error_at(
                    field.start,
                    format!("expected a node id of at most {n} ({n} nodes), found {id}"),
                ));
            }
            if let Some(shift) = explicit_shift {
                if id < shift {
                    return Err(line.error_at(
                        field.start,
                        "expected a node id of at least 1 (ids are one-based), found 0",
                    ));
                }
                if let Some(n) = options.num_nodes
                    && id - shift >= n as u64
                {
                    return Err(line.error_at(field.start, out_of_range(id, n, shift)));
                }
            }
            // Ids are ASCII digits after ASCII separators: the byte offset is the column.
            ids.update(id, line.number, field.start + 1);
            *slot = id;
        }
        let weight = if data.weighted {
            Some(parse_finite(&line, fields[2], "a weight")?)
        } else {
            None
        };
        visit(line.number, pair, weight)?;
    }
}

/// The fast path of [`scan`] for the common data line `digits SEP digits [SEP weight]` (SEP
/// the layout's separator, a single blank for blank-separated files; the line ends in `\n`,
/// `\r\n` or the end of the file) with ids in the range the options allow: such lines are
/// parsed straight from the reader's buffer. Any other line (comments, other spacing, more
/// fields, bad or out-of-range ids) is left to the slow path, which reads it as a [`Line`]
/// and names any error, so both paths accept the same lines with the same results.
struct FastLines {
    /// The separator bytes: equal unless the layout separates by blanks.
    separator: [u8; 2],
    weighted: bool,
    /// The smallest and largest id the slow path accepts.
    min_id: u64,
    max_id: u64,
    /// The first data line: lines before it (comments, a header) take the slow path.
    first_line: usize,
}

impl FastLines {
    /// `None` if the separator is not ASCII.
    fn new(data: DataLayout, options: &EdgeListOptions) -> Option<Self> {
        let separator = match data.separator {
            Separator::Whitespace => [b' ', b'\t'],
            Separator::Char(c) => [u8::try_from(c).ok().filter(u8::is_ascii)?; 2],
        };
        let shift = match options.index_base {
            IndexBase::Zero | IndexBase::Auto => 0,
            IndexBase::One => 1,
        };
        // The bounds that `scan` checks, in the same cases.
        let limit = match (options.num_nodes, options.index_base) {
            (None, _) => Some(options.max_inferred_nodes as u64),
            (Some(n), IndexBase::Auto) => Some(n as u64),
            // Ids shift..n + shift; none if that is empty.
            (Some(n), _) => (n as u64 + shift).checked_sub(1),
        };
        // An empty range sends every line to the slow path.
        let (min_id, max_id) = match limit {
            Some(max) => (shift, max.min(u64::from(u32::MAX))),
            None => (1, 0),
        };
        Some(FastLines {
            separator,
            weighted: data.weighted,
            min_id,
            max_id,
            first_line: data.first_line,
        })
    }

    /// Hands the lines at the front of `lines`' buffer to `visit` while they have the fast
    /// shape, as `scan` would; stops at the first other line or the end of the input.
    fn scan<R: BufRead>(
        &self,
        lines: &mut LineReader<R>,
        ids: &mut IdRange,
        visit: &mut impl FnMut(usize, [u64; 2], Option<f32>) -> Result<()>,
    ) -> Result<()> {
        loop {
            let number = lines.line_number();
            let block = lines.buffered_lines()?;
            let (mut at, mut count) = (0, 0);
            while let Some((u, v, v_column, weight, len)) = self.parse(&block[at..]) {
                let line = number + count + 1;
                ids.update(u, line, 1);
                ids.update(v, line, v_column);
                visit(line, [u, v], weight)?;
                at += len;
                count += 1;
            }
            let whole = at == block.len();
            lines.consume_lines(at, count);
            if !whole || at == 0 {
                // A line for the slow path, or the end.
                return Ok(());
            }
        }
    }

    /// The line at the start of `bytes` as (source, target, the target's column, weight,
    /// length with the line end), or `None` if it does not have the fast shape.
    fn parse(&self, bytes: &[u8]) -> Option<(u64, u64, usize, Option<f32>, usize)> {
        let (u, at) = self.id(bytes, 0)?;
        let at = self.separator_at(bytes, at)?;
        let v_column = at + 1;
        let (v, at) = self.id(bytes, at)?;
        if !self.weighted {
            return Some((u, v, v_column, None, line_end(bytes, at)?));
        }
        let start = self.separator_at(bytes, at)?;
        let rest = bytes.get(start..)?;
        let (end, len) = match memchr::memchr(b'\n', rest) {
            Some(i) if i > 0 && rest[i - 1] == b'\r' => (start + i - 1, start + i + 1),
            Some(i) => (start + i, start + i + 1),
            // The last line, without a line end.
            None => (bytes.len(), bytes.len()),
        };
        let text = std::str::from_utf8(bytes.get(start..end)?).ok()?;
        // Text with a separator or blank in it does not parse as a number.
        let weight = text.parse::<f32>().ok().filter(|w| w.is_finite())?;
        Some((u, v, v_column, Some(weight), len))
    }

    /// The id of at most 10 digits (no overflow) at `at`, if in range, and the index after it.
    fn id(&self, bytes: &[u8], at: usize) -> Option<(u64, usize)> {
        let (mut id, mut end) = match bytes.get(at..at + 8) {
            // The first up to 8 digits at once.
            Some(chunk) => eight_digits(chunk)?,
            None => (0, 0),
        };
        end += at;
        // The rest (or all, near the end of the buffer) digit by digit.
        while let Some(&b) = bytes.get(end) {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                break;
            }
            id = id * 10 + u64::from(digit);
            end += 1;
            if end - at > 10 {
                return None;
            }
        }
        (end > at && (self.min_id..=self.max_id).contains(&id)).then_some((id, end))
    }

    /// The index after the separator at `at`.
    fn separator_at(&self, bytes: &[u8], at: usize) -> Option<usize> {
        let b = *bytes.get(at)?;
        (b == self.separator[0] || b == self.separator[1]).then_some(at + 1)
    }
}

/// The number that the leading ASCII digits of `chunk` (8 bytes) spell and how many there
/// are, with word-wide arithmetic (SWAR) instead of a loop; `None` if `chunk` is not 8 bytes.
fn eight_digits(chunk: &[u8]) -> Option<(u64, usize)> {
    let word = u64::from_le_bytes(chunk.try_into().ok()?);
    const LOW: u64 = 0x0101_0101_0101_0101;
    // Per byte: nonzero high nibble test bits unless the byte is 0x30..=0x39. Carries out of
    // a non-digit byte only disturb the bytes after it.
    let high = word & (0xF0 * LOW);
    let high_plus_6 = word.wrapping_add(6 * LOW) & (0xF0 * LOW);
    let not_digit = (high ^ (0x30 * LOW)) | (high_plus_6 ^ (0x30 * LOW));
    let count = (not_digit.trailing_zeros() / 8) as usize;
    if count == 0 {
        return Some((0, 0));
    }
    // The digits' values, moved to the top bytes (the first digit is the lowest byte), so the
    // free low bytes are leading zeros.
    let mut value = (word & (0x0F * LOW)) << (8 * (8 - count));
    value = (value.wrapping_mul(10 << 8 | 1) >> 8) & 0x00FF_00FF_00FF_00FF;
    value = (value.wrapping_mul(100 << 16 | 1) >> 16) & 0x0000_FFFF_0000_FFFF;
    value = value.wrapping_mul(10_000 << 32 | 1) >> 32;
    Some((value, count))
}

/// The length of a line whose text ends at `at`: the line end must follow (`\n`, `\r\n`, or
/// the end of the input).
fn line_end(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at..at + 2) {
        None if at == bytes.len() => Some(at),
        _ if bytes.get(at) == Some(&b'\n') => Some(at + 1),
        Some(b"\r\n") => Some(at + 2),
        _ => None,
    }
}

/// Splits `text` as [`Line::fields`] does (runs of blanks, or one separator character with
/// blanks trimmed) without allocating, for the per-line hot path: stores the first fields in
/// `out` and returns how many fields there are.
fn split_fields<'a>(text: &'a str, separator: Separator, out: &mut [Field<'a>]) -> usize {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let bytes = text.as_bytes();
    let mut count = 0;
    // Splitting at ASCII bytes always lands on character boundaries.
    let mut put = |start: usize, end: usize| {
        if let Some(slot) = out.get_mut(count) {
            *slot = Field {
                text: &text[start..end],
                start,
            };
        }
        count += 1;
    };
    match separator {
        Separator::Whitespace => {
            let mut i = 0;
            while i < bytes.len() {
                if blank(&bytes[i]) {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < bytes.len() && !blank(&bytes[i]) {
                    i += 1;
                }
                put(start, i);
            }
        }
        Separator::Char(c) => {
            for piece in text.split(c) {
                let mut start = piece.as_ptr() as usize - text.as_ptr() as usize;
                let mut end = start + piece.len();
                // End first: an all-blank field is empty at its start, as in `trim_matches`.
                while end > start && blank(&bytes[end - 1]) {
                    end -= 1;
                }
                while start < end && blank(&bytes[start]) {
                    start += 1;
                }
                put(start, end);
            }
        }
    }
    count
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/graph/weighted_one_based.edges"
    );

    fn parse(text: &str, options: &EdgeListOptions) -> Result<Graph> {
        parse_edge_list(text.as_bytes(), "t.edges", options)
    }

    fn err(text: &str, options: &EdgeListOptions) -> String {
        parse(text, options).unwrap_err().to_string()
    }

    fn sorted(mut g: Graph) -> Graph {
        g.sort_neighbors();
        g
    }

    #[test]
    fn fixture_with_comments_weights_and_one_based_ids() {
        let options = EdgeListOptions::new().with_index_base(IndexBase::One);
        let g = read_edge_list(FIXTURE, &options).unwrap();
        assert_eq!(g.num_nodes(), 4);
        assert!(!g.is_directed());
        assert_eq!(g.offsets(), &[0, 3, 5, 6, 7]);
        assert_eq!(g.targets(), &[1, 2, 3, 0, 1, 0, 0]);
        assert_eq!(
            g.weights().unwrap(),
            &[0.5, 2.0, -3.0, 0.5, 1.25, 2.0, -3.0]
        );
        let file = std::io::BufReader::new(File::open(FIXTURE).unwrap());
        assert_eq!(parse_edge_list(file, FIXTURE, &options).unwrap(), g);
        let auto = options.clone().with_index_base(IndexBase::Auto);
        assert_eq!(read_edge_list(FIXTURE, &auto).unwrap(), g);
        let directed = read_edge_list(FIXTURE, &options.clone().with_directed(true)).unwrap();
        assert_eq!(directed.offsets(), &[0, 2, 3, 3, 4]);
        assert_eq!(directed.targets(), &[1, 2, 1, 0]);
        let zero = read_edge_list(FIXTURE, &EdgeListOptions::new()).unwrap();
        assert_eq!(zero.num_nodes(), 5);
        assert_eq!(zero.degree(0), 0);
    }

    #[test]
    fn csv_header_and_gzip() {
        let text = "source,target\n0,1\n 1 , 2\n";
        let g = parse(text, &EdgeListOptions::new().with_directed(true)).unwrap();
        assert_eq!(g.targets(), &[1, 2]);
        let e = err(text, &EdgeListOptions::new().with_header(Header::Absent));
        assert!(e.contains("line 1, column 1: expected a node id"), "{e}");
        let tsv = parse("a\tb\n3\t1\n", &EdgeListOptions::new()).unwrap();
        assert_eq!(tsv.num_nodes(), 4);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.edges.gz");
        let mut gz = flate2::write::GzEncoder::new(
            File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        gz.write_all(text.as_bytes()).unwrap();
        gz.finish().unwrap();
        assert_eq!(
            read_edge_list(&path, &EdgeListOptions::new())
                .unwrap()
                .num_entries(),
            4
        );
    }

    #[test]
    fn wider_lines_and_empty_files() {
        let text = "0 1 2.5 1700000000\n1 2 1 1700000001\n";
        let e = err(text, &EdgeListOptions::new());
        assert!(
            e.contains("line 1: expected 2 fields") && e.contains("found 4"),
            "{e}"
        );
        let g = parse(
            text,
            &EdgeListOptions::new().with_weights(Weights::Weighted),
        )
        .unwrap();
        assert_eq!(g.weights().unwrap(), &[2.5, 2.5, 1.0, 1.0]);
        let g = parse(
            text,
            &EdgeListOptions::new().with_weights(Weights::Unweighted),
        )
        .unwrap();
        assert!(!g.is_weighted());
        let empty = parse(
            "# nothing\n",
            &EdgeListOptions::new().with_num_nodes(Some(3)),
        )
        .unwrap();
        assert_eq!((empty.num_nodes(), empty.num_entries()), (3, 0));
        assert_eq!(parse("", &EdgeListOptions::new()).unwrap().num_nodes(), 0);
    }

    #[test]
    fn bad_lines_name_line_and_column() {
        let o = EdgeListOptions::new();
        let e = err("0 1\n1 x\n", &o);
        assert_eq!(
            e,
            "t.edges: line 2, column 3: expected a node id (a non-negative integer), found `x`"
        );
        let e = err("0 1\n-1 2\n", &o);
        assert!(e.contains("line 2, column 1: expected a node id"), "{e}");
        let e = err("0 1 1\n1 2\n", &o);
        assert!(
            e.contains("line 2: expected 3 fields (as on line 1), found 2"),
            "{e}"
        );
        let e = err("0 1 1\n1 2 inf\n", &o);
        assert!(
            e.contains("line 2, column 5: expected a weight (a finite number)"),
            "{e}"
        );
        let e = err("0 99999999999\n", &o);
        assert!(
            e.contains("column 3: expected a node id of at most 4294967295"),
            "{e}"
        );
        let e = err("0 1\n", &o.clone().with_weights(Weights::Weighted));
        assert!(e.contains("line 1: expected at least 3 fields"), "{e}");
        let e = parse_edge_list(&b"0 1\n\xff\n"[..], "t.edges", &o).unwrap_err();
        let e = e.to_string();
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn ids_out_of_range() {
        let given = EdgeListOptions::new().with_num_nodes(Some(3));
        let e = err("0 1\n# c\n2 3\n", &given);
        assert!(
            e.contains("line 3, column 3: expected a node id from 0 to 2 (3 nodes, zero-based"),
            "{e}"
        );
        let one = given.clone().with_index_base(IndexBase::One);
        assert_eq!(parse("1 3\n", &one).unwrap().targets(), &[2, 0]);
        let e = err("1 2\n0 1\n", &one);
        assert!(
            e.contains("line 2, column 1: expected a node id of at least 1"),
            "{e}"
        );
        let e = err("1 4\n", &one);
        assert!(
            e.contains("column 3: expected a node id from 1 to 3"),
            "{e}"
        );
        // Auto: 3 is in range only if ids are one-based, which a 0 rules out.
        let auto = given.clone().with_index_base(IndexBase::Auto);
        assert_eq!(parse("1 3\n", &auto).unwrap().targets(), &[2, 0]);
        let e = err("1 3\n0 1\n", &auto);
        assert!(
            e.contains("line 1, column 3: expected a node id from 0 to 2"),
            "{e}"
        );
        let capped = EdgeListOptions::new().with_max_inferred_nodes(10);
        assert_eq!(parse("0 9\n", &capped).unwrap().num_nodes(), 10);
        let e = err("0 10\n", &capped);
        assert!(
            e.contains("line 1, column 3: node id 10 would make more nodes"),
            "{e}"
        );
        let e = err("0 4000000000\n", &EdgeListOptions::new());
        assert!(e.contains("max_inferred_nodes"), "{e}");
    }

    #[test]
    fn file_round_trip_one_based() {
        let edges = [(0, 1), (2, 2), (3, 0), (0, 1)];
        let g = Graph::from_edges(5, &edges, Some(&[0.1, 2.0, -1.5, 1e-20]), false).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.edges");
        write_edge_list(&path, &g, true).unwrap();
        let options = EdgeListOptions::new()
            .with_index_base(IndexBase::One)
            .with_num_nodes(Some(5));
        assert_eq!(sorted(read_edge_list(&path, &options).unwrap()), sorted(g));
    }

    #[test]
    fn split_fields_matches_line_fields() {
        let texts = [
            " ",
            "0 1",
            "  0\t 1  2.5 ",
            "a,b",
            " a , b ,",
            ",,",
            "\tx\t\ty",
            "é 1,ü\t2",
        ];
        for text in texts {
            let mut lines = LineReader::new(text.as_bytes(), "t");
            let line = lines.next_line().unwrap().unwrap();
            for separator in [
                Separator::Whitespace,
                Separator::Char(','),
                Separator::Char('\t'),
            ] {
                let expected: Vec<_> = line.fields(separator).map(|f| (f.text, f.start)).collect();
                let mut out = [Field { text: "", start: 0 }; 8];
                let count = split_fields(line.text, separator, &mut out);
                let got: Vec<_> = out[..count].iter().map(|f| (f.text, f.start)).collect();
                assert_eq!(got, expected, "{text:?} {separator:?}");
            }
        }
    }

    /// A reader that hands out at most 3 bytes per read, so lines straddle its reads.
    struct Trickle<'a>(&'a [u8]);

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(3).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    impl BufRead for Trickle<'_> {
        fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
            Ok(&self.0[..self.0.len().min(3)])
        }
        fn consume(&mut self, n: usize) {
            self.0 = &self.0[n..];
        }
    }

    #[test]
    fn eight_digits_matches_parse() {
        for text in [
            "0",
            "7",
            "12",
            "00000001",
            "12345678",
            "99999999",
            "1234567x",
            "1\t2",
            "x1",
            "9/",
            ":9",
            "\u{7f}",
            "10000000",
            "4294967295",
            "0999999999",
        ] {
            let mut chunk = [b'\n'; 8];
            let n = text.len().min(8);
            chunk[..n].copy_from_slice(&text.as_bytes()[..n]);
            let digits = chunk.iter().take_while(|b| b.is_ascii_digit()).count();
            let expected = std::str::from_utf8(&chunk[..digits])
                .unwrap()
                .parse()
                .unwrap_or(0);
            assert_eq!(eight_digits(&chunk), Some((expected, digits)), "{text:?}");
        }
        assert_eq!(eight_digits(b"123"), None);
    }

    #[test]
    fn large_input_across_reads_and_line_ends() {
        // More than one buffer of the line reader, CRLF lines, comments and a last line
        // without its line end.
        let mut text = String::from("# big\r\n");
        let mut edges = Vec::new();
        for i in 0..150_000u32 {
            let (u, v) = (i % 1000, i.wrapping_mul(2_654_435_761) % 4_000);
            edges.push((u, v));
            let end = match i % 3 {
                0 => "\r\n",
                _ => "\n",
            };
            text.push_str(&format!("{u}\t{v}{end}"));
            if i % 10_000 == 0 {
                text.push_str("% note\n\n");
            }
        }
        text.push_str("5\t6");
        edges.push((5, 6));
        assert!(text.len() > 1 << 20);
        let options = EdgeListOptions::new().with_directed(true);
        let expected = Graph::from_edges(4000, &edges, None, true).unwrap();
        let g = parse_edge_list(text.as_bytes(), "t.edges", &options).unwrap();
        assert_eq!(g, expected);
        let g = parse_edge_list(Trickle(text.as_bytes()), "t.edges", &options).unwrap();
        assert_eq!(g, expected);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.edges");
        std::fs::write(&path, &text).unwrap();
        assert_eq!(read_edge_list(&path, &options).unwrap(), expected);
        // A bad line deep in the file is named by its number.
        let bad = format!("{text}x");
        std::fs::write(&path, &bad).unwrap();
        let e = read_edge_list(&path, &options).unwrap_err().to_string();
        let line = bad.lines().count();
        assert!(
            e.contains(&format!("line {line}, column 3: expected a node id")),
            "{e}"
        );
    }

    fn line_texts() -> impl Strategy<Value = Vec<(Vec<&'static str>, bool)>> {
        let token = prop::sample::select(vec![
            "0",
            "1",
            "3",
            "7",
            "00",
            "12",
            "4294967295",
            "4294967296",
            "99999999999",
            "x",
            "-1",
            "2.5",
            "inf",
            "",
            "1e3",
            "#",
        ]);
        let line = (proptest::collection::vec(token, 0..4), any::<bool>());
        proptest::collection::vec(line, 0..12)
    }

    /// The text of `lines`, fields joined by `separator`, each line ending in `\n` or `\r\n`
    /// after `pad`.
    fn join(lines: &[(Vec<&str>, bool)], separator: &str, pad: &str) -> String {
        let mut text = String::new();
        for (fields, crlf) in lines {
            text.push_str(&fields.join(separator));
            text.push_str(pad);
            text.push_str(if *crlf { "\r\n" } else { "\n" });
        }
        text
    }

    fn graphs() -> impl Strategy<Value = Graph> {
        (1usize..12, any::<bool>(), any::<bool>()).prop_flat_map(|(n, directed, weighted)| {
            let edge = (0..n as u32, 0..n as u32, -1e6f32..1e6);
            proptest::collection::vec(edge, 0..40).prop_map(move |edges| {
                let pairs: Vec<_> = edges.iter().map(|&(u, v, _)| (u, v)).collect();
                let w: Vec<_> = edges.iter().map(|&(_, _, w)| w).collect();
                Graph::from_edges(n, &pairs, weighted.then_some(&w[..]), directed).unwrap()
            })
        })
    }

    proptest! {
        #[test]
        fn write_then_read_is_the_same_graph(g in graphs(), one_based in any::<bool>()) {
            let mut text = Vec::new();
            format_edge_list(&mut text, &g, one_based).unwrap();
            let options = EdgeListOptions::new()
                .with_directed(g.is_directed())
                .with_num_nodes(Some(g.num_nodes()))
                .with_index_base(if one_based { IndexBase::One } else { IndexBase::Zero })
                .with_weights(if g.is_weighted() { Weights::Weighted } else { Weights::Unweighted });
            let back = parse_edge_list(&text[..], "p.edges", &options).unwrap();
            prop_assert_eq!(sorted(back), sorted(g));
        }

        #[test]
        fn fast_and_slow_paths_agree(
            lines in line_texts(),
            comma in any::<bool>(),
            directed in any::<bool>(),
            num_nodes in prop::option::of(0usize..10),
            base in prop::sample::select(vec![IndexBase::Zero, IndexBase::One, IndexBase::Auto]),
        ) {
            // A trailing blank (trimmed) keeps every line off the fast path.
            let separator = if comma { "," } else { " " };
            let fast = join(&lines, separator, "");
            let slow = join(&lines, separator, " ");
            let options = EdgeListOptions::new()
                .with_directed(directed)
                .with_num_nodes(num_nodes)
                .with_index_base(base)
                .with_max_inferred_nodes(100);
            let outcome = |text: &str| {
                parse_edge_list(text.as_bytes(), "p.edges", &options).map_err(|e| e.to_string())
            };
            let expected = outcome(&slow);
            prop_assert_eq!(&outcome(&fast), &expected);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("p.edges");
            std::fs::write(&path, &fast).unwrap();
            let read = read_edge_list(&path, &options).map_err(|e| e.to_string());
            match (&read, &expected) {
                (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
                (Err(a), Err(b)) => prop_assert_eq!(
                    a.replace(&path.display().to_string(), "p.edges"),
                    b.clone()
                ),
                _ => prop_assert!(false, "{read:?} {expected:?}"),
            }
        }
    }
}
