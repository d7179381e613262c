//! 2-D average pooling.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::Tensor;
use convkit_core::check::Dim;
use convkit_core::{InputSpec, Result, Tapped, Taps};
use convkit_ops::AvgPoolOptions;

use crate::max_pool::window_stride;

/// Configuration of [`AvgPool`].
#[derive(Config, Debug)]
pub struct AvgPoolConfig {
    /// Window size (square).
    pub kernel_size: usize,
    /// Stride; defaults to the window size, as in PyTorch.
    #[config(default = "None")]
    pub stride: Option<usize>,
    /// Zero padding on each side.
    #[config(default = 0)]
    pub padding: usize,
    /// Whether padded positions count in the denominator (PyTorch's default `true`).
    #[config(default = true)]
    pub count_include_pad: bool,
}

impl AvgPoolConfig {
    /// Creates the pooling layer (it has no parameters).
    ///
    /// # Panics
    /// If the configuration is invalid; [`AvgPoolConfig::try_init`] returns the error.
    pub fn init(&self) -> AvgPool {
        self.try_init()
            .unwrap_or_else(|e| panic!("invalid AvgPool configuration: {e}"))
    }

    /// Creates the pooling layer, or says why the configuration is invalid: the window and
    /// stride must be positive and the padding at most half the window (PyTorch's rule).
    pub fn try_init(&self) -> Result<AvgPool> {
        let stride = window_stride(
            "AvgPool config",
            self.kernel_size,
            self.stride,
            self.padding,
        )?;
        Ok(AvgPool {
            kernel_size: self.kernel_size,
            stride,
            padding: self.padding,
            count_include_pad: self.count_include_pad,
        })
    }
}

/// Average pooling over square windows, `torch.nn.AvgPool2d(k, stride, padding,
/// count_include_pad=...)`, computed by [`convkit_ops::avg_pool2d`]. Linear in its input.
///
/// Tap site: `out`.
///
/// # Shapes
/// - input `[N, C, H, W]`, output `[N, C, floor((H + 2p - k) / s) + 1, ...]`.
#[derive(Module, Debug)]
pub struct AvgPool {
    kernel_size: usize,
    stride: usize,
    padding: usize,
    count_include_pad: bool,
}

impl Tapped<Tensor<4>> for AvgPool {
    type Output = Tensor<4>;

    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let options = AvgPoolOptions::new([self.kernel_size; 2])
            .with_stride([self.stride; 2])
            .with_padding([self.padding; 2])
            .with_count_include_pad(self.count_include_pad);
        taps.float("out", convkit_ops::avg_pool2d(x, options))
    }

    /// `[N, C, H, W]` with the window fitting in the padded input.
    fn input_spec(&self) -> InputSpec {
        let reach = self.kernel_size.saturating_sub(2 * self.padding).max(1);
        InputSpec::new(
            "AvgPool input",
            vec![Dim::Any, Dim::Any, Dim::AtLeast(reach), Dim::AtLeast(reach)],
        )
    }
}
