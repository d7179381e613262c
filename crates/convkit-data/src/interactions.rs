//! User–item interactions for recommendation (LightGCN, UltraGCN): readers, splits and a
//! generator with learnable structure.
//!
//! # Formats
//!
//! **Adjacency lists** ([`read_adjacency`], [`write_adjacency`]): the `train.txt` / `test.txt`
//! files of the LightGCN data (He et al. 2020, "LightGCN: Simplifying and Powering Graph
//! Convolution Network for Recommendation"; Gowalla, Yelp2018, Amazon-Book), one line per user:
//!
//! ```text
//! 0 12 7 301
//! 1 4
//! 2
//! ```
//!
//! The first integer is the user, the rest are the items they interacted with, separated by
//! spaces or tabs. A user line with no items is allowed (the user counts, with degree 0). Ids
//! are 0-based indices, so `num_users` is the largest user id + 1 and `num_items` the largest
//! item id + 1. A user appearing on two lines is an error naming both lines (the LightGCN files
//! never do it, so it means two files were concatenated by mistake). Blank lines are skipped.
//! These files are tens of MB, so ids are parsed by hand over the bytes of each line.
//!
//! **Rating tables** ([`read_csv`]): one interaction per line, `user,item[,rating[,timestamp]]`,
//! comma, tab, whitespace or `::` separated (MovieLens `ratings.dat` is `u::i::r::t`), with an
//! optional header ([`Header`]). Every line has the number of fields of the first line. Ids
//! are either strings mapped to dense indices in first-seen order ([`IdKind::Strings`], the
//! default; the maps are kept in [`Interactions::user_ids`] / [`Interactions::item_ids`]) or
//! 0-based integer indices as in the adjacency format ([`IdKind::Numeric`]). Ratings are finite
//! floats, timestamps 64-bit integers.
//!
//! **Test splits** ([`read_adjacency_test`], [`read_csv_test`]) are read against the training
//! data: a rating table's string ids are looked up in its id maps; numeric ids, and the ids of
//! an adjacency file (always indices), must be below its `num_users` / `num_items`. The result
//! has the training counts and maps. An unknown user or item is an error by default; with
//! [`UnknownIds::Skip`] the interaction is dropped and counted in [`TestSplit::skipped`]
//! (cold-start users of a random MovieLens split).
//!
//! # Errors
//!
//! Every error names the file and line, and the column for a bad field: a negative or
//! non-integer numeric id, an id of 4294967295 or more, a non-numeric rating or timestamp, a
//! line with another field count than the first, a user on two adjacency lines, an unknown id
//! in a test split.
//!
//! # Generator
//!
//! [`LatentFactorConfig`] samples interactions from latent user and item factors and a
//! popularity skew, so that a model has something to learn (held-out items score far above
//! random ones under the true factors).

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use burn::config::Config;
use convkit_core::{Error, Result};
use convkit_graph::{Graph, GraphFill};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::lines::{Field, Line, LineReader, Separator, quoted};
use crate::random::{gaussian, item_rng};

/// The largest numeric id: indices are `u32` and `num_users = max id + 1` must fit too.
pub const MAX_ID: u32 = u32::MAX - 1;

/// A dense index for each distinct name, in first-seen order (string ids of users and items,
/// categorical values, node names).
///
/// Serialized as the list of names, so a saved map restores the same indices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct IdMap {
    names: Vec<String>,
    index: HashMap<String, u32>,
}

impl IdMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// The map giving `names[k]` the index `k`; a repeated name is an error.
    pub fn from_names(names: Vec<String>) -> Result<Self> {
        let mut map = IdMap::new();
        for (k, name) in names.into_iter().enumerate() {
            if let Some(first) = map.get(&name) {
                return Err(Error::invalid(
                    "id map",
                    format!(
                        "names must be distinct, found {} at positions {first} and {k}",
                        quoted(&name)
                    ),
                ));
            }
            map.insert(&name)?;
        }
        Ok(map)
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether the map has no names.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The index of `name`, if it is in the map.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    /// The name of index `index`.
    pub fn name(&self, index: u32) -> Option<&str> {
        self.names.get(index as usize).map(String::as_str)
    }

    /// All names in index order.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The index of `name`, adding it with the next index if it is new. Fails only past
    /// [`MAX_ID`] + 1 names.
    pub fn insert(&mut self, name: &str) -> Result<u32> {
        if let Some(&k) = self.index.get(name) {
            return Ok(k);
        }
        let k = u32::try_from(self.names.len())
            .ok()
            .filter(|&k| k <= MAX_ID)
            .ok_or_else(|| {
                Error::invalid(
                    "id map",
                    format!("more than {} distinct names", MAX_ID as u64 + 1),
                )
            })?;
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), k);
        Ok(k)
    }
}

impl TryFrom<Vec<String>> for IdMap {
    type Error = Error;

    fn try_from(names: Vec<String>) -> Result<Self> {
        Self::from_names(names)
    }
}

impl From<IdMap> for Vec<String> {
    fn from(map: IdMap) -> Self {
        map.names
    }
}

/// Interactions between users and items, one entry per (user, item) event, in file order.
///
/// Invariants (checked by [`Interactions::new`] and kept by every method): `users`, `items`
/// and the optional `ratings` / `timestamps` have one length; every user is below
/// `num_users` and every item below `num_items`; id maps, when present, have `num_users` /
/// `num_items` names. Memory of [`Interactions::by_user`], the degree counts and
/// [`write_adjacency`] grows with `num_users` and `num_items`, which for numeric ids are the
/// largest ids + 1.
#[derive(Debug, Clone, PartialEq)]
pub struct Interactions {
    num_users: usize,
    num_items: usize,
    users: Vec<u32>,
    items: Vec<u32>,
    ratings: Option<Vec<f32>>,
    timestamps: Option<Vec<i64>>,
    user_ids: Option<IdMap>,
    item_ids: Option<IdMap>,
}

/// The largest `num_users` / `num_items`: every index fits a `u32`.
const MAX_COUNT: usize = MAX_ID as usize + 1;

impl Interactions {
    /// Interactions `(users[k], items[k])` among `num_users` users and `num_items` items.
    pub fn new(
        num_users: usize,
        num_items: usize,
        users: Vec<u32>,
        items: Vec<u32>,
    ) -> Result<Self> {
        let invalid = |reason: String| Error::invalid("interactions", reason);
        if users.len() != items.len() {
            return Err(invalid(format!(
                "{} users but {} items; expected one of each per interaction",
                users.len(),
                items.len()
            )));
        }
        for (count, what) in [(num_users, "num_users"), (num_items, "num_items")] {
            if count > MAX_COUNT {
                return Err(invalid(format!(
                    "{what} {count} is above the limit {MAX_COUNT}"
                )));
            }
        }
        for (ids, count, what) in [(&users, num_users, "user"), (&items, num_items, "item")] {
            if let Some((k, id)) = ids
                .iter()
                .enumerate()
                .find(|&(_, &id)| id as usize >= count)
            {
                return Err(invalid(format!(
                    "{what} {id} of interaction {k} is not below the {what} count {count}"
                )));
            }
        }
        Ok(Interactions {
            num_users,
            num_items,
            users,
            items,
            ratings: None,
            timestamps: None,
            user_ids: None,
            item_ids: None,
        })
    }

    /// Adds one rating per interaction.
    pub fn with_ratings(mut self, ratings: Vec<f32>) -> Result<Self> {
        self.check_len(ratings.len(), "ratings")?;
        self.ratings = Some(ratings);
        Ok(self)
    }

    /// Adds one timestamp per interaction.
    pub fn with_timestamps(mut self, timestamps: Vec<i64>) -> Result<Self> {
        self.check_len(timestamps.len(), "timestamps")?;
        self.timestamps = Some(timestamps);
        Ok(self)
    }

    /// Adds the names of the users and items (`user_ids` has `num_users` names, `item_ids`
    /// `num_items`).
    pub fn with_id_maps(mut self, user_ids: IdMap, item_ids: IdMap) -> Result<Self> {
        for (map, count, what) in [
            (&user_ids, self.num_users, "user"),
            (&item_ids, self.num_items, "item"),
        ] {
            if map.len() != count {
                return Err(Error::invalid(
                    "interactions",
                    format!(
                        "the {what} id map has {} names, expected {count}",
                        map.len()
                    ),
                ));
            }
        }
        self.user_ids = Some(user_ids);
        self.item_ids = Some(item_ids);
        Ok(self)
    }

    fn check_len(&self, len: usize, what: &str) -> Result<()> {
        if len == self.len() {
            Ok(())
        } else {
            Err(Error::invalid(
                "interactions",
                format!("{len} {what} for {} interactions", self.len()),
            ))
        }
    }

    /// Number of users (rows of the interaction matrix).
    pub fn num_users(&self) -> usize {
        self.num_users
    }

    /// Number of items (columns of the interaction matrix).
    pub fn num_items(&self) -> usize {
        self.num_items
    }

    /// Number of interactions.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether there are no interactions.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The user of each interaction.
    pub fn users(&self) -> &[u32] {
        &self.users
    }

    /// The item of each interaction.
    pub fn items(&self) -> &[u32] {
        &self.items
    }

    /// The rating of each interaction, if the source had them.
    pub fn ratings(&self) -> Option<&[f32]> {
        self.ratings.as_deref()
    }

    /// The timestamp of each interaction, if the source had them.
    pub fn timestamps(&self) -> Option<&[i64]> {
        self.timestamps.as_deref()
    }

    /// The user names behind the indices, for string ids.
    pub fn user_ids(&self) -> Option<&IdMap> {
        self.user_ids.as_ref()
    }

    /// The item names behind the indices, for string ids.
    pub fn item_ids(&self) -> Option<&IdMap> {
        self.item_ids.as_ref()
    }

    /// The items of every user (compressed sparse rows, items of a user in interaction order).
    pub fn by_user(&self) -> UserItems {
        // A directed graph whose rows are users and whose targets are items: with
        // max(users, items) nodes both id ranges fit, and rows past the users stay empty.
        let nodes = self.num_users.max(self.num_items);
        let mut counts = vec![0usize; nodes + 1];
        for &u in &self.users {
            counts[u as usize + 1] += 1;
        }
        let mut fill = GraphFill::from_counts(counts, false, true)
            .expect("user and item ids are u32, so their count is a valid node count");
        let mut entries = vec![0usize; self.len()];
        for (e, (&u, &i)) in self.users.iter().zip(&self.items).enumerate() {
            let slot = fill
                .place_entry(u, i, 1.0)
                .expect("ids were checked against the counts when the interactions were built");
            entries[slot] = e;
        }
        UserItems {
            num_users: self.num_users,
            graph: fill.finish().expect("rows filled exactly to their counts"),
            entries,
        }
    }

    /// Number of interactions of each user.
    pub fn user_degrees(&self) -> Vec<usize> {
        degrees(&self.users, self.num_users)
    }

    /// Number of interactions of each item.
    pub fn item_degrees(&self) -> Vec<usize> {
        degrees(&self.items, self.num_items)
    }

    /// Degree statistics of users and items, and the density of the interaction matrix.
    pub fn stats(&self) -> InteractionStats {
        let cells = self.num_users as f64 * self.num_items as f64;
        InteractionStats {
            users: DegreeStats::of(&self.user_degrees()),
            items: DegreeStats::of(&self.item_degrees()),
            density: if cells > 0.0 {
                self.len() as f64 / cells
            } else {
                0.0
            },
        }
    }

    /// Removes repeated (user, item) pairs, keeping the first occurrence (with its rating and
    /// timestamp); returns how many were removed.
    pub fn dedup(&mut self) -> usize {
        let mut seen = HashSet::with_capacity(self.len());
        let keep: Vec<bool> = self
            .users
            .iter()
            .zip(&self.items)
            .map(|(&u, &i)| seen.insert((u64::from(u) << 32) | u64::from(i)))
            .collect();
        let removed = keep.iter().filter(|&&k| !k).count();
        if removed > 0 {
            *self = self.select(|e| keep[e]);
        }
        removed
    }

    /// Splits every user's interactions into a training and a test part, deterministically by
    /// `seed` (each user draws from its own generator, so a user's split does not depend on
    /// the others). Users with fewer than two interactions stay in training, and every user
    /// keeps at least one training interaction. Both parts keep the id space and maps; entries
    /// stay in their original order.
    pub fn split(&self, split: Split, seed: u64) -> Result<(Interactions, Interactions)> {
        if let Split::Ratio(fraction) = split
            && !(0.0..1.0).contains(&fraction)
        {
            return Err(Error::invalid(
                "split",
                format!("the test fraction must be in [0, 1), got {fraction}"),
            ));
        }
        let by_user = self.by_user();
        let mut test = vec![false; self.len()];
        for user in 0..self.num_users {
            let entries = by_user.entries(user);
            let degree = entries.len();
            if degree < 2 {
                continue;
            }
            let mut rng = item_rng(seed, user);
            match split {
                Split::LeaveOneOut => {
                    let held_out = match &self.timestamps {
                        // Latest interaction; the later entry among equal timestamps.
                        Some(times) => entries.iter().copied().max_by_key(|&e| (times[e], e)),
                        None => entries.get(rng.random_range(0..degree)).copied(),
                    };
                    if let Some(e) = held_out {
                        test[e] = true;
                    }
                }
                Split::Ratio(fraction) => {
                    let n =
                        ((f64::from(fraction) * degree as f64).round() as usize).min(degree - 1);
                    let mut order = entries.to_vec();
                    let (chosen, _) = order.partial_shuffle(&mut rng, n);
                    for &e in chosen.iter() {
                        test[e] = true;
                    }
                }
            }
        }
        Ok((self.select(|e| !test[e]), self.select(|e| test[e])))
    }

    /// The entries `e` with `keep(e)`, in order, with the same id space.
    fn select(&self, keep: impl Fn(usize) -> bool) -> Interactions {
        let entries: Vec<usize> = (0..self.len()).filter(|&e| keep(e)).collect();
        let pick = |values: &[u32]| entries.iter().map(|&e| values[e]).collect();
        Interactions {
            num_users: self.num_users,
            num_items: self.num_items,
            users: pick(&self.users),
            items: pick(&self.items),
            ratings: self
                .ratings
                .as_ref()
                .map(|r| entries.iter().map(|&e| r[e]).collect()),
            timestamps: self
                .timestamps
                .as_ref()
                .map(|t| entries.iter().map(|&e| t[e]).collect()),
            user_ids: self.user_ids.clone(),
            item_ids: self.item_ids.clone(),
        }
    }
}

fn degrees(ids: &[u32], count: usize) -> Vec<usize> {
    let mut degree = vec![0; count];
    for &id in ids {
        degree[id as usize] += 1;
    }
    degree
}

/// The items of each user as compressed sparse rows ([`Interactions::by_user`]): a directed
/// [`Graph`] from users to items (rows `0..num_users`), with the position of each entry's
/// interaction.
#[derive(Debug, Clone, PartialEq)]
pub struct UserItems {
    num_users: usize,
    graph: Graph,
    entries: Vec<usize>,
}

impl UserItems {
    /// Number of users.
    pub fn num_users(&self) -> usize {
        self.num_users
    }

    /// The items of `user` in interaction order; empty for a user out of range.
    pub fn items(&self, user: usize) -> &[u32] {
        if user < self.num_users {
            self.graph.neighbors(user)
        } else {
            &[]
        }
    }

    /// The positions in the [`Interactions`] arrays of `user`'s interactions (to look up
    /// ratings or timestamps); empty for a user out of range.
    pub fn entries(&self, user: usize) -> &[usize] {
        match self.offsets().get(user..=user + 1) {
            Some(&[start, end]) => &self.entries[start..end],
            _ => &[],
        }
    }

    /// Row offsets: the items of user `u` are `all_items()[offsets[u]..offsets[u + 1]]`.
    pub fn offsets(&self) -> &[usize] {
        &self.graph.offsets()[..=self.num_users]
    }

    /// The items of all users, user after user.
    pub fn all_items(&self) -> &[u32] {
        self.graph.targets()
    }

    /// The user → item adjacency: row `u < num_users` holds user `u`'s items (node ids are
    /// item ids; the graph has `max(users, items)` nodes).
    pub fn graph(&self) -> &Graph {
        &self.graph
    }
}

/// Summary of a degree distribution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DegreeStats {
    /// Smallest degree (0 when there are no nodes).
    pub min: usize,
    /// Largest degree.
    pub max: usize,
    /// Mean degree.
    pub mean: f64,
    /// Median degree (mean of the two middle ones for an even count).
    pub median: f64,
    /// Nodes of degree 0.
    pub isolated: usize,
}

impl DegreeStats {
    /// The statistics of `degrees`.
    pub fn of(degrees: &[usize]) -> Self {
        let mut sorted = degrees.to_vec();
        sorted.sort_unstable();
        let n = sorted.len();
        let median = match n {
            0 => 0.0,
            _ if n % 2 == 1 => sorted[n / 2] as f64,
            _ => (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0,
        };
        DegreeStats {
            min: sorted.first().copied().unwrap_or(0),
            max: sorted.last().copied().unwrap_or(0),
            mean: if n == 0 {
                0.0
            } else {
                sorted.iter().sum::<usize>() as f64 / n as f64
            },
            median,
            isolated: sorted.iter().take_while(|&&d| d == 0).count(),
        }
    }
}

/// Degree statistics of an [`Interactions`] set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct InteractionStats {
    /// Interactions per user.
    pub users: DegreeStats,
    /// Interactions per item.
    pub items: DegreeStats,
    /// Interactions / (users × items).
    pub density: f64,
}

/// How [`Interactions::split`] holds out test interactions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Split {
    /// One interaction per user: the latest when there are timestamps (NCF-style
    /// evaluation), a random one otherwise.
    LeaveOneOut,
    /// This fraction (in `[0, 1)`) of each user's interactions, rounded, at random (the
    /// 80/20 per-user split of the LightGCN data is `Ratio(0.2)`).
    Ratio(f32),
}

/// A test split read against training data.
#[derive(Debug, Clone, PartialEq)]
pub struct TestSplit {
    /// The test interactions, in the training data's id space (same counts and maps).
    pub interactions: Interactions,
    /// Interactions dropped for an unknown user or item ([`UnknownIds::Skip`]).
    pub skipped: usize,
}

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

/// Configuration of the latent-factor interaction generator ([`LatentFactorConfig::generate`]).
///
/// User `u` and item `i` have factors `p_u`, `q_i` (Gaussian, scaled so that `p_u · q_i` has
/// unit variance) and item `i` a popularity `(r_i + 1)^-skew` for a random rank `r_i`. Each
/// user draws a log-normal number of distinct items (mean `interactions_per_user`, at least 1,
/// at most `items`) without replacement, with probability ∝ `exp(p_u · q_i / temperature) ×
/// popularity_i`. The same configuration gives the same data. Sampling scores every item for
/// every user, so it costs `users × items × dim`: sized for synthetic experiments (2000 × 5000
/// takes about a second).
#[derive(Config, Debug)]
pub struct LatentFactorConfig {
    /// Number of users.
    pub users: usize,
    /// Number of items.
    pub items: usize,
    /// Dimension of the latent factors.
    #[config(default = 8)]
    pub dim: usize,
    /// Mean number of interactions per user (at least 1).
    #[config(default = 10.0)]
    pub interactions_per_user: f32,
    /// Zipf exponent of item popularity: 0 makes all items equally popular, 1 is a typical
    /// long tail.
    #[config(default = 1.0)]
    pub popularity_skew: f32,
    /// Softmax temperature of the affinity: lower makes users pickier (more learnable).
    #[config(default = 0.5)]
    pub temperature: f32,
    /// Seed.
    #[config(default = 0)]
    pub seed: u64,
}

/// Interactions sampled from latent factors, with the factors that produced them.
#[derive(Debug, Clone, PartialEq)]
pub struct LatentFactors {
    /// The sampled interactions (no ratings, no id maps), items of a user in ascending order.
    pub interactions: Interactions,
    /// `[users][dim]` row-major.
    pub user_factors: Vec<f32>,
    /// `[items][dim]` row-major.
    pub item_factors: Vec<f32>,
    /// Log popularity of each item.
    pub log_popularity: Vec<f32>,
    /// Factor dimension.
    pub dim: usize,
    /// Affinity temperature.
    pub temperature: f32,
}

impl LatentFactors {
    /// The log sampling weight of `item` for `user`, `p_u · q_i / temperature + log
    /// popularity_i`: the true score a recommender should learn to rank by. `None` out of
    /// range.
    pub fn score(&self, user: usize, item: usize) -> Option<f32> {
        (user < self.interactions.num_users && item < self.interactions.num_items)
            .then(|| self.logit(user, item))
    }

    fn logit(&self, user: usize, item: usize) -> f32 {
        let p = &self.user_factors[user * self.dim..(user + 1) * self.dim];
        let q = &self.item_factors[item * self.dim..(item + 1) * self.dim];
        p.iter().zip(q).map(|(a, b)| a * b).sum::<f32>() / self.temperature
            + self.log_popularity[item]
    }
}

impl LatentFactorConfig {
    /// Samples the interactions; fails on an empty or out-of-range setting.
    pub fn generate(&self) -> Result<LatentFactors> {
        let invalid = |what: &str, reason: String| {
            Error::invalid(format!("latent factor config {what}"), reason)
        };
        for (count, what) in [(self.users, "users"), (self.items, "items")] {
            if count == 0 || count > MAX_COUNT {
                return Err(invalid(
                    what,
                    format!("must be in 1..={MAX_COUNT}, got {count}"),
                ));
            }
        }
        if self.dim == 0 {
            return Err(invalid("dim", "must be at least 1".into()));
        }
        let mean = self.interactions_per_user;
        if !(mean >= 1.0 && mean.is_finite()) {
            return Err(invalid(
                "interactions_per_user",
                format!("must be at least 1, got {mean}"),
            ));
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return Err(invalid(
                "temperature",
                format!("must be positive, got {}", self.temperature),
            ));
        }
        if !(self.popularity_skew >= 0.0 && self.popularity_skew.is_finite()) {
            return Err(invalid(
                "popularity_skew",
                format!("must be at least 0, got {}", self.popularity_skew),
            ));
        }
        let factor_len = |count: usize| {
            count
                .checked_mul(self.dim)
                .ok_or_else(|| invalid("dim", format!("{count} × {} factors overflow", self.dim)))
        };
        let (user_len, item_len) = (factor_len(self.users)?, factor_len(self.items)?);

        let mut rng = StdRng::seed_from_u64(self.seed);
        let scale = (self.dim as f32).powf(-0.25);
        let user_factors = (0..user_len).map(|_| scale * gaussian(&mut rng)).collect();
        let item_factors = (0..item_len).map(|_| scale * gaussian(&mut rng)).collect();
        let mut ranks: Vec<usize> = (0..self.items).collect();
        ranks.shuffle(&mut rng);
        let log_popularity = ranks
            .iter()
            .map(|&r| -self.popularity_skew * ((r + 1) as f32).ln())
            .collect();
        let mut data = LatentFactors {
            interactions: Interactions::new(self.users, self.items, Vec::new(), Vec::new())?,
            user_factors,
            item_factors,
            log_popularity,
            dim: self.dim,
            temperature: self.temperature,
        };

        let (mut users, mut items) = (Vec::new(), Vec::new());
        let mut keys: Vec<(f32, u32)> = Vec::with_capacity(self.items);
        for user in 0..self.users {
            let mut rng = item_rng(self.seed, user);
            // Log-normal with σ = 0.5 and mean `mean` (the -σ²/2 term).
            let degree = ((mean * (0.5 * gaussian(&mut rng) - 0.125).exp()).round() as usize)
                .clamp(1, self.items);
            // Sampling without replacement ∝ w_i: the `degree` smallest E_i / w_i for
            // exponential E_i (Efraimidis–Spirakis), in log space so no weight overflows.
            keys.clear();
            keys.extend((0..self.items).map(|item| {
                let exponential = -(1.0 - rng.random::<f32>()).ln();
                (exponential.ln() - data.logit(user, item), item as u32)
            }));
            keys.select_nth_unstable_by(degree - 1, |a, b| a.0.total_cmp(&b.0));
            let mut chosen: Vec<u32> = keys[..degree].iter().map(|&(_, item)| item).collect();
            chosen.sort_unstable();
            users.extend(std::iter::repeat_n(user as u32, degree));
            items.extend(chosen);
        }
        data.interactions = Interactions::new(self.users, self.items, users, items)?;
        Ok(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/interactions");

    fn path(name: &str) -> String {
        format!("{DATA}/{name}")
    }

    fn adjacency(text: &str) -> Result<Interactions> {
        parse_adjacency(text.as_bytes(), "t.txt")
    }

    fn csv(text: &str, options: &CsvOptions) -> Result<Interactions> {
        parse_csv(text.as_bytes(), "t.csv", options)
    }

    fn err<T: std::fmt::Debug>(result: Result<T>) -> String {
        result.unwrap_err().to_string()
    }

    fn lists(data: &Interactions) -> Vec<Vec<u32>> {
        let by_user = data.by_user();
        (0..data.num_users())
            .map(|u| by_user.items(u).to_vec())
            .collect()
    }

    #[test]
    fn gowalla_style_fixture() {
        let train = read_adjacency(path("train.txt")).unwrap();
        assert_eq!((train.num_users(), train.num_items()), (5, 6));
        assert_eq!(train.users(), [0, 0, 0, 1, 1, 2, 4, 4, 4]);
        assert_eq!(train.items(), [0, 1, 2, 2, 3, 1, 0, 3, 5]);
        assert_eq!(
            lists(&train)[3],
            Vec::<u32>::new(),
            "user 3 has a line with no items"
        );
        assert!(train.ratings().is_none() && train.user_ids().is_none());
        assert_eq!(train.user_degrees(), [3, 2, 1, 0, 3]);
        assert_eq!(train.item_degrees(), [2, 2, 2, 2, 0, 1]);
        let stats = train.stats();
        assert_eq!(
            (stats.users.min, stats.users.max, stats.users.isolated),
            (0, 3, 1)
        );
        assert_eq!(stats.users.median, 2.0);
        assert!((stats.users.mean - 1.8).abs() < 1e-12);
        assert!((stats.density - 9.0 / 30.0).abs() < 1e-12);

        let test = read_adjacency_test(path("test.txt"), &train, UnknownIds::Error).unwrap();
        assert_eq!(test.skipped, 0);
        let test = test.interactions;
        assert_eq!((test.num_users(), test.num_items()), (5, 6));
        assert_eq!(
            lists(&test),
            [vec![3], vec![0, 4], vec![2], vec![], vec![1]]
        );
    }

    #[test]
    fn adjacency_errors_name_line_and_column() {
        let e = err(adjacency("0 1 2\n1 3 x4\n"));
        assert!(e.contains("t.txt: line 2, column 5: expected an item id (an integer from 0 to 4294967294), found `x4`"), "{e}");
        let e = err(adjacency("0 1\n-1 2\n"));
        assert!(
            e.contains("line 2, column 1: expected a user id") && e.contains("found `-1`"),
            "{e}"
        );
        let e = err(adjacency("0 1.5\n"));
        assert!(e.contains("line 1, column 3") && e.contains("`1.5`"), "{e}");
        let e = err(adjacency("0 4294967295\n"));
        assert!(
            e.contains("line 1, column 3") && e.contains("`4294967295`"),
            "{e}"
        );
        let e = err(adjacency("0 99999999999999999999\n"));
        assert!(e.contains("column 3"), "{e}");
        let e = err(adjacency("3 1\n\n1 2\n  3\t4\n"));
        assert!(e.contains("line 4, column 3: expected each user on one line, found user 3 again (first on line 1)"), "{e}");
        let e = err(parse_adjacency(&b"0 1\n\xff 2\n"[..], "t.txt"));
        assert!(e.contains("line 2") && e.contains("UTF-8"), "{e}");
    }

    #[test]
    fn adjacency_edge_cases() {
        let data = adjacency("").unwrap();
        assert_eq!((data.num_users(), data.num_items(), data.len()), (0, 0, 0));
        let data = adjacency("\n2\r\n\n").unwrap();
        assert_eq!((data.num_users(), data.num_items(), data.len()), (3, 0, 0));
        let data = adjacency("1\t 007  4294967294").unwrap();
        assert_eq!(data.items(), [7, MAX_ID]);
        assert_eq!(data.num_items(), MAX_COUNT);
    }

    #[test]
    fn adjacency_test_split_checks_ids_against_training() {
        let train = adjacency("0 1 2\n1 0\n").unwrap();
        let test = |text: &str, unknown| {
            parse_adjacency_test(text.as_bytes(), "test.txt", &train, unknown)
        };
        let e = err(test("0 2\n2 1\n", UnknownIds::Error));
        assert!(e.contains("test.txt: line 2, column 1: expected a user id of the training data (2 users), found `2`"), "{e}");
        let e = err(test("0 3\n", UnknownIds::Error));
        assert!(
            e.contains(
                "line 1, column 3: expected an item id of the training data (3 items), found `3`"
            ),
            "{e}"
        );
        let split = test("0 3 1\n5 1 2\n1 0\n", UnknownIds::Skip).unwrap();
        assert_eq!(split.skipped, 3);
        assert_eq!(split.interactions.users(), [0, 1]);
        assert_eq!(split.interactions.items(), [1, 0]);
        let e = err(test("5 1 x\n", UnknownIds::Skip));
        assert!(
            e.contains("line 1, column 5"),
            "a malformed skipped line is still an error: {e}"
        );
        // Training data with string ids: adjacency ids are its indices, the maps are shared.
        let named = csv("a,x\nb,y\n", &CsvOptions::new()).unwrap();
        let split =
            parse_adjacency_test(&b"1 0\n"[..], "t.txt", &named, UnknownIds::Error).unwrap();
        assert_eq!(
            (split.interactions.users(), split.interactions.items()),
            (&[1][..], &[0][..])
        );
        assert_eq!(split.interactions.user_ids(), named.user_ids());
    }

    #[test]
    fn ratings_csv_with_header_and_string_ids() {
        let train = read_csv(path("ratings.csv"), &CsvOptions::new()).unwrap();
        let users = train.user_ids().unwrap();
        let items = train.item_ids().unwrap();
        assert_eq!(users.names(), ["alice", "bob", "carol"]);
        assert_eq!(items.names(), ["matrix", "inception", "amelie"]);
        assert_eq!(train.users(), [0, 1, 0, 2, 1, 2]);
        assert_eq!(train.items(), [0, 0, 1, 2, 2, 0]);
        assert_eq!(train.ratings().unwrap(), [5.0, 3.0, 4.5, 2.0, 4.0, 1.0]);
        assert_eq!(
            train.timestamps().unwrap(),
            [1000, 1001, 1002, 1003, 1004, 1005]
        );
        assert_eq!(users.get("carol"), Some(2));
        assert_eq!(items.name(1), Some("inception"));

        let options = CsvOptions::new();
        let e = err(read_csv_test(path("ratings_test.csv"), &options, &train));
        assert!(e.contains("ratings_test.csv: line 3, column 1: expected a user id of the training data (3 users), found `dave`"), "{e}");
        let split = read_csv_test(
            path("ratings_test.csv"),
            &options.with_unknown(UnknownIds::Skip),
            &train,
        )
        .unwrap();
        assert_eq!(split.skipped, 2);
        let test = split.interactions;
        assert_eq!((test.users(), test.items()), (&[0, 2][..], &[2, 1][..]));
        assert_eq!(test.ratings().unwrap(), [3.0, 5.0]);
        assert_eq!(test.user_ids(), train.user_ids());
    }

    #[test]
    fn movielens_double_colon_numeric_ids() {
        let options = CsvOptions::new().with_ids(IdKind::Numeric);
        let data = read_csv(path("ratings.dat"), &options).unwrap();
        assert_eq!((data.num_users(), data.num_items()), (3, 1194));
        assert_eq!(data.users(), [1, 1, 2]);
        assert_eq!(data.items(), [1193, 661, 1193]);
        assert_eq!(data.timestamps().unwrap()[2], 978298413);
        // The same file with string ids: dense indices in first-seen order.
        let data = read_csv(path("ratings.dat"), &CsvOptions::new()).unwrap();
        assert_eq!((data.num_users(), data.num_items()), (2, 2));
        assert_eq!(data.item_ids().unwrap().names(), ["1193", "661"]);
    }

    #[test]
    fn csv_headers_and_delimiters() {
        let numeric = CsvOptions::new().with_ids(IdKind::Numeric);
        // Auto: a numeric-id header is recognised, a data first line is not.
        let data = csv("user\titem\n0\t1\n2\t0\n", &numeric).unwrap();
        assert_eq!((data.users(), data.items()), (&[0, 2][..], &[1, 0][..]));
        let data = csv("0 1\n2  0\n", &numeric).unwrap();
        assert_eq!(data.len(), 2);
        // Two string columns: Auto reads the first line as data, Present skips it.
        assert_eq!(csv("u,i\na,b\n", &CsvOptions::new()).unwrap().len(), 2);
        assert_eq!(
            csv(
                "u,i\na,b\n",
                &CsvOptions::new().with_header(Header::Present)
            )
            .unwrap()
            .len(),
            1
        );
        let e = err(csv(
            "0,1\n",
            &numeric
                .clone()
                .with_header(Header::Present)
                .with_delimiter(Delimiter::Tab),
        ));
        assert!(e.contains("line 1: expected 2 to 4 fields"), "{e}");
        assert!(csv("", &numeric).unwrap().is_empty());
    }

    #[test]
    fn csv_errors_name_line_and_column() {
        let options = CsvOptions::new();
        let e = err(csv("a,b,5\nc,d\n", &options));
        assert!(e.contains("t.csv: line 2: expected 3 fields (user, item[, rating[, timestamp]]) as on line 1, found 2"), "{e}");
        let e = err(csv("a,b,1,2,3\n", &options));
        assert!(
            e.contains("line 1: expected 2 to 4 fields") && e.contains("found 5"),
            "{e}"
        );
        let e = err(csv("u,i,r\na,b,5\nc,d,good\n", &options));
        assert!(
            e.contains("line 3, column 5: expected a rating, found `good`"),
            "{e}"
        );
        let e = err(csv("a,b,inf\n", &options));
        assert!(
            e.contains("line 1, column 5: expected a finite rating, found `inf`"),
            "{e}"
        );
        let e = err(csv("a,b,5,12\na,c,4,1.5\n", &options));
        assert!(
            e.contains("line 2, column 7: expected an integer timestamp, found `1.5`"),
            "{e}"
        );
        let e = err(csv("a,b\n,c\n", &options));
        assert!(
            e.contains("line 2, column 1: expected a user id, found an empty field"),
            "{e}"
        );
        let e = err(csv(
            "0,1\n3,-2\n",
            &options.clone().with_ids(IdKind::Numeric),
        ));
        assert!(e.contains("line 2, column 3: expected an item id (an integer from 0 to 4294967294), found `-2`"), "{e}");
    }

    #[test]
    fn dedup_keeps_first_occurrence() {
        let mut data = csv("a,x,1\nb,x,2\na,x,3\na,y,4\nb,x,5\n", &CsvOptions::new()).unwrap();
        assert_eq!(data.dedup(), 2);
        assert_eq!(data.users(), [0, 1, 0]);
        assert_eq!(data.items(), [0, 0, 1]);
        assert_eq!(data.ratings().unwrap(), [1.0, 2.0, 4.0]);
        assert_eq!(data.dedup(), 0);
    }

    #[test]
    fn splits_are_per_user_and_deterministic() {
        let data = LatentFactorConfig::new(50, 80)
            .with_seed(3)
            .generate()
            .unwrap()
            .interactions;
        let (train, test) = data.split(Split::Ratio(0.2), 9).unwrap();
        assert_eq!(train.len() + test.len(), data.len());
        assert_eq!(
            data.split(Split::Ratio(0.2), 9).unwrap(),
            (train.clone(), test.clone())
        );
        assert_ne!(data.split(Split::Ratio(0.2), 10).unwrap().1, test);
        let (degrees, train_degrees, test_degrees) = (
            data.user_degrees(),
            train.user_degrees(),
            test.user_degrees(),
        );
        for u in 0..data.num_users() {
            let d = degrees[u];
            let expected = if d < 2 {
                0
            } else {
                ((0.2 * d as f64).round() as usize).min(d - 1)
            };
            assert_eq!(test_degrees[u], expected, "user {u} of degree {d}");
            assert_eq!(train_degrees[u] + test_degrees[u], d);
        }

        let (train, test) = data.split(Split::LeaveOneOut, 1).unwrap();
        assert!(
            test.user_degrees()
                .iter()
                .zip(&degrees)
                .all(|(&t, &d)| t == usize::from(d >= 2))
        );
        assert_eq!(train.len() + test.len(), data.len());
        assert!(data.split(Split::Ratio(1.0), 0).is_err());
        assert!(data.split(Split::Ratio(f32::NAN), 0).is_err());
    }

    #[test]
    fn leave_one_out_takes_the_latest() {
        let data = csv(
            "a,x,1,30\na,y,1,50\na,z,1,40\nb,x,1,7\nb,z,1,7\nc,y,1,1\n",
            &CsvOptions::new(),
        )
        .unwrap();
        let (train, test) = data.split(Split::LeaveOneOut, 0).unwrap();
        assert_eq!((test.users(), test.items()), (&[0, 1][..], &[1, 2][..]));
        assert_eq!(test.timestamps().unwrap(), [50, 7]);
        assert_eq!(train.items(), [0, 2, 0, 1]);
    }

    #[test]
    fn constructor_checks_invariants() {
        assert!(Interactions::new(2, 2, vec![0, 1], vec![1, 1]).is_ok());
        let e = err(Interactions::new(2, 2, vec![0, 2], vec![1, 1]));
        assert!(
            e.contains("user 2 of interaction 1 is not below the user count 2"),
            "{e}"
        );
        assert!(Interactions::new(2, 2, vec![0], vec![1, 1]).is_err());
        let data = Interactions::new(2, 2, vec![0], vec![1]).unwrap();
        assert!(data.clone().with_ratings(vec![1.0, 2.0]).is_err());
        assert!(
            data.clone()
                .with_id_maps(IdMap::new(), IdMap::new())
                .is_err()
        );
        let names = |n: &[&str]| IdMap::from_names(n.iter().map(|s| s.to_string()).collect());
        assert!(
            data.with_id_maps(names(&["a", "b"]).unwrap(), names(&["x", "y"]).unwrap())
                .is_ok()
        );
        assert!(err(names(&["a", "b", "a"])).contains("`a` at positions 0 and 2"));
    }

    #[test]
    fn id_map_indices_and_name_list() {
        let mut map = IdMap::new();
        assert_eq!(map.insert("b").unwrap(), 0);
        assert_eq!(map.insert("a").unwrap(), 1);
        assert_eq!(map.insert("b").unwrap(), 0);
        assert_eq!(
            (map.get("a"), map.get("c"), map.name(0), map.name(2)),
            (Some(1), None, Some("b"), None)
        );
        // Serde goes through the name list.
        let names: Vec<String> = map.clone().into();
        assert_eq!(names, ["b", "a"]);
        assert_eq!(IdMap::try_from(names).unwrap(), map);
    }

    #[test]
    fn latent_factors_are_deterministic_and_learnable() {
        let config = LatentFactorConfig::new(300, 400).with_seed(5);
        let data = config.generate().unwrap();
        assert_eq!(data, config.generate().unwrap());
        assert_ne!(
            data.interactions,
            config.clone().with_seed(6).generate().unwrap().interactions
        );
        let interactions = &data.interactions;
        let stats = interactions.stats();
        assert!(
            (stats.users.mean - 10.0).abs() < 1.5,
            "mean degree {}",
            stats.users.mean
        );
        assert!(stats.users.min >= 1);
        let mut check = interactions.clone();
        assert_eq!(check.dedup(), 0, "items of a user are distinct");

        // Held-out items score above random items the user never interacted with.
        let (_, test) = interactions.split(Split::Ratio(0.2), 1).unwrap();
        let by_user = interactions.by_user();
        let mut rng = StdRng::seed_from_u64(0);
        let (mut wins, mut pairs) = (0.0, 0.0);
        for (&u, &i) in test.users().iter().zip(test.items()) {
            let positive = data.score(u as usize, i as usize).unwrap();
            for _ in 0..20 {
                let j = rng.random_range(0..400u32);
                if by_user.items(u as usize).contains(&j) {
                    continue;
                }
                let negative = data.score(u as usize, j as usize).unwrap();
                wins += if positive > negative { 1.0 } else { 0.0 };
                pairs += 1.0;
            }
        }
        let auc = wins / pairs;
        assert!(auc > 0.8, "AUC of the true scores {auc}");
        assert!(data.score(300, 0).is_none());
    }

    #[test]
    fn latent_factor_config_is_checked() {
        assert!(LatentFactorConfig::new(0, 5).generate().is_err());
        assert!(
            LatentFactorConfig::new(5, 5)
                .with_temperature(0.0)
                .generate()
                .is_err()
        );
        assert!(
            LatentFactorConfig::new(5, 5)
                .with_interactions_per_user(0.5)
                .generate()
                .is_err()
        );
        let tiny = LatentFactorConfig::new(3, 2)
            .with_interactions_per_user(50.0)
            .generate()
            .unwrap();
        assert_eq!(
            tiny.interactions.len(),
            6,
            "a degree is capped at the item count"
        );
    }

    #[test]
    fn write_then_read_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("train.txt");
        let data = read_adjacency(path("train.txt")).unwrap();
        write_adjacency(&file, &data).unwrap();
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            "0 0 1 2\n1 2 3\n2 1\n3\n4 0 3 5\n"
        );
        assert_eq!(read_adjacency(&file).unwrap(), data);
    }

    proptest! {
        #[test]
        fn adjacency_round_trip(lists in prop::collection::vec(prop::collection::vec(0u32..50, 0..8), 1..20)) {
            let users = lists.iter().enumerate().flat_map(|(u, l)| std::iter::repeat_n(u as u32, l.len())).collect();
            let items: Vec<u32> = lists.iter().flatten().copied().collect();
            let num_items = items.iter().max().map_or(0, |&m| m as usize + 1);
            let data = Interactions::new(lists.len(), num_items, users, items).unwrap();
            let mut bytes = Vec::new();
            write_adjacency_to(&mut bytes, "mem", &data).unwrap();
            let back = parse_adjacency(&bytes[..], "mem").unwrap();
            prop_assert_eq!(back, data);
        }
    }
}
