//! Dropout whose masks come from the calling thread's seeded stream.

use burn::config::Config;
use burn::module::{Flag, Module, Param};
use burn::tensor::{Distribution, Tensor};
use convkit_core::check::Dim;
use convkit_core::tap::Tappable;
use convkit_core::{Error, InputSpec, Result, Tapped, Taps, random};

/// Configuration of [`Dropout`].
#[derive(Config, Debug)]
pub struct DropoutConfig {
    /// Probability of zeroing an element, in `[0, 1)`.
    pub prob: f64,
}

impl DropoutConfig {
    /// Creates the layer.
    ///
    /// # Panics
    /// If the probability is not in `[0, 1)`; [`DropoutConfig::try_init`] returns the error.
    pub fn init(&self) -> Dropout {
        self.try_init()
            .unwrap_or_else(|e| panic!("invalid Dropout configuration: {e}"))
    }

    /// Creates the layer, or says why the probability is unusable.
    pub fn try_init(&self) -> Result<Dropout> {
        if !(self.prob.is_finite() && (0.0..1.0).contains(&self.prob)) {
            return Err(Error::invalid(
                "dropout probability",
                format!("{} is not in [0, 1)", self.prob),
            ));
        }
        Ok(Dropout {
            prob: self.prob,
            training: Param::from_bool(true),
        })
    }
}

/// Dropout ("Dropout: A Simple Way to Prevent Neural Networks from Overfitting", Srivastava et
/// al., JMLR 2014), as `torch.nn.Dropout` and burn's `Dropout`: in training, each element is
/// zeroed with probability `p` and the kept ones are scaled by `1 / (1 - p)`; otherwise the
/// input passes unchanged.
///
/// Training applies when the input is on an autodiff device and the module is in training
/// state (not `valid()`). The mask is drawn from the calling thread's stream
/// ([`convkit_core::random`]) rather than burn's process-wide generator, so a seeded training
/// run gets the same masks whatever else runs in the process.
///
/// Tap site: `out`.
///
/// # Shapes
/// - input and output: any shape.
#[derive(Module, Debug)]
pub struct Dropout {
    /// Probability of zeroing an element.
    pub prob: f64,
    /// Whether training behaviour is enabled (cleared by `valid()`).
    pub training: Param<Flag>,
}

impl<const D: usize> Tapped<Tensor<D>> for Dropout
where
    Tensor<D>: Tappable,
{
    type Output = Tensor<D>;

    /// Applies dropout in training, the identity otherwise; the result is the site `out`.
    fn forward_tapped(&self, x: Tensor<D>, taps: &mut Taps<'_>) -> Tensor<D> {
        let training = self.prob > 0.0 && self.training.is_enabled() && x.device().is_autodiff();
        let out = if training {
            let keep = 1.0 - self.prob;
            let mask = random::tensor(x.dims(), Distribution::Bernoulli(keep), &x.device());
            x * mask / keep
        } else {
            x
        };
        taps.float("out", out)
    }

    /// Any tensor of rank `D`.
    fn input_spec(&self) -> InputSpec {
        InputSpec::new("Dropout input", vec![Dim::Any; D])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn keeps_the_expected_share_scaled_and_only_in_training() {
        let device = Device::flex().autodiff();
        let dropout = DropoutConfig::new(0.25).init();
        let x = Tensor::<2>::ones([200, 100], &device);
        let y: Vec<f32> = random::with_seed(4, || dropout.forward(x.clone()))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let kept = y.iter().filter(|&&v| v != 0.0).count() as f64 / y.len() as f64;
        assert!((kept - 0.75).abs() < 0.02, "kept {kept}");
        assert!(y.iter().all(|&v| v == 0.0 || (v - 4.0 / 3.0).abs() < 1e-6));
        let again = random::with_seed(4, || dropout.forward(x.clone()));
        assert_eq!(again.into_data().try_to_vec::<f32>().unwrap(), y);

        let plain = Tensor::<2>::ones([3, 3], &Device::flex());
        assert_eq!(
            dropout.forward(plain.clone()).into_data(),
            plain.clone().into_data()
        );
        let frozen = dropout.valid();
        assert_eq!(frozen.forward(plain.clone()).into_data(), plain.into_data());
    }

    #[test]
    fn bad_probabilities_are_errors() {
        for p in [1.0, -0.1, f64::NAN] {
            assert!(DropoutConfig::new(p).try_init().is_err(), "{p}");
        }
    }
}
