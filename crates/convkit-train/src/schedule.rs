//! Learning-rate schedules, evaluated per optimizer step.

use serde::{Deserialize, Serialize};

/// How the learning rate evolves over the `total` optimizer steps of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
pub enum LrSchedule {
    /// The base rate throughout.
    #[default]
    Constant,
    /// Linear warm-up from 0 over `warmup_steps`, then cosine decay to `min_factor × base`
    /// (`timm`'s cosine scheduler shape).
    Cosine {
        /// Steps of linear warm-up.
        warmup_steps: usize,
        /// Final rate as a fraction of the base rate.
        min_factor: f64,
    },
    /// Multiply by `gamma` every `step_size` steps (`torch.optim.lr_scheduler.StepLR`).
    Step {
        /// Steps between decays.
        step_size: usize,
        /// Decay factor.
        gamma: f64,
    },
}

impl LrSchedule {
    /// The rate at step `step` (0-based) of `total`, for base rate `base`.
    pub fn lr(&self, base: f64, step: usize, total: usize) -> f64 {
        match *self {
            LrSchedule::Constant => base,
            LrSchedule::Cosine {
                warmup_steps,
                min_factor,
            } => {
                if step < warmup_steps {
                    return base * (step + 1) as f64 / warmup_steps as f64;
                }
                let span = total.saturating_sub(warmup_steps).max(1);
                let t = ((step - warmup_steps) as f64 / span as f64).min(1.0);
                let min = base * min_factor;
                min + (base - min) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
            LrSchedule::Step { step_size, gamma } => {
                base * gamma.powi((step / step_size.max(1)) as i32)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_hit_their_landmarks() {
        let cos = LrSchedule::Cosine {
            warmup_steps: 10,
            min_factor: 0.1,
        };
        assert!((cos.lr(1.0, 0, 110) - 0.1).abs() < 1e-12);
        assert!((cos.lr(1.0, 9, 110) - 1.0).abs() < 1e-12);
        assert!((cos.lr(1.0, 10, 110) - 1.0).abs() < 1e-12);
        assert!((cos.lr(1.0, 60, 110) - 0.55).abs() < 1e-12);
        assert!((cos.lr(1.0, 110, 110) - 0.1).abs() < 1e-12);
        let step = LrSchedule::Step {
            step_size: 5,
            gamma: 0.5,
        };
        assert_eq!(step.lr(1.0, 4, 100), 1.0);
        assert_eq!(step.lr(1.0, 5, 100), 0.5);
        assert_eq!(step.lr(1.0, 12, 100), 0.25);
        assert_eq!(LrSchedule::Constant.lr(0.3, 7, 10), 0.3);
    }
}
