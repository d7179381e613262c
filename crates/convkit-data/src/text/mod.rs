//! Text classification data: tokenizing, vocabularies and labelled corpora.
//!
//! The pipeline of Text GCN (Yao et al., 2019) and of the word-level models of BiDAF-style
//! readers: documents, one per line, are split into tokens by a [`Tokenizer`] (Unicode-safe:
//! Telugu, Devanagari and accented text stay whole), a [`Vocab`] maps the tokens seen often
//! enough to ids, and a [`Corpus`] pairs the documents with their labels and train/test
//! split, encoding to an [`EncodedCorpus`] dataset of [`TextItem`]s.
//!
//! ```
//! use convkit_data::Dataset;
//! use convkit_data::text::{Tokenizer, VocabConfig, parse_corpus};
//!
//! let docs = "A good film.\nతెలుగు సినిమా బాగుంది\n";
//! let labels = "0\ttrain\tpositive\n1\ttest\tpositive\n";
//! let corpus = parse_corpus(
//!     docs.as_bytes(), "docs.txt", labels.as_bytes(), "meta.txt", &Tokenizer::default(),
//! )?;
//! assert_eq!(corpus.documents()[1], ["తెలుగు", "సినిమా", "బాగుంది"]);
//! let vocab = VocabConfig::new().build(corpus.documents())?;
//! let data = corpus.encode(&vocab);
//! assert_eq!(data.get(0).unwrap().ids.len(), 3);
//! # Ok::<(), convkit_core::Error>(())
//! ```

pub mod corpus;
pub mod tokenizer;
pub mod vocab;

pub use corpus::{Corpus, EncodedCorpus, Split, TextItem, parse_corpus, read_corpus};
pub use tokenizer::{Tokenizer, TokenizerConfig, parse_stop_words, read_stop_words};
pub use vocab::{Specials, Vocab, VocabConfig, parse_vocab, read_vocab, write_vocab};
