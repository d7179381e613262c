//! The Elliptic Bitcoin transaction graph of Weber et al., "Anti-Money Laundering in Bitcoin:
//! Experimenting with Graph Convolutional Networks" (KDD Workshop on Anomaly Detection in
//! Finance, 2019), as released on Kaggle: three CSV files in one directory.
//!
//! - [`FEATURES_FILE`] (`elliptic_txs_features.csv`), **no header**, one transaction per line,
//!   comma-separated. In the real data each line has 167 columns: column 1 is the transaction
//!   id (`txId`, a non-negative integer), column 2 the time step (1 to 49, about two weeks
//!   each), then 165 features (93 local features of the transaction and 72 aggregated over its
//!   neighbours; the paper's "94 local features" count the time step). Any column count of at
//!   least 2 is accepted as long as every line has the same (fixtures use a few features): the
//!   features are the columns after the time step, so [`NodeData::feature_dim`] is the column
//!   count minus 2 (165 for the real data).
//! - [`EDGES_FILE`] (`elliptic_txs_edgelist.csv`), header `txId1,txId2`, one payment flow per
//!   line: the directed edge `txId1 -> txId2`.
//! - [`CLASSES_FILE`] (`elliptic_txs_classes.csv`), header `txId,class`, one line per
//!   transaction: `1` (illicit), `2` (licit) or `unknown`.
//!
//! Nodes are the transactions in features-file order, named by their ids. Labels follow
//! PyTorch Geometric's `EllipticBitcoinDataset`: [`CLASSES`] is `["licit", "illicit"]`, so
//! illicit (the positive class of the paper's F1 score) is label 1 and `unknown` is `None`.
//! [`EllipticData::time_steps`] keeps each node's time step for the paper's temporal split
//! ([`EllipticData::temporal_split`]: train on steps 1-34, test on 35-49).
//!
//! Errors, with file, line and column: a line with another column count than the first, a
//! non-numeric id, time step 0 or a non-finite feature, a duplicated transaction id, an edge or
//! class naming an unknown transaction, a wrong header, a class value other than the three, a
//! second class line for a transaction, a transaction without a class line.

use std::collections::HashMap;
use std::io::BufRead;
use std::ops::RangeInclusive;
use std::path::Path;

use convkit_core::Result;

use super::{Graph, NodeData, parse_finite};
use crate::lines::{Field, Line, LineReader, Separator, quoted};

/// The features file name.
pub const FEATURES_FILE: &str = "elliptic_txs_features.csv";
/// The edge list file name.
pub const EDGES_FILE: &str = "elliptic_txs_edgelist.csv";
/// The classes file name.
pub const CLASSES_FILE: &str = "elliptic_txs_classes.csv";
/// Class names in label order: file class `2` is label 0, class `1` label 1.
pub const CLASSES: [&str; 2] = ["licit", "illicit"];
/// The time steps the paper trains on.
pub const TRAIN_STEPS: RangeInclusive<u32> = 1..=34;
/// The time steps the paper tests on.
pub const TEST_STEPS: RangeInclusive<u32> = 35..=49;

/// The Elliptic dataset: the transaction graph with features and labels, and time steps.
#[derive(Debug, Clone, PartialEq)]
pub struct EllipticData {
    /// Transactions as nodes (named by `txId`), directed payment-flow edges, the features
    /// after the time step, labels over [`CLASSES`] (`None`: unknown).
    pub nodes: NodeData,
    /// The time step of each node (column 2 of the features file).
    pub time_steps: Vec<u32>,
}

impl EllipticData {
    /// The nodes whose time step is in `steps`, in increasing order.
    pub fn nodes_in_steps(&self, steps: RangeInclusive<u32>) -> Vec<usize> {
        let inside = self.time_steps.iter().enumerate();
        inside
            .filter(|(_, t)| steps.contains(t))
            .map(|(i, _)| i)
            .collect()
    }

    /// The paper's temporal split: the labelled nodes of [`TRAIN_STEPS`] and those of
    /// [`TEST_STEPS`].
    pub fn temporal_split(&self) -> (Vec<usize>, Vec<usize>) {
        let labelled = |steps| {
            let mut nodes = self.nodes_in_steps(steps);
            nodes.retain(|&i| self.nodes.labels.get(i).is_some_and(Option::is_some));
            nodes
        };
        (labelled(TRAIN_STEPS), labelled(TEST_STEPS))
    }
}

/// Reads the three files from `dir` (each plain or gzip).
pub fn read_elliptic(dir: impl AsRef<Path>) -> Result<EllipticData> {
    let dir = dir.as_ref();
    let open = |name| -> Result<_> {
        let path = dir.join(name);
        Ok(LineReader::new(crate::lines::open(&path)?, path))
    };
    parse_files(open(FEATURES_FILE)?, open(EDGES_FILE)?, open(CLASSES_FILE)?)
}

/// Reads the dataset from three readers; errors name the standard file names in `dir`.
pub fn parse_elliptic(
    features: impl BufRead,
    edges: impl BufRead,
    classes: impl BufRead,
    dir: impl AsRef<Path>,
) -> Result<EllipticData> {
    let dir = dir.as_ref();
    parse_files(
        LineReader::new(features, dir.join(FEATURES_FILE)),
        LineReader::new(edges, dir.join(EDGES_FILE)),
        LineReader::new(classes, dir.join(CLASSES_FILE)),
    )
}

const COMMA: Separator = Separator::Char(',');

/// The transactions of the features file.
struct Transactions {
    /// `txId` -> (node, line of the features file).
    index: HashMap<u64, (u32, usize)>,
    ids: Vec<u64>,
    time_steps: Vec<u32>,
    features: Vec<f32>,
    feature_dim: usize,
}

impl Transactions {
    /// The node of the transaction id in `field`, or an error naming it.
    fn node(&self, line: &Line<'_>, field: Field<'_>) -> Result<u32> {
        let id = tx_id(line, field)?;
        self.index.get(&id).map(|&(node, _)| node).ok_or_else(|| {
            line.error_at(
                field.start,
                format!("unknown transaction id {id} (not in {FEATURES_FILE})"),
            )
        })
    }
}

fn parse_files<F: BufRead, E: BufRead, C: BufRead>(
    mut features: LineReader<F>,
    mut edges: LineReader<E>,
    mut classes: LineReader<C>,
) -> Result<EllipticData> {
    let txs = read_features(&mut features)?;
    expect_header(&mut edges, "txId1,txId2")?;
    let mut pairs = Vec::new();
    while let Some(line) = edges.next_content(&[])? {
        let fields = line.exact_fields(COMMA, 2, "txId1, txId2")?;
        pairs.push((txs.node(&line, fields[0])?, txs.node(&line, fields[1])?));
    }
    let n = txs.ids.len();
    let graph = Graph::from_edges(n, &pairs, None, true)?;
    drop(pairs);
    expect_header(&mut classes, "txId,class")?;
    let mut labels = vec![None; n];
    // The classes-file line of each node (0: none yet).
    let mut class_line = vec![0usize; n];
    while let Some(line) = classes.next_content(&[])? {
        let fields = line.exact_fields(COMMA, 2, "txId, class")?;
        let node = txs.node(&line, fields[0])? as usize;
        if class_line[node] != 0 {
            return Err(line.error_at(
                fields[0].start,
                format!(
                    "a second class for transaction {} (first on line {})",
                    txs.ids[node], class_line[node]
                ),
            ));
        }
        class_line[node] = line.number;
        labels[node] = match fields[1].text {
            "2" => Some(0),
            "1" => Some(1),
            "unknown" => None,
            other => {
                return Err(line.error_at(
                    fields[1].start,
                    format!(
                        "expected a class `1` (illicit), `2` (licit) or `unknown`, found {}",
                        quoted(other)
                    ),
                ));
            }
        };
    }
    if let Some(node) = class_line.iter().position(|&l| l == 0) {
        let id = txs.ids[node];
        let features_line = txs.index.get(&id).map_or(0, |&(_, l)| l);
        return Err(classes.error_at_end(format!(
            "expected a class for every transaction, transaction {id} (line {features_line} \
             of {FEATURES_FILE}) has none"
        )));
    }
    Ok(EllipticData {
        nodes: NodeData {
            graph,
            features: txs.features,
            feature_dim: txs.feature_dim,
            labels,
            classes: CLASSES.map(String::from).to_vec(),
            node_names: txs.ids.iter().map(u64::to_string).collect(),
        },
        time_steps: txs.time_steps,
    })
}

fn read_features<R: BufRead>(lines: &mut LineReader<R>) -> Result<Transactions> {
    let mut txs = Transactions {
        index: HashMap::new(),
        ids: Vec::new(),
        time_steps: Vec::new(),
        features: Vec::new(),
        feature_dim: 0,
    };
    // (column count, line) of the first line.
    let mut layout: Option<(usize, usize)> = None;
    while let Some(line) = lines.next_content(&[])? {
        let fields: Vec<_> = line.fields(COMMA).collect();
        let (columns, first) = *layout.get_or_insert((fields.len(), line.number));
        if fields.len() != columns || columns < 2 {
            return Err(line.error(format!(
                "expected {} columns (txId, time step, features{}), found {}",
                columns.max(2),
                if columns < 2 {
                    String::new()
                } else {
                    format!("; as on line {first}")
                },
                fields.len()
            )));
        }
        let id = tx_id(&line, fields[0]).map_err(|_| {
            line.error_at(
                fields[0].start,
                format!(
                    "expected a transaction id (the features file has no header), found {}",
                    quoted(fields[0].text)
                ),
            )
        })?;
        let step = match fields[1].text.parse::<u32>() {
            Ok(step) if step > 0 => step,
            _ => {
                return Err(line.error_at(
                    fields[1].start,
                    format!(
                        "expected a time step (a positive integer), found {}",
                        quoted(fields[1].text)
                    ),
                ));
            }
        };
        let node = u32::try_from(txs.ids.len())
            .ok()
            .filter(|&n| (n as usize) < super::MAX_NODES)
            .ok_or_else(|| line.error("more transactions than u32 node ids allow"))?;
        if let Some(&(_, previous)) = txs.index.get(&id) {
            return Err(line.error_at(
                fields[0].start,
                format!("duplicated transaction id {id} (first on line {previous})"),
            ));
        }
        txs.index.insert(id, (node, line.number));
        for &field in &fields[2..] {
            txs.features.push(parse_finite(&line, field, "a feature")?);
        }
        txs.ids.push(id);
        txs.time_steps.push(step);
        txs.feature_dim = columns - 2;
    }
    Ok(txs)
}

fn tx_id(line: &Line<'_>, field: Field<'_>) -> Result<u64> {
    line.parse(field, "a transaction id (a non-negative integer)")
}

/// Consumes the header line, or fails naming what was expected.
fn expect_header<R: BufRead>(lines: &mut LineReader<R>, header: &str) -> Result<()> {
    let expected: Vec<&str> = header.split(',').collect();
    match lines.next_content(&[])? {
        Some(line)
            if line
                .fields(COMMA)
                .map(|f| f.text)
                .eq(expected.iter().copied()) =>
        {
            Ok(())
        }
        Some(line) => Err(line.error(format!(
            "expected the header `{header}`, found {}",
            quoted(line.text)
        ))),
        None => Err(lines.error_at_end(format!("expected the header `{header}`"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/graph/tiny_elliptic"
    );
    const FEATURES: &str = "1,1,0.5\n2,1,-1\n3,2,2\n";
    const EDGES: &str = "txId1,txId2\n1,2\n3,1\n";
    const CLASSES_CSV: &str = "txId,class\n1,1\n2,2\n3,unknown\n";

    fn parse(features: &str, edges: &str, classes: &str) -> Result<EllipticData> {
        parse_elliptic(
            features.as_bytes(),
            edges.as_bytes(),
            classes.as_bytes(),
            "e",
        )
    }

    fn err(features: &str, edges: &str, classes: &str) -> String {
        parse(features, edges, classes).unwrap_err().to_string()
    }

    #[test]
    fn tiny_fixture() {
        let data = read_elliptic(DIR).unwrap();
        let n = &data.nodes;
        n.validate().unwrap();
        assert_eq!(
            n.node_names,
            [
                "230425980",
                "5530458",
                "232022460",
                "232438397",
                "230460314",
                "230459870"
            ]
        );
        assert_eq!(data.time_steps, [1, 1, 34, 34, 35, 35]);
        assert_eq!(n.feature_dim, 3);
        assert_eq!(n.feature_row(2).unwrap(), &[0.3, -1.0, 2.5]);
        assert_eq!(n.classes, ["licit", "illicit"]);
        assert_eq!(n.labels, [None, Some(0), Some(1), Some(0), None, Some(1)]);
        assert!(n.graph.is_directed());
        assert_eq!(n.graph.offsets(), &[0, 1, 2, 3, 3, 4, 4]);
        assert_eq!(n.graph.targets(), &[1, 3, 3, 5]);
        assert_eq!(data.nodes_in_steps(34..=49), [2, 3, 4, 5]);
        assert_eq!(data.temporal_split(), (vec![1, 2, 3], vec![5]));
    }

    #[test]
    fn small_inline_dataset() {
        let data = parse(FEATURES, EDGES, CLASSES_CSV).unwrap();
        assert_eq!(data.nodes.labels, [Some(1), Some(0), None]);
        assert_eq!(data.nodes.graph.targets(), &[1, 0]);
        let no_features = parse("7,3\n", "txId1,txId2\n", "txId,class\n7,2\n").unwrap();
        assert_eq!(no_features.nodes.feature_dim, 0);
    }

    #[test]
    fn bad_features() {
        let e = err("1,1,0.5\n2,1\n", EDGES, CLASSES_CSV);
        assert!(
            e.ends_with(
                "line 2: expected 3 columns (txId, time step, features; as on line 1), found 2"
            ),
            "{e}"
        );
        let e = err("txId,time,f\n1,1,0\n", EDGES, CLASSES_CSV);
        assert!(
            e.contains("line 1, column 1: expected a transaction id (the features file has no header), found `txId`"),
            "{e}"
        );
        let e = err("1,0,0.5\n", EDGES, CLASSES_CSV);
        assert!(e.contains("line 1, column 3: expected a time step"), "{e}");
        let e = err("1,1,0.5\n1,2,1\n", EDGES, CLASSES_CSV);
        assert!(
            e.contains("line 2, column 1: duplicated transaction id 1 (first on line 1)"),
            "{e}"
        );
        let e = err("1,1,abc\n", EDGES, CLASSES_CSV);
        assert!(
            e.contains("line 1, column 5: expected a feature (a finite number)"),
            "{e}"
        );
        let e = err("1\n", EDGES, CLASSES_CSV);
        assert!(e.contains("line 1: expected 2 columns"), "{e}");
    }

    #[test]
    fn bad_edges_and_classes() {
        let e = err(FEATURES, "1,2\n", CLASSES_CSV);
        assert!(
            e.contains(
                "elliptic_txs_edgelist.csv: line 1: expected the header `txId1,txId2`, found `1,2`"
            ),
            "{e}"
        );
        let e = err(FEATURES, "", CLASSES_CSV);
        assert!(
            e.contains("at the end (after line 0): expected the header"),
            "{e}"
        );
        let e = err(FEATURES, "txId1,txId2\n1,2\n3,9\n", CLASSES_CSV);
        assert!(
            e.contains("line 3, column 3: unknown transaction id 9"),
            "{e}"
        );
        let e = err(FEATURES, "txId1,txId2\n1,2,3\n", CLASSES_CSV);
        assert!(e.contains("line 2: expected 2 fields"), "{e}");
        let e = err(FEATURES, EDGES, "txId,class\n1,1\n2,3\n3,1\n");
        assert!(e.contains("elliptic_txs_classes.csv: line 3, column 3: expected a class `1` (illicit), `2` (licit) or `unknown`, found `3`"), "{e}");
        let e = err(FEATURES, EDGES, "txId,class\n1,1\n2,2\n1,2\n");
        assert!(
            e.contains("line 4, column 1: a second class for transaction 1 (first on line 2)"),
            "{e}"
        );
        let e = err(FEATURES, EDGES, "txId,class\n1,1\n2,2\n");
        assert!(
            e.contains("transaction 3 (line 3 of elliptic_txs_features.csv) has none"),
            "{e}"
        );
        let e = err(FEATURES, EDGES, "txId,class\n1,1\n2,2\n4,2\n");
        assert!(
            e.contains("line 4, column 1: unknown transaction id 4"),
            "{e}"
        );
    }
}
