//! Linear (fully connected) layer with tappable weight and output.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use convkit_core::check::Dim;
use convkit_core::tap::Tappable;
use convkit_core::{Error, InputSpec, Result, Tapped, Taps};

use crate::conv2d::weight_and_bias;

/// Configuration of [`Linear`].
#[derive(Config, Debug)]
pub struct LinearConfig {
    /// Input features.
    pub d_input: usize,
    /// Output features.
    pub d_output: usize,
    /// Whether the layer adds a bias.
    #[config(default = true)]
    pub bias: bool,
}

impl LinearConfig {
    /// Creates the layer with PyTorch's default initialization, drawn from the calling
    /// thread's seeded stream ([`convkit_core::random`]).
    ///
    /// # Panics
    /// If a size is 0; [`LinearConfig::try_init`] returns the error.
    pub fn init(&self, device: &Device) -> Linear {
        self.try_init(device)
            .unwrap_or_else(|e| panic!("invalid Linear configuration: {e}"))
    }

    /// Creates the layer, or says why the configuration is invalid.
    pub fn try_init(&self, device: &Device) -> Result<Linear> {
        let (d_in, d_out) = (self.d_input, self.d_output);
        if d_in == 0 || d_out == 0 {
            return Err(Error::invalid(
                "Linear config",
                "input and output features must be positive",
            ));
        }
        let fans = [Some(d_in), Some(d_out)];
        let (weight, bias) = weight_and_bias([d_in, d_out], d_out, self.bias, fans, device)?;
        Ok(Linear { weight, bias })
    }
}

/// Linear layer, `torch.nn.Linear`: `y = x · W + b` over the last axis.
///
/// The weight is stored `[d_in, d_out]` (burn's layout, the transpose of PyTorch's); the type
/// name and parameter names are burn's, so burn-store's PyTorch adapter transposes PyTorch
/// weights on import as it does for burn's `Linear`. Computed by [`convkit_ops::linear`].
///
/// Tap sites: `weight` ([`convkit_core::SiteKind::Weight`]) and `out`.
///
/// # Shapes
/// - input `[..., d_in]`, output `[..., d_out]`
#[derive(Module, Debug)]
pub struct Linear {
    /// `[d_in, d_out]`.
    pub weight: Param<Tensor<2>>,
    /// `[d_out]`.
    pub bias: Option<Param<Tensor<1>>>,
}

impl Linear {
    /// Input features.
    pub fn d_input(&self) -> usize {
        self.weight.lazy_shape()[0]
    }

    /// Output features.
    pub fn d_output(&self) -> usize {
        self.weight.lazy_shape()[1]
    }
}

impl<const D: usize> Tapped<Tensor<D>> for Linear
where
    Tensor<D>: Tappable,
{
    type Output = Tensor<D>;

    fn forward_tapped(&self, x: Tensor<D>, taps: &mut Taps<'_>) -> Tensor<D> {
        let weight: Tensor<2> = taps.weight::<2>("weight", self.weight.val());
        let bias = self.bias.as_ref().map(Param::val);
        taps.float::<D>("out", convkit_ops::linear(x, weight, bias))
    }

    /// `[..., d_in]`.
    fn input_spec(&self) -> InputSpec {
        let mut dims = vec![Dim::Any; D];
        dims[D - 1] = Dim::Exact(self.d_input());
        InputSpec::new("Linear input", dims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use convkit_core::random;

    #[test]
    fn applies_x_w_plus_b_and_checks_the_feature_axis() {
        let device = Device::flex();
        random::seed(2);
        let layer = LinearConfig::new(3, 2).init(&device);
        let x = Tensor::<2>::from_floats([[1.0, 0.0, 0.0], [0.0, 2.0, 1.0]], &device);
        let w = layer.weight.val();
        let b = layer.bias.as_ref().unwrap().val().reshape([1, 2]);
        let expected = x.clone().matmul(w) + b;
        assert_eq!(layer.forward(x.clone()).into_data(), expected.into_data());
        let bound = 1.0 / 3f32.sqrt();
        let values: Vec<f32> = layer.weight.val().into_data().try_to_vec().unwrap();
        assert!(values.iter().all(|v| v.abs() <= bound));
        assert!(
            layer
                .try_forward(Tensor::<2>::zeros([1, 4], &device))
                .is_err()
        );
        assert!(LinearConfig::new(0, 2).try_init(&device).is_err());
    }
}
