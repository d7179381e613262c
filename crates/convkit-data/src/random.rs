//! Seeded randomness shared by the synthetic generators.

use rand::RngExt;
use rand::rngs::StdRng;

/// The generator of item `index` of a synthetic dataset with seed `seed`: an independent
/// stream per item ([`convkit_core::random::stream_rng`]), so any item can be drawn on its own
/// (random access, parallel loading).
pub(crate) fn item_rng(seed: u64, index: usize) -> StdRng {
    convkit_core::random::stream_rng(seed, index as u64)
}

/// A standard normal sample (Box–Muller; `1 - u` keeps the logarithm finite).
pub(crate) fn gaussian(rng: &mut StdRng) -> f32 {
    let u: f32 = 1.0 - rng.random::<f32>();
    let v: f32 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
}
