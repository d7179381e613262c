//! `convkit_ops::max_pool2d` (convkit's kernel on flex) against burn's max pool: values, and
//! under autodiff the input gradient, for overlapping, padded, dilated and ceil-mode windows.

use burn::tensor::module::max_pool2d as burn_max_pool2d;
use burn::tensor::ops::MaxPoolOptions;
use burn::tensor::{Device, Distribution};
use convkit_core::testing::compare;
use convkit_ops::max_pool2d;

#[test]
fn values_and_gradients_equal_burns() {
    let device = Device::flex().autodiff();
    convkit_core::random::seed(9);
    let cases = [
        MaxPoolOptions::new([2, 2]).with_stride([2, 2]),
        MaxPoolOptions::new([3, 3])
            .with_stride([2, 2])
            .with_padding([1, 1]),
        MaxPoolOptions::new([3, 2])
            .with_stride([1, 2])
            .with_dilation([2, 1]),
        MaxPoolOptions::new([3, 3])
            .with_stride([2, 2])
            .with_ceil_mode(true),
    ];
    for options in cases {
        let x = convkit_core::random::tensor([2, 3, 11, 10], Distribution::Default, &device);
        let target = convkit_core::random::tensor([1], Distribution::Default, &device);
        let ours_x = x.clone().detach().require_grad();
        let burn_x = x.detach().require_grad();
        let ours = max_pool2d(ours_x.clone(), options.clone());
        let theirs = burn_max_pool2d(burn_x.clone(), options.clone());
        assert_eq!(
            ours.clone().into_data(),
            theirs.clone().into_data(),
            "{options:?}"
        );
        let weights = ours.clone().ones_like() * target.clone().reshape([1, 1, 1, 1])
            + convkit_core::random::tensor(ours.dims(), Distribution::Default, &device);
        let grads = (ours * weights.clone()).sum().backward();
        let burn_grads = (theirs * weights).sum().backward();
        compare(
            &ours_x.grad(&grads).unwrap().into_data(),
            &burn_x.grad(&burn_grads).unwrap().into_data(),
            1e-6,
            1e-6,
        )
        .unwrap_or_else(|e| panic!("{options:?}: {e}"));
    }
}

#[test]
fn inference_values_equal_burns() {
    let device = Device::flex();
    let x = convkit_core::random::tensor([4, 8, 28, 28], Distribution::Default, &device);
    for k in 1..=3 {
        let options = MaxPoolOptions::new([k, k]).with_stride([k, k]);
        assert_eq!(
            max_pool2d(x.clone(), options.clone()).into_data(),
            burn_max_pool2d(x.clone(), options).into_data()
        );
    }
}
