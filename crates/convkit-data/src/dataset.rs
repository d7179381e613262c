//! The dataset / batcher trait pair.

use burn::tensor::{Device, Int, Tensor, TensorData};

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

/// The common body of the batchers: stacks the values of `items`, which must share one
/// shape `[d1, …, dD]` (`what` names them in the panic message), into a `[N, d1, …, dD]`
/// tensor (`B = D + 1`), with `extend` appending an item's values, and their labels into a
/// `[N]` tensor.
///
/// # Panics
/// If `items` is empty, the shapes differ or `B != D + 1` (programming errors: datasets make
/// items of one shape).
pub(crate) fn stack_labelled<T, const D: usize, const B: usize>(
    items: &[T],
    what: &str,
    shape_of: impl Fn(&T) -> ([usize; D], usize),
    mut extend: impl FnMut(&T, &mut Vec<f32>),
    device: &Device,
) -> (Tensor<B>, Tensor<1, Int>) {
    assert_eq!(B, D + 1, "a batch has one more axis than its items");
    let (shape, _) = shape_of(&items[0]);
    let mut values = Vec::with_capacity(items.len() * shape.iter().product::<usize>());
    let mut labels = Vec::with_capacity(items.len());
    for item in items {
        let (item_shape, label) = shape_of(item);
        assert_eq!(
            item_shape, shape,
            "all {what} of a batch must have one shape"
        );
        extend(item, &mut values);
        labels.push(label as i64);
    }
    let n = items.len();
    let batch_shape: Vec<usize> = std::iter::once(n).chain(shape).collect();
    (
        Tensor::from_data(TensorData::new(values, batch_shape), device),
        Tensor::from_data(TensorData::new(labels, [n]), device),
    )
}
