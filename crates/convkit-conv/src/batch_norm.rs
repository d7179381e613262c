//! Batch normalization with PyTorch's running statistics.

use burn::config::Config;
use burn::module::{Flag, Module, Param, RunningState};
use burn::tensor::{Device, Tensor};
use convkit_core::check::Dim;
use convkit_core::tap::Tappable;
use convkit_core::{InputSpec, Result, Tapped, Taps};

/// Configuration of [`BatchNorm`].
#[derive(Config, Debug)]
pub struct BatchNormConfig {
    /// Channels (the size of dimension 1 of the input).
    pub num_features: usize,
    /// Added to the variance for numerical stability.
    #[config(default = 1e-5)]
    pub epsilon: f64,
    /// Weight of the new batch statistic in the running averages.
    #[config(default = 0.1)]
    pub momentum: f64,
}

impl BatchNormConfig {
    /// Creates the layer: `gamma = 1`, `beta = 0`, running mean 0 and variance 1.
    ///
    /// # Panics
    /// Where [`BatchNormConfig::try_init`] errors.
    pub fn init(&self, device: &Device) -> BatchNorm {
        self.try_init(device)
            .unwrap_or_else(|e| panic!("invalid BatchNorm configuration: {e}"))
    }

    /// Creates the layer, or errors when its four vectors take the model being built past its
    /// memory budget ([`convkit_core::budget::reserve`]; they are allocated now, not lazily).
    pub fn try_init(&self, device: &Device) -> Result<BatchNorm> {
        let n = self.num_features;
        convkit_core::budget::reserve(&[4, n], 4)?;
        Ok(BatchNorm {
            gamma: Param::from_tensor(Tensor::ones([n], device)),
            beta: Param::from_tensor(Tensor::zeros([n], device)),
            training: Param::from_bool(true),
            running_mean: RunningState::new(Tensor::zeros([n], device)),
            running_var: RunningState::new(Tensor::ones([n], device)),
            momentum: self.momentum,
            epsilon: self.epsilon,
        })
    }
}

/// Batch normalization, "Batch Normalization: Accelerating Deep Network Training by Reducing
/// Internal Covariate Shift" (Ioffe & Szegedy, 2015):
///
/// `y = (x - E[x]) / sqrt(Var[x] + ε) · γ + β`, statistics per channel over batch and space.
///
/// Matches `torch.nn.BatchNorm2d` exactly, including its running statistics:
/// `running_var ← (1 - m)·running_var + m·Var_unbiased[x]` with the unbiased (`n / (n - 1)`)
/// batch variance. burn's own `BatchNorm` uses the biased variance there, which drifts from
/// PyTorch during training (measured 5.5e-5 relative after one step on a 4×8×16×16 batch);
/// that is why convkit has its own.
///
/// Training mode (batch statistics, running averages updated) applies when the input is on an
/// autodiff device and the module is in training state (not `valid()`); otherwise the running
/// statistics normalize.
///
/// The parameter names (`gamma`, `beta`, `running_mean`, `running_var`) and the type name match
/// burn's, so burn-store's PyTorch adapter maps `weight`/`bias` to `gamma`/`beta`. Computed by
/// [`convkit_ops::batch_norm_train`] and [`convkit_ops::batch_norm_inference`].
///
/// Tap site: `out`.
///
/// # Shapes
/// - input and output `[N, C, ...]`
#[derive(Module, Debug)]
pub struct BatchNorm {
    /// Scale γ `[C]`.
    pub gamma: Param<Tensor<1>>,
    /// Shift β `[C]`.
    pub beta: Param<Tensor<1>>,
    /// Whether training behavior is enabled (cleared by `valid()`).
    pub training: Param<Flag>,
    /// Running mean `[C]`.
    pub running_mean: RunningState<Tensor<1>>,
    /// Running (unbiased) variance `[C]`.
    pub running_var: RunningState<Tensor<1>>,
    /// Momentum of the running averages.
    pub momentum: f64,
    /// ε.
    pub epsilon: f64,
}

impl BatchNorm {
    /// Whether an input on `device` is normalized with batch statistics (training) rather
    /// than the running ones.
    pub fn uses_batch_statistics(&self, device: &Device) -> bool {
        device.is_autodiff() && self.training.is_enabled()
    }

    /// The per-channel `(scale, shift)` of inference mode, `y = x · scale + shift`:
    /// `scale = γ / sqrt(running_var + ε)`, `shift = β - running_mean · scale`.
    ///
    /// A preceding convolution can absorb them (see [`crate::ConvNormAct`]).
    pub fn inference_scale_shift(&self, device: &Device) -> (Tensor<1>, Tensor<1>) {
        let var = self.running_var.value().to_device(device);
        let mean = self.running_mean.value().to_device(device);
        let scale = self.gamma.val() / (var + self.epsilon).sqrt();
        let shift = self.beta.val() - mean * scale.clone();
        (scale, shift)
    }
}

impl<const D: usize> Tapped<Tensor<D>> for BatchNorm
where
    Tensor<D>: Tappable,
{
    type Output = Tensor<D>;

    /// Normalizes `x`, offering the result to `taps` as `out`.
    fn forward_tapped(&self, x: Tensor<D>, taps: &mut Taps<'_>) -> Tensor<D> {
        let device = x.device();
        let out = if self.uses_batch_statistics(&device) {
            let dims = x.dims();
            let count = (dims[0] * dims[2..].iter().product::<usize>()) as f64;
            let (out, mean, variance) =
                convkit_ops::batch_norm_train(x, self.gamma.val(), self.beta.val(), self.epsilon);
            let unbias = count / (count.max(2.0) - 1.0);
            let m = self.momentum;
            let mean =
                self.running_mean.value_sync().to_device(&device) * (1.0 - m) + mean.detach() * m;
            let var = self.running_var.value_sync().to_device(&device) * (1.0 - m)
                + variance.detach() * (m * unbias);
            self.running_mean.update(mean.detach());
            self.running_var.update(var.detach());
            out
        } else {
            convkit_ops::batch_norm_inference(
                x,
                self.gamma.val(),
                self.beta.val(),
                self.running_mean.value().to_device(&device),
                self.running_var.value().to_device(&device),
                self.epsilon,
            )
        };
        taps.float("out", out)
    }

    /// `[N, C, ...]` of rank `D`.
    fn input_spec(&self) -> InputSpec {
        let mut dims = vec![Dim::Any; D];
        dims[1] = Dim::Exact(self.gamma.lazy_shape()[0]);
        InputSpec::new("BatchNorm input", dims)
    }
}
