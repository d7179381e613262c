//! 2-D convolution layer with tappable weight and output.

use burn::config::Config;
use burn::module::{Module, Param};
use burn::nn::Initializer;
use burn::tensor::{Device, Tensor};
use convkit_core::check::Dim;
use convkit_core::{Error, InputSpec, Result, Tapped, Taps, init};
use convkit_ops::ConvOptions;

/// A layer's weight of `shape` and, if `bias`, its bias of `outputs` values, with burn's and
/// PyTorch's default initialization of convolution and linear layers: Kaiming uniform with
/// gain `1/sqrt(3)`, i.e. `U(-1/sqrt(fan_in), 1/sqrt(fan_in))` for both, drawn from the calling
/// thread's seeded stream. Errors when they take the model being built past its memory budget
/// ([`convkit_core::budget::reserve`]).
pub(crate) fn weight_and_bias<const D: usize>(
    shape: [usize; D],
    outputs: usize,
    bias: bool,
    [fan_in, fan_out]: [Option<usize>; 2],
    device: &Device,
) -> Result<(Param<Tensor<D>>, Option<Param<Tensor<1>>>)> {
    let kaiming = Initializer::KaimingUniform {
        gain: 1.0 / 3f64.sqrt(),
        fan_out_only: false,
    };
    let weight = init::param(&kaiming, shape, fan_in, fan_out, device)?;
    let bias = bias
        .then(|| init::param(&kaiming, [outputs], fan_in, fan_out, device))
        .transpose()?;
    Ok((weight, bias))
}

/// Configuration of [`Conv2d`].
#[derive(Config, Debug)]
pub struct Conv2dConfig {
    /// `[in_channels, out_channels]`.
    pub channels: [usize; 2],
    /// Kernel size `[height, width]`.
    pub kernel_size: [usize; 2],
    /// Stride `[rows, columns]`.
    #[config(default = "[1, 1]")]
    pub stride: [usize; 2],
    /// Zero padding `[rows, columns]` on each side.
    #[config(default = "[0, 0]")]
    pub padding: [usize; 2],
    /// Dilation `[rows, columns]`.
    #[config(default = "[1, 1]")]
    pub dilation: [usize; 2],
    /// Channel groups (`in_channels` for a depth-wise convolution); divides both channel
    /// counts.
    #[config(default = 1)]
    pub groups: usize,
    /// Whether the layer adds a bias.
    #[config(default = true)]
    pub bias: bool,
}

impl Conv2dConfig {
    /// Checks the configuration: positive sizes, and groups dividing both channel counts.
    pub fn validate(&self) -> Result<()> {
        let what = "Conv2d config";
        let [c_in, c_out] = self.channels;
        let sizes = [self.kernel_size, self.stride, self.dilation].concat();
        if c_in == 0 || c_out == 0 || sizes.contains(&0) {
            return Err(Error::invalid(
                what,
                "channels, kernel size, stride and dilation must be positive",
            ));
        }
        if self.groups == 0
            || !c_in.is_multiple_of(self.groups)
            || !c_out.is_multiple_of(self.groups)
        {
            return Err(Error::invalid(
                what,
                format!(
                    "{} groups must divide both channel counts ({c_in} in, {c_out} out)",
                    self.groups
                ),
            ));
        }
        Ok(())
    }

    /// Creates the layer with PyTorch's default initialization, drawn from the calling
    /// thread's seeded stream ([`convkit_core::random`]).
    ///
    /// # Panics
    /// If the configuration is invalid; [`Conv2dConfig::try_init`] returns the error.
    pub fn init(&self, device: &Device) -> Conv2d {
        self.try_init(device)
            .unwrap_or_else(|e| panic!("invalid Conv2d configuration: {e}"))
    }

    /// Creates the layer, or says why the configuration is invalid.
    pub fn try_init(&self, device: &Device) -> Result<Conv2d> {
        self.validate()?;
        let [c_in, c_out] = self.channels;
        let [kh, kw] = self.kernel_size;
        let per_group = c_in / self.groups;
        let (fan_in, fan_out) = (per_group * kh * kw, c_out / self.groups * kh * kw);
        let fans = [Some(fan_in), Some(fan_out)];
        let (weight, bias) =
            weight_and_bias([c_out, per_group, kh, kw], c_out, self.bias, fans, device)?;
        Ok(Conv2d {
            weight,
            bias,
            stride: self.stride,
            padding: self.padding,
            dilation: self.dilation,
            groups: self.groups,
        })
    }
}

/// 2-D convolution, `torch.nn.Conv2d` (zero padding):
///
/// `y[b, o, i, j] = bias[o] + Σ_{c, u, v} weight[o, c, u, v] · x[b, g·C_in/G + c,
/// i·s_h + u·d_h − p_h, j·s_w + v·d_w − p_w]` for output channel `o` of group `g`.
///
/// Computed by [`convkit_ops::conv2d`], which picks the kernel for the device. The parameter
/// names (`weight`, `bias`) and the layer's type name are burn's and PyTorch's, so weights load
/// from both unchanged.
///
/// Tap sites: `weight` ([`convkit_core::SiteKind::Weight`]; a replacement is used for this
/// pass) and `out`.
///
/// # Shapes
/// - input `[N, C_in, H, W]`
/// - output `[N, C_out, H_out, W_out]`, `H_out = (H + 2p_h − d_h(k_h − 1) − 1) / s_h + 1`
#[derive(Module, Debug)]
pub struct Conv2d {
    /// `[C_out, C_in / groups, k_h, k_w]`.
    pub weight: Param<Tensor<4>>,
    /// `[C_out]`.
    pub bias: Option<Param<Tensor<1>>>,
    #[module(skip)]
    stride: [usize; 2],
    #[module(skip)]
    padding: [usize; 2],
    #[module(skip)]
    dilation: [usize; 2],
    #[module(skip)]
    groups: usize,
}

impl Conv2d {
    /// The convolution's options (stride, padding, dilation, groups).
    pub fn options(&self) -> ConvOptions<2> {
        ConvOptions::new(self.stride, self.padding, self.dilation, self.groups)
    }

    /// Input channels.
    pub fn in_channels(&self) -> usize {
        self.weight.lazy_shape()[1] * self.groups
    }

    /// Output channels.
    pub fn out_channels(&self) -> usize {
        self.weight.lazy_shape()[0]
    }

    /// Kernel size `[k_h, k_w]`.
    pub fn kernel_size(&self) -> [usize; 2] {
        let shape = self.weight.lazy_shape();
        [shape[2], shape[3]]
    }

    /// Zero padding `[rows, columns]` on each side.
    pub fn padding(&self) -> [usize; 2] {
        self.padding
    }

    /// The weight this pass uses, offered to `taps` as the site `weight`.
    pub fn weight_tapped(&self, taps: &mut Taps<'_>) -> Tensor<4> {
        taps.weight("weight", self.weight.val())
    }

    /// The convolution of `x` with `weight` (this layer's, or a tapped replacement) and this
    /// layer's bias, without taps.
    pub fn apply(&self, x: Tensor<4>, weight: Tensor<4>) -> Tensor<4> {
        let bias = self.bias.as_ref().map(Param::val);
        convkit_ops::conv2d(x, weight, bias, self.options())
    }
}

impl Tapped<Tensor<4>> for Conv2d {
    type Output = Tensor<4>;

    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let weight = self.weight_tapped(taps);
        taps.float("out", self.apply(x, weight))
    }

    /// `[N, C_in, H, W]` with the dilated kernel fitting in the padded input.
    fn input_spec(&self) -> InputSpec {
        let [kh, kw] = self.kernel_size();
        let reach = |k: usize, d: usize, p: usize| (d * (k - 1) + 1).saturating_sub(2 * p).max(1);
        InputSpec::new(
            "Conv2d input",
            vec![
                Dim::Any,
                Dim::Exact(self.in_channels()),
                Dim::AtLeast(reach(kh, self.dilation[0], self.padding[0])),
                Dim::AtLeast(reach(kw, self.dilation[1], self.padding[1])),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;
    use burn::tensor::module::conv2d;
    use convkit_core::random;
    use convkit_core::tap::Recorder;

    #[test]
    fn equals_burns_op_taps_its_weight_and_checks_its_input() {
        let device = Device::flex();
        random::seed(1);
        let layer = Conv2dConfig::new([4, 6], [3, 3])
            .with_groups(2)
            .with_padding([1, 1])
            .with_dilation([2, 1])
            .init(&device);
        let x = random::tensor([2, 4, 9, 7], Distribution::Default, &device);
        let expected = conv2d(
            x.clone(),
            layer.weight.val(),
            layer.bias.as_ref().map(Param::val),
            layer.options(),
        );
        let mut recorder = Recorder::all();
        let y = layer.forward_tapped(x.clone(), &mut Taps::new(&mut recorder));
        // convkit's kernel and burn's sum the same products in different orders.
        convkit_core::testing::compare(&y.into_data(), &expected.into_data(), 1e-6, 1e-5).unwrap();
        assert_eq!(recorder.get("weight").unwrap().shape(), [6, 2, 3, 3]);
        assert_eq!(recorder.get("out").unwrap().shape(), [2, 6, 7, 7]);
        assert!(layer.try_forward(x).is_ok());
        let narrow = Tensor::<4>::zeros([1, 4, 2, 7], &device);
        assert!(layer.try_forward(narrow).is_err());
    }

    #[test]
    fn bad_configurations_are_errors() {
        for config in [
            Conv2dConfig::new([0, 4], [3, 3]),
            Conv2dConfig::new([4, 4], [0, 3]),
            Conv2dConfig::new([4, 6], [3, 3]).with_groups(4),
            Conv2dConfig::new([4, 4], [3, 3]).with_stride([0, 1]),
        ] {
            assert!(config.try_init(&Device::flex()).is_err(), "{config:?}");
        }
    }
}
