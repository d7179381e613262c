//! Categorical node attributes: a table of nodes × categorical fields, and the field-offset
//! encoding of CatGCN.
//!
//! CatGCN (Chen et al. 2021, "CatGCN: Graph Convolutional Networks with Categorical Node
//! Features") embeds each categorical value of a node (user gender, age bucket, city, …) and
//! models the interactions between a node's fields before propagating over the graph. Its
//! input is, per node, the global feature index of each present value: the value's index in
//! its field's vocabulary plus the field's offset (the sizes of the vocabularies before it).
//!
//! # Format
//!
//! A delimited text table with a header line (comma separated; tab separated when the header
//! has tabs and no commas or spaces; runs of blanks otherwise):
//!
//! ```text
//! user,gender,age,city
//! u1,f,18-24,paris
//! u2,m,25-34,
//! ```
//!
//! One column holds the node id ([`CategoricalOptions::id_column`], the first column by
//! default); every other column is a field, in header order. Values are opaque strings
//! (integers too: `3` and `03` are different values); an empty value is missing. Each field
//! has its own vocabulary, indexed in first-seen order (so the indices do not depend on
//! anything but the file, and a value seen first keeps its index when rows are appended).
//! Quoting is not supported: values cannot contain the separator. Blank lines are skipped.
//!
//! # Errors
//!
//! With the file and line (and column where one field is at fault): an empty file, an empty
//! or repeated column name, no column of the requested id name, a row with another number of
//! fields than the header, an empty node id, a node on two rows (both lines named). Joining
//! with a graph ([`CategoricalTable::reorder`]) fails on a graph node without a row.

use std::io::BufRead;
use std::path::Path;

use burn::config::Config;
use convkit_core::{Error, Result};

use crate::interactions::IdMap;
use crate::lines::{LineReader, Separator, quoted};

/// Options of [`read_categorical`].
#[derive(Config, Debug)]
pub struct CategoricalOptions {
    /// The name of the node id column; `None` takes the first column.
    pub id_column: Option<String>,
}

/// Categorical values of nodes: `num_nodes` rows × `num_fields` fields, each value an index
/// into its field's vocabulary or missing.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoricalTable {
    node_ids: IdMap,
    fields: Vec<String>,
    values: Vec<Option<u32>>,
    vocabs: Vec<IdMap>,
}

impl CategoricalTable {
    /// Number of nodes (rows).
    pub fn num_nodes(&self) -> usize {
        self.node_ids.len()
    }

    /// Number of fields (columns other than the node id).
    pub fn num_fields(&self) -> usize {
        self.fields.len()
    }

    /// The node names; row `k` is node `node_ids().name(k)`.
    pub fn node_ids(&self) -> &IdMap {
        &self.node_ids
    }

    /// The field names, in column order.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// The vocabulary of every field.
    pub fn vocabs(&self) -> &[IdMap] {
        &self.vocabs
    }

    /// All values, `[num_nodes, num_fields]` row-major.
    pub fn values(&self) -> &[Option<u32>] {
        &self.values
    }

    /// The values of node `row`, one per field.
    pub fn row(&self, row: usize) -> Option<&[Option<u32>]> {
        let f = self.num_fields();
        (row < self.num_nodes()).then(|| &self.values[row * f..(row + 1) * f])
    }

    /// Where each field's values start in the global feature space: `num_fields + 1`
    /// offsets, the last being [`CategoricalTable::num_features`].
    pub fn field_offsets(&self) -> Vec<usize> {
        let mut offsets = Vec::with_capacity(self.vocabs.len() + 1);
        let mut total = 0;
        offsets.push(0);
        for vocab in &self.vocabs {
            total += vocab.len();
            offsets.push(total);
        }
        offsets
    }

    /// The size of the global feature space: the sum of the vocabulary sizes.
    pub fn num_features(&self) -> usize {
        self.vocabs.iter().map(IdMap::len).sum()
    }

    /// The global feature index (field offset + value index) of every value,
    /// `[num_nodes, num_fields]` row-major, missing values staying missing: the CatGCN input.
    pub fn global_indices(&self) -> Vec<Option<usize>> {
        let offsets = self.field_offsets();
        let f = self.num_fields().max(1);
        self.values
            .iter()
            .enumerate()
            .map(|(k, v)| v.map(|v| offsets[k % f] + v as usize))
            .collect()
    }

    /// The dense multi-hot matrix `[num_nodes, num_features]` row-major: 1 at the global
    /// index of each present value. Fails when the matrix size overflows `usize`.
    pub fn multi_hot(&self) -> Result<Vec<f32>> {
        let features = self.num_features();
        let size = self.num_nodes().checked_mul(features).ok_or_else(|| {
            Error::invalid(
                "multi-hot matrix",
                format!("{} nodes × {features} features overflow", self.num_nodes()),
            )
        })?;
        let mut matrix = vec![0.0; size];
        let f = self.num_fields().max(1);
        for (k, index) in self.global_indices().into_iter().enumerate() {
            if let Some(index) = index {
                matrix[k / f * features + index] = 1.0;
            }
        }
        Ok(matrix)
    }

    /// The table with one row per name of `node_names`, in that order (a graph's node
    /// order); rows of other nodes are dropped, vocabularies are kept. Fails on a name
    /// without a row or a repeated name.
    pub fn reorder(&self, node_names: &[impl AsRef<str>]) -> Result<CategoricalTable> {
        let f = self.num_fields();
        let mut values = Vec::with_capacity(node_names.len().saturating_mul(f));
        for (position, name) in node_names.iter().enumerate() {
            let name = name.as_ref();
            let row = self.node_ids.get(name).ok_or_else(|| {
                Error::invalid(
                    "node order",
                    format!(
                        "graph node {position} {} has no row in the attribute table ({} rows)",
                        quoted(name),
                        self.num_nodes()
                    ),
                )
            })? as usize;
            values.extend_from_slice(&self.values[row * f..(row + 1) * f]);
        }
        let node_ids =
            IdMap::from_names(node_names.iter().map(|n| n.as_ref().to_owned()).collect())?;
        Ok(CategoricalTable {
            node_ids,
            fields: self.fields.clone(),
            values,
            vocabs: self.vocabs.clone(),
        })
    }
}

/// Reads a categorical attribute table (plain or gzip); see the module documentation.
pub fn read_categorical(
    path: impl AsRef<Path>,
    options: &CategoricalOptions,
) -> Result<CategoricalTable> {
    parse_from(LineReader::open(path.as_ref())?, options)
}

/// [`read_categorical`] from memory; `name` is what errors name.
pub fn parse_categorical(
    reader: impl BufRead,
    name: impl AsRef<Path>,
    options: &CategoricalOptions,
) -> Result<CategoricalTable> {
    parse_from(LineReader::new(reader, name.as_ref()), options)
}

fn parse_from<R: BufRead>(
    mut lines: LineReader<R>,
    options: &CategoricalOptions,
) -> Result<CategoricalTable> {
    let Some(header) = lines.next_content(&[])? else {
        return Err(lines.error_at_end(
            "expected a header line (a node id column and field names), found no line",
        ));
    };
    let separator = Separator::detect(header.text);
    let names: Vec<_> = header.fields(separator).collect();
    for (k, name) in names.iter().enumerate() {
        if name.text.is_empty() {
            return Err(header.error_at(name.start, "expected a column name, found an empty field"));
        }
        if let Some(first) = names[..k].iter().position(|n| n.text == name.text) {
            return Err(header.error_at(
                name.start,
                format!(
                    "expected distinct column names, found {} again (header field {})",
                    quoted(name.text),
                    first + 1
                ),
            ));
        }
    }
    let id_column = match &options.id_column {
        None => 0,
        Some(id) => names.iter().position(|n| n.text == id).ok_or_else(|| {
            let all: Vec<_> = names.iter().map(|n| n.text).collect();
            header.error(format!(
                "expected a node id column named {}, found the columns {}",
                quoted(id),
                all.join(", ")
            ))
        })?,
    };
    let columns = names.len();
    let fields: Vec<String> = names
        .iter()
        .enumerate()
        .filter(|&(k, _)| k != id_column)
        .map(|(_, n)| n.text.to_owned())
        .collect();

    let mut node_ids = IdMap::new();
    let mut node_lines = Vec::new();
    let mut values = Vec::new();
    let mut vocabs = vec![IdMap::new(); fields.len()];
    while let Some(line) = lines.next_content(&[])? {
        let row = line.exact_fields(
            separator,
            columns,
            "a node id and one value per field, as in the header",
        )?;
        let id = row[id_column];
        if id.text.is_empty() {
            return Err(line.error_at(id.start, "expected a node id, found an empty field"));
        }
        if let Some(k) = node_ids.get(id.text) {
            return Err(line.error_at(
                id.start,
                format!(
                    "expected each node on one row, found {} again (first on line {})",
                    quoted(id.text),
                    node_lines[k as usize]
                ),
            ));
        }
        node_ids.insert(id.text)?;
        node_lines.push(line.number);
        let cells = row.iter().enumerate().filter(|&(k, _)| k != id_column);
        for ((_, cell), vocab) in cells.zip(&mut vocabs) {
            values.push(match cell.text {
                "" => None,
                value => Some(vocab.insert(value)?),
            });
        }
    }
    Ok(CategoricalTable {
        node_ids,
        fields,
        values,
        vocabs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/categorical");

    fn parse(text: &str) -> Result<CategoricalTable> {
        parse_categorical(text.as_bytes(), "t.csv", &CategoricalOptions::new())
    }

    fn err<T: std::fmt::Debug>(result: Result<T>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn users_fixture() {
        let table =
            read_categorical(format!("{DATA}/users.csv"), &CategoricalOptions::new()).unwrap();
        assert_eq!(table.num_nodes(), 4);
        assert_eq!(table.fields(), ["gender", "age", "city"]);
        assert_eq!(table.node_ids().names(), ["u1", "u2", "u3", "u4"]);
        assert_eq!(table.vocabs()[0].names(), ["f", "m"]);
        assert_eq!(table.vocabs()[1].names(), ["18-24", "25-34", "35-44"]);
        assert_eq!(table.vocabs()[2].names(), ["paris", "lyon"]);
        // -1 marks a missing value.
        let values = |xs: &[i64]| {
            xs.iter()
                .map(|&x| u32::try_from(x).ok())
                .collect::<Vec<_>>()
        };
        let global = |xs: &[i64]| {
            xs.iter()
                .map(|&x| usize::try_from(x).ok())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            table.values(),
            values(&[0, 0, 0, 1, 1, -1, -1, 0, 1, 0, 2, 0])
        );
        assert_eq!(table.row(2).unwrap(), values(&[-1, 0, 1]));
        assert!(table.row(4).is_none());
        assert_eq!(table.field_offsets(), [0, 2, 5, 7]);
        assert_eq!(table.num_features(), 7);
        assert_eq!(
            table.global_indices(),
            global(&[0, 2, 5, 1, 3, -1, -1, 2, 6, 0, 4, 5])
        );
        let multi_hot = table.multi_hot().unwrap();
        assert_eq!(multi_hot.len(), 4 * 7);
        assert_eq!(multi_hot[7..14], [0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0]);
        assert_eq!(multi_hot.iter().sum::<f32>(), 10.0);
    }

    #[test]
    fn named_id_column_and_tabs() {
        let options = CategoricalOptions::new().with_id_column(Some("node".into()));
        let table = read_categorical(format!("{DATA}/nodes.tsv"), &options).unwrap();
        assert_eq!(table.fields(), ["age", "city"]);
        assert_eq!(table.node_ids().names(), ["10", "11", "12"]);
        assert_eq!(table.vocabs()[0].names(), ["3", "03"], "values are strings");
        assert_eq!(
            table.values(),
            [Some(0), Some(0), None, Some(1), Some(1), None]
        );
        let e = err(read_categorical(
            format!("{DATA}/nodes.tsv"),
            &CategoricalOptions::new().with_id_column(Some("id".into())),
        ));
        assert!(e.contains("nodes.tsv: line 1: expected a node id column named `id`, found the columns age, node, city"), "{e}");
    }

    #[test]
    fn reorder_follows_the_graph() {
        let table = parse("id,color\na,red\nb,blue\nc,red\n").unwrap();
        let graph = table.reorder(&["c", "a"]).unwrap();
        assert_eq!(graph.node_ids().names(), ["c", "a"]);
        assert_eq!(graph.values(), [Some(0), Some(0)]);
        assert_eq!(graph.vocabs(), table.vocabs());
        let e = err(table.reorder(&["a", "z"]));
        assert!(
            e.contains("graph node 1 `z` has no row in the attribute table (3 rows)"),
            "{e}"
        );
        assert!(table.reorder(&["a", "a"]).is_err());
        let bare = parse("id\nx\ny\n").unwrap();
        assert_eq!((bare.num_fields(), bare.num_features()), (0, 0));
        assert_eq!(bare.reorder(&["y"]).unwrap().num_nodes(), 1);
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = err(parse("id,a,b\nx,1,2\ny,3\n"));
        assert!(e.contains("t.csv: line 3: expected 3 fields (a node id and one value per field, as in the header), found 2"), "{e}");
        let e = err(parse("id,a,b\nx,1,2\n\ny,3,4\nx,5,6\n"));
        assert!(
            e.contains(
                "line 5, column 1: expected each node on one row, found `x` again (first on line 2)"
            ),
            "{e}"
        );
        let e = err(parse("id,age,city,age\n"));
        assert!(e.contains("line 1, column 13: expected distinct column names, found `age` again (header field 2)"), "{e}");
        let e = err(parse("id,,b\n"));
        assert!(
            e.contains("line 1, column 4: expected a column name, found an empty field"),
            "{e}"
        );
        let e = err(parse("id,a\n,1\n"));
        assert!(
            e.contains("line 2, column 1: expected a node id, found an empty field"),
            "{e}"
        );
        let e = err(parse("\n\n"));
        assert!(e.contains("expected a header line"), "{e}");
        let e = err(parse_categorical(
            &b"id,a\nx,\xc3\n"[..],
            "t.csv",
            &CategoricalOptions::new(),
        ));
        assert!(e.contains("line 2") && e.contains("UTF-8"), "{e}");
    }
}
