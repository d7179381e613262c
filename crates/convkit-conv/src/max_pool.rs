//! 2-D max pooling with a tappable argmax.

use burn::config::Config;
use burn::module::Module;
use burn::tensor::{Int, Tensor};
use convkit_core::check::Dim;
use convkit_core::{Error, InputSpec, Result, SiteKind, Tapped, Taps};
use convkit_ops::MaxPoolOptions;

/// Configuration of [`MaxPool`].
#[derive(Config, Debug)]
pub struct MaxPoolConfig {
    /// Window size (square).
    pub kernel_size: usize,
    /// Stride; defaults to the window size, as in PyTorch.
    #[config(default = "None")]
    pub stride: Option<usize>,
    /// Zero padding on each side (padded positions never win the max).
    #[config(default = 0)]
    pub padding: usize,
}

impl MaxPoolConfig {
    /// Creates the pooling layer (it has no parameters).
    ///
    /// # Panics
    /// If the configuration is invalid; [`MaxPoolConfig::try_init`] returns the error.
    pub fn init(&self) -> MaxPool {
        self.try_init()
            .unwrap_or_else(|e| panic!("invalid MaxPool configuration: {e}"))
    }

    /// Creates the pooling layer, or says why the configuration is invalid: the window and
    /// stride must be positive and the padding at most half the window (PyTorch's rule).
    pub fn try_init(&self) -> Result<MaxPool> {
        let stride = window_stride(
            "MaxPool config",
            self.kernel_size,
            self.stride,
            self.padding,
        )?;
        Ok(MaxPool {
            kernel_size: self.kernel_size,
            stride,
            padding: self.padding,
        })
    }
}

/// The stride of a pooling window (`stride`, or the window size as in PyTorch), or why the
/// window is unusable: window and stride must be positive and the padding at most half the
/// window (PyTorch's rule).
pub(crate) fn window_stride(
    what: &str,
    kernel_size: usize,
    stride: Option<usize>,
    padding: usize,
) -> Result<usize> {
    let stride = stride.unwrap_or(kernel_size);
    if kernel_size == 0 || stride == 0 {
        return Err(Error::invalid(
            what,
            "the window and the stride must be positive",
        ));
    }
    if 2 * padding > kernel_size {
        return Err(Error::invalid(
            what,
            format!("padding {padding} is more than half the {kernel_size}-wide window"),
        ));
    }
    Ok(stride)
}

/// Max pooling over square windows, `torch.nn.MaxPool2d(k, stride, padding)`.
///
/// Output size per spatial dimension: `floor((n + 2p - k) / s) + 1`.
///
/// In [`Tapped::forward_tapped`] the argmax of every window is the tap site `indices`
/// ([`SiteKind::PoolIndices`]): flat indices into each `(batch, channel)` plane of the input,
/// shape `[N, C, H_out, W_out]`. The output is the input gathered at these indices, so a
/// replaced index tensor replays another input's pooling decisions (LinearScope).
///
/// # Shapes
/// - input `[N, C, H, W]`, output `[N, C, H_out, W_out]`.
#[derive(Module, Debug)]
pub struct MaxPool {
    kernel_size: usize,
    stride: usize,
    padding: usize,
}

impl MaxPool {
    fn options(&self) -> MaxPoolOptions<2> {
        MaxPoolOptions::new([self.kernel_size; 2])
            .with_stride([self.stride; 2])
            .with_padding([self.padding; 2])
    }
}

impl Tapped<Tensor<4>> for MaxPool {
    type Output = Tensor<4>;

    /// Pools `x` ([`convkit_ops::max_pool2d`]); when the site `indices` is wanted, pools by
    /// gathering `x` at the argmax indices the taps return.
    fn forward_tapped(&self, x: Tensor<4>, taps: &mut Taps<'_>) -> Tensor<4> {
        let out = if taps.wants("indices", SiteKind::PoolIndices) {
            let (_, indices) = convkit_ops::max_pool2d_with_indices(x.clone(), self.options());
            let indices: Tensor<4, Int> = taps.tap("indices", SiteKind::PoolIndices, indices);
            convkit_ops::gather_planes(x, indices)
        } else {
            convkit_ops::max_pool2d(x, self.options())
        };
        taps.float("out", out)
    }

    /// `[N, C, H, W]` with the window fitting in the padded input.
    fn input_spec(&self) -> InputSpec {
        let reach = self.kernel_size.saturating_sub(2 * self.padding).max(1);
        InputSpec::new(
            "MaxPool input",
            vec![Dim::Any, Dim::Any, Dim::AtLeast(reach), Dim::AtLeast(reach)],
        )
    }
}
