//! The first pass of the edge-list reader: scanning lines fast (a hand-written splitter and id parser for the common case).

use super::*;

/// Reads every data line of `lines`, checks it, and hands its raw ids (before the base shift)
/// and weight to `visit`. Fixes `layout` on the first pass; a second pass gets it back.
pub(super) fn scan<R: BufRead>(
    lines: &mut LineReader<R>,
    options: &EdgeListOptions,
    layout: &mut Layout,
    ids: &mut IdRange,
    mut visit: impl FnMut(usize, [u64; 2], Option<f32>) -> Result<()>,
) -> Result<()> {
    let explicit_shift = match options.index_base {
        IndexBase::Zero => Some(0),
        IndexBase::One => Some(1),
        IndexBase::Auto => None,
    };
    let mut fast = layout.data.and_then(|data| FastLines::new(data, options));
    loop {
        if let Some(fast) = &fast
            && lines.line_number() + 1 >= fast.first_line
        {
            fast.scan(lines, ids, &mut visit)?;
        }
        // The slow path: any other line, read as a `Line`, which names any error.
        let Some(line) = lines.next_line()? else {
            return Ok(());
        };
        let content = line.text.trim_start();
        if content.is_empty() || COMMENTS.iter().any(|c| content.starts_with(c)) {
            continue;
        }
        if !layout.header_decided {
            layout.header_decided = true;
            let is_header = match options.header {
                Header::Present => true,
                Header::Absent => false,
                Header::Auto => line
                    .fields(Separator::detect(line.text))
                    .next()
                    .is_some_and(|f| f.text.parse::<f64>().is_err()),
            };
            if is_header {
                layout.header_line = Some(line.number);
                continue;
            }
        }
        if layout.header_line == Some(line.number) {
            continue;
        }
        let data = match layout.data {
            Some(data) => data,
            None => {
                let data = first_data_line(&line, options.weights)?;
                fast = FastLines::new(data, options);
                *layout.data.insert(data)
            }
        };
        let mut fields = [Field { text: "", start: 0 }; 3];
        let count = split_fields(line.text, data.separator, &mut fields);
        let needed = if data.weighted { 3 } else { 2 };
        if let Some(exact) = data.exact_fields
            && count != exact
        {
            return Err(line.error(format!(
                "expected {exact} fields (as on line {}), found {count}",
                data.first_line
            )));
        }
        if count < needed {
            return Err(line.error(format!(
                "expected at least {needed} fields (source, target{}), found {count}",
                if data.weighted { ", weight" } else { "" }
            )));
        }
        let mut pair = [0u64; 2];
        for (slot, field) in pair.iter_mut().zip(&fields) {
            let id = parse_id(&line, *field)?;
            if options.num_nodes.is_none() && id > options.max_inferred_nodes as u64 {
                return Err(line.error_at(field.start, too_many_nodes(id, options)));
            }
            // Out of range whichever the base (and the counts of the first pass must not grow
            // past the given size).
            if explicit_shift.is_none()
                && let Some(n) = options.num_nodes
                && id > n as u64
            {
                return Err(line.error_at(
                    field.start,
                    format!("expected a node id of at most {n} ({n} nodes), found {id}"),
                ));
            }
            if let Some(shift) = explicit_shift {
                if id < shift {
                    return Err(line.error_at(
                        field.start,
                        "expected a node id of at least 1 (ids are one-based), found 0",
                    ));
                }
                if let Some(n) = options.num_nodes
                    && id - shift >= n as u64
                {
                    return Err(line.error_at(field.start, out_of_range(id, n, shift)));
                }
            }
            // Ids are ASCII digits after ASCII separators: the byte offset is the column.
            ids.update(id, line.number, field.start + 1);
            *slot = id;
        }
        let weight = if data.weighted {
            Some(parse_finite(&line, fields[2], "a weight")?)
        } else {
            None
        };
        visit(line.number, pair, weight)?;
    }
}

/// The fast path of [`scan`] for the common data line `digits SEP digits [SEP weight]` (SEP
/// the layout's separator, a single blank for blank-separated files; the line ends in `\n`,
/// `\r\n` or the end of the file) with ids in the range the options allow: such lines are
/// parsed straight from the reader's buffer. Any other line (comments, other spacing, more
/// fields, bad or out-of-range ids) is left to the slow path, which reads it as a [`Line`]
/// and names any error, so both paths accept the same lines with the same results.
pub(super) struct FastLines {
    /// The separator bytes: equal unless the layout separates by blanks.
    separator: [u8; 2],
    weighted: bool,
    /// The smallest and largest id the slow path accepts.
    min_id: u64,
    max_id: u64,
    /// The first data line: lines before it (comments, a header) take the slow path.
    first_line: usize,
}

impl FastLines {
    /// `None` if the separator is not ASCII.
    pub(super) fn new(data: DataLayout, options: &EdgeListOptions) -> Option<Self> {
        let separator = match data.separator {
            Separator::Whitespace => [b' ', b'\t'],
            Separator::Char(c) => [u8::try_from(c).ok().filter(u8::is_ascii)?; 2],
        };
        let shift = match options.index_base {
            IndexBase::Zero | IndexBase::Auto => 0,
            IndexBase::One => 1,
        };
        // The bounds that `scan` checks, in the same cases.
        let limit = match (options.num_nodes, options.index_base) {
            (None, _) => Some(options.max_inferred_nodes as u64),
            (Some(n), IndexBase::Auto) => Some(n as u64),
            // Ids shift..n + shift; none if that is empty.
            (Some(n), _) => (n as u64 + shift).checked_sub(1),
        };
        // An empty range sends every line to the slow path.
        let (min_id, max_id) = match limit {
            Some(max) => (shift, max.min(u64::from(u32::MAX))),
            None => (1, 0),
        };
        Some(FastLines {
            separator,
            weighted: data.weighted,
            min_id,
            max_id,
            first_line: data.first_line,
        })
    }

    /// Hands the lines at the front of `lines`' buffer to `visit` while they have the fast
    /// shape, as `scan` would; stops at the first other line or the end of the input.
    pub(super) fn scan<R: BufRead>(
        &self,
        lines: &mut LineReader<R>,
        ids: &mut IdRange,
        visit: &mut impl FnMut(usize, [u64; 2], Option<f32>) -> Result<()>,
    ) -> Result<()> {
        loop {
            let number = lines.line_number();
            let block = lines.buffered_lines()?;
            let (mut at, mut count) = (0, 0);
            while let Some((u, v, v_column, weight, len)) = self.parse(&block[at..]) {
                let line = number + count + 1;
                ids.update(u, line, 1);
                ids.update(v, line, v_column);
                visit(line, [u, v], weight)?;
                at += len;
                count += 1;
            }
            let whole = at == block.len();
            lines.consume_lines(at, count);
            if !whole || at == 0 {
                // A line for the slow path, or the end.
                return Ok(());
            }
        }
    }

    /// The line at the start of `bytes` as (source, target, the target's column, weight,
    /// length with the line end), or `None` if it does not have the fast shape.
    pub(super) fn parse(&self, bytes: &[u8]) -> Option<(u64, u64, usize, Option<f32>, usize)> {
        let (u, at) = self.id(bytes, 0)?;
        let at = self.separator_at(bytes, at)?;
        let v_column = at + 1;
        let (v, at) = self.id(bytes, at)?;
        if !self.weighted {
            return Some((u, v, v_column, None, line_end(bytes, at)?));
        }
        let start = self.separator_at(bytes, at)?;
        let rest = bytes.get(start..)?;
        let (end, len) = match memchr::memchr(b'\n', rest) {
            Some(i) if i > 0 && rest[i - 1] == b'\r' => (start + i - 1, start + i + 1),
            Some(i) => (start + i, start + i + 1),
            // The last line, without a line end.
            None => (bytes.len(), bytes.len()),
        };
        let text = std::str::from_utf8(bytes.get(start..end)?).ok()?;
        // Text with a separator or blank in it does not parse as a number.
        let weight = text.parse::<f32>().ok().filter(|w| w.is_finite())?;
        Some((u, v, v_column, Some(weight), len))
    }

    /// The id of at most 10 digits (no overflow) at `at`, if in range, and the index after it.
    pub(super) fn id(&self, bytes: &[u8], at: usize) -> Option<(u64, usize)> {
        let (mut id, mut end) = match bytes.get(at..at + 8) {
            // The first up to 8 digits at once.
            Some(chunk) => eight_digits(chunk)?,
            None => (0, 0),
        };
        end += at;
        // The rest (or all, near the end of the buffer) digit by digit.
        while let Some(&b) = bytes.get(end) {
            let digit = b.wrapping_sub(b'0');
            if digit > 9 {
                break;
            }
            id = id * 10 + u64::from(digit);
            end += 1;
            if end - at > 10 {
                return None;
            }
        }
        (end > at && (self.min_id..=self.max_id).contains(&id)).then_some((id, end))
    }

    /// The index after the separator at `at`.
    pub(super) fn separator_at(&self, bytes: &[u8], at: usize) -> Option<usize> {
        let b = *bytes.get(at)?;
        (b == self.separator[0] || b == self.separator[1]).then_some(at + 1)
    }
}

/// The number that the leading ASCII digits of `chunk` (8 bytes) spell and how many there
/// are, with word-wide arithmetic (SWAR) instead of a loop; `None` if `chunk` is not 8 bytes.
pub(super) fn eight_digits(chunk: &[u8]) -> Option<(u64, usize)> {
    let word = u64::from_le_bytes(chunk.try_into().ok()?);
    const LOW: u64 = 0x0101_0101_0101_0101;
    // Per byte: nonzero high nibble test bits unless the byte is 0x30..=0x39. Carries out of
    // a non-digit byte only disturb the bytes after it.
    let high = word & (0xF0 * LOW);
    let high_plus_6 = word.wrapping_add(6 * LOW) & (0xF0 * LOW);
    let not_digit = (high ^ (0x30 * LOW)) | (high_plus_6 ^ (0x30 * LOW));
    let count = (not_digit.trailing_zeros() / 8) as usize;
    if count == 0 {
        return Some((0, 0));
    }
    // The digits' values, moved to the top bytes (the first digit is the lowest byte), so the
    // free low bytes are leading zeros.
    let mut value = (word & (0x0F * LOW)) << (8 * (8 - count));
    value = (value.wrapping_mul(10 << 8 | 1) >> 8) & 0x00FF_00FF_00FF_00FF;
    value = (value.wrapping_mul(100 << 16 | 1) >> 16) & 0x0000_FFFF_0000_FFFF;
    value = value.wrapping_mul(10_000 << 32 | 1) >> 32;
    Some((value, count))
}

/// The length of a line whose text ends at `at`: the line end must follow (`\n`, `\r\n`, or
/// the end of the input).
pub(super) fn line_end(bytes: &[u8], at: usize) -> Option<usize> {
    match bytes.get(at..at + 2) {
        None if at == bytes.len() => Some(at),
        _ if bytes.get(at) == Some(&b'\n') => Some(at + 1),
        Some(b"\r\n") => Some(at + 2),
        _ => None,
    }
}

/// Splits `text` as [`Line::fields`] does (runs of blanks, or one separator character with
/// blanks trimmed) without allocating, for the per-line hot path: stores the first fields in
/// `out` and returns how many fields there are.
pub(super) fn split_fields<'a>(
    text: &'a str,
    separator: Separator,
    out: &mut [Field<'a>],
) -> usize {
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let bytes = text.as_bytes();
    let mut count = 0;
    // Splitting at ASCII bytes always lands on character boundaries.
    let mut put = |start: usize, end: usize| {
        if let Some(slot) = out.get_mut(count) {
            *slot = Field {
                text: &text[start..end],
                start,
            };
        }
        count += 1;
    };
    match separator {
        Separator::Whitespace => {
            let mut i = 0;
            while i < bytes.len() {
                if blank(&bytes[i]) {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < bytes.len() && !blank(&bytes[i]) {
                    i += 1;
                }
                put(start, i);
            }
        }
        Separator::Char(c) => {
            for piece in text.split(c) {
                let mut start = piece.as_ptr() as usize - text.as_ptr() as usize;
                let mut end = start + piece.len();
                // End first: an all-blank field is empty at its start, as in `trim_matches`.
                while end > start && blank(&bytes[end - 1]) {
                    end -= 1;
                }
                while start < end && blank(&bytes[start]) {
                    start += 1;
                }
                put(start, end);
            }
        }
    }
    count
}
