//! The kernel against the definition: a direct convolution and its two adjoints written as
//! loops over every output value, on random shapes covering stride, asymmetric padding,
//! dilation and groups.

use burn::tensor::ops::ConvOptions;
use proptest::prelude::*;

use super::*;

/// A direct convolution's three results: output, input gradient and weight gradient for the
/// output gradient `dy`.
fn direct(s: &Conv2dShape, x: &[f32], w: &[f32], dy: &[f32]) -> [Vec<f32>; 3] {
    let [lx, lw, ly] = s.lengths();
    let (mut y, mut dx, mut dw) = (vec![0.0f64; ly], vec![0.0f64; lx], vec![0.0f64; lw]);
    let [kh, kw] = s.kernel;
    let [in_h, in_w] = s.in_size;
    let [out_h, out_w] = s.out_size;
    for n in 0..s.batch {
        for o in 0..s.out_channels() {
            let g = o / s.out_per_group;
            for i in 0..out_h {
                for j in 0..out_w {
                    let yi = ((n * s.out_channels() + o) * out_h + i) * out_w + j;
                    for c in 0..s.in_per_group {
                        let ci = g * s.in_per_group + c;
                        for u in 0..kh {
                            for v in 0..kw {
                                let r = (i * s.stride[0] + u * s.dilation[0]) as isize
                                    - s.pad_before[0] as isize;
                                let q = (j * s.stride[1] + v * s.dilation[1]) as isize
                                    - s.pad_before[1] as isize;
                                if r < 0 || q < 0 || r >= in_h as isize || q >= in_w as isize {
                                    continue;
                                }
                                let xi = ((n * s.in_channels() + ci) * in_h + r as usize) * in_w
                                    + q as usize;
                                let wi = ((o * s.in_per_group + c) * kh + u) * kw + v;
                                y[yi] += x[xi] as f64 * w[wi] as f64;
                                dx[xi] += dy[yi] as f64 * w[wi] as f64;
                                dw[wi] += dy[yi] as f64 * x[xi] as f64;
                            }
                        }
                    }
                }
            }
        }
    }
    [y, dx, dw].map(|v| v.into_iter().map(|v| v as f32).collect())
}

fn values(n: usize, seed: u64) -> Vec<f32> {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect()
}

fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5 * scale,
            "{what}[{i}]: {g} vs {w} (scale {scale})"
        );
    }
}

#[derive(Debug, Clone)]
struct Case {
    x: [usize; 4],
    w: [usize; 4],
    options: ConvOptions<2>,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        (0usize..3, 1usize..4, 1usize..4, 1usize..4),
        (1usize..10, 1usize..10, 1usize..4, 1usize..4),
        (1usize..4, 1usize..4, 1usize..4, 1usize..4),
        (0usize..3, 0usize..3, 0usize..3, 0usize..3),
    )
        .prop_filter_map(
            "the dilated kernel fits the padded input",
            |((batch, groups, cg, og), (h, w, kh, kw), (sh, sw, dh, dw), (pt, pb, pl, pr))| {
                let fits = |n: usize, k: usize, p: usize, d: usize| n + p > d * (k - 1);
                (fits(h, kh, pt + pb, dh) && fits(w, kw, pl + pr, dw)).then(|| Case {
                    x: [batch, groups * cg, h, w],
                    w: [groups * og, cg, kh, kw],
                    options: ConvOptions {
                        stride: [sh, sw],
                        padding: [(pt, pb), (pl, pr)],
                        dilation: [dh, dw],
                        groups,
                    },
                })
            },
        )
}

fn check(case: &Case, seed: u64) {
    let s = Conv2dShape::new(case.x, case.w, &case.options);
    let [lx, lw, ly] = s.lengths();
    let (x, w, dy) = (values(lx, seed), values(lw, seed + 1), values(ly, seed + 2));
    let [y, dx, dw] = direct(&s, &x, &w, &dy);
    assert_close("y", &forward(&s, &x, &w, ChannelAffine::default()), &y);
    assert_close("dx", &backward_input(&s, &w, &dy), &dx);
    assert_close("dw", &backward_weight(&s, &x, &dy), &dw);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn the_kernel_is_the_direct_convolution_and_its_adjoints(case in cases(), seed in 0u64..1000) {
        check(&case, seed);
    }
}

#[test]
fn large_shapes_cut_into_several_bands_and_chunks() {
    // 120×120 outputs of 3×3×16 patches: several bands per item; depth-wise and pointwise.
    for (x, w, groups, padding) in [
        ([3, 16, 120, 120], [6, 16, 3, 3], 1, 1),
        ([2, 16, 120, 120], [16, 1, 3, 3], 16, 1),
        ([2, 16, 120, 120], [4, 16, 1, 1], 1, 0),
    ] {
        let options = ConvOptions::new([1, 1], [padding, padding], [1, 1], groups);
        let case = Case { x, w, options };
        let s = Conv2dShape::new(case.x, case.w, &case.options);
        assert!(s.band_rows(None) < s.out_size[0] || s.in_per_group == 1 || s.pointwise());
        check(&case, 7);
    }
}

#[test]
fn the_affine_epilogue_maps_each_output_channel() {
    let options = ConvOptions::new([2, 1], [1, 0], [1, 2], 1);
    let s = Conv2dShape::new([2, 3, 9, 11], [4, 3, 3, 2], &options);
    let [lx, lw, _] = s.lengths();
    let (x, w) = (values(lx, 3), values(lw, 4));
    let (scale, shift) = ([0.5, -1.0, 2.0, 0.0], [1.0, 2.0, -3.0, 0.25]);
    let plain = forward(&s, &x, &w, ChannelAffine::default());
    let mapped = forward(
        &s,
        &x,
        &w,
        ChannelAffine {
            scale: Some(&scale),
            shift: Some(&shift),
        },
    );
    let plane = s.out_plane();
    for (i, (p, m)) in plain.iter().zip(&mapped).enumerate() {
        let o = i / plane % 4;
        assert_eq!(*m, p * scale[o] + shift[o]);
    }
}

#[test]
fn every_thread_count_gives_the_same_bits() {
    for (w, groups) in [([12, 4, 3, 3], 2), ([8, 1, 3, 3], 8)] {
        same_bits_for_any_thread_count(w, groups);
    }
}

/// The general kernel (grouped) and the depth-wise one.
fn same_bits_for_any_thread_count(w: [usize; 4], groups: usize) {
    let options = ConvOptions::new([1, 1], [1, 1], [1, 1], groups);
    let s = Conv2dShape::new([3, 8, 33, 37], w, &options);
    let [lx, lw, ly] = s.lengths();
    let (x, w, dy) = (values(lx, 5), values(lw, 6), values(ly, 7));
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| {
                [
                    forward(&s, &x, &w, ChannelAffine::default()),
                    backward_input(&s, &w, &dy),
                    backward_weight(&s, &x, &dy),
                ]
            })
    };
    let one = run(1);
    for threads in [2, 3, 8] {
        assert!(run(threads) == one, "{threads} threads differ from one");
    }
}

#[test]
fn empty_batches_give_empty_results() {
    let options = ConvOptions::new([1, 1], [0, 0], [1, 1], 1);
    let s = Conv2dShape::new([0, 2, 4, 4], [3, 2, 3, 3], &options);
    assert!(forward(&s, &[], &values(54, 1), ChannelAffine::default()).is_empty());
    assert!(backward_input(&s, &values(54, 1), &[]).is_empty());
    assert_eq!(backward_weight(&s, &[], &[]), vec![0.0; 54]);
}

#[test]
#[should_panic(expected = "more than the padded input")]
fn a_kernel_larger_than_the_input_is_refused() {
    Conv2dShape::new(
        [1, 1, 2, 2],
        [1, 1, 3, 3],
        &ConvOptions::new([1, 1], [0, 0], [1, 1], 1),
    );
}
