//! convkit-ops' integration tests, one binary (each test file would otherwise link burn again).

mod conv2d;
mod golden;
mod max_pool2d;
