//! The `.npy` header: a Python dict literal with `descr`, `fortran_order` and `shape`.

use std::borrow::Cow;

use super::*;

/// What a header dict says.
pub(super) struct Header {
    pub(super) dtype: NpyDtype,
    pub(super) big_endian: bool,
    pub(super) fortran_order: bool,
    pub(super) shape: Vec<usize>,
}

/// A parser for the subset of Python literal syntax a `.npy` header uses: one dict with
/// string keys, a string, a bool and a tuple of integers. Positions are byte offsets into
/// the header, reported as offsets into the file (`base` + position).
pub(super) struct HeaderParser<'a> {
    pub(super) text: &'a [u8],
    pub(super) pos: usize,
    pub(super) base: u64,
    pub(super) src: &'a Source<'a>,
}

impl<'a> HeaderParser<'a> {
    pub(super) fn parse(mut self) -> Result<Header> {
        let mut descr = None;
        let mut fortran_order = None;
        let mut shape = None;
        self.skip_space();
        self.expect(b'{', "'{' opening the header dict")?;
        loop {
            self.skip_space();
            if self.peek() == Some(b'}') {
                self.pos += 1;
                break;
            }
            let key_pos = self.pos;
            let key = self.string("a quoted key")?;
            self.skip_space();
            self.expect(b':', "':' after a key")?;
            self.skip_space();
            let duplicate = match key.as_ref() {
                "descr" => descr.replace(self.descr()?).is_some(),
                "fortran_order" => fortran_order.replace(self.bool()?).is_some(),
                "shape" => shape.replace(self.shape()?).is_some(),
                other => {
                    return Err(self.error_at(
                        key_pos,
                        format!(
                            "unexpected key '{other}': a .npy header has exactly the keys 'descr', 'fortran_order' and 'shape'"
                        ),
                    ));
                }
            };
            if duplicate {
                return Err(self.error_at(key_pos, format!("key '{key}' appears twice")));
            }
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.unexpected("',' or '}' after a value")),
            }
        }
        self.skip_space();
        if self.pos < self.text.len() {
            return Err(self.unexpected("only spaces and a newline after the header dict"));
        }
        let missing = |key: &str| {
            self.src.error(
                self.base,
                format!("the header dict has no '{key}' key (it needs 'descr', 'fortran_order' and 'shape')"),
            )
        };
        let (dtype, big_endian) = descr.ok_or_else(|| missing("descr"))?;
        Ok(Header {
            dtype,
            big_endian,
            fortran_order: fortran_order.ok_or_else(|| missing("fortran_order"))?,
            shape: shape.ok_or_else(|| missing("shape"))?,
        })
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn error_at(&self, pos: usize, msg: impl fmt::Display) -> Error {
        self.src
            .error(self.base + pos as u64, format!("header: {msg}"))
    }

    /// "expected X, found Y" at the current position.
    fn unexpected(&self, expected: &str) -> Error {
        let rest = &self.text[self.pos.min(self.text.len())..];
        let found = if rest.is_empty() {
            "the end of the header".to_string()
        } else {
            let shown = &rest[..rest.len().min(16)];
            format!("{:?}", String::from_utf8_lossy(shown))
        };
        self.error_at(self.pos, format!("expected {expected}, found {found}"))
    }

    fn expect(&mut self, byte: u8, expected: &str) -> Result<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// A string literal in single or double quotes (numpy writes no escapes).
    fn string(&mut self, expected: &str) -> Result<Cow<'a, str>> {
        let text = self.text;
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => return Err(self.unexpected(expected)),
        };
        let start = self.pos + 1;
        let Some(len) = self.text[start..]
            .iter()
            .position(|&b| b == quote || b == b'\\')
        else {
            return Err(self.error_at(self.pos, "unterminated string"));
        };
        if self.text[start + len] == b'\\' {
            return Err(self.error_at(
                start + len,
                "escape sequences are not supported in a .npy header",
            ));
        }
        self.pos = start + len + 1;
        Ok(String::from_utf8_lossy(&text[start..start + len]))
    }

    fn descr(&mut self) -> Result<(NpyDtype, bool)> {
        let pos = self.pos;
        if self.peek() == Some(b'[') {
            return Err(self.error_at(
                pos,
                format!(
                    "structured dtypes (a list of fields as 'descr') are not supported; {SUPPORTED}"
                ),
            ));
        }
        let descr = self.string("a dtype string as 'descr'")?.into_owned();
        NpyDtype::from_descr(&descr).ok_or_else(|| {
            self.error_at(
                pos,
                format!("unsupported dtype descr '{descr}'; {SUPPORTED}"),
            )
        })
    }

    fn bool(&mut self) -> Result<bool> {
        for (word, value) in [("True", true), ("False", false)] {
            if self.text[self.pos..].starts_with(word.as_bytes()) {
                self.pos += word.len();
                return Ok(value);
            }
        }
        Err(self.unexpected("True or False as 'fortran_order'"))
    }

    /// A tuple of non-negative integers: `()`, `(5,)`, `(2, 3)`, `(2, 3,)`; Python 2 files
    /// may write `3L`.
    fn shape(&mut self) -> Result<Vec<usize>> {
        self.expect(b'(', "a tuple '(' as 'shape'")?;
        let mut shape = Vec::new();
        let mut trailing_comma = false;
        loop {
            self.skip_space();
            if self.peek() == Some(b')') {
                self.pos += 1;
                break;
            }
            shape.push(self.dimension()?);
            self.skip_space();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    trailing_comma = true;
                }
                Some(b')') => {
                    self.pos += 1;
                    trailing_comma = false;
                    break;
                }
                _ => return Err(self.unexpected("',' or ')' in the shape tuple")),
            }
        }
        if shape.len() == 1 && !trailing_comma {
            return Err(self.error_at(
                self.pos - 1,
                format!(
                    "a one-dimensional shape needs a trailing comma, ({},): without it Python reads a number, not a tuple",
                    shape[0]
                ),
            ));
        }
        Ok(shape)
    }

    fn dimension(&mut self) -> Result<usize> {
        let start = self.pos;
        let digits = self.text[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            return Err(self.unexpected("a non-negative integer dimension"));
        }
        let text = &self.text[start..start + digits];
        let value = text
            .iter()
            .try_fold(0usize, |acc, &d| {
                acc.checked_mul(10)?.checked_add(usize::from(d - b'0'))
            })
            .ok_or_else(|| {
                self.error_at(
                    start,
                    format!(
                        "dimension {} does not fit in {} bits",
                        String::from_utf8_lossy(text),
                        usize::BITS
                    ),
                )
            })?;
        self.pos += digits;
        if self.peek() == Some(b'L') {
            self.pos += 1;
        }
        Ok(value)
    }
}
