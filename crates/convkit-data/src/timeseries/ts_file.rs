//! The sktime / UEA `.ts` format (`<Name>_TRAIN.ts`, `<Name>_TEST.ts`).
//!
//! Used by the UEA multivariate archive (Bagnall et al., "The UEA multivariate time series
//! classification archive", 2018), the Monash regression archive (Tan et al., "Time series
//! extrinsic regression", 2021) and sktime/aeon, whose "ts File Format v1.0" this follows:
//!
//! ```text
//! # comments describing the problem
//! @problemName JapaneseVowels
//! @timeStamps false
//! @missing true
//! @univariate false
//! @dimensions 2
//! @equalLength false
//! @classLabel true 1 2 3
//! @data
//! 1.2,0.5,?:0.3,0.1,0.9:2
//! 0.7,0.6:0.2,NaN:1
//! ```
//!
//! - Header: lines `@<tag> <value>`, tags case-insensitive, in any order; `#` lines and blank
//!   lines are skipped anywhere. `@data` ends the header. Known tags: `@problemName <name>`;
//!   `@timeStamps`, `@missing`, `@univariate`, `@equalLength`, `@targetLabel` with `true` /
//!   `false`; `@dimensions` (or `@dimension`) and `@seriesLength` with a positive integer;
//!   `@classLabel true <label>…` (labels without `:` or control characters) or
//!   `@classLabel false`. A tag given twice is an error; other tags are ignored (tools add their
//!   own).
//! - Exactly one response: `@classLabel true <labels>` (a class label ends each case and must
//!   be one of the declared labels), `@targetLabel true` (a real-valued regression target ends
//!   each case), or none (`@classLabel false`, or `@targetLabel false` alone: no last field).
//!   A header with neither tag is an error, since the last field could not be interpreted.
//! - Data: one case per line, dimensions separated by `:`, values by `,`, then the response.
//!   Every case has the same number of dimensions: `@dimensions`, 1 for `@univariate true`,
//!   otherwise that of the first case. The dimensions of one case have one length (cases may
//!   differ unless `@equalLength true`, which with `@seriesLength n` fixes it to `n`, otherwise
//!   to the first case's length). `?`, `NaN` (also `nan`, `NA`) are missing values; values are
//!   kept as written, no padding is trimmed.
//! - `@timeStamps true` (values written as `(timestamp,value)` pairs) is refused with an error:
//!   none of the classification archives uses it, and irregular series are better read from
//!   long-format CSV ([`super::irregular`]). `@missing` is not enforced (informational).
//!
//! Classes are the declared labels in sorted order (numbers by value, see the
//! [module docs](super)), so the train and test files of a problem, which declare the same
//! labels, share one numbering; [`read_ts_with_classes`] imposes another split's list.
//!
//! Errors name the file, line and column: a tag without `@` or with a bad value, a missing
//! `@data`, a case with the wrong number of dimensions (e.g. a truncated last line), an empty or
//! non-numeric value, dimensions of different lengths, a length breaking `@equalLength`, an
//! undeclared label.

use std::collections::HashMap;
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use convkit_core::{Error, Result};

use super::{
    Series, Targets, TimeSeriesSet, Vocabulary, check_label, compare_labels, format_value,
    is_plain_token, parse_measurement,
};
use crate::lines::{Field, Line, LineReader, Separator, quoted};

/// Reads a `.ts` file (plain or gzip).
pub fn read_ts(path: impl AsRef<Path>) -> Result<TimeSeriesSet> {
    parse_lines(LineReader::open(path.as_ref())?, None)
}

/// Reads a `.ts` file numbering its labels by `classes` (e.g. the training split's
/// `classes()`); a label that is declared but not in `classes` is an error.
pub fn read_ts_with_classes(path: impl AsRef<Path>, classes: &[String]) -> Result<TimeSeriesSet> {
    parse_lines(LineReader::open(path.as_ref())?, Some(classes))
}

/// Parses `.ts` text from `reader`; `name` is what errors name. `classes` as in
/// [`read_ts_with_classes`], `None` for the declared labels in sorted order.
pub fn parse_ts(
    reader: impl BufRead,
    name: impl AsRef<Path>,
    classes: Option<&[String]>,
) -> Result<TimeSeriesSet> {
    parse_lines(LineReader::new(reader, name.as_ref()), classes)
}

/// What ends each case.
enum Response {
    Nothing,
    /// The declared labels.
    Class(Vec<String>),
    Target,
}

/// The header facts the data is checked against.
struct Header {
    response: Response,
    /// The dimension count and why it is required (for errors).
    dimensions: Option<(usize, String)>,
    equal_length: bool,
    /// `@seriesLength` and its line.
    series_length: Option<(usize, usize)>,
}

#[derive(Default)]
struct Tags {
    /// Line of each tag seen (lower case; `dimension` counted as `dimensions`).
    lines: HashMap<String, usize>,
    univariate: Option<bool>,
    dimensions: Option<usize>,
    equal_length: Option<bool>,
    series_length: Option<usize>,
    /// `Some(labels)` for `@classLabel true`, `Some([])` for `false`.
    class_label: Option<Vec<String>>,
    target_label: Option<bool>,
}

fn parse_bool(line: &Line<'_>, value: Field<'_>, tag: &str) -> Result<bool> {
    match value.text.to_ascii_lowercase().as_str() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(line.error_at(
            value.start,
            format!(
                "expected `true` or `false` after {tag}, found {}",
                quoted(value.text)
            ),
        )),
    }
}

/// The single value of a tag, or an error at the end of the tag or at the extra value.
fn single<'a>(
    line: &Line<'a>,
    tag: Field<'a>,
    values: &[Field<'a>],
    what: &str,
) -> Result<Field<'a>> {
    match values {
        [value] => Ok(*value),
        [] => Err(line.error_at(
            tag.start + tag.text.len(),
            format!("expected {what} after {}, found nothing", tag.text),
        )),
        [_, extra, ..] => Err(line.error_at(
            extra.start,
            format!(
                "expected only {what} after {}, found also {}",
                tag.text,
                quoted(extra.text)
            ),
        )),
    }
}

fn positive(line: &Line<'_>, value: Field<'_>, tag: &str) -> Result<usize> {
    let n: usize = line.parse(value, &format!("a positive integer after {tag}"))?;
    if n == 0 {
        return Err(line.error_at(
            value.start,
            format!("expected a positive integer after {tag}, found `0`"),
        ));
    }
    Ok(n)
}

impl Tags {
    /// Reads one header line; `Ok(true)` at `@data`.
    fn read(&mut self, line: &Line<'_>) -> Result<bool> {
        let mut fields = line.fields(Separator::Whitespace);
        let Some(tag) = fields.next() else {
            return Ok(false);
        };
        let values: Vec<Field<'_>> = fields.collect();
        let Some(name) = tag.text.strip_prefix('@') else {
            return Err(line.error_at(
                tag.start,
                format!(
                    "expected a header line `@<tag> <value>` or `@data`, found {}",
                    quoted(tag.text)
                ),
            ));
        };
        let mut key = name.to_ascii_lowercase();
        if key == "dimension" {
            key = "dimensions".into();
        }
        if let Some(first) = self.lines.insert(key.clone(), line.number) {
            return Err(line.error_at(
                tag.start,
                format!("{} given a second time (first on line {first})", tag.text),
            ));
        }
        let t = tag.text;
        match key.as_str() {
            "data" => {
                if let Some(extra) = values.first() {
                    return Err(line.error_at(
                        extra.start,
                        format!("expected nothing after @data, found {}", quoted(extra.text)),
                    ));
                }
                return Ok(true);
            }
            "problemname" => {
                single(line, tag, &values, "a name")?;
            }
            "timestamps" => {
                let value = single(line, tag, &values, "`true` or `false`")?;
                if parse_bool(line, value, t)? {
                    return Err(line.error_at(
                        value.start,
                        "expected `false`: timestamped values (`(time,value)` pairs) are not \
                         supported, found `true`",
                    ));
                }
            }
            "missing" => {
                parse_bool(line, single(line, tag, &values, "`true` or `false`")?, t)?;
            }
            "univariate" => {
                self.univariate = Some(parse_bool(
                    line,
                    single(line, tag, &values, "`true` or `false`")?,
                    t,
                )?);
            }
            "equallength" => {
                self.equal_length = Some(parse_bool(
                    line,
                    single(line, tag, &values, "`true` or `false`")?,
                    t,
                )?);
            }
            "targetlabel" => {
                self.target_label = Some(parse_bool(
                    line,
                    single(line, tag, &values, "`true` or `false`")?,
                    t,
                )?);
            }
            "dimensions" => {
                self.dimensions = Some(positive(
                    line,
                    single(line, tag, &values, "a positive integer")?,
                    t,
                )?);
            }
            "serieslength" => {
                self.series_length = Some(positive(
                    line,
                    single(line, tag, &values, "a positive integer")?,
                    t,
                )?);
            }
            "classlabel" => {
                let Some((&first, labels)) = values.split_first() else {
                    return Err(line.error_at(
                        tag.start + t.len(),
                        format!("expected `true <labels>` or `false` after {t}, found nothing"),
                    ));
                };
                if !parse_bool(line, first, t)? {
                    if let Some(extra) = labels.first() {
                        return Err(line.error_at(
                            extra.start,
                            format!(
                                "expected nothing after `{t} false`, found {}",
                                quoted(extra.text)
                            ),
                        ));
                    }
                    self.class_label = Some(Vec::new());
                    return Ok(false);
                }
                if labels.is_empty() {
                    return Err(line.error_at(
                        line.text.len(),
                        format!("expected the class labels after `{t} true`, found none"),
                    ));
                }
                let mut declared: Vec<String> = Vec::with_capacity(labels.len());
                for label in labels {
                    check_label(line, *label, &[':'])?;
                    if declared.iter().any(|d| d == label.text) {
                        return Err(line.error_at(
                            label.start,
                            format!("class label {} declared twice", quoted(label.text)),
                        ));
                    }
                    declared.push(label.text.to_string());
                }
                self.class_label = Some(declared);
            }
            _ => {}
        }
        Ok(false)
    }

    /// Checks the tags against each other at the `@data` line.
    fn finish(self, line: &Line<'_>) -> Result<Header> {
        let at = |tag: &str| self.lines.get(tag).copied().unwrap_or(0);
        let response = match (self.class_label, self.target_label) {
            (Some(labels), Some(true)) if !labels.is_empty() => {
                return Err(line.error_at(
                    0,
                    format!(
                        "expected one response, found both @classLabel true (line {}) and @targetLabel true (line {})",
                        at("classlabel"),
                        at("targetlabel")
                    ),
                ));
            }
            (Some(mut labels), _) if !labels.is_empty() => {
                labels.sort_by(|a, b| compare_labels(a, b));
                Response::Class(labels)
            }
            (_, Some(true)) => Response::Target,
            (Some(_), _) | (None, Some(false)) => Response::Nothing,
            (None, None) => {
                return Err(line.error_at(
                    0,
                    "expected a @classLabel or @targetLabel tag before @data (what ends each case?)",
                ));
            }
        };
        let dimensions = match (self.univariate, self.dimensions) {
            (Some(true), Some(d)) if d != 1 => {
                return Err(line.error_at(
                    0,
                    format!(
                        "expected @dimensions 1 with @univariate true (line {}), found @dimensions {d} (line {})",
                        at("univariate"),
                        at("dimensions")
                    ),
                ));
            }
            (_, Some(d)) => Some((
                d,
                format!("declared by @dimensions on line {}", at("dimensions")),
            )),
            (Some(true), None) => {
                Some((1, format!("@univariate true on line {}", at("univariate"))))
            }
            _ => None,
        };
        let equal_length = self.equal_length == Some(true);
        Ok(Header {
            response,
            dimensions,
            equal_length,
            series_length: self.series_length.map(|n| (n, at("serieslength"))),
        })
    }
}

fn parse_header<R: BufRead>(reader: &mut LineReader<R>) -> Result<Header> {
    let mut tags = Tags::default();
    loop {
        let line = match reader.next_content(&["#"])? {
            Some(line) => line,
            None => {
                return Err(reader
                    .error_at_end("expected @data to end the header, found the end of the file"));
            }
        };
        if tags.read(&line)? {
            return std::mem::take(&mut tags).finish(&line);
        }
    }
}

/// The comma-separated values of a dimension field, with their positions in the line.
fn comma_fields<'a>(field: Field<'a>) -> impl Iterator<Item = Field<'a>> {
    let base = field.text.as_ptr() as usize;
    field.text.split(',').map(move |s| {
        let text = s.trim_matches([' ', '\t']);
        Field {
            text,
            start: field.start + (text.as_ptr() as usize - base),
        }
    })
}

fn parse_lines<R: BufRead>(
    mut reader: LineReader<R>,
    classes: Option<&[String]>,
) -> Result<TimeSeriesSet> {
    let header = parse_header(&mut reader)?;
    let (mut declared, mut given) = match &header.response {
        Response::Class(labels) => (
            Some(Vocabulary::fixed(labels, "declared by @classLabel")?),
            classes
                .map(|c| Vocabulary::fixed(c, "of the given classes"))
                .transpose()?,
        ),
        _ => (None, None),
    };
    let labelled = usize::from(!matches!(header.response, Response::Nothing));
    let mut dimensions = header.dimensions;
    let mut length_rule = match (header.equal_length, header.series_length) {
        (true, Some((n, at))) => Some((
            n,
            format!("@equalLength true with @seriesLength {n} on line {at}"),
        )),
        _ => None,
    };
    let mut series = Vec::new();
    let mut labels = Vec::new();
    let mut values_out = Vec::new();
    while let Some(line) = reader.next_content(&["#"])? {
        let fields: Vec<Field<'_>> = line.fields(Separator::Char(':')).collect();
        let found = fields.len().saturating_sub(labelled);
        let (expected, why) = dimensions
            .get_or_insert_with(|| {
                (
                    found.max(1),
                    format!("as in the first case, line {}", line.number),
                )
            })
            .clone();
        if found != expected {
            // Too many fields: point at the one where the response was expected.
            let at = match fields.get(expected) {
                Some(f) if found > expected => f.start,
                _ => line.text.len(),
            };
            let response = match header.response {
                Response::Nothing => "",
                Response::Class(_) => " and a class label",
                Response::Target => " and a target",
            };
            return Err(line.error_at(
                at,
                format!(
                    "expected {expected} dimension(s){response} separated by `:` ({why}), found {} field(s)",
                    fields.len()
                ),
            ));
        }
        let mut case = Vec::new();
        let mut length = 0;
        for (d, &field) in fields[..expected].iter().enumerate() {
            if field.text.is_empty() {
                return Err(line.error_at(
                    field.start,
                    format!(
                        "expected the comma-separated values of dimension {}, found an empty field",
                        d + 1
                    ),
                ));
            }
            let before = case.len();
            for value in comma_fields(field) {
                case.push(parse_measurement(&line, value)?);
            }
            let count = case.len() - before;
            if d == 0 {
                length = count;
                if header.equal_length {
                    let (n, why) = length_rule.get_or_insert_with(|| {
                        (
                            count,
                            format!(
                                "@equalLength true, as in the first case, line {}",
                                line.number
                            ),
                        )
                    });
                    if count != *n {
                        return Err(line.error_at(
                            field.start,
                            format!("expected {n} values per dimension ({why}), found {count}"),
                        ));
                    }
                }
            } else if count != length {
                return Err(line.error_at(
                    field.start,
                    format!("expected {length} values in dimension {} (as in dimension 1), found {count}", d + 1),
                ));
            }
        }
        if let Some(&last) = fields.get(expected) {
            match (&header.response, &mut declared) {
                (Response::Class(_), Some(declared)) => {
                    let index = declared.index(&line, last, "a class label")?;
                    labels.push(match &mut given {
                        Some(given) => given.index(&line, last, "a class label")?,
                        None => index,
                    });
                }
                _ => {
                    let target: f32 = line.parse(last, "a finite regression target")?;
                    if !target.is_finite() {
                        return Err(line.error_at(
                            last.start,
                            format!(
                                "expected a finite regression target, found {}",
                                quoted(last.text)
                            ),
                        ));
                    }
                    values_out.push(target);
                }
            }
        }
        let case = Series::new(expected, case)
            .ok_or_else(|| line.error_at(0, "expected at least one value (internal error)"))?;
        series.push(case);
    }
    let targets = match header.response {
        Response::Nothing => Targets::None,
        Response::Target => Targets::Values(values_out),
        Response::Class(_) => match given.or(declared) {
            Some(vocabulary) => vocabulary.into_targets(labels),
            None => Targets::None,
        },
    };
    TimeSeriesSet::new(series, targets)
        .ok_or_else(|| reader.error_at_end("inconsistent cases (internal error)"))
}

/// Writes `set` as a `.ts` file with a header describing it (`@problemName problem_name`,
/// `@missing`, `@univariate`/`@dimensions`, `@equalLength`/`@seriesLength`, `@classLabel` with
/// the classes in their order, or `@targetLabel true`); missing values are written `?`.
///
/// `problem_name` and the class labels must be non-blank without blanks; labels also without
/// `:`.
pub fn write_ts(path: impl AsRef<Path>, set: &TimeSeriesSet, problem_name: &str) -> Result<()> {
    let path = path.as_ref();
    crate::atomic::write_atomically(path, |file, tmp| write_ts_to(file, tmp, set, problem_name))
}

/// Writes `set` as `.ts` text to `writer`; `name` is what I/O errors name. See [`write_ts`].
pub fn write_ts_to(
    writer: impl Write,
    name: impl AsRef<Path>,
    set: &TimeSeriesSet,
    problem_name: &str,
) -> Result<()> {
    let name = name.as_ref();
    if !is_plain_token(problem_name, &[]) {
        return Err(Error::invalid(
            "problem name",
            format!("{} must be non-blank without blanks", quoted(problem_name)),
        ));
    }
    if let Some(bad) = set.classes().iter().find(|c| !is_plain_token(c, &[':'])) {
        return Err(Error::invalid(
            ".ts output",
            format!(
                "class {} cannot be written: labels must be non-blank without blanks or `:`",
                quoted(bad)
            ),
        ));
    }
    if let Targets::Classes { classes, .. } = set.targets()
        && classes.is_empty()
    {
        return Err(Error::invalid(
            ".ts output",
            "a set with class labels needs at least one class",
        ));
    }
    let channels = set.channels().max(1);
    let lengths: Vec<usize> = set.series().iter().map(Series::length).collect();
    let equal = lengths
        .first()
        .filter(|&&n| lengths.iter().all(|&l| l == n));
    let missing = set.series().iter().any(|s| s.missing() > 0);
    let mut text = format!("@problemName {problem_name}\n@timeStamps false\n@missing {missing}\n");
    text.push_str(&format!("@univariate {}\n", channels == 1));
    if channels > 1 {
        text.push_str(&format!("@dimensions {channels}\n"));
    }
    match equal {
        Some(n) => text.push_str(&format!("@equalLength true\n@seriesLength {n}\n")),
        None => text.push_str("@equalLength false\n"),
    }
    match set.targets() {
        Targets::None => text.push_str("@classLabel false\n"),
        Targets::Classes { classes, .. } => {
            text.push_str(&format!("@classLabel true {}\n", classes.join(" ")))
        }
        Targets::Values(_) => text.push_str("@targetLabel true\n"),
    }
    text.push_str("@data\n");
    let mut out = BufWriter::new(writer);
    let io = |e| Error::io(name, e);
    out.write_all(text.as_bytes()).map_err(io)?;
    for (i, s) in set.series().iter().enumerate() {
        text.clear();
        for (c, channel) in s.values().chunks_exact(s.length()).enumerate() {
            if c > 0 {
                text.push(':');
            }
            for (k, &v) in channel.iter().enumerate() {
                if k > 0 {
                    text.push(',');
                }
                format_value(&mut text, v, "?");
            }
        }
        match set.targets() {
            Targets::None => {}
            Targets::Classes { labels, classes } => {
                text.push(':');
                text.push_str(&classes[labels[i]]);
            }
            Targets::Values(values) => {
                text.push(':');
                format_value(&mut text, values[i], "?");
            }
        }
        text.push('\n');
        out.write_all(text.as_bytes()).map_err(io)?;
    }
    out.flush().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dataset;
    use proptest::prelude::*;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/timeseries");

    const HEADER: &str =
        "@problemName T\n@univariate false\n@dimensions 2\n@classLabel true a b\n@data\n";

    fn parse(text: &str) -> Result<TimeSeriesSet> {
        parse_ts(text.as_bytes(), "t.ts", None)
    }

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    fn bits(set: &TimeSeriesSet) -> Vec<(usize, Vec<u32>)> {
        set.series()
            .iter()
            .map(|s| {
                (
                    s.channels(),
                    s.values().iter().map(|v| v.to_bits()).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn reads_the_multivariate_unequal_fixture() {
        let set = read_ts(format!("{DATA}/Vowels_TRAIN.ts")).unwrap();
        assert_eq!(set.len(), 4);
        assert_eq!(set.channels(), 3);
        assert_eq!(set.classes(), ["1", "2", "10"]);
        assert_eq!(set.labels().unwrap(), [0, 2, 1, 0]);
        let lengths: Vec<_> = set.series().iter().map(Series::length).collect();
        assert_eq!(lengths, [4, 2, 3, 1]);
        let first = &set.series()[0];
        assert_eq!(first.channel(0).unwrap(), [1.25, -0.5, 0.75, 2.0]);
        assert_eq!(first.channel(2).unwrap(), [0.0, 1e-3, -7.5, 3.0]);
        let second = &set.series()[1];
        assert!(second.channel(1).unwrap()[1].is_nan(), "`?` is missing");
        assert!(second.channel(2).unwrap()[0].is_nan(), "`NaN` is missing");
        assert_eq!(set.series()[3].values(), [9.0, 8.0, 7.0]);
        assert_eq!(set.series().iter().map(Series::missing).sum::<usize>(), 3);
    }

    #[test]
    fn reads_the_regression_fixture() {
        let set = read_ts(format!("{DATA}/Rainfall_TEST.ts")).unwrap();
        assert_eq!(set.targets(), &Targets::Values(vec![3.2, -0.25, 100.0]));
        assert!(
            set.series()
                .iter()
                .all(|s| s.channels() == 1 && s.length() == 5)
        );
        assert_eq!(set.series()[2].values(), [1.0, 2.0, 3.0, 4.0, 5.0]);
    }

    #[test]
    fn with_classes_renumbers_and_checks() {
        let classes: Vec<String> = ["10", "2", "1"].map(String::from).to_vec();
        let set = read_ts_with_classes(format!("{DATA}/Vowels_TRAIN.ts"), &classes).unwrap();
        assert_eq!(set.labels().unwrap(), [2, 0, 1, 2]);
        let missing_two: Vec<String> = ["10", "1"].map(String::from).to_vec();
        let e = read_ts_with_classes(format!("{DATA}/Vowels_TRAIN.ts"), &missing_two)
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with("Vowels_TRAIN.ts: line 15, column 25: expected a class label of the given classes (10 1), found `2`"),
            "{e}"
        );
    }

    #[test]
    fn header_tags_are_case_insensitive_and_unlabelled_files_read() {
        let set = parse(
            "#c\n@PROBLEMNAME x\n@ClassLabel FALSE\n@unknownTag whatever\n\n@DATA\n1,2:3,4\n5:6\n",
        )
        .unwrap();
        assert_eq!(set.targets(), &Targets::None);
        assert_eq!(set.series()[1].values(), [5.0, 6.0]);
    }

    #[test]
    fn bad_headers_name_line_and_column() {
        assert_eq!(
            err("@problemName x\n@classLabel true a\n"),
            "t.ts: at the end (after line 2): expected @data to end the header, found the end of the file"
        );
        assert_eq!(
            err("@classLabel true a\n1,2:a\n"),
            "t.ts: line 2, column 1: expected a header line `@<tag> <value>` or `@data`, found `1,2:a`",
            "data without @data"
        );
        assert_eq!(
            err("@classLabel true a\nproblem x\n@data\n"),
            "t.ts: line 2, column 1: expected a header line `@<tag> <value>` or `@data`, found `problem`"
        );
        assert_eq!(
            err("@timeStamps true\n@classLabel true a\n@data\n"),
            "t.ts: line 1, column 13: expected `false`: timestamped values (`(time,value)` pairs) are not supported, found `true`"
        );
        assert_eq!(
            err("@missing maybe\n"),
            "t.ts: line 1, column 10: expected `true` or `false` after @missing, found `maybe`"
        );
        assert_eq!(
            err("@dimensions 0\n"),
            "t.ts: line 1, column 13: expected a positive integer after @dimensions, found `0`"
        );
        assert_eq!(
            err("@seriesLength\n"),
            "t.ts: line 1, column 14: expected a positive integer after @seriesLength, found nothing"
        );
        assert_eq!(
            err("@classLabel true a b a\n"),
            "t.ts: line 1, column 22: class label `a` declared twice"
        );
        assert_eq!(
            err("@classLabel true a b:c\n"),
            "t.ts: line 1, column 20: expected a class label without blanks, control characters or `:`, found `b:c`"
        );
        assert_eq!(
            err("@classLabel true\n"),
            "t.ts: line 1, column 17: expected the class labels after `@classLabel true`, found none"
        );
        assert_eq!(
            err("@classLabel true a\n@classlabel true b\n"),
            "t.ts: line 2, column 1: @classlabel given a second time (first on line 1)"
        );
        assert_eq!(
            err("@problemName x\n@data\n1,2\n"),
            "t.ts: line 2, column 1: expected a @classLabel or @targetLabel tag before @data (what ends each case?)"
        );
        assert_eq!(
            err("@classLabel true a\n@data extra\n"),
            "t.ts: line 2, column 7: expected nothing after @data, found `extra`"
        );
        assert!(
            err("@univariate true\n@dimensions 2\n@classLabel false\n@data\n").starts_with(
                "t.ts: line 4, column 1: expected @dimensions 1 with @univariate true (line 1)"
            )
        );
        assert!(
            err("@classLabel true a\n@targetLabel true\n@data\n")
                .starts_with("t.ts: line 3, column 1: expected one response, found both")
        );
    }

    #[test]
    fn bad_data_names_line_and_column() {
        // A dimension missing across rows (no @dimensions: the first case decides).
        assert_eq!(
            err("@classLabel true a b\n@data\n1,2:3,4:a\n5,6:b\n"),
            "t.ts: line 4, column 6: expected 2 dimension(s) and a class label separated by `:` \
             (as in the first case, line 3), found 2 field(s)"
        );
        // A truncated last line: its label and second dimension are gone.
        assert_eq!(
            err(&format!("{HEADER}1,2:3,4:a\n1,2:3")),
            "t.ts: line 7, column 6: expected 2 dimension(s) and a class label separated by `:` \
             (declared by @dimensions on line 3), found 2 field(s)"
        );
        assert_eq!(
            err(&format!("{HEADER}1,2:3,4:5,6:a\n")),
            "t.ts: line 6, column 9: expected 2 dimension(s) and a class label separated by `:` \
             (declared by @dimensions on line 3), found 4 field(s)"
        );
        assert_eq!(
            err(&format!("{HEADER}1,x:3,4:a\n")),
            "t.ts: line 6, column 3: expected a finite number or a missing value (`?`, `NaN`), found `x`"
        );
        assert_eq!(
            err(&format!("{HEADER}1,,2:3,4,5:a\n")),
            "t.ts: line 6, column 3: expected a finite number or a missing value (`?`, `NaN`), found an empty field"
        );
        assert_eq!(
            err(&format!("{HEADER}:3,4:a\n")),
            "t.ts: line 6, column 1: expected the comma-separated values of dimension 1, found an empty field"
        );
        assert_eq!(
            err(&format!("{HEADER}1,2:3,4,5:a\n")),
            "t.ts: line 6, column 5: expected 2 values in dimension 2 (as in dimension 1), found 3"
        );
        assert_eq!(
            err(&format!("{HEADER}1,2:3,4:c\n")),
            "t.ts: line 6, column 9: expected a class label declared by @classLabel (a b), found `c`"
        );
        let equal = "@equalLength true\n@classLabel true a\n@data\n1,2,3:a\n1,2:a\n";
        assert_eq!(
            err(equal),
            "t.ts: line 5, column 1: expected 3 values per dimension (@equalLength true, as in the first case, line 4), found 2"
        );
        let declared = "@equalLength true\n@seriesLength 2\n@classLabel true a\n@data\n1,2,3:a\n";
        assert_eq!(
            err(declared),
            "t.ts: line 5, column 1: expected 2 values per dimension (@equalLength true with @seriesLength 2 on line 2), found 3"
        );
        assert_eq!(
            err("@targetLabel true\n@data\n1,2:?\n"),
            "t.ts: line 3, column 5: expected a finite regression target, found `?`"
        );
    }

    #[test]
    fn writer_refuses_unwritable_names() {
        let set = TimeSeriesSet::new(
            vec![Series::new(1, vec![1.0]).unwrap()],
            Targets::Classes {
                labels: vec![0],
                classes: vec!["a:b".into()],
            },
        )
        .unwrap();
        let e = write_ts_to(Vec::new(), "o.ts", &set, "P")
            .unwrap_err()
            .to_string();
        assert!(e.contains("class `a:b` cannot be written"), "{e}");
        let e = write_ts_to(Vec::new(), "o.ts", &set, "two words")
            .unwrap_err()
            .to_string();
        assert!(e.contains("problem name"), "{e}");
    }

    #[test]
    fn fixture_round_trip_through_a_file() {
        let set = read_ts(format!("{DATA}/Vowels_TRAIN.ts")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Vowels.ts");
        write_ts(&path, &set, "Vowels").unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("@dimensions 3\n@equalLength false\n@classLabel true 1 2 10\n@data\n"),
            "{text}"
        );
        let again = read_ts(&path).unwrap();
        assert_eq!(again.targets(), set.targets());
        assert_eq!(bits(&again), bits(&set));
    }

    fn arb_set() -> impl Strategy<Value = TimeSeriesSet> {
        let value = prop_oneof![
            8 => any::<f32>().prop_filter("finite", |v| v.is_finite()),
            1 => Just(f32::NAN),
        ];
        let case = move |channels: usize| {
            let value = value.clone();
            (1usize..6)
                .prop_flat_map(move |len| prop::collection::vec(value.clone(), channels * len))
        };
        (1usize..4, 0usize..3).prop_flat_map(move |(channels, kind)| {
            let cases = prop::collection::vec(
                (case(channels), any::<prop::sample::Index>(), -1e6f32..1e6),
                0..6,
            );
            (
                cases,
                prop::collection::btree_set("[A-Za-z0-9_.-]{1,5}", 1..4),
            )
                .prop_map(move |(cases, names)| {
                    let classes: Vec<String> = names.into_iter().collect();
                    let targets = match kind {
                        0 => Targets::None,
                        1 => Targets::Classes {
                            labels: cases
                                .iter()
                                .map(|(_, i, _)| i.index(classes.len()))
                                .collect(),
                            classes,
                        },
                        _ => Targets::Values(cases.iter().map(|(_, _, t)| *t).collect()),
                    };
                    let series = cases
                        .into_iter()
                        .map(|(v, _, _)| Series::new(channels, v).unwrap())
                        .collect();
                    TimeSeriesSet::new(series, targets).unwrap()
                })
        })
    }

    proptest! {
        #[test]
        fn write_then_read_is_bit_exact(set in arb_set()) {
            let mut bytes = Vec::new();
            write_ts_to(&mut bytes, "p.ts", &set, "P").unwrap();
            let classes = (!set.classes().is_empty()).then(|| set.classes());
            let again = parse_ts(&bytes[..], "p.ts", classes).unwrap();
            prop_assert_eq!(again.targets(), set.targets());
            prop_assert_eq!(bits(&again), bits(&set));
        }
    }
}
