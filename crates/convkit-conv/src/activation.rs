//! Element-wise activations with tappable decisions.

use burn::tensor::{Tensor, activation};
use convkit_core::check::Dim;
use convkit_core::tap::Tappable;
use convkit_core::{InputSpec, SiteKind, Tapped, Taps};
use serde::{Deserialize, Serialize};

/// An element-wise activation function.
///
/// In [`Tapped::forward_tapped`], a ReLU whose `mask` site is wanted computes
/// `mask = (x > 0)` as a 0/1 float tensor, offers it to the taps (which may replace it with a
/// mask recorded on another input) and returns `x * mask`. With the recorded mask of the same
/// input this equals `relu(x)`, gradients included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Activation {
    /// `max(x, 0)`.
    #[default]
    Relu,
    /// The identity.
    Identity,
    /// `x · Φ(x)` with the exact (erf) Gaussian CDF: PyTorch's `nn.GELU()` default,
    /// "Gaussian Error Linear Units (GELUs)" (Hendrycks & Gimpel, 2016).
    Gelu,
    /// `x · sigmoid(x)` (`nn.SiLU`, also called swish), "Sigmoid-Weighted Linear Units for
    /// Neural Network Function Approximation in Reinforcement Learning" (Elfwing et al., 2017).
    Silu,
}

impl<const D: usize> Tapped<Tensor<D>> for Activation
where
    Tensor<D>: Tappable,
{
    type Output = Tensor<D>;

    /// Applies the activation. A ReLU's gating mask is the site `mask`
    /// ([`SiteKind::ReluMask`], computed only when wanted); GELU's and SiLU's output is the
    /// site `out` ([`SiteKind::Nonlinear`]: nothing to freeze); the identity has no site.
    fn forward_tapped(&self, x: Tensor<D>, taps: &mut Taps<'_>) -> Tensor<D> {
        match self {
            Activation::Relu if taps.wants("mask", SiteKind::ReluMask) => {
                let mask = x.clone().greater_elem(0.0).float().detach();
                let mask = taps.tap("mask", SiteKind::ReluMask, mask);
                x * mask
            }
            Activation::Relu => activation::relu(x),
            Activation::Identity => x,
            Activation::Gelu => taps.tap("out", SiteKind::Nonlinear, activation::gelu(x)),
            Activation::Silu => taps.tap("out", SiteKind::Nonlinear, activation::silu(x)),
        }
    }

    /// Any tensor of rank `D`.
    fn input_spec(&self) -> InputSpec {
        InputSpec::new("activation input", vec![Dim::Any; D])
    }
}
