//! Labelled text corpora: one document per line plus a label file, as used by Text GCN
//! (Yao et al., 2019) and the text classification benchmarks packaged with it (20NG, R8,
//! R52, Ohsumed, MR).
//!
//! Documents file: UTF-8 text (plain or gzip), line `i` is document `i`, tokenized with a
//! [`Tokenizer`]. A line may be empty or hold only dropped characters: such a document has
//! no tokens and is kept (so lines stay aligned with labels), and
//! [`Corpus::empty_documents`] lists them.
//!
//! Label file, one line per document in the same order, in one of two layouts chosen by
//! the tab count of its first line:
//!
//! - no tab: the line is the label (surrounding blanks trimmed, inner spaces kept);
//! - two tabs: `name<TAB>split<TAB>label`, the meta file of the Text GCN repositories
//!   (`data/<dataset>.txt`). The name is not used (line order defines the document); the
//!   split is test when it contains `test` and train when it contains `train` (the same
//!   substring test as Text GCN's `build_graph.py`, so `training` works).
//!
//! Classes are the distinct labels sorted by their UTF-8 bytes; label `i` is the `i`-th.
//!
//! Errors name the file, the line and the column: a label line of another layout than the
//! first, an empty label, an unrecognized split, invalid UTF-8, and files with different
//! line counts (naming both files and both counts).

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::Path;

use convkit_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::Dataset;
use crate::lines::{LineReader, Separator, quoted};
use crate::text::{Tokenizer, Vocab};

/// The part of a corpus a document belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Split {
    /// Training document.
    Train,
    /// Test document.
    Test,
}

/// A tokenized, labelled corpus.
#[derive(Debug, Clone, PartialEq)]
pub struct Corpus {
    documents: Vec<Vec<String>>,
    labels: Vec<usize>,
    classes: Vec<String>,
    splits: Option<Vec<Split>>,
}

/// One document as token ids, with its class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextItem {
    /// Token ids, in document order.
    pub ids: Vec<usize>,
    /// Class index.
    pub label: usize,
}

/// A corpus encoded with a [`Vocab`] ([`Corpus::encode`]): a [`Dataset`] of [`TextItem`]s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedCorpus {
    ids: Vec<Vec<usize>>,
    labels: Vec<usize>,
}

impl Dataset for EncodedCorpus {
    type Item = TextItem;

    fn len(&self) -> usize {
        self.ids.len()
    }

    fn get(&self, index: usize) -> Option<TextItem> {
        Some(TextItem {
            ids: self.ids.get(index)?.clone(),
            label: *self.labels.get(index)?,
        })
    }
}

impl Corpus {
    /// Number of documents.
    pub fn len(&self) -> usize {
        self.documents.len()
    }

    /// Whether there are no documents.
    pub fn is_empty(&self) -> bool {
        self.documents.is_empty()
    }

    /// The tokens of every document, in line order.
    pub fn documents(&self) -> &[Vec<String>] {
        &self.documents
    }

    /// The class index of every document.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// Class names (sorted), indexed by label.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The split of every document, when the label file gave one.
    pub fn splits(&self) -> Option<&[Split]> {
        self.splits.as_deref()
    }

    /// The indices of the documents in `split`, in order; `None` without split
    /// information.
    pub fn indices(&self, split: Split) -> Option<Vec<usize>> {
        let splits = self.splits.as_ref()?;
        Some((0..splits.len()).filter(|&i| splits[i] == split).collect())
    }

    /// The indices of the documents without tokens.
    pub fn empty_documents(&self) -> Vec<usize> {
        (0..self.documents.len())
            .filter(|&i| self.documents[i].is_empty())
            .collect()
    }

    /// Every document as token ids of `vocab` (see [`Vocab::encode`] for unknown tokens).
    pub fn encode(&self, vocab: &Vocab) -> EncodedCorpus {
        EncodedCorpus {
            ids: self.documents.iter().map(|d| vocab.encode(d)).collect(),
            labels: self.labels.clone(),
        }
    }
}

/// Reads a corpus from a documents file and a label file (formats in the module
/// documentation), both plain or gzip.
pub fn read_corpus(
    documents: impl AsRef<Path>,
    labels: impl AsRef<Path>,
    tokenizer: &Tokenizer,
) -> Result<Corpus> {
    build(
        LineReader::open(documents.as_ref())?,
        LineReader::open(labels.as_ref())?,
        tokenizer,
    )
}

/// [`read_corpus`] on in-memory text; the names are what errors name.
pub fn parse_corpus(
    documents: impl BufRead,
    documents_name: impl AsRef<Path>,
    labels: impl BufRead,
    labels_name: impl AsRef<Path>,
    tokenizer: &Tokenizer,
) -> Result<Corpus> {
    build(
        LineReader::new(documents, documents_name.as_ref()),
        LineReader::new(labels, labels_name.as_ref()),
        tokenizer,
    )
}

/// The layout of a label file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One label per line.
    Plain,
    /// `name<TAB>split<TAB>label`.
    Meta,
}

fn build<D: BufRead, L: BufRead>(
    mut documents: LineReader<D>,
    mut labels: LineReader<L>,
    tokenizer: &Tokenizer,
) -> Result<Corpus> {
    let mut tokens = Vec::new();
    while let Some(line) = documents.next_line()? {
        tokens.push(tokenizer.tokenize(line.text));
    }
    let mut names = Vec::new();
    let mut splits = Vec::new();
    let mut layout = None;
    while let Some(line) = labels.next_line()? {
        let tabs = line.text.matches('\t').count();
        let layout = *layout.get_or_insert(match tabs {
            0 => Layout::Plain,
            2 => Layout::Meta,
            _ => {
                return Err(line.error(format!(
                    "expected a label, or name<TAB>split<TAB>label, found {tabs} tabs"
                )));
            }
        });
        match layout {
            Layout::Plain => {
                if let Some(tab) = line.text.find('\t') {
                    return Err(
                        line.error_at(tab, "expected one label per line as on line 1, found a tab")
                    );
                }
                let label = line.text.trim();
                if label.is_empty() {
                    return Err(line.error("expected a label, found an empty line"));
                }
                names.push(label.to_string());
            }
            Layout::Meta => {
                let fields = line.exact_fields(
                    Separator::Char('\t'),
                    3,
                    "name<TAB>split<TAB>label as on line 1",
                )?;
                let split = if fields[1].text.contains("test") {
                    Split::Test
                } else if fields[1].text.contains("train") {
                    Split::Train
                } else {
                    return Err(line.error_at(
                        fields[1].start,
                        format!(
                            "expected a split containing `train` or `test`, found {}",
                            quoted(fields[1].text)
                        ),
                    ));
                };
                if fields[2].text.is_empty() {
                    return Err(
                        line.error_at(fields[2].start, "expected a label, found an empty field")
                    );
                }
                splits.push(split);
                names.push(fields[2].text.to_string());
            }
        }
    }
    if tokens.len() != names.len() {
        return Err(Error::file(
            documents.path(),
            format!(
                "has {} lines (documents) but {} has {} lines (labels); expected one label \
                 per document",
                tokens.len(),
                labels.path().display(),
                names.len()
            ),
        ));
    }
    if tokens.is_empty() {
        return Err(Error::file(
            documents.path(),
            "no documents: expected one document per line",
        ));
    }
    let classes: Vec<String> = names
        .iter()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Every name is among the sorted classes, so its index is the count of smaller ones.
    let label_ids = names
        .iter()
        .map(|n| classes.partition_point(|c| c < n))
        .collect();
    Ok(Corpus {
        documents: tokens,
        labels: label_ids,
        classes,
        splits: (layout == Some(Layout::Meta)).then_some(splits),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{TokenizerConfig, VocabConfig};

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/text");

    fn parse(docs: &str, labels: &str) -> Result<Corpus> {
        parse_corpus(
            docs.as_bytes(),
            "docs.txt",
            labels.as_bytes(),
            "labels.txt",
            &Tokenizer::default(),
        )
    }

    fn err(docs: &str, labels: &str) -> String {
        parse(docs, labels).unwrap_err().to_string()
    }

    #[test]
    fn fixture_with_meta_file() {
        let corpus = read_corpus(
            format!("{DIR}/corpus.txt"),
            format!("{DIR}/corpus_meta.txt"),
            &Tokenizer::default(),
        )
        .unwrap();
        assert_eq!(corpus.len(), 6);
        assert_eq!(corpus.classes(), ["movies", "sports", "సినిమా"]);
        assert_eq!(corpus.labels(), [0, 1, 2, 2, 1, 0]);
        assert_eq!(
            corpus.documents()[0],
            ["the", "film", "was", "great", "loved", "it"]
        );
        assert_eq!(corpus.documents()[2], ["ఈ", "సినిమా", "చాలా", "బాగుంది"]);
        assert_eq!(
            corpus.documents()[3],
            ["ప్రేక్షకులకు", "నచ్చింది", "హీరో", "నటన", "అద్భుతం"]
        );
        assert_eq!(corpus.documents()[4], ["cricket", "match", "ఇండియా", "won"]);
        assert_eq!(corpus.empty_documents(), [5]);
        assert_eq!(corpus.indices(Split::Train).unwrap(), [0, 1, 2, 5]);
        assert_eq!(corpus.indices(Split::Test).unwrap(), [3, 4]);

        // Plain labels give the same corpus without splits.
        let plain = read_corpus(
            format!("{DIR}/corpus.txt"),
            format!("{DIR}/corpus_labels.txt"),
            &Tokenizer::default(),
        )
        .unwrap();
        assert_eq!(plain.splits(), None);
        assert_eq!(plain.indices(Split::Train), None);
        assert_eq!(
            (plain.documents(), plain.labels(), plain.classes()),
            (corpus.documents(), corpus.labels(), corpus.classes())
        );
    }

    #[test]
    fn encoded_dataset_with_a_train_vocabulary() {
        let corpus = read_corpus(
            format!("{DIR}/corpus.txt"),
            format!("{DIR}/corpus_meta.txt"),
            &TokenizerConfig::new().with_min_len(2).init(),
        )
        .unwrap();
        let train = corpus.indices(Split::Train).unwrap();
        let vocab = VocabConfig::new()
            .build(train.iter().map(|&i| &corpus.documents()[i]))
            .unwrap();
        let data = corpus.encode(&vocab);
        assert_eq!(data.len(), 6);
        let item = data.get(4).unwrap();
        assert_eq!(item.label, 1);
        // `cricket` and `match` were seen in training, `ఇండియా` and `won` were not.
        let unk = vocab.unk_id().unwrap();
        assert_eq!(
            item.ids,
            [
                vocab.id("cricket").unwrap(),
                vocab.id("match").unwrap(),
                unk,
                unk
            ]
        );
        assert_eq!(data.get(5).unwrap().ids, Vec::<usize>::new());
        assert!(data.get(6).is_none());
    }

    #[test]
    fn label_layouts_and_their_errors() {
        let c = parse("a b\nc\n", " pos \nneg news\n").unwrap();
        assert_eq!(c.classes(), ["neg news", "pos"]);
        assert_eq!(
            err("a\nb\n", "pos\n1\ttrain\tneg\n"),
            "labels.txt: line 2, column 2: expected one label per line as on line 1, found a tab"
        );
        assert_eq!(
            err("a\nb\n", "0\ttrain\tpos\nneg\n"),
            "labels.txt: line 2: expected 3 fields (name<TAB>split<TAB>label as on line 1), \
             found 1"
        );
        assert_eq!(
            err("a\n", "0\ttrain\tx\tmore\n"),
            "labels.txt: line 1: expected a label, or name<TAB>split<TAB>label, found 3 tabs"
        );
        assert_eq!(
            err("a\nb\n", "0\ttrain\tpos\n1\tvalid\tneg\n"),
            "labels.txt: line 2, column 3: expected a split containing `train` or `test`, \
             found `valid`"
        );
        assert_eq!(
            err("a\nb\n", "0\ttraining\tpos\n1\ttest\t\n"),
            "labels.txt: line 2, column 8: expected a label, found an empty field"
        );
        assert_eq!(
            err("a\nb\n", "pos\n  \n"),
            "labels.txt: line 2: expected a label, found an empty line"
        );
    }

    #[test]
    fn line_counts_utf8_and_empty_input() {
        assert_eq!(
            err("a\nb\nc\n", "pos\nneg\n"),
            "docs.txt: has 3 lines (documents) but labels.txt has 2 lines (labels); expected \
             one label per document"
        );
        let e = parse_corpus(
            &b"ok\nbad \xe0\xb0\n"[..],
            "docs.txt",
            &b"a\nb\n"[..],
            "labels.txt",
            &Tokenizer::default(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("docs.txt: line 2: not valid UTF-8"), "{e}");
        assert_eq!(
            err("", ""),
            "docs.txt: no documents: expected one document per line"
        );
        // Windows line endings and a missing final newline.
        let c = parse("one\r\ntwo", "x\r\ny").unwrap();
        assert_eq!(c.documents(), [vec!["one"], vec!["two"]]);
        assert_eq!(c.labels(), [0, 1]);
    }
}
