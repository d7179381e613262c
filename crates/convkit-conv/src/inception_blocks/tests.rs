//! Tests of the Inception branches and blocks.

use super::*;
use convkit_core::DeviceSpec;
use convkit_core::tap::Recorder;

fn device() -> Device {
    DeviceSpec::Cpu.device().unwrap()
}

#[test]
fn pooling_after_the_pointwise_convolution_gives_the_same_branch_output() {
    let device = device();
    convkit_core::random::seed(3);
    let branch = InceptionBranchConfig::new(6, vec![BranchOp::AvgPool, BranchOp::conv(4, [1, 1])])
        .init(&device);
    let x = convkit_core::random::tensor(
        [2, 6, 7, 5],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    // Untapped: convolution first, then the pool. Tapped: the layers in their order.
    let reordered = branch.forward(x.clone());
    let mut recorder = Recorder::all();
    let in_order = branch.forward_tapped(x, &mut Taps::new(&mut recorder));
    assert!(recorder.get("layers.0.out").is_some());
    convkit_core::testing::compare(&reordered.into_data(), &in_order.into_data(), 1e-6, 1e-5)
        .unwrap();
}

#[test]
fn op_geometry_inverts_the_output_size_formula() {
    // floor((n + 2p - k) / s) + 1 >= out exactly from the minimum up.
    let ops = [
        BranchOp::conv_valid(8, 3, 2),
        BranchOp::conv(8, [1, 7]),
        BranchOp::conv(8, [5, 5]),
        BranchOp::MaxPool,
        BranchOp::AvgPool,
    ];
    for op in ops {
        let (k, s, p) = match op {
            BranchOp::Conv {
                kernel_size,
                stride,
                padding: Padding::Same,
                ..
            } => (
                kernel_size,
                stride,
                [kernel_size[0] / 2, kernel_size[1] / 2],
            ),
            BranchOp::Conv {
                kernel_size,
                stride,
                ..
            } => (kernel_size, stride, [0, 0]),
            BranchOp::MaxPool => ([3, 3], 2, [0, 0]),
            BranchOp::AvgPool => ([3, 3], 1, [1, 1]),
        };
        for out in 1..6 {
            let min = op.min_input_size([out, out]);
            for d in 0..2 {
                let size = |n: usize| (n + 2 * p[d]).checked_sub(k[d]).map(|v| v / s + 1);
                assert!(
                    size(min[d]).is_some_and(|o| o >= out),
                    "{op:?} {out} {min:?}"
                );
                assert!(
                    min[d] == 1 || size(min[d] - 1).is_none_or(|o| o < out),
                    "{op:?} {out} {min:?}"
                );
            }
        }
    }
}

#[test]
fn named_blocks_have_the_paper_widths() {
    let cases = [
        (InceptionBlockConfig::inception_v4_mixed_3a(), 64, 160),
        (InceptionBlockConfig::inception_v4_mixed_4a(), 160, 192),
        (InceptionBlockConfig::inception_v4_mixed_5a(), 192, 384),
        (InceptionBlockConfig::inception_v4_a(), 384, 384),
        (
            InceptionBlockConfig::reduction_a(384, [192, 224, 256, 384]),
            384,
            1024,
        ),
        (InceptionBlockConfig::inception_v4_b(), 1024, 1024),
        (InceptionBlockConfig::inception_v4_reduction_b(), 1024, 1536),
        (InceptionBlockConfig::inception_v4_c(), 1536, 1536),
        (
            InceptionBlockConfig::inception_resnet_v2_mixed_5b(),
            192,
            320,
        ),
        (
            InceptionBlockConfig::reduction_a(320, [256, 256, 384, 384]),
            320,
            1088,
        ),
        (
            InceptionBlockConfig::reduction_a(256, [192, 192, 256, 384]),
            256,
            896,
        ),
        (
            InceptionBlockConfig::inception_resnet_reduction_b(1088, [384, 288, 288, 320]),
            1088,
            2080,
        ),
        (
            InceptionBlockConfig::inception_resnet_reduction_b(896, [384, 256, 256, 256]),
            896,
            1792,
        ),
    ];
    for (config, c_in, c_out) in cases {
        assert_eq!((config.in_channels(), config.out_channels()), (c_in, c_out));
    }
}

#[test]
fn residual_block_keeps_its_input_shape_and_taps_every_branch() {
    let device = device();
    let block =
        InceptionBlockConfig::inception_resnet_c(16, 4, [4, 6, 8], InceptionResidual::relu(0.2))
            .init(&device);
    let x = convkit_core::random::tensor(
        [2, 16, 5, 4],
        burn::tensor::Distribution::Normal(0.0, 1.0),
        &device,
    );
    let mut recorder = Recorder::all();
    let y = block.forward_tapped(x, &mut Taps::new(&mut recorder));
    assert_eq!(y.dims(), [2, 16, 5, 4]);
    for site in [
        "branches.0.layers.0.out",
        "branches.1.layers.2.conv.out",
        "branches.1.out",
        "projection.weight",
        "projection.out",
        "residual.activation.mask",
        "out",
    ] {
        assert!(recorder.get(site).is_some(), "no tap site {site}");
    }
    assert_eq!(
        recorder.get("projection.out").unwrap().shape(),
        vec![2, 16, 5, 4]
    );
    assert!(
        y.greater_equal_elem(0.0).all().into_scalar::<bool>(),
        "ReLU after the residual sum"
    );
}

#[test]
fn fork_concatenates_its_ends() {
    let device = device();
    let branch = InceptionBranchConfig::new(6, vec![BranchOp::conv(4, [1, 1])])
        .with_fork(vec![BranchOp::conv(3, [1, 3]), BranchOp::conv(5, [3, 1])])
        .init(&device);
    assert_eq!(branch.out_channels(), 8);
    let y = branch.forward(Tensor::zeros([1, 6, 4, 4], &device));
    assert_eq!(y.dims(), [1, 8, 4, 4]);
}

#[test]
fn reduction_halves_and_checks_its_minimum() {
    let device = device();
    let block = InceptionBlockConfig::reduction_a(8, [4, 4, 6, 10]).init(&device);
    assert_eq!(block.min_input_size([1, 1]), [3, 3]);
    let y = block.forward(Tensor::zeros([1, 8, 9, 7], &device));
    assert_eq!(y.dims(), [1, 8 + 10 + 6, 4, 3]);
    let err = block.check_input(&[1, 8, 2, 9]).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    assert!(err.to_string().contains(">=3"), "{err}");
    assert!(block.check_input(&[1, 7, 9, 9]).is_err());
}

#[test]
fn invalid_configs_are_errors() {
    let device = device();
    let mixed = InceptionBlockConfig::new(vec![
        InceptionBranchConfig::new(8, vec![BranchOp::MaxPool]),
        InceptionBranchConfig::new(6, vec![BranchOp::MaxPool]),
    ]);
    assert!(matches!(
        mixed.try_init(&device),
        Err(Error::Invalid { .. })
    ));
    assert!(InceptionBlockConfig::new(vec![]).try_init(&device).is_err());
    assert!(
        InceptionBranchConfig::new(8, vec![])
            .try_init(&device)
            .is_err()
    );
    let zero = InceptionBranchConfig::new(8, vec![BranchOp::conv(0, [1, 1])]);
    assert!(zero.try_init(&device).is_err());
}
