//! convkit-zoo's integration tests, one binary: each test file would otherwise link its own
//! copy of burn, which dominates a clean CI build on two cores.

mod inception;
mod registry;
mod se_cnn;
mod small_cnn;
mod surface;
mod unet;
