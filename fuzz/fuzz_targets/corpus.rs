//! Any byte string, split at its first 0xFF byte (which never occurs in UTF-8) into a
//! documents file and a label file: the tokenizer and `parse_corpus` return tokens, a corpus
//! or an error, never panic. Tokens are never empty and never contain whitespace, labels
//! index the classes, and a vocabulary built from a parsed corpus encodes every document
//! within range and reads back equal from its file form.
#![no_main]

use convkit_data::Dataset;
use convkit_data::text::{
    Specials, Tokenizer, TokenizerConfig, VocabConfig, parse_corpus, parse_vocab,
};
use libfuzzer_sys::fuzz_target;

fn check_token(token: &str) {
    assert!(!token.is_empty(), "empty token");
    assert!(
        !token.chars().any(char::is_whitespace),
        "whitespace in {token:?}"
    );
}

fuzz_target!(|data: &[u8]| {
    let (documents, labels) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let tokenizers = [
        Tokenizer::default(),
        TokenizerConfig::new()
            .with_keep_punctuation(true)
            .with_lowercase(false)
            .init(),
    ];
    let text = String::from_utf8_lossy(documents);
    for tokenizer in &tokenizers {
        tokenizer
            .tokenize(&text)
            .iter()
            .for_each(|t| check_token(t));
        let Ok(corpus) = parse_corpus(documents, "docs.txt", labels, "labels.txt", tokenizer)
        else {
            continue;
        };
        corpus
            .documents()
            .iter()
            .flatten()
            .for_each(|t| check_token(t));
        assert!(corpus.labels().iter().all(|&l| l < corpus.classes().len()));
        assert_eq!(corpus.labels().len(), corpus.len());
        let vocab = VocabConfig::new()
            .build(corpus.documents())
            .expect("tokenizer output is valid vocabulary input");
        let encoded = corpus.encode(&vocab);
        for i in 0..encoded.len() {
            let item = encoded.get(i).expect("index in range");
            assert_eq!(
                item.ids.len(),
                corpus.documents()[i].len(),
                "unknowns map to <unk>"
            );
            assert!(item.ids.iter().all(|&id| id < vocab.len()));
        }
        let back = parse_vocab(
            vocab.to_text().as_bytes(),
            "vocab.txt",
            &Specials::default(),
        )
        .expect("a written vocabulary reads back");
        assert_eq!(back, vocab);
    }
});
