//! Reading text formats line by line with positions for every error.
//!
//! All text readers of this crate (time series, graphs, interactions, corpora) go through
//! [`LineReader`], so every error has the same form: `<path>: line L, column C: <what was
//! expected>, found <what was there>`. Columns count characters (not bytes) from 1, so they
//! are right for non-ASCII text too. Files may be gzip-compressed (detected by magic bytes).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use convkit_core::{Error, Result};

/// Opens `path` for buffered reading, decompressing it on the fly if it starts with the gzip
/// magic bytes.
pub(crate) fn open(path: &Path) -> Result<Box<dyn BufRead>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let head = reader.fill_buf().map_err(|e| Error::io(path, e))?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(
            1 << 16,
            flate2::read::MultiGzDecoder::new(reader),
        )))
    } else {
        Ok(Box::new(reader))
    }
}

/// How the fields of a line are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Separator {
    /// Runs of spaces and tabs; leading and trailing blanks are ignored.
    Whitespace,
    /// One character; fields are trimmed of surrounding blanks.
    Char(char),
}

impl Separator {
    /// Comma if the line has one, whitespace otherwise (edge lists and interaction files come
    /// both ways).
    pub(crate) fn detect(line: &str) -> Self {
        if line.contains(',') {
            Separator::Char(',')
        } else if line.contains('\t') && line.trim().contains('\t') && !line.contains(' ') {
            Separator::Char('\t')
        } else {
            Separator::Whitespace
        }
    }
}

/// A field of a line: its text and its byte offset in the line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field<'a> {
    pub(crate) text: &'a str,
    pub(crate) start: usize,
}

/// One line of a file, without its line terminator.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    pub(crate) text: &'a str,
    /// 1-based line number.
    pub(crate) number: usize,
    path: &'a Path,
}

impl<'a> Line<'a> {
    /// An error at byte offset `start` of this line.
    pub(crate) fn error_at(&self, start: usize, message: impl std::fmt::Display) -> Error {
        let column = self.text[..start.min(self.text.len())].chars().count() + 1;
        Error::file(
            self.path,
            format!("line {}, column {column}: {message}", self.number),
        )
    }

    /// An error about the whole line.
    pub(crate) fn error(&self, message: impl std::fmt::Display) -> Error {
        Error::file(self.path, format!("line {}: {message}", self.number))
    }

    /// The fields of the line.
    pub(crate) fn fields(&self, separator: Separator) -> impl Iterator<Item = Field<'a>> + 'a {
        let text = self.text;
        let base = text.as_ptr() as usize;
        let offset = move |s: &str| s.as_ptr() as usize - base;
        let split: Box<dyn Iterator<Item = &'a str> + 'a> = match separator {
            Separator::Whitespace => Box::new(text.split([' ', '\t']).filter(|s| !s.is_empty())),
            Separator::Char(c) => Box::new(text.split(c).map(|s| s.trim_matches([' ', '\t']))),
        };
        split.map(move |s| Field {
            text: s,
            start: offset(s),
        })
    }

    /// Parses `field` as a `T`, or an error naming the column, `what` was expected and what
    /// was found.
    pub(crate) fn parse<T: FromStr>(&self, field: Field<'_>, what: &str) -> Result<T> {
        field.text.parse().map_err(|_| {
            self.error_at(
                field.start,
                format!("expected {what}, found {}", quoted(field.text)),
            )
        })
    }

    /// Parses a floating-point field that may be missing: `?`, `NaN`, `nan` and the empty
    /// string read as NaN.
    pub(crate) fn parse_value(&self, field: Field<'_>, what: &str) -> Result<f32> {
        match field.text {
            "" | "?" | "NaN" | "nan" | "NA" => Ok(f32::NAN),
            _ => self.parse(field, what),
        }
    }

    /// Exactly `n` fields, or an error saying how many there were.
    pub(crate) fn exact_fields(
        &self,
        separator: Separator,
        n: usize,
        what: &str,
    ) -> Result<Vec<Field<'a>>> {
        let fields: Vec<_> = self.fields(separator).collect();
        if fields.len() != n {
            return Err(self.error(format!(
                "expected {n} fields ({what}), found {}",
                fields.len()
            )));
        }
        Ok(fields)
    }
}

/// A field shown in an error: quoted, and shortened if long.
pub(crate) fn quoted(text: &str) -> String {
    const MAX: usize = 40;
    if text.is_empty() {
        "an empty field".into()
    } else if text.chars().count() > MAX {
        let head: String = text.chars().take(MAX).collect();
        format!("`{head}…`")
    } else {
        format!("`{text}`")
    }
}

/// Bytes the line reader reads at a time (its buffer grows for longer lines).
const BLOCK: usize = 1 << 20;

/// Reads a text source line by line, counting lines for error messages.
///
/// It reads blocks into its own buffer and hands out lines as `&str` into it, validated in
/// place: no copy per line.
pub(crate) struct LineReader<R> {
    reader: R,
    path: PathBuf,
    number: usize,
    /// Read bytes are `buf[start..end]`; the rest is room for the next read.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
}

impl LineReader<Box<dyn BufRead>> {
    /// Opens a file (plain or gzip).
    pub(crate) fn open(path: &Path) -> Result<Self> {
        Ok(Self::new(open(path)?, path))
    }
}

impl<R: BufRead> LineReader<R> {
    /// Reads from `reader`; `path` is what errors name.
    pub(crate) fn new(reader: R, path: impl Into<PathBuf>) -> Self {
        LineReader {
            reader,
            path: path.into(),
            number: 0,
            buf: Vec::new(),
            start: 0,
            end: 0,
            eof: false,
        }
    }

    /// The path errors name.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The number of lines read so far (the number of the last one).
    pub(crate) fn line_number(&self) -> usize {
        self.number
    }

    /// Reads more bytes after `end`, first moving the unread ones to the front and growing the
    /// buffer if they fill it. Sets `eof` when the source has no more.
    fn fill(&mut self) -> Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.is_empty() {
            self.buf = vec![0; BLOCK];
        } else if self.end == self.buf.len() {
            self.buf.resize(self.buf.len() * 2, 0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(Error::io(&self.path, e)),
            }
        }
    }

    /// Reads the next line and returns the byte range of its text (without `\n` or `\r\n`)
    /// in `buf`; `None` at the end.
    fn advance(&mut self) -> Result<Option<(usize, usize)>> {
        // Bytes after `start` already searched for a line end (reads only append).
        let mut searched = 0;
        let (text_end, next) = loop {
            let pending = &self.buf[self.start..self.end];
            if let Some(i) = memchr::memchr(b'\n', &pending[searched..]) {
                let end = self.start + searched + i;
                let text_end = if end > self.start && self.buf[end - 1] == b'\r' {
                    end - 1
                } else {
                    end
                };
                break (text_end, end + 1);
            }
            if self.eof {
                if pending.is_empty() {
                    return Ok(None);
                }
                break (self.end, self.end);
            }
            searched = pending.len();
            self.fill()?;
        };
        let start = self.start;
        self.start = next;
        self.number += 1;
        Ok(Some((start, text_end)))
    }

    /// The line just read, whose text is `buf[range]`, or an error if it is not UTF-8.
    fn line_at(&self, (start, end): (usize, usize)) -> Result<Line<'_>> {
        match std::str::from_utf8(&self.buf[start..end]) {
            Ok(text) => Ok(Line {
                text,
                number: self.number,
                path: &self.path,
            }),
            Err(e) => Err(Error::file(
                &self.path,
                format!(
                    "line {}: not valid UTF-8 at byte {} of the line",
                    self.number,
                    e.valid_up_to() + 1
                ),
            )),
        }
    }

    /// The next line (without `\n` or `\r\n`), `None` at the end. Invalid UTF-8 is an error
    /// naming the line.
    pub(crate) fn next_line(&mut self) -> Result<Option<Line<'_>>> {
        match self.advance()? {
            Some(range) => self.line_at(range).map(Some),
            None => Ok(None),
        }
    }

    /// The next line that is neither blank nor a comment (starting with one of `comments`
    /// after leading blanks).
    pub(crate) fn next_content(&mut self, comments: &[&str]) -> Result<Option<Line<'_>>> {
        while let Some(range) = self.advance()? {
            let t = self.line_at(range)?.text.trim_start();
            if !(t.is_empty() || comments.iter().any(|c| t.starts_with(c))) {
                // Built again: a line returned from inside the loop would keep `self` borrowed.
                return self.line_at(range).map(Some);
            }
        }
        Ok(None)
    }

    /// The read bytes after the last line returned: whole lines, each with its `\n`, except
    /// that the last line of the source may lack one. Empty only at the end of the source.
    /// Not checked to be UTF-8. For a caller's fast path over many lines, which then tells
    /// [`Self::consume_lines`] how many it handled; a line it cannot handle it leaves to
    /// [`Self::next_line`].
    pub(crate) fn buffered_lines(&mut self) -> Result<&[u8]> {
        let mut searched = 0;
        loop {
            let pending = &self.buf[self.start..self.end];
            if self.eof {
                return Ok(&self.buf[self.start..self.end]);
            }
            if let Some(i) = memchr::memrchr(b'\n', &pending[searched..]) {
                return Ok(&self.buf[self.start..self.start + searched + i + 1]);
            }
            searched = pending.len();
            self.fill()?;
        }
    }

    /// Skips the first `lines` lines of [`Self::buffered_lines`], `bytes` bytes in all.
    pub(crate) fn consume_lines(&mut self, bytes: usize, lines: usize) {
        self.start = (self.start + bytes).min(self.end);
        self.number += lines;
    }

    /// An error at the end of the file (e.g. a truncated section).
    pub(crate) fn error_at_end(&self, message: impl std::fmt::Display) -> Error {
        Error::file(
            &self.path,
            format!("at the end (after line {}): {message}", self.number),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(text: &str) -> LineReader<&[u8]> {
        LineReader::new(text.as_bytes(), "t.txt")
    }

    #[test]
    fn lines_fields_and_positions() {
        let mut r = reader("# c\n\n a,  b ,c\r\nత ,x\n");
        let line = r.next_content(&["#"]).unwrap().unwrap();
        assert_eq!(line.number, 3);
        let f: Vec<_> = line.fields(Separator::Char(',')).map(|f| f.text).collect();
        assert_eq!(f, ["a", "b", "c"]);
        let line = r.next_line().unwrap().unwrap();
        let x = line.fields(Separator::Char(',')).nth(1).unwrap();
        let e = line.parse::<u32>(x, "a node id").unwrap_err().to_string();
        assert_eq!(
            e, "t.txt: line 4, column 4: expected a node id, found `x`",
            "columns count characters, not bytes"
        );
        assert!(r.next_line().unwrap().is_none());
    }

    #[test]
    fn whitespace_fields_and_missing_values() {
        let mut r = reader("  1\t 2.5   ?  \n");
        let line = r.next_line().unwrap().unwrap();
        let f: Vec<_> = line.fields(Separator::Whitespace).collect();
        assert_eq!(f.len(), 3);
        assert_eq!(f[1].start, 5);
        assert_eq!(line.parse_value(f[1], "v").unwrap(), 2.5);
        assert!(line.parse_value(f[2], "v").unwrap().is_nan());
        assert!(
            line.exact_fields(Separator::Whitespace, 2, "a pair")
                .is_err()
        );
    }

    #[test]
    fn long_lines_line_ends_and_buffered_lines() {
        let long = "é".repeat(BLOCK);
        let text = format!("a\r\n{long}\n\nb\r");
        let mut r = reader(&text);
        assert_eq!(r.buffered_lines().unwrap(), b"a\r\n");
        r.consume_lines(3, 1);
        assert_eq!(r.line_number(), 1);
        assert_eq!(r.next_line().unwrap().unwrap().text, long);
        let line = r.next_content(&["#"]).unwrap().unwrap();
        assert_eq!(
            (line.text, line.number),
            ("b\r", 4),
            "a lone `\\r` at the end stays"
        );
        assert!(r.next_line().unwrap().is_none());
        assert!(r.buffered_lines().unwrap().is_empty());
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let mut r = LineReader::new(&b"ok\n\xff\xfe\n"[..], "t.txt");
        r.next_line().unwrap();
        let e = r.next_line().unwrap_err().to_string();
        assert!(e.contains("line 2") && e.contains("UTF-8"), "{e}");
    }
}
