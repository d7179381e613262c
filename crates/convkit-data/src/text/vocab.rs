//! Vocabularies: the map between tokens and integer ids.
//!
//! [`VocabConfig::build`] counts tokens over documents and keeps those seen at least
//! `min_count` times (Text GCN drops words seen fewer than 5 times), at most `max_tokens`
//! of them. Ids are assigned deterministically: the special tokens first (`<pad>` = 0,
//! `<unk>` = 1 by default; see [`Specials`]), then the kept tokens by decreasing count,
//! ties broken by the token's UTF-8 bytes.
//!
//! File format ([`write_vocab`], [`read_vocab`]): UTF-8 text, one token per line in id
//! order (line `i + 1` holds id `i`), specials included, each line ending in `\n`. Lines
//! are taken as they are (no trimming, no comments). Reading reports an empty line, a
//! duplicated token (with the line of its first occurrence), invalid UTF-8 and a missing
//! special token, naming the file and line.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::Path;

use burn::config::Config;
use convkit_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::lines::{LineReader, quoted};

/// The reserved tokens of a vocabulary. Each, when set, gets an id of its own before the
/// counted tokens, in the order padding, unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Specials {
    /// Padding token, for filling batches of documents of different lengths.
    pub pad: Option<String>,
    /// The token unknown tokens encode to. Without one, [`Vocab::encode`] leaves unknown
    /// tokens out.
    pub unk: Option<String>,
}

impl Default for Specials {
    /// `<pad>` and `<unk>`.
    fn default() -> Self {
        Specials {
            pad: Some("<pad>".into()),
            unk: Some("<unk>".into()),
        }
    }
}

impl Specials {
    /// The set tokens in id order, after checking they are valid and distinct.
    fn tokens(&self) -> Result<Vec<&str>> {
        let tokens: Vec<&str> = [&self.pad, &self.unk]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        for token in &tokens {
            check_token(token, "special token")?;
        }
        if let [a, b] = tokens[..]
            && a == b
        {
            return Err(Error::invalid(
                "special tokens",
                format!("padding and unknown must differ, both are {}", quoted(a)),
            ));
        }
        Ok(tokens)
    }
}

/// A token must be non-empty and free of line breaks to fit the one-per-line file.
fn check_token(token: &str, what: &str) -> Result<()> {
    if token.is_empty() || token.contains(['\n', '\r']) {
        return Err(Error::invalid(
            what,
            format!("must be non-empty and without line breaks, got {token:?}"),
        ));
    }
    Ok(())
}

/// How [`VocabConfig::build`] chooses tokens.
#[derive(Config, Debug)]
pub struct VocabConfig {
    /// Tokens seen fewer times are left out (0 and 1 both keep every token).
    #[config(default = 1)]
    pub min_count: usize,
    /// At most this many tokens besides the specials, the most frequent ones (`None`: no
    /// limit).
    pub max_tokens: Option<usize>,
    /// Reserved tokens placed first.
    #[config(default = "Specials::default()")]
    pub specials: Specials,
}

impl VocabConfig {
    /// Counts the tokens of `documents` and builds the vocabulary (order in the module
    /// documentation). A token equal to a special token counts as that special. An empty
    /// token or one with a line break is an [`Error::Invalid`] naming the document.
    pub fn build<D, T>(&self, documents: D) -> Result<Vocab>
    where
        D: IntoIterator,
        D::Item: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let specials = self.specials.tokens()?;
        let mut counts: HashMap<String, usize> = HashMap::new();
        for (d, document) in documents.into_iter().enumerate() {
            for token in document {
                let token = token.as_ref();
                if let Some(n) = counts.get_mut(token) {
                    *n += 1;
                } else {
                    check_token(token, &format!("token of document {d}"))?;
                    counts.insert(token.to_string(), 1);
                }
            }
        }
        let mut kept: Vec<(String, usize)> = counts
            .into_iter()
            .filter(|(token, n)| *n >= self.min_count && !specials.contains(&token.as_str()))
            .collect();
        kept.sort_by(|(a, na), (b, nb)| nb.cmp(na).then_with(|| a.cmp(b)));
        if let Some(max) = self.max_tokens {
            kept.truncate(max);
        }
        let tokens = specials
            .iter()
            .map(|s| s.to_string())
            .chain(kept.into_iter().map(|(token, _)| token))
            .collect();
        Ok(Vocab::from_unique(tokens, &self.specials))
    }
}

/// Tokens and their ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vocab {
    tokens: Vec<String>,
    ids: HashMap<String, usize>,
    pad: Option<usize>,
    unk: Option<usize>,
}

impl Vocab {
    /// A vocabulary of `tokens` (distinct, checked by the callers) with `specials` among
    /// them.
    fn from_unique(tokens: Vec<String>, specials: &Specials) -> Self {
        let ids: HashMap<String, usize> = tokens
            .iter()
            .enumerate()
            .map(|(i, t)| (t.clone(), i))
            .collect();
        let find = |s: &Option<String>| s.as_ref().and_then(|s| ids.get(s).copied());
        Vocab {
            pad: find(&specials.pad),
            unk: find(&specials.unk),
            tokens,
            ids,
        }
    }

    /// Number of tokens, specials included.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether there are no tokens at all.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The id of `token`.
    pub fn id(&self, token: &str) -> Option<usize> {
        self.ids.get(token).copied()
    }

    /// The token of `id`.
    pub fn token(&self, id: usize) -> Option<&str> {
        self.tokens.get(id).map(String::as_str)
    }

    /// All tokens, indexed by id.
    pub fn tokens(&self) -> &[String] {
        &self.tokens
    }

    /// The id of the padding token.
    pub fn pad_id(&self) -> Option<usize> {
        self.pad
    }

    /// The id of the unknown token.
    pub fn unk_id(&self) -> Option<usize> {
        self.unk
    }

    /// The ids of `tokens`; a token not in the vocabulary becomes the unknown id, or is
    /// left out when there is no unknown token.
    pub fn encode<T: AsRef<str>>(&self, tokens: &[T]) -> Vec<usize> {
        tokens
            .iter()
            .filter_map(|t| self.id(t.as_ref()).or(self.unk))
            .collect()
    }

    /// The file contents: one token per line, each ending in `\n`.
    pub fn to_text(&self) -> String {
        let mut text = String::with_capacity(self.tokens.iter().map(|t| t.len() + 1).sum());
        for token in &self.tokens {
            text.push_str(token);
            text.push('\n');
        }
        text
    }
}

/// Writes `vocab` to `path`, one token per line.
pub fn write_vocab(path: impl AsRef<Path>, vocab: &Vocab) -> Result<()> {
    let path = path.as_ref();
    crate::atomic::write_atomically(path, |file, tmp| {
        file.write_all(vocab.to_text().as_bytes())
            .map_err(|e| Error::io(tmp, e))
    })
}

/// Reads a vocabulary written by [`write_vocab`] (plain or gzip). The set `specials` must
/// be in the file; their ids are their lines.
pub fn read_vocab(path: impl AsRef<Path>, specials: &Specials) -> Result<Vocab> {
    parse_lines(LineReader::open(path.as_ref())?, specials)
}

/// [`read_vocab`] on in-memory text; `name` is what errors name.
pub fn parse_vocab(
    reader: impl BufRead,
    name: impl AsRef<Path>,
    specials: &Specials,
) -> Result<Vocab> {
    parse_lines(LineReader::new(reader, name.as_ref()), specials)
}

fn parse_lines<R: BufRead>(mut lines: LineReader<R>, specials: &Specials) -> Result<Vocab> {
    let mut tokens = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    while let Some(line) = lines.next_line()? {
        if line.text.is_empty() {
            return Err(line.error("expected a token, found an empty line"));
        }
        if let Some(first) = seen.get(line.text) {
            return Err(line.error(format!(
                "duplicate token {} (first on line {first})",
                quoted(line.text)
            )));
        }
        seen.insert(line.text.to_string(), line.number);
        tokens.push(line.text.to_string());
    }
    for special in specials.tokens()? {
        if !seen.contains_key(special) {
            return Err(lines.error_at_end(format!(
                "expected the special token {} on a line of its own, found none",
                quoted(special)
            )));
        }
    }
    Ok(Vocab::from_unique(tokens, specials))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn docs() -> Vec<Vec<&'static str>> {
        vec![
            vec!["the", "cat", "sat", "the", "mat"],
            vec!["the", "dog", "sat", "తెలుగు"],
            vec!["cat", "తెలుగు", "<unk>"],
        ]
    }

    #[test]
    fn ids_by_count_then_token_after_specials() {
        let vocab = VocabConfig::new().build(docs()).unwrap();
        assert_eq!(
            vocab.tokens(),
            ["<pad>", "<unk>", "the", "cat", "sat", "తెలుగు", "dog", "mat"]
        );
        assert_eq!((vocab.pad_id(), vocab.unk_id()), (Some(0), Some(1)));
        assert_eq!(vocab.id("cat"), Some(3));
        assert_eq!(vocab.token(5), Some("తెలుగు"));
        assert_eq!(vocab.encode(&["cat", "bird", "the"]), [3, 1, 2]);
    }

    #[test]
    fn min_count_max_tokens_and_no_specials() {
        let config = VocabConfig::new().with_min_count(2);
        let vocab = config.build(docs()).unwrap();
        assert_eq!(
            vocab.tokens(),
            ["<pad>", "<unk>", "the", "cat", "sat", "తెలుగు"]
        );
        let vocab = config.with_max_tokens(Some(2)).build(docs()).unwrap();
        assert_eq!(vocab.tokens(), ["<pad>", "<unk>", "the", "cat"]);

        let bare = VocabConfig::new().with_specials(Specials {
            pad: None,
            unk: None,
        });
        let vocab = bare.build(docs()).unwrap();
        assert_eq!(vocab.len(), 7, "`<unk>` is an ordinary token here");
        assert_eq!(vocab.unk_id(), None);
        assert_eq!(
            vocab.encode(&["bird", "dog", "mouse"]),
            [vocab.id("dog").unwrap()]
        );
        assert!(bare.build(Vec::<Vec<&str>>::new()).unwrap().is_empty());
    }

    #[test]
    fn invalid_tokens_and_specials() {
        let e = VocabConfig::new()
            .build(vec![vec!["ok"], vec!["a\nb"]])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("token of document 1") && e.contains("\"a\\nb\""),
            "{e}"
        );
        let same = Specials {
            pad: Some("<x>".into()),
            unk: Some("<x>".into()),
        };
        let e = VocabConfig::new()
            .with_specials(same)
            .build(docs())
            .unwrap_err()
            .to_string();
        assert!(e.contains("must differ"), "{e}");
        let empty = Specials {
            pad: Some(String::new()),
            unk: None,
        };
        assert!(
            VocabConfig::new()
                .with_specials(empty)
                .build(docs())
                .is_err()
        );
    }

    #[test]
    fn file_round_trip() {
        let vocab = VocabConfig::new().build(docs()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vocab.txt");
        write_vocab(&path, &vocab).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("<pad>\n<unk>\nthe\n") && text.ends_with("mat\n"));
        assert_eq!(read_vocab(&path, &Specials::default()).unwrap(), vocab);
    }

    #[test]
    fn bad_files_name_the_line() {
        let parse = |text: &str| {
            parse_vocab(text.as_bytes(), "v.txt", &Specials::default())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            parse("<pad>\n<unk>\na\n\nb\n"),
            "v.txt: line 4: expected a token, found an empty line"
        );
        assert_eq!(
            parse("<pad>\n<unk>\nతెలుగు\nb\nతెలుగు\n"),
            "v.txt: line 5: duplicate token `తెలుగు` (first on line 3)"
        );
        let e = parse("<pad>\na\n");
        assert!(e.contains("after line 2") && e.contains("`<unk>`"), "{e}");
        let e = parse_vocab(&b"<pad>\n<unk>\n\xc3\n"[..], "v.txt", &Specials::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("UTF-8"), "{e}");
        // Specials may sit anywhere in a file.
        let v = parse_vocab(&b"a\n<unk>\n<pad>\n"[..], "v.txt", &Specials::default()).unwrap();
        assert_eq!((v.pad_id(), v.unk_id()), (Some(2), Some(1)));
    }

    proptest! {
        #[test]
        fn write_read_round_trip(documents in prop::collection::vec(
            prop::collection::vec("[a-cé ]{1,3}|\\PC{1,4}", 0..6), 0..6),
            min_count in 0usize..3,
        ) {
            let vocab = VocabConfig::new().with_min_count(min_count).build(&documents).unwrap();
            let back = parse_vocab(vocab.to_text().as_bytes(), "v.txt", &Specials::default()).unwrap();
            prop_assert_eq!(back, vocab);
        }
    }
}
