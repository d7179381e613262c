//! Optimizer choice.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, AdamWConfig, ModuleOptimizer, SgdConfig};
use serde::{Deserialize, Serialize};

/// The optimizer of a training run; the learning rate comes from [`crate::TrainConfig`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum OptimizerKind {
    /// Adam (β = 0.9, 0.999, ε = 1e-8 as in PyTorch), optional L2 weight decay.
    Adam {
        /// L2 penalty added to the gradient (`torch.optim.Adam(weight_decay=...)`).
        weight_decay: f32,
    },
    /// AdamW (ε = 1e-8) with decoupled weight decay.
    AdamW {
        /// Decoupled weight decay (`torch.optim.AdamW(weight_decay=...)`, default 0.01).
        weight_decay: f32,
    },
    /// Stochastic gradient descent with optional momentum.
    Sgd {
        /// Momentum (0 disables it).
        momentum: f64,
        /// L2 weight decay.
        weight_decay: f32,
    },
}

impl Default for OptimizerKind {
    fn default() -> Self {
        OptimizerKind::Adam { weight_decay: 0.0 }
    }
}

impl OptimizerKind {
    /// Builds burn's optimizer.
    pub fn build(&self) -> ModuleOptimizer {
        let decay = |wd: f32| (wd > 0.0).then(|| WeightDecayConfig::new(wd));
        match *self {
            OptimizerKind::Adam { weight_decay } => AdamConfig::new()
                .with_epsilon(1e-8)
                .with_weight_decay(decay(weight_decay))
                .init(),
            OptimizerKind::AdamW { weight_decay } => AdamWConfig::new()
                .with_epsilon(1e-8)
                .with_weight_decay(weight_decay)
                .init(),
            OptimizerKind::Sgd {
                momentum,
                weight_decay,
            } => SgdConfig::new()
                .with_momentum(
                    (momentum > 0.0).then(|| MomentumConfig::new().with_momentum(momentum)),
                )
                .with_weight_decay(decay(weight_decay))
                .init(),
        }
    }
}
