//! Seeded randomness that belongs to the calling thread, so that a seed fixes a run no matter
//! what else runs in the process.
//!
//! burn's backends keep **one random generator per process** (burn-flex: a global
//! `Mutex<Option<StdRng>>`, set by `device.seed`), and burn-nn's layers draw their initial
//! weights from it *lazily*, when a parameter is first used. Two trainings in one process (the
//! test harness runs tests on several threads; a user may train several models at once)
//! therefore take turns drawing from the same sequence, and which numbers each model gets
//! depends on thread scheduling. That made the same seed give different U-Net runs
//! (issue #19, docs/performance.md "Determinism").
//!
//! convkit draws from **this thread's stream** instead:
//!
//! - [`seed`] (or the scoped [`with_seed`]) seeds it; an unseeded thread starts at seed 0,
//!   so an unseeded program is deterministic too.
//! - layer construction ([`crate::init`]) takes one 64-bit sub-seed per parameter from the
//!   stream, in construction order, and generates the values from that sub-seed alone when
//!   the parameter is first used: values depend on the seed and the model's structure only,
//!   not on which thread materialises them or when;
//! - dropout masks and any other draw during a forward pass ([`tensor`]) come from the stream
//!   of the thread running the pass; `convkit-train`'s `fit` seeds it from its own seed.
//!
//! The values are generated on the host and uploaded, so the same seed gives the same initial
//! weights on every backend.
//!
//! ```
//! use burn::tensor::{Device, Distribution};
//! use convkit_core::random;
//!
//! let device = Device::flex();
//! let a = random::with_seed(7, || random::tensor([2, 3], Distribution::Default, &device));
//! let b = random::with_seed(7, || random::tensor([2, 3], Distribution::Default, &device));
//! assert_eq!(a.into_data(), b.into_data());
//! ```

use std::cell::RefCell;

use burn::tensor::{Device, Distribution, Tensor, TensorData};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

thread_local! {
    static STREAM: RefCell<StdRng> = RefCell::new(StdRng::seed_from_u64(0));
}

/// Seeds the calling thread's stream: every later draw on this thread follows from `seed`.
pub fn seed(seed: u64) {
    STREAM.with(|s| *s.borrow_mut() = StdRng::seed_from_u64(seed));
}

/// Runs `f` with the calling thread's stream seeded with `seed`, then puts the previous stream
/// back, as if `f` had drawn nothing from it.
pub fn with_seed<T>(seed: u64, f: impl FnOnce() -> T) -> T {
    let previous = STREAM.with(|s| s.replace(StdRng::seed_from_u64(seed)));
    // Restored on unwind too, so a panicking closure does not leave its stream behind.
    struct Restore(Option<StdRng>);
    impl Drop for Restore {
        fn drop(&mut self) {
            if let Some(rng) = self.0.take() {
                STREAM.with(|s| *s.borrow_mut() = rng);
            }
        }
    }
    let _restore = Restore(Some(previous));
    f()
}

/// Takes the next 64 bits of the calling thread's stream, to seed a generator of its own
/// (one per parameter, one per item).
pub fn next_seed() -> u64 {
    STREAM.with(|s| s.borrow_mut().next_u64())
}

/// Mixes two numbers into a seed (SplitMix64's finaliser): nearby inputs give unrelated
/// seeds, so `(seed, index)` names an independent stream, e.g. one per dataset item, drawn in
/// any order or in parallel.
pub fn mix(seed: u64, index: u64) -> u64 {
    let mut z = seed ^ index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The generator of stream `index` under `seed` (see [`mix`]).
pub fn stream_rng(seed: u64, index: u64) -> StdRng {
    StdRng::seed_from_u64(mix(seed, index))
}

/// `len` float32 values of `distribution` generated from `seed` alone.
///
/// # Panics
/// As burn's `Tensor::random`: for a uniform range with `low >= high`, a negative standard
/// deviation or a probability outside `[0, 1]`.
pub fn values(seed: u64, shape: Vec<usize>, distribution: Distribution) -> TensorData {
    TensorData::random::<f32, _, _>(shape, distribution, &mut StdRng::seed_from_u64(seed))
}

/// A float tensor of `distribution` drawn from the calling thread's stream, created on
/// `device`: [`Tensor::random`] without burn's process-wide generator.
///
/// # Panics
/// As [`values`].
pub fn tensor<const D: usize>(
    shape: [usize; D],
    distribution: Distribution,
    device: &Device,
) -> Tensor<D> {
    Tensor::from_data(values(next_seed(), shape.to_vec(), distribution), device)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw(seed_value: u64) -> Vec<f32> {
        seed(seed_value);
        tensor([64], Distribution::Normal(0.0, 1.0), &Device::flex())
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    }

    #[test]
    fn a_seed_fixes_the_draws_and_other_threads_do_not_interfere() {
        let reference = draw(5);
        // Another thread seeding and drawing all the while leaves this thread's stream alone.
        let noise = std::thread::spawn(|| {
            for i in 0..200 {
                draw(i);
            }
        });
        for _ in 0..50 {
            assert_eq!(draw(5), reference);
        }
        noise.join().unwrap();
        assert_ne!(draw(6), reference);
    }

    #[test]
    fn with_seed_restores_the_stream() {
        seed(1);
        let first = next_seed();
        seed(1);
        let inner = with_seed(2, next_seed);
        assert_eq!(next_seed(), first);
        assert_eq!(with_seed(2, next_seed), inner);
        assert_ne!(inner, first);
    }

    #[test]
    fn values_follow_the_distribution() {
        let data = values(3, vec![10_000], Distribution::Uniform(-0.5, 0.25));
        let v: Vec<f32> = data.try_to_vec::<f32>().unwrap();
        assert!(v.iter().all(|x| (-0.5..0.25).contains(x)));
        let mean = v.iter().sum::<f32>() / v.len() as f32;
        assert!((mean + 0.125).abs() < 0.01, "mean {mean}");
    }
}
