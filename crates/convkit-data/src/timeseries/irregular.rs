//! Irregularly sampled series in long-format CSV, one observation per row.
//!
//! The layout of clinical time series exports (PhysioNet/CinC 2012 challenge `Time,Parameter,
//! Value` files, MIMIC `chartevents` extracts) reduced to four columns:
//!
//! ```text
//! id,time,channel,value
//! p1,0,HR,72
//! p1,0.5,Temp,36.9
//! p2,1.25,HR,?
//! ```
//!
//! - The first non-blank line is the header. Columns are found by name (case-insensitive, a
//!   leading byte-order mark ignored), in any order; **other columns are ignored** (exports
//!   carry units, sources, flags), but a column named twice is an error, as is a missing one.
//! - Fields are separated by commas and trimmed of blanks; there is no quoting, so ids and
//!   channel names cannot hold commas. Every row has as many fields as the header.
//! - `id`: non-blank text naming a series; series are kept in the order their ids first
//!   appear. `time`: a finite number in any unit (hours since admission, seconds, ...); rows
//!   come in any order and are sorted by time per series, stably, so rows with equal times keep
//!   their file order. `channel`: non-blank name; channels are numbered in sorted order
//!   (numbers by value, see the [module docs](super)) or by a given list. `value`: a finite
//!   number, or missing (`?`, `NaN`, `NA`), kept as `NaN`.
//! - Labels come from a second CSV with columns `id,label` (any order, others ignored): every
//!   id of the data must get exactly one label, and every labelled id must be in the data.
//!
//! [`IrregularSet::to_dense`] bins a set onto a regular grid as a [`TimeSeriesSet`] with `NaN`
//! for empty bins, for the masked batches of [`super::TimeSeriesBatcher`].
//!
//! Errors name the file, line and column: missing or repeated header columns, a row with the
//! wrong field count, a blank id or channel, a non-finite time, a non-numeric value, an unknown
//! channel (with a given list), an unknown or repeated id in the labels; an id without a label
//! is reported at the end of the labels file.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use convkit_core::{Error, Result};

use super::{Series, Targets, TimeSeriesSet, Vocabulary, parse_measurement};
use crate::lines::{Field, Line, LineReader, Separator, quoted};

/// The most values (steps × channels) [`IrregularSeries::to_dense`] builds for one series
/// (16 Mi: 64 MiB of `f32`, plus 192 MiB of temporary sums and counts).
pub const MAX_DENSE_VALUES: usize = 1 << 24;

/// The observations of one id, sorted by time: observation `i` is `values[i]` of channel
/// `channel[i]` at `times[i]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IrregularSeries {
    /// The id, as written in the file.
    pub id: String,
    /// Observation times, non-decreasing.
    pub times: Vec<f64>,
    /// Channel index of each observation.
    pub channel: Vec<usize>,
    /// Observed values (`NaN` where the file says missing).
    pub values: Vec<f32>,
}

impl IrregularSeries {
    /// Number of observations.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether the series has no observation.
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Bins the series onto a grid of `step`: observation time `t` falls in bin
    /// `floor(t / step)`, the grid runs from the bin of the earliest observation to that of the
    /// latest, and each (bin, channel) holds the mean of its non-missing values or `NaN` when
    /// there is none. An empty series gives one step of `NaN`s.
    ///
    /// Errors if `step` is not a positive finite number, the grid would exceed
    /// [`MAX_DENSE_VALUES`], the field lengths differ, a time is not finite or a channel is not
    /// below `channels`.
    pub fn to_dense(&self, channels: usize, step: f64) -> Result<Series> {
        let invalid =
            |reason: String| Error::invalid(format!("dense grid of series `{}`", self.id), reason);
        if !(step.is_finite() && step > 0.0) {
            return Err(invalid(format!(
                "the step must be a positive finite number, got {step}"
            )));
        }
        if channels == 0 {
            return Err(invalid("the channel count must be positive".into()));
        }
        let n = self.times.len();
        if self.channel.len() != n || self.values.len() != n {
            return Err(invalid(format!(
                "{n} times but {} channels and {} values",
                self.channel.len(),
                self.values.len()
            )));
        }
        if let Some(t) = self.times.iter().find(|t| !t.is_finite()) {
            return Err(invalid(format!("time {t} is not finite")));
        }
        if let Some(c) = self.channel.iter().find(|&&c| c >= channels) {
            return Err(invalid(format!("channel {c} is not below {channels}")));
        }
        let bin = |t: f64| (t / step).floor();
        let first = self
            .times
            .iter()
            .map(|&t| bin(t))
            .fold(f64::INFINITY, f64::min);
        let last = self
            .times
            .iter()
            .map(|&t| bin(t))
            .fold(f64::NEG_INFINITY, f64::max);
        let length = if n == 0 {
            1
        } else {
            let span = last - first;
            // Not finite when a time over the step overflows.
            let limit = (MAX_DENSE_VALUES / channels) as f64;
            if !span.is_finite() || span >= limit {
                return Err(invalid(format!(
                    "{} steps of {step} from {} to {} in {channels} channel(s) exceed the limit \
                     of {MAX_DENSE_VALUES} values",
                    span + 1.0,
                    first * step,
                    last * step
                )));
            }
            span as usize + 1
        };
        let mut sum = vec![0.0f64; channels * length];
        let mut count = vec![0u32; channels * length];
        for ((&t, &c), &v) in self.times.iter().zip(&self.channel).zip(&self.values) {
            if v.is_nan() {
                continue;
            }
            let k = ((bin(t) - first) as usize).min(length - 1);
            sum[c * length + k] += f64::from(v);
            count[c * length + k] += 1;
        }
        let values = sum
            .iter()
            .zip(&count)
            .map(|(&s, &k)| {
                if k == 0 {
                    f32::NAN
                } else {
                    (s / f64::from(k)) as f32
                }
            })
            .collect();
        Series::new(channels, values).ok_or_else(|| invalid("empty grid (internal error)".into()))
    }
}

/// Irregularly sampled series with named channels and optional targets.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IrregularSet {
    series: Vec<IrregularSeries>,
    channel_names: Vec<String>,
    targets: Targets,
}

impl IrregularSet {
    /// Builds a set; `None` if an id repeats, a series' fields differ in length, a time is not
    /// finite or times decrease, a channel is not below `channel_names.len()`, or the targets
    /// are not one per series with labels below the class count (readers report these with
    /// file positions first).
    pub fn new(
        series: Vec<IrregularSeries>,
        channel_names: Vec<String>,
        targets: Targets,
    ) -> Option<Self> {
        let mut ids = std::collections::HashSet::with_capacity(series.len());
        let valid_series = series.iter().all(|s| {
            ids.insert(s.id.as_str())
                && s.channel.len() == s.times.len()
                && s.values.len() == s.times.len()
                && s.times.iter().all(|t| t.is_finite())
                && s.times.windows(2).all(|w| w[0] <= w[1])
                && s.channel.iter().all(|&c| c < channel_names.len())
        });
        let targets_fit = match &targets {
            Targets::None => true,
            Targets::Classes { labels, classes } => {
                labels.len() == series.len() && labels.iter().all(|&l| l < classes.len())
            }
            Targets::Values(v) => v.len() == series.len(),
        };
        (valid_series && targets_fit).then_some(IrregularSet {
            series,
            channel_names,
            targets,
        })
    }

    /// All series, in order.
    pub fn series(&self) -> &[IrregularSeries] {
        &self.series
    }

    /// Channel names, indexed by channel.
    pub fn channel_names(&self) -> &[String] {
        &self.channel_names
    }

    /// The targets.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// Class names indexed by label; empty unless the set has classes.
    pub fn classes(&self) -> &[String] {
        match &self.targets {
            Targets::Classes { classes, .. } => classes,
            _ => &[],
        }
    }

    /// The series, channel names and targets.
    pub fn into_parts(self) -> (Vec<IrregularSeries>, Vec<String>, Targets) {
        (self.series, self.channel_names, self.targets)
    }

    /// Every series binned onto a grid of `step` (see [`IrregularSeries::to_dense`]), with the
    /// same targets; the series keep their own lengths, which the batcher pads.
    pub fn to_dense(&self, step: f64) -> Result<TimeSeriesSet> {
        let channels = self.channel_names.len().max(1);
        let series = self
            .series
            .iter()
            .map(|s| s.to_dense(channels, step))
            .collect::<Result<Vec<_>>>()?;
        TimeSeriesSet::new(series, self.targets.clone()).ok_or_else(|| {
            Error::invalid(
                "dense grid",
                "targets do not fit the series (internal error)",
            )
        })
    }
}

/// Reads an `id,time,channel,value` CSV (plain or gzip). `channels` fixes the channel list
/// (e.g. the training file's `channel_names()`); `None` numbers the names found in sorted
/// order.
pub fn read_irregular(path: impl AsRef<Path>, channels: Option<&[String]>) -> Result<IrregularSet> {
    parse_data(LineReader::open(path.as_ref())?, channels)
}

/// Parses an `id,time,channel,value` CSV from `reader`; `name` is what errors name. See
/// [`read_irregular`].
pub fn parse_irregular(
    reader: impl BufRead,
    name: impl AsRef<Path>,
    channels: Option<&[String]>,
) -> Result<IrregularSet> {
    parse_data(LineReader::new(reader, name.as_ref()), channels)
}

/// Reads an `id,label` CSV (plain or gzip) and attaches the labels to `set`. `classes` fixes
/// the class list (e.g. the training labels' `classes()`); `None` numbers the labels found in
/// sorted order.
pub fn read_irregular_labels(
    path: impl AsRef<Path>,
    set: IrregularSet,
    classes: Option<&[String]>,
) -> Result<IrregularSet> {
    parse_labels(LineReader::open(path.as_ref())?, set, classes)
}

/// Parses an `id,label` CSV from `reader` and attaches the labels to `set`; `name` is what
/// errors name. See [`read_irregular_labels`].
pub fn parse_irregular_labels(
    reader: impl BufRead,
    name: impl AsRef<Path>,
    set: IrregularSet,
    classes: Option<&[String]>,
) -> Result<IrregularSet> {
    parse_labels(LineReader::new(reader, name.as_ref()), set, classes)
}

/// The positions of the `required` columns in a header line, and the number of columns.
fn header_columns<const N: usize>(
    line: &Line<'_>,
    required: [&str; N],
) -> Result<([usize; N], usize)> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut width = 0;
    for (i, field) in line.fields(Separator::Char(',')).enumerate() {
        width += 1;
        let name = field.text.trim_start_matches('\u{feff}');
        if name.is_empty() {
            return Err(line.error_at(field.start, "expected a column name, found an empty field"));
        }
        if let Some(first) = seen.insert(name.to_ascii_lowercase(), i) {
            return Err(line.error_at(
                field.start,
                format!(
                    "expected each column once, found {} again (first as field {})",
                    quoted(name),
                    first + 1
                ),
            ));
        }
    }
    let mut positions = [0; N];
    for (position, name) in positions.iter_mut().zip(required) {
        *position = *seen.get(name).ok_or_else(|| {
            line.error_at(
                0,
                format!(
                    "expected a header with the columns `{}` (in any order), found no `{name}` column",
                    required.join(",")
                ),
            )
        })?;
    }
    Ok((positions, width))
}

/// The fields of a row, which must be as many as the header's.
fn row_fields<'a>(line: &Line<'a>, width: usize) -> Result<Vec<Field<'a>>> {
    let fields: Vec<Field<'a>> = line.fields(Separator::Char(',')).collect();
    if fields.len() != width {
        let at = fields.get(width).map_or(line.text.len(), |f| f.start);
        return Err(line.error_at(
            at,
            format!(
                "expected {width} comma-separated fields as in the header, found {}",
                fields.len()
            ),
        ));
    }
    Ok(fields)
}

fn non_blank<'a>(line: &Line<'_>, field: Field<'a>, what: &str) -> Result<&'a str> {
    if field.text.is_empty() {
        return Err(line.error_at(
            field.start,
            format!("expected {what}, found an empty field"),
        ));
    }
    Ok(field.text)
}

/// One observation before channel renumbering: (time, provisional channel, value).
type Observation = (f64, usize, f32);

fn parse_data<R: BufRead>(
    mut reader: LineReader<R>,
    channels: Option<&[String]>,
) -> Result<IrregularSet> {
    let ([id_at, time_at, channel_at, value_at], width) = match reader.next_content(&[])? {
        Some(header) => header_columns(&header, ["id", "time", "channel", "value"])?,
        None => {
            return Err(reader.error_at_end(
                "expected a header line `id,time,channel,value`, found an empty file",
            ));
        }
    };
    let mut vocabulary = match channels {
        Some(names) => Vocabulary::fixed(names, "of the given channels")?,
        None => Vocabulary::open(),
    };
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut rows: Vec<(String, Vec<Observation>)> = Vec::new();
    while let Some(line) = reader.next_content(&[])? {
        let fields = row_fields(&line, width)?;
        let id = non_blank(&line, fields[id_at], "an id")?;
        let time: f64 = line.parse(fields[time_at], "a finite time")?;
        if !time.is_finite() {
            return Err(line.error_at(
                fields[time_at].start,
                format!(
                    "expected a finite time, found {}",
                    quoted(fields[time_at].text)
                ),
            ));
        }
        let channel = vocabulary.index(&line, fields[channel_at], "a channel name")?;
        let value = parse_measurement(&line, fields[value_at])?;
        let series = match index.get(id) {
            Some(&s) => s,
            None => {
                index.insert(id.to_string(), rows.len());
                rows.push((id.to_string(), Vec::new()));
                rows.len() - 1
            }
        };
        rows[series].1.push((time, channel, value));
    }
    let (channel_names, remap) = vocabulary.finish();
    let series = rows
        .into_iter()
        .map(|(id, mut observations)| {
            observations.sort_by(|a, b| a.0.total_cmp(&b.0));
            IrregularSeries {
                id,
                times: observations.iter().map(|o| o.0).collect(),
                channel: observations.iter().map(|o| remap[o.1]).collect(),
                values: observations.iter().map(|o| o.2).collect(),
            }
        })
        .collect();
    IrregularSet::new(series, channel_names, Targets::None)
        .ok_or_else(|| reader.error_at_end("inconsistent series (internal error)"))
}

fn parse_labels<R: BufRead>(
    mut reader: LineReader<R>,
    set: IrregularSet,
    classes: Option<&[String]>,
) -> Result<IrregularSet> {
    let ([id_at, label_at], width) = match reader.next_content(&[])? {
        Some(header) => header_columns(&header, ["id", "label"])?,
        None => {
            return Err(
                reader.error_at_end("expected a header line `id,label`, found an empty file")
            );
        }
    };
    let mut vocabulary = match classes {
        Some(names) => Vocabulary::fixed(names, "of the given classes")?,
        None => Vocabulary::open(),
    };
    let ids: HashMap<&str, usize> = set
        .series
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.as_str(), i))
        .collect();
    // Provisional label and line of each series.
    let mut labels: Vec<Option<(usize, usize)>> = vec![None; set.series.len()];
    while let Some(line) = reader.next_content(&[])? {
        let fields = row_fields(&line, width)?;
        let id = fields[id_at];
        let Some(&series) = ids.get(id.text) else {
            return Err(line.error_at(
                id.start,
                format!("expected an id of the data file, found {}", quoted(id.text)),
            ));
        };
        if let Some((_, first)) = labels[series] {
            return Err(line.error_at(
                id.start,
                format!(
                    "expected one label per id, found {} again (first on line {first})",
                    quoted(id.text)
                ),
            ));
        }
        labels[series] = Some((
            vocabulary.index(&line, fields[label_at], "a class label")?,
            line.number,
        ));
    }
    let unlabelled: Vec<&str> = labels
        .iter()
        .zip(&set.series)
        .filter(|(l, _)| l.is_none())
        .map(|(_, s)| s.id.as_str())
        .collect();
    if let Some(first) = unlabelled.first() {
        return Err(reader.error_at_end(format!(
            "expected a label for every id of the data file, found none for {} ({} id(s) without a label)",
            quoted(first),
            unlabelled.len()
        )));
    }
    let provisional = labels
        .into_iter()
        .flatten()
        .map(|(label, _)| label)
        .collect();
    let targets = vocabulary.into_targets(provisional);
    let (series, channel_names, _) = set.into_parts();
    IrregularSet::new(series, channel_names, targets)
        .ok_or_else(|| reader.error_at_end("labels do not fit the series (internal error)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/timeseries");

    fn parse(text: &str) -> Result<IrregularSet> {
        parse_irregular(text.as_bytes(), "t.csv", None)
    }

    fn err(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    fn fixture() -> IrregularSet {
        read_irregular(format!("{DATA}/vitals.csv"), None).unwrap()
    }

    #[test]
    fn reads_the_fixture_sorted_by_time() {
        let set = fixture();
        assert_eq!(set.channel_names(), ["HR", "Temp"]);
        let ids: Vec<_> = set.series().iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["p2", "p1", "p3"], "first-seen order");
        let p2 = &set.series()[0];
        assert_eq!(p2.times, [0.5, 0.5, 3.0]);
        assert_eq!(p2.channel, [0, 1, 0], "equal times keep file order");
        assert_eq!(p2.values[0], 88.0);
        assert!(p2.values[1].is_nan());
        assert_eq!(p2.values[2], 90.0);
        let p1 = &set.series()[1];
        assert_eq!(p1.times, [0.0, 0.0, 0.75, 1.5, 1.5]);
        assert_eq!(p1.channel, [0, 1, 0, 1, 0]);
        assert_eq!(p1.values, [72.0, 36.9, 74.0, 37.2, 75.0]);
        let p3 = &set.series()[2];
        assert_eq!(p3.times, [-1.0, 2.25]);
        assert_eq!(p3.channel, [1, 0]);
        assert_eq!(p3.values, [38.5, 101.5]);
        assert_eq!(set.targets(), &Targets::None);
    }

    #[test]
    fn attaches_labels_from_the_second_file() {
        let set =
            read_irregular_labels(format!("{DATA}/vitals_labels.csv"), fixture(), None).unwrap();
        assert_eq!(set.classes(), ["died", "survived"]);
        let Targets::Classes { labels, .. } = set.targets() else {
            panic!("expected classes")
        };
        assert_eq!(labels, &[1, 1, 0]);
        let given: Vec<String> = ["survived", "died"].map(String::from).to_vec();
        let set =
            read_irregular_labels(format!("{DATA}/vitals_labels.csv"), fixture(), Some(&given))
                .unwrap();
        assert_eq!(set.classes(), given);
    }

    #[test]
    fn dense_grid_averages_bins() {
        let dense = fixture().to_dense(1.0).unwrap();
        let p2 = &dense.series()[0];
        assert_eq!((p2.channels(), p2.length()), (2, 4));
        let hr = p2.channel(0).unwrap();
        assert_eq!((hr[0], hr[3]), (88.0, 90.0));
        assert!(hr[1].is_nan() && hr[2].is_nan());
        assert!(
            p2.channel(1).unwrap().iter().all(|v| v.is_nan()),
            "the only Temp value is missing"
        );
        assert_eq!(
            dense.series()[1].values(),
            [73.0, 75.0, 36.9, 37.2],
            "HR 72 and 74 share bin 0"
        );
        let p3 = &dense.series()[2];
        assert_eq!(p3.length(), 4, "bins -1 to 2");
        assert_eq!(p3.channel(0).unwrap()[3], 101.5);
        assert_eq!(p3.channel(1).unwrap()[0], 38.5);
    }

    #[test]
    fn dense_grid_refuses_bad_steps_and_huge_grids() {
        let set = fixture();
        assert!(set.to_dense(0.0).is_err());
        assert!(set.to_dense(f64::NAN).is_err());
        let e = set.to_dense(1e-9).unwrap_err().to_string();
        assert!(e.contains("exceed the limit"), "{e}");
        let empty = IrregularSeries {
            id: "e".into(),
            times: vec![],
            channel: vec![],
            values: vec![],
        };
        let dense = empty.to_dense(2, 1.0).unwrap();
        assert_eq!(dense.length(), 1);
        assert_eq!(dense.missing(), 2);
    }

    #[test]
    fn extra_columns_are_ignored_and_channels_can_be_given() {
        let text = "\u{feff}VALUE , note,Channel,TIME,ID\n1.5,x,b,2,s\n2.5,y,a,1,s\n";
        let set = parse(text).unwrap();
        assert_eq!(set.channel_names(), ["a", "b"]);
        assert_eq!(set.series()[0].values, [2.5, 1.5]);
        let given: Vec<String> = ["b", "a", "c"].map(String::from).to_vec();
        let set = parse_irregular(text.as_bytes(), "t.csv", Some(&given)).unwrap();
        assert_eq!(set.series()[0].channel, [1, 0]);
        let only_a = vec!["a".to_string()];
        let e = parse_irregular(text.as_bytes(), "t.csv", Some(&only_a))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "t.csv: line 2, column 7: expected a channel name of the given channels (a), found `b`"
        );
    }

    #[test]
    fn bad_data_names_line_and_column() {
        assert_eq!(
            err(""),
            "t.csv: at the end (after line 0): expected a header line `id,time,channel,value`, found an empty file"
        );
        assert_eq!(
            err("id,time,channel,value,Time\n"),
            "t.csv: line 1, column 23: expected each column once, found `Time` again (first as field 2)"
        );
        assert_eq!(
            err("id,time,value\n"),
            "t.csv: line 1, column 1: expected a header with the columns `id,time,channel,value` (in any order), \
             found no `channel` column"
        );
        assert_eq!(
            err("id,,channel,value\n"),
            "t.csv: line 1, column 4: expected a column name, found an empty field"
        );
        assert_eq!(
            err("id,time,channel,value\na,1,x,2\na,1,x\n"),
            "t.csv: line 3, column 6: expected 4 comma-separated fields as in the header, found 3"
        );
        assert_eq!(
            err("id,time,channel,value\na,1,x,2,3\n"),
            "t.csv: line 2, column 9: expected 4 comma-separated fields as in the header, found 5"
        );
        assert_eq!(
            err("id,time,channel,value\na,inf,x,2\n"),
            "t.csv: line 2, column 3: expected a finite time, found `inf`"
        );
        assert_eq!(
            err("id,time,channel,value\na,NaN,x,2\n"),
            "t.csv: line 2, column 3: expected a finite time, found `NaN`"
        );
        assert_eq!(
            err("id,time,channel,value\na,1h,x,2\n"),
            "t.csv: line 2, column 3: expected a finite time, found `1h`"
        );
        assert_eq!(
            err("id,time,channel,value\na,1,x,high\n"),
            "t.csv: line 2, column 7: expected a finite number or a missing value (`?`, `NaN`), found `high`"
        );
        assert_eq!(
            err("id,time,channel,value\n ,1,x,2\n"),
            "t.csv: line 2, column 1: expected an id, found an empty field"
        );
        assert_eq!(
            err("id,time,channel,value\na,1,,2\n"),
            "t.csv: line 2, column 5: expected a channel name, found an empty field"
        );
    }

    #[test]
    fn bad_labels_name_line_and_column() {
        let labels = |text: &str| {
            parse_irregular_labels(text.as_bytes(), "l.csv", fixture(), None)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            labels("id,label\np1,a\np9,b\n"),
            "l.csv: line 3, column 1: expected an id of the data file, found `p9`"
        );
        assert_eq!(
            labels("id,label\np1,a\np2,b\np1,c\n"),
            "l.csv: line 4, column 1: expected one label per id, found `p1` again (first on line 2)"
        );
        assert_eq!(
            labels("label,id\na,p1\n"),
            "l.csv: at the end (after line 2): expected a label for every id of the data file, \
             found none for `p2` (2 id(s) without a label)"
        );
        assert_eq!(
            labels("id,label\np1,\n"),
            "l.csv: line 2, column 4: expected a class label, found an empty field"
        );
        assert_eq!(
            labels("id\n"),
            "l.csv: line 1, column 1: expected a header with the columns `id,label` (in any order), found no `label` column"
        );
    }

    #[test]
    fn set_checks_its_invariants() {
        let series = |id: &str, times: Vec<f64>| IrregularSeries {
            id: id.into(),
            channel: vec![0; times.len()],
            values: vec![1.0; times.len()],
            times,
        };
        let names = vec!["c".to_string()];
        assert!(
            IrregularSet::new(
                vec![series("a", vec![0.0, 1.0])],
                names.clone(),
                Targets::None
            )
            .is_some()
        );
        assert!(
            IrregularSet::new(
                vec![series("a", vec![1.0, 0.0])],
                names.clone(),
                Targets::None
            )
            .is_none()
        );
        assert!(
            IrregularSet::new(
                vec![series("a", vec![f64::NAN])],
                names.clone(),
                Targets::None
            )
            .is_none()
        );
        assert!(
            IrregularSet::new(
                vec![series("a", vec![]), series("a", vec![])],
                names.clone(),
                Targets::None
            )
            .is_none()
        );
        assert!(IrregularSet::new(vec![series("a", vec![0.0])], vec![], Targets::None).is_none());
        assert!(
            IrregularSet::new(vec![series("a", vec![])], names, Targets::Values(vec![])).is_none()
        );
    }
}
