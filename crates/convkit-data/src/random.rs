//! Seeded randomness shared by the synthetic generators.

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// The generator of item `index` of a synthetic dataset with seed `seed`: SplitMix-style
/// mixing, so that nearby seeds and indices give unrelated streams, and any item can be
/// drawn on its own (random access, parallel loading).
pub(crate) fn item_rng(seed: u64, index: usize) -> StdRng {
    let mut z = seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    StdRng::seed_from_u64(z ^ (z >> 31))
}

/// A standard normal sample (Box–Muller; `1 - u` keeps the logarithm finite).
pub(crate) fn gaussian(rng: &mut StdRng) -> f32 {
    let u: f32 = 1.0 - rng.random::<f32>();
    let v: f32 = rng.random();
    (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
}
