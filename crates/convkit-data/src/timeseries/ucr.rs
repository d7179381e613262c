//! The UCR time series classification archive: `<Name>_TRAIN.tsv` / `<Name>_TEST.tsv`.
//!
//! Dau et al., "The UCR Time Series Archive" (2018), 128 univariate problems
//! (<https://www.cs.ucr.edu/~eamonn/time_series_data_2018/>). Layout, one series per line:
//!
//! ```text
//! <label>\t<v1>\t<v2>\t...\t<vT>
//! ```
//!
//! - The separator is found per line: a tab (the 2018 `.tsv`), a comma (the older `.txt`/`.csv`
//!   releases) or runs of blanks (the oldest releases, with values like `-6.4789e-01`). One
//!   trailing separator is tolerated; blank lines are skipped.
//! - The label is text without blanks, commas or control characters (usually an integer,
//!   sometimes `-1`); classes are numbered in sorted order, numbers by value (see the
//!   [module docs](super)).
//! - Values are decimal numbers; `NaN` (also `nan`, `NA`, `?`) is a missing value.
//! - The 2018 archive pads the unequal-length problems (e.g. `PLAID`, `GestureMidAirD1`) with
//!   `NaN` to the longest series. The reader **trims trailing `NaN`s**: a series' length is the
//!   position of its last observed value, which is what the padding hides. `NaN`s before the
//!   last observed value are kept as missing values. [`write_ucr`] pads back with `NaN`, so a
//!   series ending in a missing value cannot be written (it would come back shorter).
//!
//! Errors name the file, line and column: a label with no values or only missing values, a
//! value that is not a finite number, a label outside the given classes.

use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use convkit_core::{Error, Result};

use super::{
    Series, Targets, TimeSeriesSet, Vocabulary, check_label, format_value, is_plain_token,
    parse_measurement,
};
use crate::lines::{LineReader, Separator};

/// Reads a UCR file (plain or gzip); classes are the labels found, in sorted order.
pub fn read_ucr(path: impl AsRef<Path>) -> Result<TimeSeriesSet> {
    let path = path.as_ref();
    parse_lines(LineReader::open(path)?, None)
}

/// Reads a UCR file with the classes of another split (e.g. the test file with
/// `train.classes()`), so labels get the same numbers; a label not in `classes` is an error.
pub fn read_ucr_with_classes(path: impl AsRef<Path>, classes: &[String]) -> Result<TimeSeriesSet> {
    let path = path.as_ref();
    parse_lines(LineReader::open(path)?, Some(classes))
}

/// Parses UCR text from `reader`; `name` is what errors name. `classes` as in
/// [`read_ucr_with_classes`], `None` to number the labels found.
pub fn parse_ucr(
    reader: impl BufRead,
    name: impl AsRef<Path>,
    classes: Option<&[String]>,
) -> Result<TimeSeriesSet> {
    parse_lines(LineReader::new(reader, name.as_ref()), classes)
}

fn parse_lines<R: BufRead>(
    mut reader: LineReader<R>,
    classes: Option<&[String]>,
) -> Result<TimeSeriesSet> {
    let mut vocabulary = match classes {
        Some(c) => Vocabulary::fixed(c, "of the given classes")?,
        None => Vocabulary::open(),
    };
    let mut series = Vec::new();
    let mut labels = Vec::new();
    while let Some(line) = reader.next_content(&[])? {
        let separator = Separator::detect(line.text);
        let mut fields: Vec<_> = line.fields(separator).collect();
        if fields.len() > 1 && fields.last().is_some_and(|f| f.text.is_empty()) {
            fields.pop();
        }
        let Some((&label, value_fields)) = fields.split_first() else {
            continue;
        };
        if !label.text.is_empty() {
            check_label(&line, label, &[','])?;
        }
        labels.push(vocabulary.index(&line, label, "a class label")?);
        let mut values = value_fields
            .iter()
            .map(|&f| parse_measurement(&line, f))
            .collect::<Result<Vec<f32>>>()?;
        while values.last().is_some_and(|v| v.is_nan()) {
            values.pop();
        }
        let end = line.text.trim_end().len();
        let series_of_line = Series::new(1, values).ok_or_else(|| {
            line.error_at(
                end,
                "expected at least one observed value after the label, found none",
            )
        })?;
        series.push(series_of_line);
    }
    let targets = vocabulary.into_targets(labels);
    TimeSeriesSet::new(series, targets)
        .ok_or_else(|| reader.error_at_end("inconsistent series (internal error)"))
}

/// Writes `set` as a UCR `.tsv`: tab-separated, label first, shorter series padded with `NaN`.
///
/// The set must be univariate with class labels that are non-blank and hold no blank, control
/// character or comma,
/// and no series may end in a missing value (see the [module docs](self)).
pub fn write_ucr(path: impl AsRef<Path>, set: &TimeSeriesSet) -> Result<()> {
    let path = path.as_ref();
    crate::atomic::write_atomically(path, |file, tmp| write_ucr_to(file, tmp, set))
}

/// Writes `set` as UCR text to `writer`; `name` is what I/O errors name. See [`write_ucr`].
pub fn write_ucr_to(writer: impl Write, name: impl AsRef<Path>, set: &TimeSeriesSet) -> Result<()> {
    let name = name.as_ref();
    let invalid = |reason: String| Error::invalid("UCR output", reason);
    let Targets::Classes { labels, classes } = set.targets() else {
        return Err(invalid("a UCR file needs a class label per series".into()));
    };
    if let Some(bad) = classes.iter().find(|c| !is_plain_token(c, &[','])) {
        return Err(invalid(format!(
            "class `{bad}` cannot be written: labels must be non-blank without blanks or commas"
        )));
    }
    if set.channels() > 1 {
        return Err(invalid(format!(
            "a UCR file holds univariate series, the set has {} channels",
            set.channels()
        )));
    }
    if let Some(i) = set
        .series()
        .iter()
        .position(|s| s.values().last().is_some_and(|v| v.is_nan()))
    {
        return Err(invalid(format!(
            "series {i} ends in a missing value, which reads back as padding"
        )));
    }
    let width = set.max_length();
    let mut out = BufWriter::new(writer);
    let mut text = String::new();
    for (s, &label) in set.series().iter().zip(labels) {
        text.clear();
        text.push_str(&classes[label]);
        for k in 0..width {
            text.push('\t');
            format_value(
                &mut text,
                s.values().get(k).copied().unwrap_or(f32::NAN),
                "NaN",
            );
        }
        text.push('\n');
        out.write_all(text.as_bytes())
            .map_err(|e| Error::io(name, e))?;
    }
    out.flush().map_err(|e| Error::io(name, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dataset;
    use proptest::prelude::*;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/timeseries");

    fn parse(text: &str) -> Result<TimeSeriesSet> {
        parse_ucr(text.as_bytes(), "t.tsv", None)
    }

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    fn bits(set: &TimeSeriesSet) -> Vec<Vec<u32>> {
        set.series()
            .iter()
            .map(|s| s.values().iter().map(|v| v.to_bits()).collect())
            .collect()
    }

    #[test]
    fn reads_the_2018_tsv_fixture() {
        let set = read_ucr(format!("{DATA}/GunPoint_TRAIN.tsv")).unwrap();
        assert_eq!(set.len(), 6);
        assert_eq!(set.classes(), ["1", "2"]);
        assert_eq!(set.labels().unwrap(), [1, 0, 0, 1, 1, 0]);
        assert!(
            set.series()
                .iter()
                .all(|s| s.length() == 10 && s.channels() == 1)
        );
        assert_eq!(
            set.series()[0].values(),
            [
                -0.64788, -0.64199, -0.63818, -0.63835, -0.63808, -0.63553, -0.63219, -0.62477,
                -0.60911, -0.58367
            ]
        );
        assert_eq!(set.series()[5].values()[9], 1.2345e-3);
    }

    #[test]
    fn test_split_uses_the_training_classes() {
        let train = read_ucr(format!("{DATA}/GunPoint_TRAIN.tsv")).unwrap();
        let test =
            read_ucr_with_classes(format!("{DATA}/GunPoint_TEST.tsv"), train.classes()).unwrap();
        assert_eq!(test.classes(), train.classes());
        assert_eq!(test.labels().unwrap(), [1, 1, 0]);
        let only_two = vec!["2".to_string()];
        let e = read_ucr_with_classes(format!("{DATA}/GunPoint_TEST.tsv"), &only_two)
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with("GunPoint_TEST.tsv: line 3, column 1: expected a class label of the given classes (2), found `1`"),
            "{e}"
        );
    }

    #[test]
    fn reads_older_comma_files_with_nan_padding() {
        let set = read_ucr(format!("{DATA}/Unequal_TRAIN.txt")).unwrap();
        assert_eq!(set.classes(), ["-1", "2", "10"], "numbers sort by value");
        assert_eq!(set.labels().unwrap(), [2, 0, 1, 2]);
        let lengths: Vec<_> = set.series().iter().map(Series::length).collect();
        assert_eq!(lengths, [5, 3, 4, 2], "trailing NaN padding is trimmed");
        let second = set.series()[1].values();
        assert_eq!(second[0], 0.5);
        assert!(second[1].is_nan(), "an inner NaN stays a missing value");
        assert_eq!(second[2], 2.0);
    }

    #[test]
    fn reads_blank_separated_exponents() {
        let set =
            parse("  1.0000000e+00  -6.4789e-01  2.5e+00\n\n  2.0000000e+00   1.0e+00\n").unwrap();
        assert_eq!(set.classes(), ["1.0000000e+00", "2.0000000e+00"]);
        assert_eq!(set.series()[0].values(), [-0.64789, 2.5]);
    }

    #[test]
    fn bad_inputs_name_line_and_column() {
        assert_eq!(
            err("1\t0.5\t0.25\n2\t0.5\tabc\t1\n"),
            "t.tsv: line 2, column 7: expected a finite number or a missing value (`?`, `NaN`), found `abc`"
        );
        assert_eq!(
            err("1,0.5,,2\n"),
            "t.tsv: line 1, column 7: expected a finite number or a missing value (`?`, `NaN`), found an empty field"
        );
        assert_eq!(
            err("1\t1e39\n"),
            "t.tsv: line 1, column 3: expected a finite number or a missing value (`?`, `NaN`), found `1e39`"
        );
        assert_eq!(
            err("1\t2\n3\n"),
            "t.tsv: line 2, column 2: expected at least one observed value after the label, found none"
        );
        assert_eq!(
            err("1\t2\n3\tNaN\tNaN\n"),
            "t.tsv: line 2, column 10: expected at least one observed value after the label, found none"
        );
        assert_eq!(
            err(",1,2\n"),
            "t.tsv: line 1, column 1: expected a class label, found an empty field"
        );
        assert_eq!(
            err("a\u{c}b 1 2\n"),
            "t.tsv: line 1, column 1: expected a class label without blanks, control characters or `,`, found `a\\u{c}b`"
        );
        let e = parse_ucr(&b"1\t\xff\n"[..], "t.tsv", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 1") && e.contains("UTF-8"), "{e}");
    }

    #[test]
    fn empty_input_is_an_empty_set() {
        let set = parse("\n\n").unwrap();
        assert_eq!(set.len(), 0);
        assert!(set.classes().is_empty());
    }

    #[test]
    fn writer_refuses_what_would_not_read_back() {
        let series = |v: Vec<f32>| Series::new(1, v).unwrap();
        let classes = |labels: Vec<usize>, classes: &[&str]| Targets::Classes {
            labels,
            classes: classes.iter().map(|c| c.to_string()).collect(),
        };
        let write = |set: TimeSeriesSet| {
            write_ucr_to(Vec::new(), "o.tsv", &set)
                .unwrap_err()
                .to_string()
        };
        let trailing_nan =
            TimeSeriesSet::new(vec![series(vec![1.0, f32::NAN])], classes(vec![0], &["a"]))
                .unwrap();
        assert!(write(trailing_nan).contains("series 0 ends in a missing value"));
        let blank =
            TimeSeriesSet::new(vec![series(vec![1.0])], classes(vec![0], &["a b"])).unwrap();
        assert!(write(blank).contains("class `a b` cannot be written"));
        let unlabelled = TimeSeriesSet::new(vec![series(vec![1.0])], Targets::None).unwrap();
        assert!(write(unlabelled).contains("needs a class label"));
        let multi = TimeSeriesSet::new(
            vec![Series::new(2, vec![1.0, 2.0]).unwrap()],
            classes(vec![0], &["a"]),
        )
        .unwrap();
        assert!(write(multi).contains("2 channels"));
    }

    #[test]
    fn file_round_trip() {
        let set = read_ucr(format!("{DATA}/Unequal_TRAIN.txt")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("Unequal_TRAIN.tsv");
        write_ucr(&path, &set).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("10\t1\t2\t3\t4\t5\n-1\t0.5\tNaN\t2\tNaN\tNaN\n"),
            "{text}"
        );
        let again = read_ucr(&path).unwrap();
        assert_eq!(again.targets(), set.targets());
        assert_eq!(bits(&again), bits(&set));
    }

    fn arb_set() -> impl Strategy<Value = TimeSeriesSet> {
        let value = prop_oneof![
            8 => any::<f32>().prop_filter("finite", |v| v.is_finite()),
            1 => Just(f32::NAN),
        ];
        let series = (
            prop::collection::vec(value, 0..12),
            any::<f32>().prop_filter("finite", |v| v.is_finite()),
        )
            .prop_map(|(mut values, last)| {
                values.push(last);
                Series::new(1, values).unwrap()
            });
        let classes = prop::collection::btree_set("[a-z0-9_.-]{1,6}", 1..5);
        (
            prop::collection::vec((series, any::<prop::sample::Index>()), 0..8),
            classes,
        )
            .prop_map(|(items, classes)| {
                let classes: Vec<String> = classes.into_iter().collect();
                let labels = items.iter().map(|(_, i)| i.index(classes.len())).collect();
                let series = items.into_iter().map(|(s, _)| s).collect();
                TimeSeriesSet::new(series, Targets::Classes { labels, classes }).unwrap()
            })
    }

    proptest! {
        #[test]
        fn write_then_read_is_bit_exact(set in arb_set()) {
            let mut bytes = Vec::new();
            write_ucr_to(&mut bytes, "p.tsv", &set).unwrap();
            let again = parse_ucr(&bytes[..], "p.tsv", Some(set.classes())).unwrap();
            prop_assert_eq!(again.targets(), set.targets());
            prop_assert_eq!(bits(&again), bits(&set));
        }
    }
}
