//! Reading and writing interactions: LightGCN adjacency files and rating tables.

use super::*;

/// How the user and item columns of a rating table are read.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// Any non-empty string; indices in first-seen order, names kept in the id maps.
    Strings,
    /// 0-based integer indices (`num_users` = largest id + 1), no maps.
    Numeric,
}

/// Whether a rating table starts with a header line.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Header {
    /// The first line is a header when one of its fields cannot be a value of its column:
    /// a non-integer id with numeric ids, a non-number rating or timestamp. With string ids
    /// and two columns every line could be data, so say [`Header::Present`] there.
    Auto,
    /// The first line is a header.
    Present,
    /// There is no header.
    Absent,
}

/// The field separator of a rating table.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum Delimiter {
    /// `::` if the first line has it, else a comma if it has one, else a tab if the fields
    /// are tab separated, else runs of blanks.
    Auto,
    /// `,`
    Comma,
    /// A tab.
    Tab,
    /// Runs of spaces and tabs.
    Whitespace,
    /// `::` (MovieLens 1M / 10M `ratings.dat`).
    DoubleColon,
}

/// What a test split does with a user or item the training data does not have.
#[derive(Config, Debug, Copy, PartialEq, Eq)]
pub enum UnknownIds {
    /// Fail with the line and column of the unknown id.
    Error,
    /// Drop the interaction and count it in [`TestSplit::skipped`].
    Skip,
}

/// Options of [`read_csv`] and [`read_csv_test`].
#[derive(Config, Debug)]
pub struct CsvOptions {
    /// How ids are read (ignored for a test split, which follows its training data).
    #[config(default = "IdKind::Strings")]
    pub ids: IdKind,
    /// Whether the first line is a header.
    #[config(default = "Header::Auto")]
    pub header: Header,
    /// The field separator.
    #[config(default = "Delimiter::Auto")]
    pub delimiter: Delimiter,
    /// Unknown users and items in a test split.
    #[config(default = "UnknownIds::Error")]
    pub unknown: UnknownIds,
}

/// Reads a LightGCN-style adjacency file (plain or gzip); see the module documentation.
pub fn read_adjacency(path: impl AsRef<Path>) -> Result<Interactions> {
    let path = path.as_ref();
    Ok(parse_adjacency_from(LineReader::open(path)?, None)?.interactions)
}

/// [`read_adjacency`] from memory; `name` is what errors name.
pub fn parse_adjacency(reader: impl BufRead, name: impl AsRef<Path>) -> Result<Interactions> {
    Ok(parse_adjacency_from(LineReader::new(reader, name.as_ref()), None)?.interactions)
}

/// Reads the test adjacency file of `train` (ids must be below its user and item counts).
pub fn read_adjacency_test(
    path: impl AsRef<Path>,
    train: &Interactions,
    unknown: UnknownIds,
) -> Result<TestSplit> {
    parse_adjacency_from(LineReader::open(path.as_ref())?, Some((train, unknown)))
}

/// [`read_adjacency_test`] from memory; `name` is what errors name.
pub fn parse_adjacency_test(
    reader: impl BufRead,
    name: impl AsRef<Path>,
    train: &Interactions,
    unknown: UnknownIds,
) -> Result<TestSplit> {
    parse_adjacency_from(
        LineReader::new(reader, name.as_ref()),
        Some((train, unknown)),
    )
}

/// Writes `data` in the adjacency format: one line per user `0..num_users` (users without
/// items too), items in interaction order. Ratings, timestamps, id maps and unused trailing
/// item indices are not stored: reading the file back gives `num_items` = largest item + 1.
pub fn write_adjacency(path: impl AsRef<Path>, data: &Interactions) -> Result<()> {
    let path = path.as_ref();
    crate::atomic::write_atomically(path, |file, tmp| {
        write_adjacency_to(BufWriter::with_capacity(1 << 16, file), tmp, data)
    })
}

/// [`write_adjacency`] to any writer; `name` is what errors name.
pub fn write_adjacency_to(
    mut writer: impl Write,
    name: impl AsRef<Path>,
    data: &Interactions,
) -> Result<()> {
    let by_user = data.by_user();
    let mut write = || -> std::io::Result<()> {
        for user in 0..data.num_users {
            write!(writer, "{user}")?;
            for item in by_user.items(user) {
                write!(writer, " {item}")?;
            }
            writeln!(writer)?;
        }
        writer.flush()
    };
    write().map_err(|e| Error::io(name.as_ref(), e))
}

/// Reads a rating table (plain or gzip); see the module documentation.
pub fn read_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Interactions> {
    Ok(parse_csv_from(LineReader::open(path.as_ref())?, options, None)?.interactions)
}

/// [`read_csv`] from memory; `name` is what errors name.
pub fn parse_csv(
    reader: impl BufRead,
    name: impl AsRef<Path>,
    options: &CsvOptions,
) -> Result<Interactions> {
    Ok(parse_csv_from(LineReader::new(reader, name.as_ref()), options, None)?.interactions)
}

/// Reads the test rating table of `train`: ids are looked up in its maps (string ids) or
/// checked against its counts (numeric ids); `options.ids` is not used.
pub fn read_csv_test(
    path: impl AsRef<Path>,
    options: &CsvOptions,
    train: &Interactions,
) -> Result<TestSplit> {
    parse_csv_from(LineReader::open(path.as_ref())?, options, Some(train))
}

/// [`read_csv_test`] from memory; `name` is what errors name.
pub fn parse_csv_test(
    reader: impl BufRead,
    name: impl AsRef<Path>,
    options: &CsvOptions,
    train: &Interactions,
) -> Result<TestSplit> {
    parse_csv_from(LineReader::new(reader, name.as_ref()), options, Some(train))
}

/// A numeric id: ASCII digits only, at most [`MAX_ID`]. Parsed by hand: this is the inner
/// loop of the adjacency reader.
fn parse_id(text: &str) -> Option<u32> {
    if text.is_empty() {
        return None;
    }
    let mut value: u32 = 0;
    for &b in text.as_bytes() {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u32::from(digit))?;
    }
    (value <= MAX_ID).then_some(value)
}

/// Blank-separated tokens of a line with their values as ids: the adjacency reader's inner
/// loop, one pass over the bytes without the general field splitter.
struct IdTokens<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Iterator for IdTokens<'a> {
    type Item = (Field<'a>, Option<u32>);

    fn next(&mut self) -> Option<Self::Item> {
        let bytes = self.text.as_bytes();
        let blank = |b: u8| b == b' ' || b == b'\t';
        while self.pos < bytes.len() && blank(bytes[self.pos]) {
            self.pos += 1;
        }
        if self.pos == bytes.len() {
            return None;
        }
        let start = self.pos;
        while self.pos < bytes.len() && !blank(bytes[self.pos]) {
            self.pos += 1;
        }
        // Token ends are blanks or the end of the line: always character boundaries.
        let text = &self.text[start..self.pos];
        Some((Field { text, start }, parse_id(text)))
    }
}

/// Numeric ids of one column: below `bound` in a test split (the training count), else up to
/// [`MAX_ID`] with `count` growing to the largest id + 1.
struct NumericIds {
    bound: Option<usize>,
    count: usize,
}

impl NumericIds {
    fn new(train_count: Option<usize>) -> Self {
        NumericIds {
            bound: train_count,
            count: train_count.unwrap_or(0),
        }
    }

    /// The id `value` parsed from `field` (`None`: not an id, an error); `Ok(None)` when a
    /// test split does not know it.
    #[inline]
    fn check(
        &mut self,
        line: &Line<'_>,
        field: Field<'_>,
        value: Option<u32>,
        what: &str,
    ) -> Result<Option<u32>> {
        let id = value.ok_or_else(|| {
            line.error_at(
                field.start,
                format!(
                    "expected {what} (an integer from 0 to {MAX_ID}), found {}",
                    quoted(field.text)
                ),
            )
        })?;
        match self.bound {
            Some(bound) => Ok(((id as usize) < bound).then_some(id)),
            None => {
                self.count = self.count.max(id as usize + 1);
                Ok(Some(id))
            }
        }
    }
}

/// How the ids of one column of a rating table become indices while reading.
enum Column<'a> {
    /// Integer indices.
    Numeric(NumericIds),
    /// Strings indexed in first-seen order.
    Named(IdMap),
    /// Strings of the training data's map.
    Known(&'a IdMap),
}

impl<'a> Column<'a> {
    /// The column of training data (`train` is `None`) or of a test split of `train`: its map,
    /// or numeric ids below its count.
    fn new(kind: IdKind, train: Option<(Option<&'a IdMap>, usize)>) -> Self {
        match (train, kind) {
            (None, IdKind::Strings) => Column::Named(IdMap::new()),
            (None, IdKind::Numeric) => Column::Numeric(NumericIds::new(None)),
            (Some((Some(map), _)), _) => Column::Known(map),
            (Some((None, count)), _) => Column::Numeric(NumericIds::new(Some(count))),
        }
    }

    fn kind(&self) -> IdKind {
        match self {
            Column::Numeric(_) => IdKind::Numeric,
            Column::Named(_) | Column::Known(_) => IdKind::Strings,
        }
    }

    /// The index of the id in `field`; `None` when a test split does not know it.
    fn resolve(&mut self, line: &Line<'_>, field: Field<'_>, what: &str) -> Result<Option<u32>> {
        match self {
            Column::Numeric(ids) => ids.check(line, field, parse_id(field.text), what),
            Column::Named(map) if !field.text.is_empty() => map.insert(field.text).map(Some),
            Column::Known(map) if !field.text.is_empty() => Ok(map.get(field.text)),
            Column::Named(_) | Column::Known(_) => Err(line.error_at(
                field.start,
                format!("expected {what}, found {}", quoted(field.text)),
            )),
        }
    }

    /// The count of ids and the map, at the end of reading.
    fn finish(self) -> (usize, Option<IdMap>) {
        match self {
            Column::Numeric(ids) => (ids.count, None),
            Column::Named(map) => (map.len(), Some(map)),
            Column::Known(map) => (map.len(), Some(map.clone())),
        }
    }
}

/// The error for an id a test split does not know.
fn unknown_error(
    line: &Line<'_>,
    field: Field<'_>,
    what: &str,
    count: usize,
    plural: &str,
) -> Error {
    line.error_at(
        field.start,
        format!(
            "expected {what} of the training data ({count} {plural}), found {}",
            quoted(field.text)
        ),
    )
}

fn parse_adjacency_from<R: BufRead>(
    mut lines: LineReader<R>,
    train: Option<(&Interactions, UnknownIds)>,
) -> Result<TestSplit> {
    let train_data = train.map(|(t, _)| t);
    let unknown = train.map_or(UnknownIds::Error, |(_, u)| u);
    let mut user_ids = NumericIds::new(train_data.map(|t| t.num_users));
    let mut item_ids = NumericIds::new(train_data.map(|t| t.num_items));
    let mut line_of_user: HashMap<u32, usize> = HashMap::new();
    let (mut users, mut items) = (Vec::new(), Vec::new());
    let mut skipped = 0;
    while let Some(line) = lines.next_content(&[])? {
        let mut tokens = IdTokens {
            text: line.text,
            pos: 0,
        };
        let Some((first, value)) = tokens.next() else {
            continue;
        };
        let Some(user) = user_ids.check(&line, first, value, "a user id")? else {
            if unknown == UnknownIds::Error {
                return Err(unknown_error(
                    &line,
                    first,
                    "a user id",
                    user_ids.count,
                    "users",
                ));
            }
            // The items must still be ids: a malformed line is an error even when skipped.
            for (field, value) in tokens {
                item_ids.check(&line, field, value, "an item id")?;
                skipped += 1;
            }
            continue;
        };
        match line_of_user.entry(user) {
            Entry::Occupied(first_line) => {
                return Err(line.error_at(
                    first.start,
                    format!(
                        "expected each user on one line, found user {user} again (first on line {})",
                        first_line.get()
                    ),
                ));
            }
            Entry::Vacant(slot) => {
                slot.insert(line.number);
            }
        }
        for (field, value) in tokens {
            match item_ids.check(&line, field, value, "an item id")? {
                Some(item) => {
                    users.push(user);
                    items.push(item);
                }
                None if unknown == UnknownIds::Skip => skipped += 1,
                None => {
                    return Err(unknown_error(
                        &line,
                        field,
                        "an item id",
                        item_ids.count,
                        "items",
                    ));
                }
            }
        }
    }
    // A test split shares the training maps, whatever format the training data came in.
    let user_side = (user_ids.count, train_data.and_then(|t| t.user_ids.clone()));
    let item_side = (item_ids.count, train_data.and_then(|t| t.item_ids.clone()));
    Ok(finish(
        (users, user_side),
        (items, item_side),
        None,
        None,
        skipped,
    ))
}

/// The ids of one side (users or items) after a reading: the indices, their count, the map.
type Side = (Vec<u32>, (usize, Option<IdMap>));

/// Assembles the result of a reading.
fn finish(
    (users, (num_users, user_ids)): Side,
    (items, (num_items, item_ids)): Side,
    ratings: Option<Vec<f32>>,
    timestamps: Option<Vec<i64>>,
    skipped: usize,
) -> TestSplit {
    TestSplit {
        interactions: Interactions {
            num_users,
            num_items,
            users,
            items,
            ratings,
            timestamps,
            user_ids,
            item_ids,
        },
        skipped,
    }
}

impl Delimiter {
    /// The delimiter of a table whose first line is `line`.
    fn resolve(self, line: &str) -> Delimiter {
        match self {
            Delimiter::Auto if line.contains("::") => Delimiter::DoubleColon,
            Delimiter::Auto => match Separator::detect(line) {
                Separator::Whitespace => Delimiter::Whitespace,
                Separator::Char('\t') => Delimiter::Tab,
                Separator::Char(_) => Delimiter::Comma,
            },
            fixed => fixed,
        }
    }

    /// The fields of `line` (`Auto` must have been resolved; it splits like `Whitespace`).
    fn split<'a>(self, line: &Line<'a>) -> Box<dyn Iterator<Item = Field<'a>> + 'a> {
        match self {
            Delimiter::Comma => Box::new(line.fields(Separator::Char(','))),
            Delimiter::Tab => Box::new(line.fields(Separator::Char('\t'))),
            Delimiter::Auto | Delimiter::Whitespace => Box::new(line.fields(Separator::Whitespace)),
            Delimiter::DoubleColon => {
                let text = line.text;
                let base = text.as_ptr() as usize;
                Box::new(text.split("::").map(move |s| {
                    let s = s.trim_matches([' ', '\t']);
                    Field {
                        text: s,
                        start: s.as_ptr() as usize - base,
                    }
                }))
            }
        }
    }
}

const CSV_LAYOUT: &str = "user, item[, rating[, timestamp]]";

/// Whether the first line of a table is a header (see [`Header::Auto`]).
fn looks_like_header(fields: &[Field<'_>], ids: IdKind) -> bool {
    fields.iter().enumerate().any(|(k, f)| match k {
        0 | 1 => ids == IdKind::Numeric && parse_id(f.text).is_none(),
        2 => f.text.parse::<f32>().is_err(),
        _ => f.text.parse::<i64>().is_err(),
    })
}

fn parse_csv_from<R: BufRead>(
    mut lines: LineReader<R>,
    options: &CsvOptions,
    train: Option<&Interactions>,
) -> Result<TestSplit> {
    let mut user_column = Column::new(
        options.ids,
        train.map(|t| (t.user_ids.as_ref(), t.num_users)),
    );
    let mut item_column = Column::new(
        options.ids,
        train.map(|t| (t.item_ids.as_ref(), t.num_items)),
    );
    let ids = user_column.kind();
    let (known_users, known_items) = train.map_or((0, 0), |t| (t.num_users, t.num_items));
    // Delimiter, field count and the line that fixed them.
    let mut layout: Option<(Delimiter, usize, usize)> = None;
    let (mut users, mut items) = (Vec::new(), Vec::new());
    let (mut ratings, mut timestamps) = (Vec::new(), Vec::new());
    let mut skipped = 0;
    while let Some(line) = lines.next_content(&[])? {
        let delimiter = layout.map_or_else(|| options.delimiter.resolve(line.text), |(d, ..)| d);
        let mut fields = [Field { text: "", start: 0 }; 4];
        let mut n = 0;
        for (k, field) in delimiter.split(&line).enumerate() {
            if let Some(slot) = fields.get_mut(k) {
                *slot = field;
            }
            n = k + 1;
        }
        match layout {
            None => {
                if !(2..=4).contains(&n) {
                    return Err(
                        line.error(format!("expected 2 to 4 fields ({CSV_LAYOUT}), found {n}"))
                    );
                }
                layout = Some((delimiter, n, line.number));
                let header = match options.header {
                    Header::Present => true,
                    Header::Absent => false,
                    Header::Auto => looks_like_header(&fields[..n], ids),
                };
                if header {
                    continue;
                }
            }
            Some((_, expected, first)) if n != expected => {
                return Err(line.error(format!(
                    "expected {expected} fields ({CSV_LAYOUT}) as on line {first}, found {n}"
                )));
            }
            Some(_) => {}
        }
        let user = user_column.resolve(&line, fields[0], "a user id")?;
        let item = item_column.resolve(&line, fields[1], "an item id")?;
        let rating = if n >= 3 {
            let field = fields[2];
            let rating: f32 = line.parse(field, "a rating")?;
            if !rating.is_finite() {
                return Err(line.error_at(
                    field.start,
                    format!("expected a finite rating, found {}", quoted(field.text)),
                ));
            }
            Some(rating)
        } else {
            None
        };
        let timestamp = if n == 4 {
            Some(line.parse::<i64>(fields[3], "an integer timestamp")?)
        } else {
            None
        };
        let (Some(user), Some(item)) = (user, item) else {
            if options.unknown == UnknownIds::Skip {
                skipped += 1;
                continue;
            }
            return Err(match user {
                None => unknown_error(&line, fields[0], "a user id", known_users, "users"),
                Some(_) => unknown_error(&line, fields[1], "an item id", known_items, "items"),
            });
        };
        users.push(user);
        items.push(item);
        ratings.extend(rating);
        timestamps.extend(timestamp);
    }
    let columns = layout.map_or(2, |(_, n, _)| n);
    Ok(finish(
        (users, user_column.finish()),
        (items, item_column.finish()),
        (columns >= 3).then_some(ratings),
        (columns == 4).then_some(timestamps),
        skipped,
    ))
}
