//! Batch iteration with seeded shuffling.

use burn::tensor::Device;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

use crate::{Batcher, Dataset};

/// Iterates a dataset in batches.
///
/// With a shuffle seed, epoch `e` visits the items in the order of a permutation drawn from
/// `seed + e`: every run with the same seed sees the same batches.
pub struct DataLoader<D, B> {
    dataset: D,
    batcher: B,
    batch_size: usize,
    shuffle_seed: Option<u64>,
    drop_last: bool,
}

impl<D: Dataset, B: Batcher<D::Item>> DataLoader<D, B> {
    /// A loader yielding batches of `batch_size` (at least 1) in dataset order.
    pub fn new(dataset: D, batcher: B, batch_size: usize) -> Self {
        DataLoader {
            dataset,
            batcher,
            batch_size: batch_size.max(1),
            shuffle_seed: None,
            drop_last: false,
        }
    }

    /// Shuffles every epoch with a permutation seeded by `seed + epoch`.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.shuffle_seed = Some(seed);
        self
    }

    /// Drops the last batch when it is smaller than `batch_size`.
    pub fn drop_last(mut self, drop: bool) -> Self {
        self.drop_last = drop;
        self
    }

    /// The dataset.
    pub fn dataset(&self) -> &D {
        &self.dataset
    }

    /// Number of batches per epoch.
    pub fn num_batches(&self) -> usize {
        let n = self.dataset.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// The item order of epoch `epoch`.
    pub fn order(&self, epoch: usize) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.dataset.len()).collect();
        if let Some(seed) = self.shuffle_seed {
            let mut rng = StdRng::seed_from_u64(seed.wrapping_add(epoch as u64));
            order.shuffle(&mut rng);
        }
        order
    }

    /// The batches of epoch `epoch`, built lazily on `device`.
    pub fn iter<'a>(
        &'a self,
        epoch: usize,
        device: &'a Device,
    ) -> impl Iterator<Item = B::Batch> + 'a {
        let order = self.order(epoch);
        let batches = self.num_batches();
        (0..batches).map(move |b| {
            let end = ((b + 1) * self.batch_size).min(order.len());
            let items = order[b * self.batch_size..end]
                .iter()
                .map(|&i| self.dataset.get(i).expect("index within dataset length"))
                .collect();
            self.batcher.batch(items, device)
        })
    }
}
