//! convkit-train's integration tests, one binary: each test file would otherwise link its own
//! copy of burn, which dominates a clean CI build on two cores.

mod determinism;
mod se_cnn;
mod segmentation;
mod train;
