//! convkit-conv's integration tests, one binary: each test file would otherwise link its own
//! copy of burn, which dominates a clean CI build on two cores.

mod parity;
mod spatial_pyramid_pool;
mod squeeze_excite;
