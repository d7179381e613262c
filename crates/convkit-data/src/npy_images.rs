//! Images and labels from NumPy arrays (`x` images, `y` class labels), the layout Keras,
//! NumPy pipelines and most "export to .npy" scripts produce.
//!
//! - `x`: `uint8` (pixels read as `value / 255`, like every byte image in convkit) or
//!   `float32` / `float64` (used as they are), rank 3 `[N, H, W]` (one channel) or rank 4
//!   `[N, C, H, W]` (NCHW, PyTorch) or `[N, H, W, C]` (NHWC, Keras / TensorFlow / PIL).
//!   [`ImageLayout::Auto`] takes the channel axis to be the smaller of axes 1 and 3, NCHW on
//!   a tie (`[N, 1, 28, 28]`, `[N, 3, 32, 32]` are NCHW; `[N, 28, 28, 1]`, `[N, 32, 32, 3]`
//!   NHWC); NHWC arrays are transposed to `[C, H, W]` per image.
//! - `y`: integers (`uint8`, `int32`, `int64`), rank 1, one label per image, in
//!   `0..classes`.
//!
//! Errors name the file and say what was expected and found: another dtype or rank, a zero
//! dimension, a label count that differs from the image count, a label out of range (with
//! its index), a non-finite float pixel (with the image index).

use std::fmt;
use std::path::Path;

use convkit_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::npy::{NpyArray, NpyData};
use crate::{ImageSet, Pixels};

/// Where the channel axis of a rank-4 image array is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageLayout {
    /// Detect it (see the module documentation).
    #[default]
    Auto,
    /// `[N, C, H, W]`.
    Nchw,
    /// `[N, H, W, C]`.
    Nhwc,
}

impl fmt::Display for ImageLayout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ImageLayout::Auto => "auto",
            ImageLayout::Nchw => "NCHW",
            ImageLayout::Nhwc => "NHWC",
        })
    }
}

/// Unlabelled images read from an array.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayImages {
    /// Pixels of all images, `N × C × H × W` (bytes or floats, as stored).
    pub pixels: Pixels,
    /// `[C, H, W]` of every image.
    pub shape: [usize; 3],
    /// Number of images.
    pub count: usize,
    /// The layout the array had (never [`ImageLayout::Auto`]; rank 3 arrays count as NCHW).
    pub layout: ImageLayout,
}

/// Reads the images of `x` (read from `path`, named in errors) in `layout`.
pub fn images_from_array(x: NpyArray, path: &Path, layout: ImageLayout) -> Result<ArrayImages> {
    let dims = x.shape().to_vec();
    let (count, shape, layout) = match (dims.as_slice(), layout) {
        (&[n, h, w], _) => (n, [1, h, w], ImageLayout::Nchw),
        (&[n, a, b, c], ImageLayout::Nchw) => (n, [a, b, c], ImageLayout::Nchw),
        (&[n, a, b, c], ImageLayout::Nhwc) => (n, [c, a, b], ImageLayout::Nhwc),
        (&[n, a, b, c], ImageLayout::Auto) if c < a => (n, [c, a, b], ImageLayout::Nhwc),
        (&[n, a, b, c], ImageLayout::Auto) => (n, [a, b, c], ImageLayout::Nchw),
        _ => {
            return Err(Error::file(
                path,
                format!(
                    "expected images of rank 3 [N, H, W] or rank 4 [N, C, H, W] / [N, H, W, C], \
                     found rank {} {dims:?}",
                    dims.len()
                ),
            ));
        }
    };
    if count == 0 || shape.contains(&0) {
        return Err(Error::file(
            path,
            format!(
                "expected at least one image with non-zero channels, height and width, found shape {dims:?}"
            ),
        ));
    }
    let per_image = shape.iter().product::<usize>();
    let nhwc = layout == ImageLayout::Nhwc;
    let pixels = match x.into_parts().1 {
        NpyData::U8(v) => Pixels::U8(if nhwc { to_chw(&v, shape) } else { v }),
        NpyData::F32(v) => Pixels::F32(checked_finite(
            if nhwc { to_chw(&v, shape) } else { v },
            per_image,
            path,
        )?),
        NpyData::F64(v) => {
            let v: Vec<f32> = v.into_iter().map(|p| p as f32).collect();
            Pixels::F32(checked_finite(
                if nhwc { to_chw(&v, shape) } else { v },
                per_image,
                path,
            )?)
        }
        other => {
            return Err(Error::file(
                path,
                format!(
                    "expected images of dtype uint8, float32 or float64, found {}",
                    other.dtype().name()
                ),
            ));
        }
    };
    Ok(ArrayImages {
        pixels,
        shape,
        count,
        layout,
    })
}

/// The class labels in `y` (read from `path`), checked against `count` images and, when
/// `classes` is given, against that many classes; without it the classes are
/// `0..=max(label)` (a mostly empty span is an error, see
/// [`class_count`](crate::class_count::class_count)). Returns the labels and the number of
/// classes.
pub fn labels_from_array(
    y: &NpyArray,
    path: &Path,
    count: usize,
    classes: Option<usize>,
) -> Result<(Vec<usize>, usize)> {
    let values: Vec<i64> = match y.data() {
        NpyData::U8(v) => v.iter().map(|&l| i64::from(l)).collect(),
        NpyData::I32(v) => v.iter().map(|&l| i64::from(l)).collect(),
        NpyData::I64(v) => v.clone(),
        other => {
            return Err(Error::file(
                path,
                format!(
                    "expected integer class labels (uint8, int32 or int64), found {}",
                    other.dtype().name()
                ),
            ));
        }
    };
    if y.shape().len() != 1 {
        return Err(Error::file(
            path,
            format!(
                "expected labels of rank 1 [N], found rank {} {:?}",
                y.shape().len(),
                y.shape()
            ),
        ));
    }
    if values.len() != count {
        return Err(Error::file(
            path,
            format!("{} labels for {count} images", values.len()),
        ));
    }
    let limit = classes.unwrap_or(usize::MAX);
    let mut labels = Vec::with_capacity(values.len());
    for (index, &label) in values.iter().enumerate() {
        match usize::try_from(label) {
            Ok(l) if l < limit => labels.push(l),
            _ => {
                let range = classes.map_or("non-negative".to_string(), |k| {
                    format!(
                        "in 0..={} (the training labels' classes)",
                        k.saturating_sub(1)
                    )
                });
                return Err(Error::file(
                    path,
                    format!("label {label} at index {index} is out of range: expected {range}"),
                ));
            }
        }
    }
    let classes = match classes {
        Some(k) => k,
        None => crate::class_count::class_count(&labels, path, 0)?,
    };
    Ok((labels, classes))
}

/// Labelled images from `x` and `y` (see the module documentation); class names are
/// `names` when given (their count is the class count), else `"0"`, `"1"`, ….
pub fn image_set_from_arrays(
    x: NpyArray,
    x_path: &Path,
    y: &NpyArray,
    y_path: &Path,
    layout: ImageLayout,
    names: Option<Vec<String>>,
) -> Result<(ImageSet, ImageLayout)> {
    let images = images_from_array(x, x_path, layout)?;
    let (labels, classes) =
        labels_from_array(y, y_path, images.count, names.as_ref().map(Vec::len))?;
    let names = names.unwrap_or_else(|| (0..classes).map(|c| c.to_string()).collect());
    let set = ImageSet::new(images.pixels, images.shape, labels, names)
        .ok_or_else(|| Error::file(x_path, "pixel count does not match the labels"))?;
    Ok((set, images.layout))
}

/// `[H, W, C]` images to `[C, H, W]`.
fn to_chw<T: Copy + Default>(values: &[T], [c, h, w]: [usize; 3]) -> Vec<T> {
    let per_image = c * h * w;
    let mut out = vec![T::default(); values.len()];
    for (src, dst) in values
        .chunks_exact(per_image)
        .zip(out.chunks_exact_mut(per_image))
    {
        for (pixel, channels) in src.chunks_exact(c).enumerate() {
            for (ch, &v) in channels.iter().enumerate() {
                dst[ch * h * w + pixel] = v;
            }
        }
    }
    out
}

fn checked_finite(values: Vec<f32>, per_image: usize, path: &Path) -> Result<Vec<f32>> {
    if let Some(at) = values.iter().position(|v| !v.is_finite()) {
        return Err(Error::file(
            path,
            format!(
                "image {} holds a non-finite value ({}); images must be finite numbers",
                at / per_image,
                values[at]
            ),
        ));
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dataset;

    fn array<T: crate::npy::NpyElement>(shape: &[usize], values: Vec<T>) -> NpyArray {
        NpyArray::from_vec(shape.to_vec(), values).unwrap()
    }

    #[test]
    fn nhwc_is_detected_and_transposed() {
        // One 4x2 image with 3 channels: pixel p, channel k holds 3p + k.
        let x = array(&[1, 4, 2, 3], (0u8..24).collect());
        let images = images_from_array(x, Path::new("x.npy"), ImageLayout::Auto).unwrap();
        assert_eq!(images.layout, ImageLayout::Nhwc);
        assert_eq!(images.shape, [3, 4, 2]);
        let expected: Vec<u8> = (0..3)
            .flat_map(|k| (0..8).map(move |p| 3 * p + k))
            .collect();
        assert_eq!(images.pixels, Pixels::U8(expected));

        let x = array(&[2, 1, 3, 3], vec![0.5f32; 18]);
        let images = images_from_array(x, Path::new("x.npy"), ImageLayout::Auto).unwrap();
        assert_eq!(
            (images.layout, images.shape),
            (ImageLayout::Nchw, [1, 3, 3])
        );
    }

    #[test]
    fn labelled_sets_check_counts_ranges_and_dtypes() {
        let x = array(&[2, 2, 2], vec![0u8; 8]);
        let y = array(&[2], vec![1i64, 0]);
        let (set, _) = image_set_from_arrays(
            x.clone(),
            Path::new("x"),
            &y,
            Path::new("y"),
            ImageLayout::Auto,
            None,
        )
        .unwrap();
        assert_eq!(set.classes(), &["0", "1"]);
        assert_eq!(set.get(0).unwrap().label, 1);

        let err = |y: NpyArray, names: Option<Vec<String>>| {
            image_set_from_arrays(
                x.clone(),
                Path::new("x"),
                &y,
                Path::new("y.npy"),
                ImageLayout::Auto,
                names,
            )
            .unwrap_err()
            .to_string()
        };
        assert_eq!(
            err(array(&[3], vec![0i64, 1, 1]), None),
            "y.npy: 3 labels for 2 images"
        );
        assert_eq!(
            err(array(&[2], vec![0i32, -1]), None),
            "y.npy: label -1 at index 1 is out of range: expected non-negative"
        );
        assert_eq!(
            err(
                array(&[2], vec![0u8, 3]),
                Some(vec!["a".into(), "b".into()])
            ),
            "y.npy: label 3 at index 1 is out of range: expected in 0..=1 (the training labels' classes)"
        );
        assert_eq!(
            err(array(&[2], vec![0.0f32, 1.0]), None),
            "y.npy: expected integer class labels (uint8, int32 or int64), found float32"
        );
        assert_eq!(
            err(array(&[2, 1], vec![0i64, 1]), None),
            "y.npy: expected labels of rank 1 [N], found rank 2 [2, 1]"
        );
    }

    #[test]
    fn bad_image_arrays_are_errors() {
        let err = |x: NpyArray| {
            images_from_array(x, Path::new("x.npy"), ImageLayout::Auto)
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(array(&[4, 4], vec![0u8; 16])),
            "x.npy: expected images of rank 3 [N, H, W] or rank 4 [N, C, H, W] / [N, H, W, C], found rank 2 [4, 4]"
        );
        assert_eq!(
            err(array(&[1, 2, 2], vec![0i64; 4])),
            "x.npy: expected images of dtype uint8, float32 or float64, found int64"
        );
        assert_eq!(
            err(array(&[2, 1, 2], vec![0.0f32, 1.0, f32::NAN, 0.0])),
            "x.npy: image 1 holds a non-finite value (NaN); images must be finite numbers"
        );
        assert!(err(array(&[0, 2, 2], Vec::<u8>::new())).contains("at least one image"));
    }
}
