//! Time series for classification and regression: the UCR/UEA archive files, irregularly
//! sampled long-format CSV, and a synthetic wave generator.
//!
//! - [`Series`]: one multivariate series of `C` channels and `T` steps, stored channel-major
//!   (`[C][T]`); `NaN` marks a missing value. Series of one set may differ in length.
//! - [`TimeSeriesSet`]: series plus their [`Targets`] (class labels, real-valued regression
//!   targets, or none); a [`Dataset`] of [`TimeSeriesItem`]s.
//! - [`TimeSeriesBatcher`]: pads the items of a batch to the longest one and returns masks,
//!   for temporal conv nets that must ignore padding and missing steps.
//! - [`ucr`]: the UCR 2018 archive `.tsv` (and the older comma or blank separated `.txt`):
//!   one univariate series per line, label first.
//! - [`ts_file`]: the sktime/UEA `.ts` format: a header of `@` tags, then one case per line,
//!   dimensions separated by `:`, values by `,`, the label last.
//! - [`irregular`]: long-format CSV (`id,time,channel,value`) of irregularly sampled series,
//!   as exported from clinical databases, into [`IrregularSet`]; optional labels from a
//!   second CSV; [`IrregularSet::to_dense`] bins them onto a regular grid.
//! - [`waves`]: [`WavesDataset`], sine / chirp / square-wave classes, deterministic by seed,
//!   regular (with missing values) or irregularly sampled.
//!
//! Class labels are kept as the strings of the file ([`TimeSeriesSet::classes`]) and numbered
//! in sorted order, numbers by value (`"2"` before `"10"`, `"-1"` before `"1"`) and before
//! other strings, which sort by their bytes. A test split must be read with the classes of its
//! training split (`read_*_with_classes`) so both share one numbering; a label outside that
//! list is an error naming its line and column.
//!
//! ```
//! use convkit_data::timeseries::{Series, Targets, TimeSeriesSet};
//! use convkit_data::Dataset;
//! let short = Series::new(1, vec![0.5, f32::NAN, 1.0]).unwrap();
//! let long = Series::new(1, vec![1.0, 2.0, 3.0, 4.0]).unwrap();
//! let targets = Targets::Classes { labels: vec![0, 1], classes: vec!["a".into(), "b".into()] };
//! let set = TimeSeriesSet::new(vec![short, long], targets).unwrap();
//! assert_eq!(set.len(), 2);
//! assert_eq!(set.get(0).unwrap().series.length(), 3);
//! ```

pub mod irregular;
pub mod ts_file;
pub mod ucr;
pub mod waves;

use std::cmp::Ordering;
use std::collections::HashMap;

use burn::tensor::{Device, Int, Tensor, TensorData};
use convkit_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::lines::{Field, Line, quoted};
use crate::{Batcher, Dataset};

pub use irregular::{IrregularSeries, IrregularSet};
pub use waves::{WaveClass, WavesConfig, WavesDataset};

/// One series of `channels` channels and `length` time steps; `NaN` marks a missing value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    channels: usize,
    length: usize,
    values: Vec<f32>,
}

impl Series {
    /// A series from channel-major values (`[C][T]`: all of channel 0, then channel 1, ...);
    /// `None` if `channels` is 0, `values` is empty or not a multiple of `channels`.
    pub fn new(channels: usize, values: Vec<f32>) -> Option<Self> {
        if channels == 0 || values.is_empty() || !values.len().is_multiple_of(channels) {
            return None;
        }
        Some(Series {
            channels,
            length: values.len() / channels,
            values,
        })
    }

    /// Number of channels (`C`), at least 1.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Number of time steps (`T`), at least 1.
    pub fn length(&self) -> usize {
        self.length
    }

    /// All values, channel-major (`[C][T]`).
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The `length` values of channel `c`, `None` if `c >= channels`.
    pub fn channel(&self, c: usize) -> Option<&[f32]> {
        let start = c.checked_mul(self.length)?;
        self.values.get(start..start + self.length)
    }

    /// Number of missing (`NaN`) values.
    pub fn missing(&self) -> usize {
        self.values.iter().filter(|v| v.is_nan()).count()
    }

    /// The values, channel-major.
    pub fn into_values(self) -> Vec<f32> {
        self.values
    }
}

/// What is predicted from the series of a set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Targets {
    /// Nothing (clustering, or a test split published without labels).
    None,
    /// A class per series: `labels[i]` indexes `classes`, which holds the labels as written
    /// in the file.
    Classes {
        /// Class index of each series.
        labels: Vec<usize>,
        /// Class names, indexed by label.
        classes: Vec<String>,
    },
    /// A real-valued regression target per series (`.ts` files with `@targetLabel true`).
    Values(Vec<f32>),
}

impl Targets {
    fn len(&self) -> Option<usize> {
        match self {
            Targets::None => None,
            Targets::Classes { labels, .. } => Some(labels.len()),
            Targets::Values(v) => Some(v.len()),
        }
    }

    fn get(&self, index: usize) -> Target {
        match self {
            Targets::None => Target::None,
            Targets::Classes { labels, .. } => labels
                .get(index)
                .map_or(Target::None, |&l| Target::Class(l)),
            Targets::Values(v) => v.get(index).map_or(Target::None, |&v| Target::Value(v)),
        }
    }
}

/// The target of one item.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Target {
    /// No target.
    None,
    /// A class index.
    Class(usize),
    /// A regression target.
    Value(f32),
}

/// Series held in memory with their targets; all series have the same channel count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeSeriesSet {
    series: Vec<Series>,
    targets: Targets,
}

impl TimeSeriesSet {
    /// Builds a set; `None` if the series differ in channel count, the targets are not one per
    /// series, or a label is not below `classes.len()` (readers check these with file
    /// positions first).
    pub fn new(series: Vec<Series>, targets: Targets) -> Option<Self> {
        let channels = series.first().map(Series::channels);
        let consistent = series.iter().all(|s| Some(s.channels()) == channels)
            && targets.len().is_none_or(|n| n == series.len())
            && match &targets {
                Targets::Classes { labels, classes } => labels.iter().all(|&l| l < classes.len()),
                _ => true,
            };
        consistent.then_some(TimeSeriesSet { series, targets })
    }

    /// All series, in order.
    pub fn series(&self) -> &[Series] {
        &self.series
    }

    /// The targets.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// The class index of each series, `None` unless the set has classes.
    pub fn labels(&self) -> Option<&[usize]> {
        match &self.targets {
            Targets::Classes { labels, .. } => Some(labels),
            _ => None,
        }
    }

    /// Class names indexed by label; empty unless the set has classes.
    pub fn classes(&self) -> &[String] {
        match &self.targets {
            Targets::Classes { classes, .. } => classes,
            _ => &[],
        }
    }

    /// Channels of every series (0 for an empty set).
    pub fn channels(&self) -> usize {
        self.series.first().map_or(0, Series::channels)
    }

    /// Length of the longest series (0 for an empty set).
    pub fn max_length(&self) -> usize {
        self.series.iter().map(Series::length).max().unwrap_or(0)
    }

    /// The series and targets.
    pub fn into_parts(self) -> (Vec<Series>, Targets) {
        (self.series, self.targets)
    }
}

/// One series with its target.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeSeriesItem {
    /// The series.
    pub series: Series,
    /// Its target.
    pub target: Target,
}

impl Dataset for TimeSeriesSet {
    type Item = TimeSeriesItem;

    fn len(&self) -> usize {
        self.series.len()
    }

    fn get(&self, index: usize) -> Option<TimeSeriesItem> {
        Some(TimeSeriesItem {
            series: self.series.get(index)?.clone(),
            target: self.targets.get(index),
        })
    }
}

/// A padded batch of series.
#[derive(Debug, Clone)]
pub struct TimeSeriesBatch {
    /// `[N, C, T]`, `T` the longest length of the batch; missing values and padding are 0.
    pub values: Tensor<3>,
    /// `[N, C, T]`: 1 where `values` holds an observation, 0 for missing values and padding.
    pub observed: Tensor<3>,
    /// `[N, T]`: 1 where at least one channel is observed at that step (for a univariate
    /// series exactly the observed steps), 0 for padding and steps missing in every channel.
    pub mask: Tensor<2>,
    /// The length of each series before padding.
    pub lengths: Vec<usize>,
    /// `[N]` class indices, when every item has a class.
    pub targets: Option<Tensor<1, Int>>,
    /// `[N]` regression targets, when every item has one.
    pub target_values: Option<Tensor<1>>,
}

/// Stacks [`TimeSeriesItem`]s of one channel count into a [`TimeSeriesBatch`], padding at the
/// end to the longest series of the batch.
#[derive(Debug, Clone, Copy, Default)]
pub struct TimeSeriesBatcher;

impl TimeSeriesBatcher {
    /// The batcher.
    pub fn new() -> Self {
        TimeSeriesBatcher
    }
}

impl Batcher<TimeSeriesItem> for TimeSeriesBatcher {
    type Batch = TimeSeriesBatch;

    /// # Panics
    /// If the items differ in channel count: a [`TimeSeriesSet`] and the readers check this,
    /// so it is a programming error.
    fn batch(&self, items: Vec<TimeSeriesItem>, device: &Device) -> TimeSeriesBatch {
        let n = items.len();
        let c = items.first().map_or(1, |i| i.series.channels());
        let t = items.iter().map(|i| i.series.length()).max().unwrap_or(1);
        let mut values = vec![0.0f32; n * c * t];
        let mut observed = vec![0.0f32; n * c * t];
        let mut mask = vec![0.0f32; n * t];
        for (i, item) in items.iter().enumerate() {
            assert_eq!(
                item.series.channels(),
                c,
                "all series of a batch must have one channel count"
            );
            let len = item.series.length();
            for (ch, channel) in item.series.values().chunks_exact(len).enumerate() {
                let row = (i * c + ch) * t;
                for (k, &v) in channel.iter().enumerate() {
                    if !v.is_nan() {
                        values[row + k] = v;
                        observed[row + k] = 1.0;
                        mask[i * t + k] = 1.0;
                    }
                }
            }
        }
        let classes: Option<Vec<i64>> = items
            .iter()
            .map(|i| match i.target {
                Target::Class(l) => Some(l as i64),
                _ => None,
            })
            .collect();
        let regression: Option<Vec<f32>> = items
            .iter()
            .map(|i| match i.target {
                Target::Value(v) => Some(v),
                _ => None,
            })
            .collect();
        TimeSeriesBatch {
            values: Tensor::from_data(TensorData::new(values, [n, c, t]), device),
            observed: Tensor::from_data(TensorData::new(observed, [n, c, t]), device),
            mask: Tensor::from_data(TensorData::new(mask, [n, t]), device),
            lengths: items.iter().map(|i| i.series.length()).collect(),
            targets: classes.map(|l| Tensor::from_data(TensorData::new(l, [n]), device)),
            target_values: regression.map(|v| Tensor::from_data(TensorData::new(v, [n]), device)),
        }
    }
}

/// Sort order of class labels and channel names: strings that parse as finite numbers first,
/// by value (ties by text), then the others by their bytes.
pub(crate) fn compare_labels(a: &str, b: &str) -> Ordering {
    let number = |s: &str| s.parse::<f64>().ok().filter(|v| v.is_finite());
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x.total_cmp(&y).then_with(|| a.cmp(b)),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

/// Numbers the names met in a file (class labels, channel names): either against a given list
/// (an unknown name is an error at its position) or open, numbered in [`compare_labels`] order
/// once the file is read.
pub(crate) struct Vocabulary {
    names: Vec<String>,
    index: HashMap<String, usize>,
    /// Where a given list comes from, for errors; `None` for an open vocabulary.
    source: Option<String>,
}

impl Vocabulary {
    /// A vocabulary that takes every name.
    pub(crate) fn open() -> Self {
        Vocabulary {
            names: Vec::new(),
            index: HashMap::new(),
            source: None,
        }
    }

    /// A vocabulary of exactly `names`, numbered in their order; `source` says where the list
    /// comes from (e.g. "of the given classes"). Duplicates are an error.
    pub(crate) fn fixed(names: &[String], source: &str) -> Result<Self> {
        let mut index = HashMap::with_capacity(names.len());
        for (i, name) in names.iter().enumerate() {
            if index.insert(name.clone(), i).is_some() {
                return Err(Error::invalid(
                    "class or channel list",
                    format!("{} appears twice", quoted(name)),
                ));
            }
        }
        Ok(Vocabulary {
            names: names.to_vec(),
            index,
            source: Some(source.to_string()),
        })
    }

    /// The provisional index of the name in `field`; `what` names it in errors ("a class
    /// label").
    pub(crate) fn index(&mut self, line: &Line<'_>, field: Field<'_>, what: &str) -> Result<usize> {
        if field.text.is_empty() {
            return Err(line.error_at(
                field.start,
                format!("expected {what}, found an empty field"),
            ));
        }
        if let Some(&i) = self.index.get(field.text) {
            return Ok(i);
        }
        match &self.source {
            Some(source) => {
                const SHOWN: usize = 8;
                let mut list: Vec<&str> =
                    self.names.iter().take(SHOWN).map(String::as_str).collect();
                if self.names.len() > SHOWN {
                    list.push("…");
                }
                Err(line.error_at(
                    field.start,
                    format!(
                        "expected {what} {source} ({}), found {}",
                        list.join(" "),
                        quoted(field.text)
                    ),
                ))
            }
            None => {
                let i = self.names.len();
                self.names.push(field.text.to_string());
                self.index.insert(field.text.to_string(), i);
                Ok(i)
            }
        }
    }

    /// The names in their final order, and the final index of each provisional one.
    pub(crate) fn finish(self) -> (Vec<String>, Vec<usize>) {
        if self.source.is_some() {
            let n = self.names.len();
            return (self.names, (0..n).collect());
        }
        let mut order: Vec<usize> = (0..self.names.len()).collect();
        order.sort_by(|&a, &b| compare_labels(&self.names[a], &self.names[b]));
        let mut remap = vec![0; order.len()];
        for (final_index, &provisional) in order.iter().enumerate() {
            remap[provisional] = final_index;
        }
        let mut names = self.names;
        let sorted = order
            .iter()
            .map(|&i| std::mem::take(&mut names[i]))
            .collect();
        (sorted, remap)
    }

    /// [`Targets::Classes`] from provisional labels.
    pub(crate) fn into_targets(self, provisional: Vec<usize>) -> Targets {
        let (classes, remap) = self.finish();
        Targets::Classes {
            labels: provisional.into_iter().map(|l| remap[l]).collect(),
            classes,
        }
    }
}

/// A value of a series: a finite number, or missing (`?`, `NaN`, `nan`, `NA`), read as the
/// canonical `NaN` so equal files give bit-equal values. An empty field is an error.
pub(crate) fn parse_measurement(line: &Line<'_>, field: Field<'_>) -> Result<f32> {
    const WHAT: &str = "a finite number or a missing value (`?`, `NaN`)";
    if field.text.is_empty() {
        return Err(line.error_at(
            field.start,
            format!("expected {WHAT}, found an empty field"),
        ));
    }
    let v = line.parse_value(field, WHAT)?;
    if v.is_nan() {
        Ok(f32::NAN)
    } else if v.is_infinite() {
        Err(line.error_at(
            field.start,
            format!("expected {WHAT}, found {}", quoted(field.text)),
        ))
    } else {
        Ok(v)
    }
}

/// Writes a value as the shortest text that reads back to the same bits, `missing` for `NaN`.
pub(crate) fn format_value(out: &mut String, v: f32, missing: &str) {
    use std::fmt::Write;
    if v.is_nan() {
        out.push_str(missing);
    } else {
        // Writing to a String cannot fail.
        let _ = write!(out, "{v}");
    }
}

/// Whether `name` can be written as one field of a file whose fields are split at blanks and
/// `separators`: non-empty, without blanks, control characters (which line endings could eat)
/// or `separators`.
pub(crate) fn is_plain_token(name: &str, separators: &[char]) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || separators.contains(&c))
}

/// Checks that a class label read from `field` could be written back (see
/// [`is_plain_token`]), or an error at the label.
pub(crate) fn check_label(line: &Line<'_>, field: Field<'_>, separators: &[char]) -> Result<()> {
    if is_plain_token(field.text, separators) {
        return Ok(());
    }
    let also: String = separators.iter().map(|c| format!(" or `{c}`")).collect();
    Err(line.error_at(
        field.start,
        format!(
            "expected a class label without blanks, control characters{also}, found {}",
            quoted(&field.text.escape_debug().to_string())
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::LineReader;

    fn device() -> Device {
        Device::flex()
    }

    #[test]
    fn label_order_is_numeric_aware() {
        let mut labels = vec!["10", "b", "2", "-1", "a", "1.5", "02"];
        labels.sort_by(|a, b| compare_labels(a, b));
        assert_eq!(labels, ["-1", "1.5", "02", "2", "10", "a", "b"]);
    }

    #[test]
    fn open_vocabulary_sorts_and_remaps() {
        let mut reader = LineReader::new(&b"10 2 x 2\n"[..], "v.txt");
        let line = reader.next_line().unwrap().unwrap();
        let mut vocabulary = Vocabulary::open();
        let provisional: Vec<usize> = line
            .fields(crate::lines::Separator::Whitespace)
            .map(|f| vocabulary.index(&line, f, "a label").unwrap())
            .collect();
        assert_eq!(provisional, [0, 1, 2, 1]);
        let Targets::Classes { labels, classes } = vocabulary.into_targets(provisional) else {
            unreachable!()
        };
        assert_eq!(classes, ["2", "10", "x"]);
        assert_eq!(labels, [1, 0, 2, 0]);
    }

    #[test]
    fn fixed_vocabulary_rejects_unknown_and_duplicates() {
        let classes = vec!["a".to_string(), "b".to_string()];
        let mut reader = LineReader::new(&b"a c\n"[..], "v.txt");
        let line = reader.next_line().unwrap().unwrap();
        let mut vocabulary = Vocabulary::fixed(&classes, "of the training set").unwrap();
        let fields: Vec<_> = line.fields(crate::lines::Separator::Whitespace).collect();
        assert_eq!(
            vocabulary.index(&line, fields[0], "a class label").unwrap(),
            0
        );
        let e = vocabulary
            .index(&line, fields[1], "a class label")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "v.txt: line 1, column 3: expected a class label of the training set (a b), found `c`"
        );
        let twice = vec!["a".to_string(), "a".to_string()];
        assert!(Vocabulary::fixed(&twice, "x").is_err());
    }

    #[test]
    fn series_and_set_check_their_shapes() {
        assert!(Series::new(0, vec![1.0]).is_none());
        assert!(Series::new(2, vec![1.0, 2.0, 3.0]).is_none());
        assert!(Series::new(1, vec![]).is_none());
        let s = Series::new(2, vec![1.0, 2.0, 3.0, f32::NAN, 5.0, 6.0]).unwrap();
        assert_eq!((s.channels(), s.length(), s.missing()), (2, 3, 1));
        assert_eq!(s.channel(1).unwrap()[2], 6.0);
        assert!(s.channel(2).is_none());
        let uni = Series::new(1, vec![1.0]).unwrap();
        let classes = |labels| Targets::Classes {
            labels,
            classes: vec!["a".into()],
        };
        assert!(TimeSeriesSet::new(vec![s.clone(), uni], Targets::None).is_none());
        assert!(TimeSeriesSet::new(vec![s.clone()], classes(vec![1])).is_none());
        assert!(TimeSeriesSet::new(vec![s.clone()], Targets::Values(vec![])).is_none());
        let set = TimeSeriesSet::new(vec![s], classes(vec![0])).unwrap();
        assert_eq!(set.labels(), Some(&[0][..]));
        assert_eq!((set.channels(), set.max_length()), (2, 3));
        assert_eq!(set.get(0).unwrap().target, Target::Class(0));
        assert!(set.get(1).is_none());
    }

    #[test]
    fn batch_pads_and_masks() {
        let a = Series::new(2, vec![1.0, f32::NAN, 3.0, 4.0, f32::NAN, 6.0]).unwrap();
        let b = Series::new(2, vec![7.0, 8.0]).unwrap();
        let items = vec![
            TimeSeriesItem {
                series: a,
                target: Target::Class(1),
            },
            TimeSeriesItem {
                series: b,
                target: Target::Class(0),
            },
        ];
        let batch = TimeSeriesBatcher::new().batch(items, &device());
        assert_eq!(batch.values.dims(), [2, 2, 3]);
        assert_eq!(batch.lengths, [3, 1]);
        let values = batch.values.into_data().try_into_vec_as::<f32>().unwrap();
        assert_eq!(values, [1., 0., 3., 4., 0., 6., 7., 0., 0., 8., 0., 0.]);
        let observed = batch.observed.into_data().try_into_vec_as::<f32>().unwrap();
        assert_eq!(observed, [1., 0., 1., 1., 0., 1., 1., 0., 0., 1., 0., 0.]);
        let mask = batch.mask.into_data().try_into_vec_as::<f32>().unwrap();
        assert_eq!(
            mask,
            [1., 0., 1., 1., 0., 0.],
            "step 1 of the first series is missing in both channels"
        );
        let targets = batch
            .targets
            .unwrap()
            .into_data()
            .try_into_vec_as::<i64>()
            .unwrap();
        assert_eq!(targets, [1, 0]);
        assert!(batch.target_values.is_none());
    }

    #[test]
    fn batch_of_regression_targets() {
        let set = TimeSeriesSet::new(
            vec![
                Series::new(1, vec![1.0]).unwrap(),
                Series::new(1, vec![2.0, 3.0]).unwrap(),
            ],
            Targets::Values(vec![0.5, -2.0]),
        )
        .unwrap();
        let items = (0..2).map(|i| set.get(i).unwrap()).collect();
        let batch = TimeSeriesBatcher::new().batch(items, &device());
        assert!(batch.targets.is_none());
        let v = batch
            .target_values
            .unwrap()
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap();
        assert_eq!(v, [0.5, -2.0]);
    }
}
