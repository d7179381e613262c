//! Tests of the image transforms (resize against PyTorch's interpolate, crops, flips, normalisation, seeding).

use super::*;

fn ramp(shape: [usize; 3]) -> ImageItem {
    let n = shape.iter().product::<usize>();
    ImageItem {
        pixels: (0..n).map(|i| i as f32).collect(),
        shape,
        label: 4,
    }
}

fn rng() -> StdRng {
    item_rng(0, 0, 0)
}

/// One case of `tests/data/images/resize_reference.bin` (layout in
/// `tools/refgen/transforms.py`).
struct ReferenceCase {
    antialias: bool,
    input: ImageItem,
    output_hw: (usize, usize),
    expected: Vec<f32>,
}

fn reference_cases() -> Vec<ReferenceCase> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/images/resize_reference.bin"
    );
    let bytes = std::fs::read(path).unwrap();
    let words: Vec<[u8; 4]> = bytes
        .chunks_exact(4)
        .map(|c| c.try_into().unwrap())
        .collect();
    let mut at = 0;
    let mut cases = Vec::new();
    while at < words.len() {
        let header: Vec<usize> = words[at..at + 6]
            .iter()
            .map(|w| u32::from_le_bytes(*w) as usize)
            .collect();
        at += 6;
        let [aa, c, h, w, oh, ow] = header[..] else {
            unreachable!()
        };
        let mut floats = |n: usize| {
            let v: Vec<f32> = words[at..at + n]
                .iter()
                .map(|w| f32::from_le_bytes(*w))
                .collect();
            at += n;
            v
        };
        let input = floats(c * h * w);
        let expected = floats(c * oh * ow);
        cases.push(ReferenceCase {
            antialias: aa == 1,
            input: ImageItem {
                pixels: input,
                shape: [c, h, w],
                label: 0,
            },
            output_hw: (oh, ow),
            expected,
        });
    }
    cases
}

#[test]
fn resize_matches_torch_interpolate() {
    let cases = reference_cases();
    assert_eq!(cases.len(), 6);
    for case in cases {
        let (height, width) = case.output_hw;
        let filter = if case.antialias {
            ResizeFilter::BilinearAntialias
        } else {
            ResizeFilter::Bilinear
        };
        let resize = Resize::new(ResizeTo::Exact { height, width }, filter).unwrap();
        let from = case.input.shape;
        let out = resize.apply(case.input, &mut rng()).unwrap();
        assert_eq!(out.shape, [from[0], height, width]);
        let worst = out
            .pixels
            .iter()
            .zip(&case.expected)
            .map(|(a, e)| (a - e).abs())
            .fold(0.0f32, f32::max);
        assert!(
            worst <= 1e-5,
            "{from:?} -> {:?} antialias {}: max error {worst}",
            case.output_hw,
            case.antialias
        );
    }
}

#[test]
fn resize_shorter_side_keeps_aspect_ratio() {
    let resize = Resize::new(ResizeTo::Shorter(4), ResizeFilter::default()).unwrap();
    assert_eq!(resize.output_size(6, 9).unwrap(), (4, 6));
    assert_eq!(
        resize.output_size(10, 7).unwrap(),
        (5, 4),
        "floor(4 * 10 / 7) = 5"
    );
    let out = resize.apply(ramp([2, 6, 9]), &mut rng()).unwrap();
    assert_eq!((out.shape, out.label), ([2, 4, 6], 4));
    // A constant image stays constant: the weights sum to one everywhere.
    let flat = ImageItem {
        pixels: vec![0.25; 3 * 7 * 5],
        shape: [3, 7, 5],
        label: 0,
    };
    let out = resize.apply(flat, &mut rng()).unwrap();
    assert!(out.pixels.iter().all(|p| (p - 0.25).abs() < 1e-6));
    // The same size is the identity.
    let same = Resize::new(
        ResizeTo::Exact {
            height: 3,
            width: 4,
        },
        ResizeFilter::Bilinear,
    )
    .unwrap()
    .apply(ramp([1, 3, 4]), &mut rng())
    .unwrap();
    assert_eq!(same, ramp([1, 3, 4]));
}

#[test]
fn center_crop_rounds_half_to_even_like_torchvision() {
    assert_eq!(
        (0..7).map(centered_offset).collect::<Vec<_>>(),
        [0, 0, 1, 2, 2, 2, 3]
    );
    let out = CenterCrop::new(2, 3)
        .unwrap()
        .apply(ramp([1, 5, 4]), &mut rng())
        .unwrap();
    // Margins 3 (rows, offset 2) and 1 (columns, offset 0).
    assert_eq!(out.shape, [1, 2, 3]);
    assert_eq!(out.pixels, [8.0, 9.0, 10.0, 12.0, 13.0, 14.0]);
}

#[test]
fn normalize_per_channel() {
    let item = ImageItem {
        pixels: vec![1.0, 3.0, 0.5, 0.0],
        shape: [2, 1, 2],
        label: 0,
    };
    let out = Normalize::new(vec![1.0, 0.5], vec![2.0, 0.25])
        .unwrap()
        .apply(item, &mut rng())
        .unwrap();
    assert_eq!(out.pixels, [0.0, 1.0, 0.0, -2.0]);
}

#[test]
fn random_crop_is_a_window_of_the_padded_image() {
    let crop = RandomCrop::new(3, 3, 1).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    for seed in 0..200 {
        let out = crop
            .apply(ramp([1, 3, 3]), &mut item_rng(seed, 0, 0))
            .unwrap();
        assert_eq!(out.shape, [1, 3, 3]);
        // The 5x5 zero-padded ramp; find which window the crop is.
        let padded: Vec<f32> = (0..25)
            .map(|i| {
                let (y, x) = (i / 5, i % 5);
                if (1..4).contains(&y) && (1..4).contains(&x) {
                    ((y - 1) * 3 + x - 1) as f32
                } else {
                    0.0
                }
            })
            .collect();
        let offset = (0..3)
            .flat_map(|t| (0..3).map(move |l| (t, l)))
            .find(|&(t, l)| (0..9).all(|k| out.pixels[k] == padded[(t + k / 3) * 5 + l + k % 3]))
            .expect("the crop is a window of the padded image");
        seen.insert(offset);
    }
    assert_eq!(seen.len(), 9, "every offset of the 5x5 padded image occurs");
    // Same generator state, same crop.
    let a = crop.apply(ramp([2, 4, 4]), &mut item_rng(3, 1, 2)).unwrap();
    let b = crop.apply(ramp([2, 4, 4]), &mut item_rng(3, 1, 2)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn horizontal_flip_mirrors_rows() {
    let always = RandomHorizontalFlip::new(1.0).unwrap();
    let out = always.apply(ramp([2, 2, 3]), &mut rng()).unwrap();
    assert_eq!(
        out.pixels,
        [2.0, 1.0, 0.0, 5.0, 4.0, 3.0, 8.0, 7.0, 6.0, 11.0, 10.0, 9.0]
    );
    let never = RandomHorizontalFlip::new(0.0).unwrap();
    assert_eq!(
        never.apply(ramp([1, 2, 3]), &mut rng()).unwrap(),
        ramp([1, 2, 3])
    );
    let half = RandomHorizontalFlip::new(0.5).unwrap();
    let flipped = (0..1000)
        .filter(|&i| {
            half.apply(ramp([1, 1, 2]), &mut item_rng(1, 0, i)).unwrap() != ramp([1, 1, 2])
        })
        .count();
    assert!((430..570).contains(&flipped), "{flipped} of 1000 flipped");
}

#[test]
fn invalid_settings_and_shapes_are_typed_errors() {
    let invalid = |r: Result<()>| match r {
        Err(Error::Invalid { what, reason }) => format!("{what}: {reason}"),
        other => panic!("expected Error::Invalid, got {other:?}"),
    };
    let e = invalid(Resize::new(ResizeTo::Shorter(0), ResizeFilter::Bilinear).map(drop));
    assert!(e.contains("Resize size") && e.contains("0x0"), "{e}");
    let e = invalid(CenterCrop::new(3, 0).map(drop));
    assert!(e.contains("3x0"), "{e}");
    invalid(RandomCrop::new(0, 2, 1).map(drop));
    let e = invalid(RandomHorizontalFlip::new(1.5).map(drop));
    assert!(e.contains("got 1.5"), "{e}");
    invalid(RandomHorizontalFlip::new(f32::NAN).map(drop));
    let e = invalid(Normalize::new(vec![0.5; 3], vec![0.2; 2]).map(drop));
    assert!(e.contains("3 means and 2 deviations"), "{e}");
    let e = invalid(Normalize::new(vec![0.5], vec![0.0]).map(drop));
    assert!(e.contains("positive, got 0"), "{e}");

    let shape = |r: Result<ImageItem>| match r {
        Err(e @ Error::Shape { .. }) => e.to_string(),
        other => panic!("expected Error::Shape, got {other:?}"),
    };
    let e = shape(
        CenterCrop::new(4, 6)
            .unwrap()
            .apply(ramp([1, 5, 5]), &mut rng()),
    );
    assert_eq!(
        e,
        "CenterCrop input: expected shape [_, >=4, >=6], got [1, 5, 5]"
    );
    let e = shape(
        RandomCrop::new(8, 8, 1)
            .unwrap()
            .apply(ramp([3, 5, 6]), &mut rng()),
    );
    assert!(
        e.contains("padded by 1") && e.contains("[_, >=6, >=6]"),
        "{e}"
    );
    let e = shape(
        Normalize::new(vec![0.5; 3], vec![0.2; 3])
            .unwrap()
            .apply(ramp([1, 2, 2]), &mut rng()),
    );
    assert!(e.contains("[3, _, _]") && e.contains("[1, 2, 2]"), "{e}");
    let broken = ImageItem {
        pixels: vec![0.0; 5],
        shape: [1, 2, 2],
        label: 0,
    };
    let e = shape(
        RandomHorizontalFlip::new(1.0)
            .unwrap()
            .apply(broken, &mut rng()),
    );
    assert!(e.contains("5 pixels"), "{e}");
    let empty = ImageItem {
        pixels: vec![],
        shape: [1, 0, 3],
        label: 0,
    };
    let resize = Resize::new(ResizeTo::Shorter(2), ResizeFilter::default()).unwrap();
    let e = shape(resize.apply(empty.clone(), &mut rng()));
    assert_eq!(
        e,
        "Resize input (height, width): expected shape [>=1, >=1], got [0, 3]"
    );
    // Padding makes room for a crop of an empty image: all zeros.
    let out = RandomCrop::new(2, 2, 1)
        .unwrap()
        .apply(empty, &mut rng())
        .unwrap();
    assert_eq!((out.shape, out.pixels), ([1, 2, 2], vec![0.0; 4]));
}

#[test]
fn compose_and_transformed_are_reproducible_per_epoch_and_index() {
    let pipeline = Compose::new()
        .then(RandomCrop::new(4, 4, 2).unwrap())
        .then(RandomHorizontalFlip::new(0.5).unwrap())
        .then(Normalize::new(vec![1.0], vec![2.0]).unwrap());
    assert_eq!(pipeline.len(), 3);
    let data: Vec<ImageItem> = (0..6).map(|i| ramp([1, 4, 4 + i % 2])).collect();
    let set = VecDataset(data);
    let a = Transformed::new(&set, pipeline, 11);
    let first: Vec<_> = (0..6).map(|i| a.try_get(i).unwrap()).collect();
    // Reading in another order gives the same items.
    for i in (0..6).rev() {
        assert_eq!(a.get(i).unwrap(), first[i]);
    }
    a.set_epoch(1);
    assert_eq!(a.epoch(), 1);
    let second: Vec<_> = (0..6).map(|i| a.try_get(i).unwrap()).collect();
    assert_ne!(first, second, "a new epoch draws new augmentations");
    a.set_epoch(0);
    assert_eq!(a.try_get(2).unwrap(), first[2]);
    assert!(first.iter().all(|item| item.shape == [1, 4, 4]));
    // Out of range.
    let e = a.try_get(6).unwrap_err().to_string();
    assert!(e.contains("no item 6") && e.contains("6 items"), "{e}");
    assert!(a.get(6).is_none());
    // Distinct (epoch, index) pairs with equal sums get unrelated generators.
    assert_ne!(
        item_rng(5, 0, 1).random::<u64>(),
        item_rng(5, 1, 0).random::<u64>()
    );
}

struct VecDataset(Vec<ImageItem>);

impl Dataset for VecDataset {
    type Item = ImageItem;
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, index: usize) -> Option<ImageItem> {
        self.0.get(index).cloned()
    }
}
