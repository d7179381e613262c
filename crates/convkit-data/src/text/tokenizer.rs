//! Splitting text into word tokens, safely for every script.
//!
//! A *word* is a maximal run of letters, digits and combining marks (Unicode general
//! categories L*, N* and Mn/Mc/Me), so Telugu `తెలుగు`, Devanagari with a virama
//! (`हिन्दी`), decomposed accents (`e` + U+0301) and other scripts whose words carry
//! combining marks stay whole. Rust's `char::is_alphanumeric` alone would not do: it
//! counts most Indic vowel signs as letters but not viramas, nuktas or Latin combining
//! accents, so `ప్రేమ` would break at its virama.
//!
//! Everything else that is not a separator is *punctuation or a symbol* (including emoji):
//! dropped by default, which is what bag-of-words and graph text classifiers want, or kept
//! as tokens of one character each with [`TokenizerConfig::keep_punctuation`] (Text GCN's
//! `clean_str`, for one, keeps `( ) , ! ?` as separate tokens). A kept symbol token also
//! holds what extends it into one visible emoji: combining marks and variation selectors
//! (`❤️`), skin-tone modifiers (`👍🏽`), zero-width-joiner sequences (`👨‍👩‍👧`) and pairs
//! of regional indicators (flags, `🇮🇳`).
//!
//! Details, each chosen so no visible character is split from its word:
//!
//! - Separators: whitespace, control characters and U+200B ZERO WIDTH SPACE.
//! - Invisible format characters (soft hyphen, bidirectional marks and isolates, word
//!   joiner, byte order mark) are removed, so `co\u{AD}operate` is `cooperate`.
//! - U+200C/U+200D (zero-width non-joiner/joiner, used inside Persian, Malayalam and Indic
//!   words and in emoji) stay in a token when both neighbours belong to it, and are
//!   dropped otherwise.
//! - A combining mark with nothing before it (at the start or after a separator) is
//!   dropped.
//! - No Unicode normalization: composed `é` (U+00E9) and decomposed `e\u{301}` are
//!   different tokens; normalize the text (NFC) first where both occur.
//! - Scripts written without spaces (Chinese, Japanese, Thai) are not segmented: a run of
//!   ideographs is one token.
//! - Apostrophes, hyphens, underscores and decimal points split: `don't` gives `don`, `t`.
//! - Lowercasing (on by default) is Unicode's full `to_lowercase` (`İ` becomes `i̇`).
//!
//! Tokens are never empty and never contain whitespace.

use std::collections::HashSet;
use std::io::BufRead;
use std::path::Path;

use burn::config::Config;
use convkit_core::Result;

use crate::lines::LineReader;

/// Settings of a [`Tokenizer`].
#[derive(Config, Debug)]
pub struct TokenizerConfig {
    /// Lowercase every token (Unicode `to_lowercase`).
    #[config(default = true)]
    pub lowercase: bool,
    /// Keep punctuation and symbols (emoji included) as tokens of their own instead of
    /// dropping them.
    #[config(default = false)]
    pub keep_punctuation: bool,
    /// Words with fewer characters (Unicode scalar values, not bytes) are dropped;
    /// punctuation tokens are not affected.
    #[config(default = 1)]
    pub min_len: usize,
    /// Tokens to drop, compared after lowercasing (the list is lowercased too when
    /// `lowercase` is on). Text GCN removes NLTK's English list; [`read_stop_words`] reads
    /// one from a file.
    #[config(default = "Vec::new()")]
    pub stop_words: Vec<String>,
}

impl TokenizerConfig {
    /// The tokenizer with these settings.
    pub fn init(&self) -> Tokenizer {
        let stop_words = self
            .stop_words
            .iter()
            .map(|w| {
                if self.lowercase {
                    w.to_lowercase()
                } else {
                    w.clone()
                }
            })
            .collect();
        Tokenizer {
            config: self.clone(),
            stop_words,
        }
    }
}

/// Splits text into tokens (rules in the module documentation).
#[derive(Debug, Clone)]
pub struct Tokenizer {
    config: TokenizerConfig,
    stop_words: HashSet<String>,
}

impl Default for Tokenizer {
    /// Lowercasing, punctuation dropped, no minimum length, no stop words.
    fn default() -> Self {
        TokenizerConfig::new().init()
    }
}

/// What a character does in tokenization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Ends the current token.
    Separator,
    /// Removed without ending the token.
    Ignorable,
    /// ZWNJ / ZWJ: kept only between two characters of one token.
    Joiner,
    /// Combining marks and tag characters: extend the current token.
    Mark,
    /// Emoji skin-tone modifiers: extend a symbol token, else start one.
    Modifier,
    /// Letters and digits.
    Word,
    /// Punctuation and symbols.
    Symbol,
}

fn class(c: char) -> Class {
    match c {
        _ if c.is_whitespace() || c.is_control() || c == '\u{200B}' => Class::Separator,
        '\u{AD}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}'
        | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}' => Class::Ignorable,
        '\u{200C}' | '\u{200D}' => Class::Joiner,
        '\u{1F3FB}'..='\u{1F3FF}' => Class::Modifier,
        '\u{E0020}'..='\u{E007F}' => Class::Mark,
        _ if c.is_alphanumeric() => Class::Word,
        _ if is_combining_mark(c) => Class::Mark,
        _ => Class::Symbol,
    }
}

fn is_regional_indicator(c: char) -> bool {
    matches!(c, '\u{1F1E6}'..='\u{1F1FF}')
}

/// The combining marks (general category Mn, Mc or Me) that `char::is_alphanumeric` does
/// not already cover, as inclusive code point ranges. Generated from Unicode 14.0 (Python
/// 3.11's `unicodedata`): every code point whose category starts with `M`, minus those
/// Rust reports alphanumeric, merged into ranges. Marks added by later Unicode versions
/// are missing unless Rust counts them as letters.
#[rustfmt::skip]
const COMBINING_MARKS: &[(u32, u32)] = &[
    (0x00300, 0x00344), (0x00346, 0x00362), (0x00483, 0x00489), (0x00591, 0x005AF),
    (0x00658, 0x00658), (0x006DF, 0x006E0), (0x006EA, 0x006EC), (0x00740, 0x0074A),
    (0x007EB, 0x007F3), (0x007FD, 0x007FD), (0x00818, 0x00819), (0x0082D, 0x0082D),
    (0x00859, 0x0085B), (0x00898, 0x0089F), (0x008CA, 0x008D3), (0x008E0, 0x008E1),
    (0x008EA, 0x008EF), (0x0093C, 0x0093C), (0x0094D, 0x0094D), (0x00951, 0x00954),
    (0x009BC, 0x009BC), (0x009CD, 0x009CD), (0x009FE, 0x009FE), (0x00A3C, 0x00A3C),
    (0x00A4D, 0x00A4D), (0x00ABC, 0x00ABC), (0x00ACD, 0x00ACD), (0x00AFD, 0x00AFF),
    (0x00B3C, 0x00B3C), (0x00B4D, 0x00B4D), (0x00B55, 0x00B55), (0x00BCD, 0x00BCD),
    (0x00C3C, 0x00C3C), (0x00C4D, 0x00C4D), (0x00CBC, 0x00CBC), (0x00CCD, 0x00CCD),
    (0x00D3B, 0x00D3C), (0x00D4D, 0x00D4D), (0x00DCA, 0x00DCA), (0x00E47, 0x00E4C),
    (0x00E4E, 0x00E4E), (0x00EBA, 0x00EBA), (0x00EC8, 0x00ECC), (0x00F18, 0x00F19),
    (0x00F35, 0x00F35), (0x00F37, 0x00F37), (0x00F39, 0x00F39), (0x00F3E, 0x00F3F),
    (0x00F84, 0x00F84), (0x00F86, 0x00F87), (0x00FC6, 0x00FC6), (0x01037, 0x01037),
    (0x01039, 0x0103A), (0x0135D, 0x0135F), (0x01714, 0x01715), (0x01734, 0x01734),
    (0x017B4, 0x017B5), (0x017C9, 0x017D3), (0x017DD, 0x017DD), (0x0180B, 0x0180D),
    (0x0180F, 0x0180F), (0x01939, 0x0193B), (0x01A60, 0x01A60), (0x01A75, 0x01A7C),
    (0x01A7F, 0x01A7F), (0x01AB0, 0x01ABE), (0x01AC1, 0x01ACB), (0x01B34, 0x01B34),
    (0x01B44, 0x01B44), (0x01B6B, 0x01B73), (0x01BAA, 0x01BAB), (0x01BE6, 0x01BE6),
    (0x01BF2, 0x01BF3), (0x01C37, 0x01C37), (0x01CD0, 0x01CD2), (0x01CD4, 0x01CE8),
    (0x01CED, 0x01CED), (0x01CF4, 0x01CF4), (0x01CF7, 0x01CF9), (0x01DC0, 0x01DD2),
    (0x01DF5, 0x01DFF), (0x020D0, 0x020F0), (0x02CEF, 0x02CF1), (0x02D7F, 0x02D7F),
    (0x0302A, 0x0302F), (0x03099, 0x0309A), (0x0A66F, 0x0A672), (0x0A67C, 0x0A67D),
    (0x0A6F0, 0x0A6F1), (0x0A806, 0x0A806), (0x0A82C, 0x0A82C), (0x0A8C4, 0x0A8C4),
    (0x0A8E0, 0x0A8F1), (0x0A92B, 0x0A92D), (0x0A953, 0x0A953), (0x0A9B3, 0x0A9B3),
    (0x0A9C0, 0x0A9C0), (0x0AABF, 0x0AABF), (0x0AAC1, 0x0AAC1), (0x0AAF6, 0x0AAF6),
    (0x0ABEC, 0x0ABED), (0x0FE00, 0x0FE0F), (0x0FE20, 0x0FE2F), (0x101FD, 0x101FD),
    (0x102E0, 0x102E0), (0x10A38, 0x10A3A), (0x10A3F, 0x10A3F), (0x10AE5, 0x10AE6),
    (0x10F46, 0x10F50), (0x10F82, 0x10F85), (0x11046, 0x11046), (0x11070, 0x11070),
    (0x1107F, 0x1107F), (0x110B9, 0x110BA), (0x11133, 0x11134), (0x11173, 0x11173),
    (0x111C0, 0x111C0), (0x111C9, 0x111CC), (0x11235, 0x11236), (0x112E9, 0x112EA),
    (0x1133B, 0x1133C), (0x1134D, 0x1134D), (0x11366, 0x1136C), (0x11370, 0x11374),
    (0x11442, 0x11442), (0x11446, 0x11446), (0x1145E, 0x1145E), (0x114C2, 0x114C3),
    (0x115BF, 0x115C0), (0x1163F, 0x1163F), (0x116B6, 0x116B7), (0x1172B, 0x1172B),
    (0x11839, 0x1183A), (0x1193D, 0x1193E), (0x11943, 0x11943), (0x119E0, 0x119E0),
    (0x11A33, 0x11A34), (0x11A47, 0x11A47), (0x11A98, 0x11A99), (0x11C3F, 0x11C3F),
    (0x11D42, 0x11D42), (0x11D44, 0x11D45), (0x11D97, 0x11D97), (0x16AF0, 0x16AF4),
    (0x16B30, 0x16B36), (0x16FE4, 0x16FE4), (0x1BC9D, 0x1BC9D), (0x1CF00, 0x1CF2D),
    (0x1CF30, 0x1CF46), (0x1D165, 0x1D169), (0x1D16D, 0x1D172), (0x1D17B, 0x1D182),
    (0x1D185, 0x1D18B), (0x1D1AA, 0x1D1AD), (0x1D242, 0x1D244), (0x1DA00, 0x1DA36),
    (0x1DA3B, 0x1DA6C), (0x1DA75, 0x1DA75), (0x1DA84, 0x1DA84), (0x1DA9B, 0x1DA9F),
    (0x1DAA1, 0x1DAAF), (0x1E130, 0x1E136), (0x1E2AE, 0x1E2AE), (0x1E2EC, 0x1E2EF),
    (0x1E8D0, 0x1E8D6), (0x1E944, 0x1E946), (0x1E948, 0x1E94A), (0xE0100, 0xE01EF),
];

/// Whether `c` is a combining mark that is not alphanumeric (see [`COMBINING_MARKS`]).
fn is_combining_mark(c: char) -> bool {
    let c = u32::from(c);
    COMBINING_MARKS
        .binary_search_by(|&(start, end)| {
            if end < c {
                std::cmp::Ordering::Less
            } else if start > c {
                std::cmp::Ordering::Greater
            } else {
                std::cmp::Ordering::Equal
            }
        })
        .is_ok()
}

/// A token being built.
struct Pending {
    text: String,
    /// `Class::Word` or `Class::Symbol`.
    kind: Class,
    /// A joiner was just added: the next character of the same kind continues the token.
    joined: bool,
    /// The token is a single regional indicator, waiting for its pair.
    lone_regional: bool,
}

impl Pending {
    fn new(c: char, kind: Class) -> Self {
        Pending {
            text: c.to_string(),
            kind,
            joined: false,
            lone_regional: is_regional_indicator(c),
        }
    }

    fn push(&mut self, c: char) {
        self.text.push(c);
        self.joined = false;
        self.lone_regional = false;
    }
}

impl Tokenizer {
    /// The settings.
    pub fn config(&self) -> &TokenizerConfig {
        &self.config
    }

    /// The tokens of `text`, in order.
    pub fn tokenize(&self, text: &str) -> Vec<String> {
        let mut tokens = Vec::new();
        let mut pending: Option<Pending> = None;
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match class(c) {
                Class::Ignorable => {}
                Class::Separator => self.finish(pending.take(), &mut tokens),
                Class::Joiner => {
                    if let Some(p) = pending.as_mut()
                        && chars.peek().is_some_and(|&next| class(next) == p.kind)
                    {
                        p.text.push(c);
                        p.joined = true;
                    }
                }
                Class::Mark => {
                    if let Some(p) = pending.as_mut() {
                        p.push(c);
                    }
                }
                Class::Modifier => match pending.as_mut() {
                    Some(p) if p.kind == Class::Symbol => p.push(c),
                    _ => {
                        self.finish(pending.take(), &mut tokens);
                        pending = Some(Pending::new(c, Class::Symbol));
                    }
                },
                Class::Word => match pending.as_mut() {
                    Some(p) if p.kind == Class::Word => p.push(c),
                    _ => {
                        self.finish(pending.take(), &mut tokens);
                        pending = Some(Pending::new(c, Class::Word));
                    }
                },
                Class::Symbol => match pending.as_mut() {
                    Some(p)
                        if p.kind == Class::Symbol
                            && (p.joined || (p.lone_regional && is_regional_indicator(c))) =>
                    {
                        p.push(c)
                    }
                    _ => {
                        self.finish(pending.take(), &mut tokens);
                        pending = Some(Pending::new(c, Class::Symbol));
                    }
                },
            }
        }
        self.finish(pending, &mut tokens);
        tokens
    }

    /// Applies the settings to a finished token and keeps it if it passes.
    fn finish(&self, pending: Option<Pending>, tokens: &mut Vec<String>) {
        let Some(p) = pending else { return };
        let keep = match p.kind {
            Class::Word => p.text.chars().count() >= self.config.min_len,
            _ => self.config.keep_punctuation,
        };
        if !keep {
            return;
        }
        let token = if self.config.lowercase {
            p.text.to_lowercase()
        } else {
            p.text
        };
        if !self.stop_words.contains(&token) {
            tokens.push(token);
        }
    }
}

/// Reads a stop-word list: one word per line, surrounding blanks trimmed, blank lines and
/// lines starting with `#` skipped. Plain or gzip.
pub fn read_stop_words(path: impl AsRef<Path>) -> Result<Vec<String>> {
    read_words(LineReader::open(path.as_ref())?)
}

/// [`read_stop_words`] on in-memory text; `name` is what errors name.
pub fn parse_stop_words(reader: impl BufRead, name: impl AsRef<Path>) -> Result<Vec<String>> {
    read_words(LineReader::new(reader, name.as_ref()))
}

fn read_words<R: BufRead>(mut lines: LineReader<R>) -> Result<Vec<String>> {
    let mut words = Vec::new();
    while let Some(line) = lines.next_content(&["#"])? {
        words.push(line.text.trim().to_string());
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn tokens(tokenizer: &Tokenizer, text: &str) -> Vec<String> {
        tokenizer.tokenize(text)
    }

    fn keep() -> Tokenizer {
        TokenizerConfig::new().with_keep_punctuation(true).init()
    }

    #[test]
    fn english_words_lowercased_and_punctuation_dropped() {
        let t = Tokenizer::default();
        assert_eq!(
            tokens(&t, "Hello, World! It's 2024 -- e-mail_address (3.14)."),
            [
                "hello", "world", "it", "s", "2024", "e", "mail", "address", "3", "14"
            ]
        );
        assert_eq!(
            tokens(&keep(), "Hi, you! (ok)"),
            ["hi", ",", "you", "!", "(", "ok", ")"]
        );
        assert!(t.tokenize("  \t\n ,.;  ").is_empty());
        assert!(t.tokenize("").is_empty());
    }

    #[test]
    fn telugu_survives_whole() {
        let t = Tokenizer::default();
        // Vowel signs (Mn/Mc), viramas (U+0C4D) and conjuncts stay inside their words.
        let text = "తెలుగు భాష చాలా అందమైనది. ప్రేమ, క్షమించండి!";
        assert_eq!(
            tokens(&t, text),
            ["తెలుగు", "భాష", "చాలా", "అందమైనది", "ప్రేమ", "క్షమించండి"]
        );
        assert!(tokens(&t, "ప్రేమ")[0].contains('\u{0C4D}'));
    }

    #[test]
    fn devanagari_with_virama_and_danda() {
        let t = Tokenizer::default();
        // The danda (U+0964) is punctuation; the virama (U+094D) is part of the word.
        assert_eq!(
            tokens(&t, "हिन्दी में स्वागत है। धन्यवाद॥"),
            ["हिन्दी", "में", "स्वागत", "है", "धन्यवाद"]
        );
    }

    #[test]
    fn composed_and_decomposed_accents() {
        let t = Tokenizer::default();
        assert_eq!(
            tokens(&t, "Café CAFE\u{301} naïve \u{301}stray"),
            ["café", "cafe\u{301}", "naïve", "stray"]
        );
        let upper = TokenizerConfig::new().with_lowercase(false).init();
        assert_eq!(tokens(&upper, "CAFE\u{301}!"), ["CAFE\u{301}"]);
        assert_eq!(tokens(&t, "İstanbul ΣΟΦΟΣ"), ["i\u{307}stanbul", "σοφος"]);
    }

    #[test]
    fn cjk_runs_and_fullwidth_punctuation() {
        assert_eq!(
            tokens(
                &Tokenizer::default(),
                "我爱自然语言处理，很好。日本語のテキスト"
            ),
            ["我爱自然语言处理", "很好", "日本語のテキスト"]
        );
    }

    #[test]
    fn emoji_dropped_or_kept_whole() {
        let text = "I ❤️ Rust 👍🏽 👨\u{200D}👩\u{200D}👧 🇮🇳🇺🇸 🏻";
        assert_eq!(tokens(&Tokenizer::default(), text), ["i", "rust"]);
        assert_eq!(
            tokens(&keep(), text),
            [
                "i",
                "❤\u{FE0F}",
                "rust",
                "👍🏽",
                "👨\u{200D}👩\u{200D}👧",
                "🇮🇳",
                "🇺🇸",
                "🏻"
            ]
        );
        assert_eq!(tokens(&keep(), "wow!!"), ["wow", "!", "!"]);
    }

    #[test]
    fn invisible_characters() {
        let t = Tokenizer::default();
        // ZWNJ inside a Persian word stays; a joiner at a token's edge goes.
        assert_eq!(tokens(&t, "می\u{200C}خواهم"), ["می\u{200C}خواهم"]);
        assert_eq!(tokens(&t, "\u{200D}ab\u{200D} c\u{200D}!"), ["ab", "c"]);
        assert_eq!(tokens(&t, "co\u{AD}operate\u{200E}"), ["cooperate"]);
        assert_eq!(tokens(&t, "foo\u{200B}bar\u{0}baz"), ["foo", "bar", "baz"]);
    }

    #[test]
    fn stop_words_min_len_and_case() {
        let config = TokenizerConfig::new()
            .with_min_len(2)
            .with_stop_words(vec!["The".into(), "ఒక".into()]);
        let t = config.init();
        assert_eq!(tokens(&t, "The cat is a ఒక పిల్లి X"), ["cat", "is", "పిల్లి"]);
        let punct = TokenizerConfig::new()
            .with_min_len(3)
            .with_keep_punctuation(true)
            .with_stop_words(vec![",".into()])
            .init();
        assert_eq!(tokens(&punct, "ab, abc!"), ["abc", "!"]);
    }

    #[test]
    fn combining_mark_table() {
        for c in [
            '\u{0300}', '\u{0C4D}', '\u{094D}', '\u{093C}', '\u{FE0F}', '\u{20DD}',
        ] {
            assert!(is_combining_mark(c), "{:04X}", u32::from(c));
        }
        for c in ['a', '\u{0964}', '\u{0C3E}', ' ', '_', '\u{10FFFF}'] {
            assert!(!is_combining_mark(c), "{:04X}", u32::from(c));
        }
        assert!(
            COMBINING_MARKS
                .windows(2)
                .all(|w| w[0].0 <= w[0].1 && w[0].1 + 1 < w[1].0),
            "sorted, disjoint, merged"
        );
    }

    #[test]
    fn stop_word_files() {
        let words =
            parse_stop_words("# NLTK-style\nthe\n\n  a \nమరియు\n".as_bytes(), "stop.txt").unwrap();
        assert_eq!(words, ["the", "a", "మరియు"]);
        let e = parse_stop_words(&b"ok\n\xff\n"[..], "stop.txt")
            .unwrap_err()
            .to_string();
        assert!(e.contains("stop.txt: line 2") && e.contains("UTF-8"), "{e}");
    }

    proptest! {
        #[test]
        fn tokens_are_nonempty_words_without_whitespace(text in "\\PC{0,40}|[a-z ,.\u{0C00}-\u{0C7F}\u{200C}\u{200D}\u{0301}]{0,40}") {
            for t in [Tokenizer::default(), keep()] {
                for token in t.tokenize(&text) {
                    prop_assert!(!token.is_empty());
                    prop_assert!(!token.chars().any(char::is_whitespace), "{token:?}");
                }
            }
            // Keeping punctuation and case, every letter, digit and symbol comes out once,
            // in order.
            let exact = TokenizerConfig::new().with_lowercase(false).with_keep_punctuation(true).init();
            let visible = |s: &str| -> String {
                s.chars().filter(|&c| matches!(class(c), Class::Word | Class::Symbol | Class::Modifier)).collect()
            };
            prop_assert_eq!(visible(&exact.tokenize(&text).concat()), visible(&text));
        }
    }
}
