//! `convkit_ops::conv2d` and `conv2d_scale_shift` against burn's `conv2d`: random shapes on
//! the host kernel (flex, f32), items cut into many tiles, shared inputs, and the other
//! kernels' paths (autodiff, groups, dilation).

use std::panic::{AssertUnwindSafe, catch_unwind};

use burn::tensor::module::conv2d as burn_conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Distribution, Tensor};
use convkit_core::testing::compare;
use convkit_ops::{conv2d, conv2d_scale_shift};
use proptest::prelude::*;

/// Both sides sum the same products in a different order (f32, up to 20·5·5 + 1 terms):
/// rounding stays far below 1e-5 of the largest output magnitude.
const RTOL: f64 = 1e-5;

struct Case {
    x: Tensor<4>,
    weight: Tensor<4>,
    bias: Option<Tensor<1>>,
    /// Per-channel map of the `conv2d_scale_shift` checks.
    scale: Tensor<1>,
    shift: Tensor<1>,
    stride: [usize; 2],
    padding: [usize; 2],
}

impl Case {
    fn random(
        device: &Device,
        [batch, cin, cout, h, w]: [usize; 5],
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        bias: bool,
    ) -> Self {
        let uniform = Distribution::Uniform(-1.0, 1.0);
        Case {
            x: convkit_core::random::tensor([batch, cin, h, w], uniform, device),
            weight: convkit_core::random::tensor(
                [cout, cin, kernel[0], kernel[1]],
                uniform,
                device,
            ),
            bias: bias.then(|| convkit_core::random::tensor([cout], uniform, device)),
            scale: convkit_core::random::tensor([cout], Distribution::Uniform(0.5, 2.0), device),
            shift: convkit_core::random::tensor([cout], uniform, device),
            stride,
            padding,
        }
    }

    fn options(&self) -> ConvOptions<2> {
        ConvOptions::new(self.stride, self.padding, [1, 1], 1)
    }

    fn burn(&self) -> Tensor<4> {
        burn_conv2d(
            self.x.clone(),
            self.weight.clone(),
            self.bias.clone(),
            self.options(),
        )
    }

    fn scale_shift(&self) -> Tensor<4> {
        conv2d_scale_shift(
            self.x.clone(),
            self.weight.clone(),
            self.scale.clone(),
            self.shift.clone(),
            self.options(),
        )
    }

    fn burn_scale_shift(&self) -> Tensor<4> {
        let cout = self.weight.dims()[0];
        burn_conv2d(self.x.clone(), self.weight.clone(), None, self.options())
            * self.scale.clone().reshape([1, cout, 1, 1])
            + self.shift.clone().reshape([1, cout, 1, 1])
    }

    fn fast(&self) -> Tensor<4> {
        conv2d(
            self.x.clone(),
            self.weight.clone(),
            self.bias.clone(),
            self.options(),
        )
    }
}

/// `actual` within `RTOL` of `expected`, relative to the largest expected magnitude.
fn check_close(what: &str, actual: Tensor<4>, expected: Tensor<4>) -> Result<(), String> {
    if actual.dims() != expected.dims() {
        return Err(format!(
            "{what}: shape {:?}, expected {:?}",
            actual.dims(),
            expected.dims()
        ));
    }
    let scale = expected.clone().abs().max().into_scalar::<f32>().max(1.0) as f64;
    compare(
        &actual.into_data(),
        &expected.into_data(),
        RTOL * scale,
        RTOL,
    )
    .map(|c| {
        eprintln!(
            "{what}: max abs error {:.1e} (largest output {scale:.1})",
            c.max_abs
        )
    })
    .map_err(|report| format!("{what}: {report}"))
}

const KERNELS: [[usize; 2]; 5] = [[1, 1], [3, 3], [1, 7], [7, 1], [5, 5]];

proptest! {
    #![proptest_config(ProptestConfig { cases: 160, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random shapes: equal to burn's conv2d where it is defined; where the kernel is larger
    /// than the padded input the host kernel panics (burn panics or returns nothing).
    #[test]
    fn matches_burn_conv2d(
        batch in 1usize..=3,
        cin in 1usize..=20,
        cout in 1usize..=20,
        h in 1usize..=20,
        w in 1usize..=20,
        kernel in 0usize..KERNELS.len(),
        stride in (1usize..=2, 1usize..=2),
        padding in (0usize..=3, 0usize..=3),
        bias: bool,
        seed: u64,
    ) {
        let device = Device::flex();
        convkit_core::random::seed(seed);
        let kernel = KERNELS[kernel];
        let stride = [stride.0, stride.1];
        let padding = [padding.0, padding.1];
        let case = Case::random(&device, [batch, cin, cout, h, w], kernel, stride, padding, bias);
        let fits = h + 2 * padding[0] >= kernel[0] && w + 2 * padding[1] >= kernel[1];
        let what = format!(
            "x [{batch}, {cin}, {h}, {w}], weight [{cout}, {cin}, {}, {}], stride {stride:?}, \
             padding {padding:?}, bias {bias}",
            kernel[0], kernel[1]
        );
        if fits {
            check_close(&what, case.fast(), case.burn()).map_err(TestCaseError::fail)?;
        } else {
            prop_assert!(catch_unwind(AssertUnwindSafe(|| case.fast())).is_err(), "{what}");
            // burn's output size `(n + 2p - k) / s + 1` wraps around in release builds: it
            // panics, or yields an empty output when `n + 2p = k - 1`.
            let burn = catch_unwind(AssertUnwindSafe(|| case.burn().dims())).ok();
            prop_assert!(burn.is_none_or(|dims| dims.contains(&0)), "{what}: burn gave {burn:?}");
        }
    }

    /// `scale · conv(x) + shift` equals burn's conv2d followed by the same per-channel map.
    #[test]
    fn scale_shift_matches_conv_then_affine(
        batch in 1usize..=2,
        cin in 1usize..=12,
        cout in 1usize..=12,
        h in 3usize..=12,
        w in 3usize..=12,
        kernel in 0usize..3,
        stride in 1usize..=2,
        seed: u64,
    ) {
        let device = Device::flex();
        convkit_core::random::seed(seed);
        let kernel = KERNELS[kernel];
        let padding = [kernel[0] / 2, kernel[1] / 2];
        let case = Case::random(&device, [batch, cin, cout, h, w], kernel, [stride; 2], padding, false);
        let what = format!("scale/shift, x [{batch}, {cin}, {h}, {w}], kernel {kernel:?}, stride {stride}");
        check_close(&what, case.scale_shift(), case.burn_scale_shift()).map_err(TestCaseError::fail)?;
    }
}

/// Items whose im2col matrix is far larger than a tile are cut into many tiles, reassembled in
/// order.
#[test]
fn large_items_are_tiled() {
    let device = Device::flex();
    convkit_core::random::seed(1);
    let case = Case::random(&device, [3, 64, 32, 96, 96], [3, 3], [1, 1], [1, 1], true);
    check_close("3×64×96×96, 3×3", case.fast(), case.burn()).unwrap();
    let case = Case::random(&device, [1, 256, 32, 64, 64], [1, 1], [1, 1], [0, 0], true);
    check_close("1×256×64×64, 1×1", case.fast(), case.burn()).unwrap();
}

/// An input shared with other consumers (so its buffer cannot be taken over) and strided
/// convolutions of odd sizes, as in Inception-v4's stem.
#[test]
fn shared_input_and_stride_two() {
    let device = Device::flex();
    convkit_core::random::seed(2);
    let case = Case::random(&device, [2, 3, 32, 37, 35], [3, 3], [2, 2], [0, 0], false);
    let keep = case.x.clone();
    check_close("stride 2 on a shared input", case.fast(), case.burn()).unwrap();
    assert_eq!(keep.dims(), [2, 3, 37, 35]);
}

/// On an autodiff device the kernel's own backward pass runs: values and the gradients of the
/// input, the weight and the bias equal burn's conv2d's (to rounding).
#[test]
fn autodiff_gradients_match_burns() {
    let device = Device::flex().autodiff();
    convkit_core::random::seed(3);
    let case = Case::random(&device, [2, 4, 5, 9, 9], [3, 3], [1, 1], [1, 1], true);
    let leaves = || {
        (
            case.x.clone().detach().require_grad(),
            case.weight.clone().detach().require_grad(),
            case.bias.clone().unwrap().detach().require_grad(),
        )
    };
    let (x, w, b) = leaves();
    let ours = conv2d(x.clone(), w.clone(), Some(b.clone()), case.options());
    let (bx, bw, bb) = leaves();
    let theirs = burn_conv2d(bx.clone(), bw.clone(), Some(bb.clone()), case.options());
    check_close("autodiff values", ours.clone(), theirs.clone()).unwrap();
    // A loss whose gradient differs everywhere (not just ones).
    let target = convkit_core::random::tensor([2, 5, 9, 9], Distribution::Default, &device);
    let grads = (ours * target.clone()).sum().backward();
    let burn_grads = (theirs * target).sum().backward();
    check_close("x", x.grad(&grads).unwrap(), bx.grad(&burn_grads).unwrap()).unwrap();
    check_close(
        "weight",
        w.grad(&grads).unwrap(),
        bw.grad(&burn_grads).unwrap(),
    )
    .unwrap();
    check_close(
        "bias",
        b.grad(&grads).unwrap().reshape([1, 1, 1, 5]),
        bb.grad(&burn_grads).unwrap().reshape([1, 1, 1, 5]),
    )
    .unwrap();
    check_close(
        "autodiff scale/shift",
        case.scale_shift(),
        case.burn_scale_shift(),
    )
    .unwrap();
}

/// Grouped, depth-wise and dilated convolutions: the kernel equals burn's conv2d.
#[test]
fn groups_and_dilation_match_burn() {
    let device = Device::flex();
    convkit_core::random::seed(4);
    let uniform = Distribution::Uniform(-1.0, 1.0);
    let x = convkit_core::random::tensor([2, 6, 11, 9], uniform, &device);
    for (groups, dilation) in [(2, [1, 1]), (6, [1, 1]), (1, [2, 3])] {
        let weight = convkit_core::random::tensor([6, 6 / groups, 3, 3], uniform, &device);
        let options = ConvOptions::new([1, 1], [2, 2], dilation, groups);
        let ours = conv2d(x.clone(), weight.clone(), None, options.clone());
        let theirs = burn_conv2d(x.clone(), weight.clone(), None, options.clone());
        check_close(
            &format!("groups {groups}, dilation {dilation:?}"),
            ours,
            theirs,
        )
        .unwrap();
        let scale = convkit_core::random::tensor([6], Distribution::Uniform(0.5, 2.0), &device);
        let shift = convkit_core::random::tensor([6], uniform, &device);
        let folded = conv2d_scale_shift(
            x.clone(),
            weight.clone(),
            scale.clone(),
            shift.clone(),
            options.clone(),
        );
        let composed = burn_conv2d(x.clone(), weight, None, options) * scale.reshape([1, 6, 1, 1])
            + shift.reshape([1, 6, 1, 1]);
        check_close("grouped scale/shift", folded, composed).unwrap();
    }
}

/// `conv_transpose2d` through the kernel (the convolution's adjoint) equals burn's: values and
/// the gradients of the input, the weight and the bias, for U-Net's 2×2 stride-2 upsampling,
/// output padding, groups and dilation.
#[test]
fn conv_transpose2d_matches_burn() {
    use burn::tensor::module::conv_transpose2d as burn_conv_transpose2d;
    use burn::tensor::ops::ConvTransposeOptions;

    let device = Device::flex().autodiff();
    convkit_core::random::seed(11);
    let uniform = Distribution::Uniform(-1.0, 1.0);
    for (x_shape, w_shape, options) in [
        (
            [2, 8, 6, 5],
            [8, 4, 2, 2],
            ConvTransposeOptions::new([2, 2], [0, 0], [0, 0], [1, 1], 1),
        ),
        (
            [2, 4, 5, 6],
            [4, 3, 3, 3],
            ConvTransposeOptions::new([2, 2], [1, 1], [1, 1], [1, 1], 1),
        ),
        (
            [1, 4, 5, 5],
            [4, 2, 3, 3],
            ConvTransposeOptions::new([1, 2], [2, 1], [0, 1], [2, 1], 2),
        ),
    ] {
        let x = convkit_core::random::tensor(x_shape, uniform, &device);
        let w = convkit_core::random::tensor(w_shape, uniform, &device);
        let channels = w_shape[1] * options.groups;
        let b = convkit_core::random::tensor([channels], uniform, &device);
        let leaves = || {
            (
                x.clone().detach().require_grad(),
                w.clone().detach().require_grad(),
                b.clone().detach().require_grad(),
            )
        };
        let (ox, ow, ob) = leaves();
        let ours = convkit_ops::conv_transpose2d(
            ox.clone(),
            ow.clone(),
            Some(ob.clone()),
            options.clone(),
        );
        let (bx, bw, bb) = leaves();
        let theirs =
            burn_conv_transpose2d(bx.clone(), bw.clone(), Some(bb.clone()), options.clone());
        let what = format!("{options:?}");
        check_close(&what, ours.clone(), theirs.clone()).unwrap();
        let target = convkit_core::random::tensor(ours.dims(), Distribution::Default, &device);
        let grads = (ours * target.clone()).sum().backward();
        let burn_grads = (theirs * target).sum().backward();
        check_close(
            &what,
            ox.grad(&grads).unwrap(),
            bx.grad(&burn_grads).unwrap(),
        )
        .unwrap();
        check_close(
            &what,
            ow.grad(&grads).unwrap(),
            bw.grad(&burn_grads).unwrap(),
        )
        .unwrap();
        let bias = |g: Tensor<1>| g.reshape([1, 1, 1, channels]);
        check_close(
            &what,
            bias(ob.grad(&grads).unwrap()),
            bias(bb.grad(&burn_grads).unwrap()),
        )
        .unwrap();
    }
}
