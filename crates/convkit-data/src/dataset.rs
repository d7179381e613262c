//! The dataset / batcher trait pair.

use burn::tensor::Device;

/// Random access to a collection of items.
pub trait Dataset: Send + Sync {
    /// One sample.
    type Item;

    /// Number of items.
    fn len(&self) -> usize;

    /// Whether the dataset has no items.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The item at `index`, `None` when out of range.
    fn get(&self, index: usize) -> Option<Self::Item>;
}

/// Turns items into a batch of tensors on a device.
pub trait Batcher<I> {
    /// The batch type (e.g. [`crate::ImageBatch`]).
    type Batch;

    /// Stacks `items` into one batch on `device`. `items` is never empty.
    fn batch(&self, items: Vec<I>, device: &Device) -> Self::Batch;
}

/// A view of a dataset restricted to some indices (e.g. a train/test split).
#[derive(Debug, Clone)]
pub struct Subset<D> {
    inner: D,
    indices: Vec<usize>,
}

impl<D: Dataset> Subset<D> {
    /// The items of `inner` at `indices`, in that order. Indices out of range read as missing.
    pub fn new(inner: D, indices: Vec<usize>) -> Self {
        Subset { inner, indices }
    }
}

impl<D: Dataset> Dataset for Subset<D> {
    type Item = D::Item;

    fn len(&self) -> usize {
        self.indices.len()
    }

    fn get(&self, index: usize) -> Option<Self::Item> {
        self.inner.get(*self.indices.get(index)?)
    }
}

impl<T: Dataset + ?Sized> Dataset for &T {
    type Item = T::Item;

    fn len(&self) -> usize {
        (**self).len()
    }

    fn get(&self, index: usize) -> Option<Self::Item> {
        (**self).get(index)
    }
}
