//! The LINQS citation datasets (Cora, CiteSeer) in their original two-file format, as
//! distributed by the LINQS group (Sen et al., "Collective Classification in Network Data",
//! AI Magazine 2008) and used by Kipf & Welling's GCN.
//!
//! `<name>.content`, one paper per line:
//!
//! ```text
//! paper_id<TAB>f1<TAB>...<TAB>fn<TAB>class_label
//! ```
//!
//! Paper ids are strings (`31336` in Cora, `100157` or `kaplan96` in CiteSeer); the `n` word
//! features are 0/1 (any finite number is accepted). Fields are separated by tabs if the first
//! line has one (then an empty label is detected), by runs of blanks otherwise.
//!
//! `<name>.cites`, one citation per line: `cited_paper_id<TAB>citing_paper_id`; it becomes
//! the directed edge `citing -> cited` (Kipf & Welling use the graph undirected:
//! [`Graph::to_undirected`](super::Graph::to_undirected)). Duplicate citations and self
//! citations are kept as given ([`Graph::dedupe`](super::Graph::dedupe) merges them).
//!
//! Dangling citations, naming a paper that is not in `.content` (CiteSeer has some), are
//! never dropped silently: by default ([`OnDangling::Skip`]) the edge is skipped and each
//! dangling id is listed in [`LinqsData::dangling`] with its line; [`OnDangling::Error`]
//! makes them errors.
//!
//! Nodes are the papers in `.content` order, named by their ids; classes are the distinct
//! labels sorted by name, and every node is labelled. Errors (with file, line and column): a
//! feature count differing from the first line's, a non-numeric feature, a duplicated paper id,
//! an empty label, a `.cites` line without exactly two ids.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use convkit_core::{Error, Result};
use serde::{Deserialize, Serialize};

use super::{Graph, NodeData, parse_finite};
use crate::lines::{Line, LineReader, Separator, quoted};

/// What to do with a citation naming a paper missing from `.content`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OnDangling {
    /// Skip the citation and list the id in [`LinqsData::dangling`].
    Skip,
    /// Fail with an error naming the line and column.
    Error,
}

/// A paper id of `.cites` that is not in `.content`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DanglingCitation {
    /// The 1-based line of `.cites`.
    pub line: usize,
    /// The unknown paper id.
    pub id: String,
}

/// A LINQS dataset: the citation graph with features and labels, and the skipped citations.
#[derive(Debug, Clone, PartialEq)]
pub struct LinqsData {
    /// Papers as nodes (named by paper id), the directed graph `citing -> cited`, binary word
    /// features, labels indexing the sorted class names.
    pub nodes: NodeData,
    /// Every dangling id of `.cites` in line order (both ids of a line if both are unknown);
    /// the citations they are on are not in the graph.
    pub dangling: Vec<DanglingCitation>,
}

/// Reads `<prefix>.content` and `<prefix>.cites`; `path` is that prefix (`data/cora/cora`) or
/// a directory holding one `.content` file with its `.cites` (`data/cora`). Files may be gzip.
pub fn read_linqs(path: impl AsRef<Path>, on_dangling: OnDangling) -> Result<LinqsData> {
    let prefix = prefix_of(path.as_ref())?;
    let content = with_suffix(&prefix, ".content");
    let cites = with_suffix(&prefix, ".cites");
    let content_reader = crate::lines::open(&content)?;
    let cites_reader = crate::lines::open(&cites)?;
    parse_files(
        LineReader::new(content_reader, content),
        LineReader::new(cites_reader, cites),
        on_dangling,
    )
}

/// Reads a LINQS dataset from two readers; errors name `<prefix>.content` and
/// `<prefix>.cites`.
pub fn parse_linqs(
    content: impl BufRead,
    cites: impl BufRead,
    prefix: impl AsRef<Path>,
    on_dangling: OnDangling,
) -> Result<LinqsData> {
    let prefix = prefix.as_ref();
    parse_files(
        LineReader::new(content, with_suffix(prefix, ".content")),
        LineReader::new(cites, with_suffix(prefix, ".cites")),
        on_dangling,
    )
}

/// `path` itself if it is not a directory, else `path/<stem>` of its only `.content` file.
fn prefix_of(path: &Path) -> Result<PathBuf> {
    if !path.is_dir() {
        return Ok(path.to_path_buf());
    }
    let entries = std::fs::read_dir(path).map_err(|e| Error::io(path, e))?;
    let mut stems = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(path, e))?.path();
        if entry.extension().is_some_and(|e| e == "content")
            && let Some(stem) = entry.file_stem()
        {
            stems.push(path.join(stem));
        }
    }
    match <[PathBuf; 1]>::try_from(stems) {
        Ok([prefix]) => Ok(prefix),
        Err(stems) => Err(Error::file(
            path,
            format!(
                "expected one `.content` file in the directory, found {}",
                stems.len()
            ),
        )),
    }
}

fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(prefix.as_os_str());
    name.push(suffix);
    name.into()
}

fn parse_files<C: BufRead, K: BufRead>(
    mut content: LineReader<C>,
    mut cites: LineReader<K>,
    on_dangling: OnDangling,
) -> Result<LinqsData> {
    let papers = read_content(&mut content)?;
    let index: HashMap<&str, u32> = papers
        .ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i as u32))
        .collect();
    let mut edges = Vec::new();
    let mut dangling = Vec::new();
    let content_path = content.path().display().to_string();
    while let Some(line) = cites.next_content(&[])? {
        let fields =
            line.exact_fields(Separator::Whitespace, 2, "cited paper id, citing paper id")?;
        let mut pair = [0u32; 2];
        let mut known = true;
        for (slot, field) in pair.iter_mut().zip(&fields) {
            match index.get(field.text) {
                Some(&i) => *slot = i,
                None if on_dangling == OnDangling::Error => {
                    return Err(line.error_at(
                        field.start,
                        format!(
                            "expected a paper id of {content_path}, found {}",
                            quoted(field.text)
                        ),
                    ));
                }
                None => {
                    known = false;
                    dangling.push(DanglingCitation {
                        line: line.number,
                        id: field.text.to_string(),
                    });
                }
            }
        }
        if known {
            let [cited, citing] = pair;
            edges.push((citing, cited));
        }
    }
    let graph = Graph::from_edges(papers.ids.len(), &edges, None, true)?;
    Ok(LinqsData {
        nodes: NodeData {
            graph,
            features: papers.features,
            feature_dim: papers.feature_dim,
            labels: papers.labels,
            classes: papers.classes,
            node_names: papers.ids,
        },
        dangling,
    })
}

/// The rows of `.content`.
struct Papers {
    ids: Vec<String>,
    features: Vec<f32>,
    feature_dim: usize,
    labels: Vec<Option<usize>>,
    classes: Vec<String>,
}

fn read_content<R: BufRead>(lines: &mut LineReader<R>) -> Result<Papers> {
    let mut ids: Vec<String> = Vec::new();
    let mut first_line_of: HashMap<String, usize> = HashMap::new();
    let mut features = Vec::new();
    let mut label_names: Vec<String> = Vec::new();
    // (separator, feature count, line) of the first row.
    let mut layout: Option<(Separator, usize, usize)> = None;
    while let Some(line) = lines.next_content(&[])? {
        let (separator, dim, first) = match layout {
            Some(l) => l,
            None => {
                let separator = if line.text.contains('\t') {
                    Separator::Char('\t')
                } else {
                    Separator::Whitespace
                };
                let count = line.fields(separator).count();
                if count < 2 {
                    return Err(line.error(format!(
                        "expected a paper id, features and a label, found {count} field(s)"
                    )));
                }
                *layout.insert((separator, count - 2, line.number))
            }
        };
        let fields: Vec<_> = line.fields(separator).collect();
        if fields.len() != dim + 2 {
            return Err(line.error(format!(
                "expected {dim} features (as on line {first}), found {}",
                fields.len().saturating_sub(2)
            )));
        }
        let (id, label) = (fields[0], fields[dim + 1]);
        if id.text.is_empty() {
            return Err(line.error_at(id.start, "expected a paper id, found an empty field"));
        }
        if label.text.is_empty() {
            return Err(line.error_at(label.start, "expected a class label, found an empty field"));
        }
        if let Some(previous) = first_line_of.insert(id.text.to_string(), line.number) {
            return Err(line.error_at(
                id.start,
                format!(
                    "duplicated paper id {} (first on line {previous})",
                    quoted(id.text)
                ),
            ));
        }
        for &field in &fields[1..=dim] {
            features.push(feature(&line, field)?);
        }
        ids.push(id.text.to_string());
        label_names.push(label.text.to_string());
    }
    let mut classes = label_names.clone();
    classes.sort();
    classes.dedup();
    let labels = label_names
        .iter()
        .map(|name| classes.binary_search(name).ok())
        .collect();
    Ok(Papers {
        ids,
        features,
        feature_dim: layout.map_or(0, |(_, dim, _)| dim),
        labels,
        classes,
    })
}

/// A word feature: `0` and `1` directly, anything else as a finite number.
fn feature(line: &Line<'_>, field: crate::lines::Field<'_>) -> Result<f32> {
    match field.text {
        "0" => Ok(0.0),
        "1" => Ok(1.0),
        _ => parse_finite(line, field, "a word feature"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/graph");

    fn parse(content: &str, cites: &str) -> Result<LinqsData> {
        parse_linqs(content.as_bytes(), cites.as_bytes(), "t", OnDangling::Skip)
    }

    #[test]
    fn tiny_cora_fixture() {
        let data = read_linqs(format!("{DIR}/tiny_cora"), OnDangling::Skip).unwrap();
        let n = &data.nodes;
        n.validate().unwrap();
        assert_eq!(
            n.node_names,
            ["31336", "kaplan96", "1061127", "ge-2001", "100157"]
        );
        assert_eq!(n.classes, ["Case_Based", "Neural_Networks", "Theory"]);
        assert_eq!(
            n.labels,
            [Some(1), Some(2), Some(0), Some(1), Some(2)],
            "labels index the sorted classes"
        );
        assert_eq!(n.feature_dim, 4);
        assert_eq!(n.feature_row(1).unwrap(), &[1.0, 0.0, 0.0, 1.0]);
        // cites: 31336<-kaplan96, 31336<-1061127, ge-2001<-100157, missing<-31336,
        // kaplan96<-kaplan96 (self citation); edges citing -> cited.
        assert_eq!(n.graph.offsets(), &[0, 0, 2, 3, 3, 4]);
        assert_eq!(n.graph.targets(), &[0, 1, 0, 3]);
        assert!(n.graph.is_directed());
        assert_eq!(
            data.dangling,
            [DanglingCitation {
                line: 4,
                id: "99999".into()
            }]
        );
        let e = read_linqs(format!("{DIR}/tiny_cora"), OnDangling::Error).unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("tiny_cora.cites: line 4, column 1: expected a paper id of")
                && e.contains("found `99999`"),
            "{e}"
        );
    }

    #[test]
    fn directory_and_whitespace_forms() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.content"), "a 1 0 L\nb 0 1 M\n").unwrap();
        std::fs::write(dir.path().join("x.cites"), "a b\n").unwrap();
        let data = read_linqs(dir.path(), OnDangling::Error).unwrap();
        assert_eq!(data.nodes.graph.targets(), &[0]);
        assert_eq!(data.nodes.graph.offsets(), &[0, 0, 1]);
        std::fs::write(dir.path().join("y.content"), "").unwrap();
        let e = read_linqs(dir.path(), OnDangling::Skip)
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected one `.content` file"), "{e}");
    }

    #[test]
    fn bad_content_and_cites() {
        let e = parse("p1\t1\t0\tA\np2\t1\tA\n", "")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.content: line 2: expected 2 features (as on line 1), found 1"
        );
        let e = parse("p1\t1\t0\tA\np1\t0\t0\tB\n", "")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.content: line 2, column 1: duplicated paper id `p1` (first on line 1)"
        );
        let e = parse("p1\t1\t0\t\n", "").unwrap_err().to_string();
        assert!(
            e.contains("line 1, column 8: expected a class label"),
            "{e}"
        );
        let e = parse("p1\t1\tx\tA\n", "").unwrap_err().to_string();
        assert!(
            e.contains("line 1, column 6: expected a word feature"),
            "{e}"
        );
        let e = parse("p1\n", "").unwrap_err().to_string();
        assert!(
            e.contains("line 1: expected a paper id, features and a label"),
            "{e}"
        );
        let e = parse("p1\t1\tA\n", "p1\tp1\tp1\n").unwrap_err().to_string();
        assert!(e.contains("t.cites: line 1: expected 2 fields"), "{e}");
        let both = parse("p1\t1\tA\n", "x\ty\np1\tp1\n").unwrap();
        assert_eq!(both.dangling.len(), 2);
        assert_eq!(both.nodes.graph.num_edges(), 1);
        let empty = parse("", "").unwrap();
        assert_eq!((empty.nodes.num_nodes(), empty.nodes.feature_dim), (0, 0));
    }
}
