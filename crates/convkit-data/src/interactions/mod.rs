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

mod id_map;
mod latent;
mod read;
#[cfg(test)]
mod tests;

pub use id_map::IdMap;
pub use latent::{LatentFactorConfig, LatentFactors};
pub use read::{
    CsvOptions, Delimiter, Header, IdKind, UnknownIds, parse_adjacency, parse_adjacency_test,
    parse_csv, parse_csv_test, read_adjacency, read_adjacency_test, read_csv, read_csv_test,
    write_adjacency, write_adjacency_to,
};

/// The largest numeric id: indices are `u32` and `num_users = max id + 1` must fit too.
pub const MAX_ID: u32 = u32::MAX - 1;

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
