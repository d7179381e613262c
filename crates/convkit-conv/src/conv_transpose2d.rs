//! 2-D transposed convolution layer with tappable weight and output.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor};
use convkit_core::{Error, InputSpec, Result, Tapped, Taps};
use convkit_ops::ConvTransposeOptions;

use crate::conv2d::weight_and_bias;

/// Configuration of [`ConvTranspose2d`].
#[derive(Config, Debug)]
pub struct ConvTranspose2dConfig {
    /// `[in_channels, out_channels]`.
    pub channels: [usize; 2],
    /// Kernel size `[height, width]`.
    pub kernel_size: [usize; 2],
    /// Stride `[rows, columns]`.
    #[config(default = "[1, 1]")]
    pub stride: [usize; 2],
    /// Padding `[rows, columns]` removed from each side of the output.
    #[config(default = "[0, 0]")]
    pub padding: [usize; 2],
    /// Whether the layer adds a bias.
    #[config(default = true)]
    pub bias: bool,
}

impl ConvTranspose2dConfig {
    /// Creates the layer with PyTorch's default initialization (fan-in
    /// `out_channels · k_h · k_w`, as PyTorch and burn compute it for transposed
    /// convolutions), drawn from the calling thread's seeded stream.
    ///
    /// # Panics
    /// If a size is 0; [`ConvTranspose2dConfig::try_init`] returns the error.
    pub fn init(&self, device: &Device) -> ConvTranspose2d {
        self.try_init(device)
            .unwrap_or_else(|e| panic!("invalid ConvTranspose2d configuration: {e}"))
    }

    /// Creates the layer, or says why the configuration is invalid.
    pub fn try_init(&self, device: &Device) -> Result<ConvTranspose2d> {
        let [c_in, c_out] = self.channels;
        let [kh, kw] = self.kernel_size;
        if [c_in, c_out, kh, kw].contains(&0) || self.stride.contains(&0) {
            return Err(Error::invalid(
                "ConvTranspose2d config",
                "channels, kernel size and stride must be positive",
            ));
        }
        let fans = [Some(c_out * kh * kw), None];
        let (weight, bias) =
            weight_and_bias([c_in, c_out, kh, kw], c_out, self.bias, fans, device)?;
        Ok(ConvTranspose2d {
            weight,
            bias,
            stride: self.stride,
            padding: self.padding,
        })
    }
}

/// 2-D transposed convolution, `torch.nn.ConvTranspose2d` (no output padding, dilation 1, one
/// group): the adjoint of a strided convolution, used to up-sample (U-Net's decoder).
///
/// Computed by [`convkit_ops::conv_transpose2d`]. Type and parameter names are burn's and
/// PyTorch's (`weight` `[C_in, C_out, k_h, k_w]`, `bias`), so weights load unchanged.
///
/// Tap sites: `weight` ([`convkit_core::SiteKind::Weight`]) and `out`.
///
/// # Shapes
/// - input `[N, C_in, H, W]`
/// - output `[N, C_out, (H − 1)·s_h − 2p_h + k_h, (W − 1)·s_w − 2p_w + k_w]`
#[derive(Module, Debug)]
pub struct ConvTranspose2d {
    /// `[C_in, C_out, k_h, k_w]`.
    pub weight: Param<Tensor<4>>,
    /// `[C_out]`.
    pub bias: Option<Param<Tensor<1>>>,
    #[module(skip)]
    stride: [usize; 2],
    #[module(skip)]
    padding: [usize; 2],
}

impl ConvTranspose2d {
    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.weight.lazy_shape()[0]
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.weight.lazy_shape()[1]
    }
}

impl Tapped<Tensor<4>> for ConvTranspose2d {
    type Output = Tensor<4>;

    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let weight = taps.weight("weight", self.weight.val());
        let bias = self.bias.as_ref().map(Param::val);
        let options = ConvTransposeOptions::new(self.stride, self.padding, [0, 0], [1, 1], 1);
        taps.float(
            "out",
            convkit_ops::conv_transpose2d(x, weight, bias, options),
        )
    }

    /// `[N, C_in, H >= 1, W >= 1]`.
    fn input_spec(&self) -> InputSpec {
        InputSpec::image("ConvTranspose2d input", self.in_channels(), [1, 1])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use burn::tensor::module::conv_transpose2d;
    use convkit_core::random;

    #[test]
    fn equals_burns_op() {
        let device = Device::flex();
        random::seed(3);
        let layer = ConvTranspose2dConfig::new([4, 3], [2, 2])
            .with_stride([2, 2])
            .init(&device);
        let x = random::tensor([2, 4, 5, 3], Distribution::Default, &device);
        let options = ConvTransposeOptions::new([2, 2], [0, 0], [0, 0], [1, 1], 1);
        let expected = conv_transpose2d(
            x.clone(),
            layer.weight.val(),
            layer.bias.as_ref().map(Param::val),
            options,
        );
        let y = layer.forward(x);
        assert_eq!(y.dims(), [2, 3, 10, 6]);
        assert_eq!(y.into_data(), expected.into_data());
        assert!(
            ConvTranspose2dConfig::new([4, 0], [2, 2])
                .try_init(&device)
                .is_err()
        );
    }
}
