//! Image classification folders: one sub-folder per class holding PNG or JPEG files.
//!
//! Layout (torchvision's `ImageFolder`, used for ImageNet-style datasets, Tiny ImageNet,
//! Imagenette and most hand-collected image sets):
//!
//! ```text
//! root/
//!   cat/  0001.png  0002.jpg  more/0003.JPEG
//!   dog/  a.jpeg  b.png
//! ```
//!
//! - Classes are the sub-folders of `root`, sorted by name; label `i` is the `i`-th. Files
//!   directly in `root` are ignored.
//! - A class holds every file with extension `.png`, `.jpg` or `.jpeg` (any case) in its
//!   folder or, as torchvision, in folders below it; items are ordered by class, then by
//!   path, so indices do not depend on the file system's listing order. Other files are
//!   ignored, and so is everything whose name starts with `.` (`.DS_Store`, `._x.png`
//!   resource forks, `.ipynb_checkpoints/`).
//! - Files are decoded by content (PNG or JPEG signature), not by extension.
//! - Pixels are bytes read as `value / 255`, in `[C, H, W]` order. [`Channels`] chooses
//!   `C`: as stored (1 for gray, 3 for color), or forced to gray or RGB. Alpha is dropped
//!   without blending, 16-bit samples are reduced to 8 bits, and EXIF orientation is not
//!   applied (as PIL's `Image.open` and torchvision's decoders by default).
//!
//! Errors: a root without class folders, a class folder without images and a folder name
//! that is not UTF-8 are [`Error::File`]s naming the folder; an undecodable image names the
//! file and the decoder's complaint. [`ImageFolder::open`] only lists files; decoding
//! happens in [`ImageFolder::try_get`] (lazily, per item) or [`ImageFolder::load_all`]
//! (everything at once, checking that all images end up with one shape).

use std::ffi::OsStr;
use std::fs;
use std::io::Cursor;
use std::path::{Path, PathBuf};

use convkit_core::{Error, MemoryBudget, Result};
use image::{DynamicImage, ImageFormat, ImageReader};
use serde::{Deserialize, Serialize};

use crate::transform::{Transform, item_rng};
use crate::{Dataset, ImageItem, ImageSet, Pixels};

/// Extensions (lowercase) of the files an [`ImageFolder`] reads.
const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// Folders nested deeper than this below a class folder are an error: a symbolic link loop
/// would otherwise recurse forever.
const MAX_DEPTH: usize = 16;

/// The channels images are decoded to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Channels {
    /// 1 channel for gray images, 3 for color ones. A folder mixing both cannot be
    /// batched as it is; [`ImageFolder::load_all`] reports the first mismatch.
    #[default]
    AsStored,
    /// 1 channel. Color is converted with the ITU-R BT.601 luma weights as PIL's
    /// `convert("L")` does, in the same fixed-point form so the bytes match PIL:
    /// `(19595 R + 38470 G + 7471 B + 32768) >> 16` (0.299, 0.587 and 0.114 scaled by
    /// 2^16).
    Gray,
    /// 3 channels; a gray image is repeated in R, G and B (PIL's `convert("RGB")`).
    Rgb,
}

/// An image decoded to bytes: `[C, H, W]` planes of `value / 255` intensities.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedImage {
    /// `C × H × W` bytes, channel-major (`[C, H, W]`).
    pub pixels: Vec<u8>,
    /// `[C, H, W]`.
    pub shape: [usize; 3],
    /// Colour channels the file stores (1 gray, 3 colour; alpha not counted): differs from
    /// `shape[0]` when decoding converted the image.
    pub stored_channels: usize,
}

impl DecodedImage {
    /// The image as floats in `[0, 1]` with class `label`.
    pub fn into_item(self, label: usize) -> ImageItem {
        ImageItem {
            pixels: self.pixels.iter().map(|&p| f32::from(p) / 255.0).collect(),
            shape: self.shape,
            label,
        }
    }
}

/// The most pixels (width × height) [`decode_image`] accepts: 2^26, about 67 megapixels
/// (8192 × 8192). A compressed file of a few hundred bytes can claim a 36000 × 4000 image;
/// the header is checked against this before anything is decoded or allocated.
pub const MAX_PIXELS: u64 = 1 << 26;

/// Decodes a PNG or JPEG file held in `bytes` to `channels`; `name` is what errors name.
///
/// Anything else (an unknown signature, another format, a truncated or corrupt file, a
/// header claiming more than [`MAX_PIXELS`] pixels) is an [`Error::File`].
pub fn decode_image(
    bytes: &[u8],
    name: impl AsRef<Path>,
    channels: Channels,
) -> Result<DecodedImage> {
    decode_image_limited(bytes, name, channels, MAX_PIXELS)
}

/// [`decode_image`] with another pixel limit (e.g. lower for untrusted uploads, higher for
/// very large scans).
pub fn decode_image_limited(
    bytes: &[u8],
    name: impl AsRef<Path>,
    channels: Channels,
    max_pixels: u64,
) -> Result<DecodedImage> {
    let name = name.as_ref();
    let format = match image::guess_format(bytes) {
        Ok(format @ (ImageFormat::Png | ImageFormat::Jpeg)) => format,
        Ok(other) => {
            return Err(Error::file(
                name,
                format!("is a {other:?} image; only PNG and JPEG are read"),
            ));
        }
        Err(_) => {
            let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
            return Err(Error::file(
                name,
                format!(
                    "expected a PNG or JPEG signature, found the bytes [{}]",
                    head.join(" ")
                ),
            ));
        }
    };
    let corrupt = |e: image::ImageError| {
        Error::file(name, format!("cannot decode the {format:?} image: {e}"))
    };
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), format)
        .into_dimensions()
        .map_err(corrupt)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(Error::file(
            name,
            format!(
                "the {format:?} header claims {width} × {height} = {pixels} pixels, more than \
                 the limit of {max_pixels} ({} bytes of file)",
                bytes.len()
            ),
        ));
    }
    let image = ImageReader::with_format(Cursor::new(bytes), format)
        .decode()
        .map_err(corrupt)?;
    Ok(convert(&image, channels))
}

/// Reads and decodes the PNG or JPEG file at `path` (see [`decode_image`]).
pub fn read_image(path: impl AsRef<Path>, channels: Channels) -> Result<DecodedImage> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    decode_image(&bytes, path, channels)
}

/// `image` in `channels`, as `[C, H, W]` bytes.
fn convert(image: &DynamicImage, channels: Channels) -> DecodedImage {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let color = image.color().has_color();
    let stored_channels = if color { 3 } else { 1 };
    let rgb = match channels {
        Channels::AsStored => color,
        Channels::Gray => false,
        Channels::Rgb => true,
    };
    if rgb {
        let interleaved = image.to_rgb8().into_raw();
        let mut pixels = Vec::with_capacity(interleaved.len());
        for c in 0..3 {
            pixels.extend(interleaved.iter().skip(c).step_by(3));
        }
        DecodedImage {
            pixels,
            shape: [3, h, w],
            stored_channels,
        }
    } else if color {
        let pixels = image
            .to_rgb8()
            .into_raw()
            .chunks_exact(3)
            .map(|p| pil_luma(p[0], p[1], p[2]))
            .collect();
        DecodedImage {
            pixels,
            shape: [1, h, w],
            stored_channels,
        }
    } else {
        DecodedImage {
            pixels: image.to_luma8().into_raw(),
            shape: [1, h, w],
            stored_channels,
        }
    }
}

/// PIL's `convert("L")` of one RGB pixel (see [`Channels::Gray`]).
fn pil_luma(r: u8, g: u8, b: u8) -> u8 {
    let l = u32::from(r) * 19595 + u32::from(g) * 38470 + u32::from(b) * 7471 + 0x8000;
    // The weights sum to 2^16, so the shifted value is at most 255.
    (l >> 16) as u8
}

/// Whether a folder entry is hidden (skipped everywhere).
fn hidden(name: &OsStr) -> bool {
    name.as_encoded_bytes().first() == Some(&b'.')
}

/// The non-hidden entries of `dir` as `(path, is_folder)`, sorted by path. Symbolic links
/// are followed.
fn list(dir: &Path) -> Result<Vec<(PathBuf, bool)>> {
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if hidden(&entry.file_name()) {
            continue;
        }
        let path = entry.path();
        let meta = fs::metadata(&path).map_err(|e| Error::io(&path, e))?;
        entries.push((path, meta.is_dir()));
    }
    entries.sort();
    Ok(entries)
}

/// Appends the image files under `dir` (recursively) to `files`.
fn collect_images(dir: &Path, depth: usize, files: &mut Vec<PathBuf>) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(Error::file(
            dir,
            format!(
                "folders nested more than {MAX_DEPTH} levels below the class folder \
                 (a symbolic link loop?)"
            ),
        ));
    }
    for (path, is_folder) in list(dir)? {
        if is_folder {
            collect_images(&path, depth + 1, files)?;
        } else if path
            .extension()
            .and_then(OsStr::to_str)
            .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        {
            files.push(path);
        }
    }
    Ok(())
}

/// A folder of labelled images (layout in the module documentation), decoded on access.
///
/// As a [`Dataset`], `get` returns `None` for an image that fails to decode; use
/// [`ImageFolder::try_get`] to see why, or [`ImageFolder::load_all`] to check everything
/// before training.
#[derive(Debug, Clone)]
pub struct ImageFolder {
    root: PathBuf,
    classes: Vec<String>,
    files: Vec<PathBuf>,
    labels: Vec<usize>,
    channels: Channels,
}

impl ImageFolder {
    /// Lists the classes and image files under `root`; images will be decoded to
    /// `channels`.
    pub fn open(root: impl AsRef<Path>, channels: Channels) -> Result<Self> {
        let root = root.as_ref();
        let mut classes = Vec::new();
        let mut files = Vec::new();
        let mut labels = Vec::new();
        for (dir, _) in list(root)?.into_iter().filter(|(_, is_folder)| *is_folder) {
            let name = dir
                .file_name()
                .and_then(OsStr::to_str)
                .ok_or_else(|| Error::file(&dir, "class folder name is not valid UTF-8"))?
                .to_string();
            let before = files.len();
            collect_images(&dir, 0, &mut files)?;
            if files.len() == before {
                return Err(Error::file(
                    &dir,
                    format!(
                        "class folder `{name}` holds no image (expected files ending in \
                         .png, .jpg or .jpeg)"
                    ),
                ));
            }
            labels.resize(files.len(), classes.len());
            classes.push(name);
        }
        if classes.is_empty() {
            return Err(Error::file(
                root,
                "no class folders: expected one sub-folder per class holding .png, .jpg or \
                 .jpeg images",
            ));
        }
        Ok(ImageFolder {
            root: root.to_path_buf(),
            classes,
            files,
            labels,
            channels,
        })
    }

    /// The folder the dataset was opened from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Class names (sub-folder names, sorted), indexed by label.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The label of every item, in item order.
    pub fn labels(&self) -> &[usize] {
        &self.labels
    }

    /// The file of item `index`.
    pub fn path(&self, index: usize) -> Option<&Path> {
        self.files.get(index).map(PathBuf::as_path)
    }

    fn decode(&self, index: usize) -> Result<(DecodedImage, usize)> {
        let (Some(path), Some(&label)) = (self.files.get(index), self.labels.get(index)) else {
            return Err(Error::invalid(
                "image index",
                format!(
                    "{index} is out of range for {} images under {}",
                    self.files.len(),
                    self.root.display()
                ),
            ));
        };
        Ok((read_image(path, self.channels)?, label))
    }

    /// Item `index`, decoded; an error names the file that could not be read or decoded.
    pub fn try_get(&self, index: usize) -> Result<ImageItem> {
        let (image, label) = self.decode(index)?;
        Ok(image.into_item(label))
    }

    /// Decodes every image into memory, optionally through `transform`, and checks that
    /// they all end up with one shape.
    ///
    /// Without a transform the pixels stay bytes ([`Pixels::U8`]); with one they are the
    /// transform's floats ([`Pixels::F32`]). A random transform is applied once, with
    /// [`item_rng`]`(0, 0, index)`: augmentation that should change every epoch belongs in
    /// a [`crate::transform::Transformed`] wrapper instead.
    ///
    /// All images must share the first one's shape, so once it is decoded the set's size is
    /// known: it is checked against `budget` and allocated exactly, before any other image is
    /// decoded (each image alone is bounded by [`MAX_PIXELS`]). Many large images are thus an
    /// error, not an allocation failure, and memory peaks at the set plus one image.
    pub fn load_all(
        &self,
        transform: Option<&dyn Transform>,
        budget: &MemoryBudget,
    ) -> Result<ImageSet> {
        let mut shape = None;
        let mut bytes = Vec::new();
        let mut floats = Vec::new();
        let count = self.files.len() as u64;
        let reserve = |values: usize, size: u64, first: &Path| {
            budget.check_items(
                &format!(
                    "decoding {count} images like {} ({values} values each)",
                    first.display()
                ),
                count,
                size * values as u64,
            )
        };
        for index in 0..self.files.len() {
            let (image, label) = self.decode(index)?;
            let path = &self.files[index];
            let item_shape = match transform {
                None => {
                    if index == 0 {
                        reserve(image.pixels.len(), 1, path)?;
                        bytes.reserve_exact(image.pixels.len() * self.files.len());
                    }
                    let s = image.shape;
                    bytes.extend_from_slice(&image.pixels);
                    s
                }
                Some(t) => {
                    let item = t
                        .apply(image.into_item(label), &mut item_rng(0, 0, index))
                        .map_err(|e| Error::file(path, format!("transform failed: {e}")))?;
                    if index == 0 {
                        reserve(item.pixels.len(), 4, path)?;
                        floats.reserve_exact(item.pixels.len() * self.files.len());
                    }
                    floats.extend_from_slice(&item.pixels);
                    item.shape
                }
            };
            match shape {
                None => shape = Some((item_shape, path)),
                Some((first, first_path)) if first != item_shape => {
                    let fix = if first[0] != item_shape[0] {
                        "all images must share one channel count (decode them as gray or \
                         RGB)"
                    } else {
                        "all images must share one size (resize or crop them with a transform)"
                    };
                    return Err(Error::file(
                        path,
                        format!(
                            "gives an image of shape {item_shape:?} but {} gives {first:?}; \
                             {fix}",
                            first_path.display()
                        ),
                    ));
                }
                Some(_) => {}
            }
        }
        let shape = shape.map_or([0; 3], |(s, _)| s);
        let pixels = match transform {
            None => Pixels::U8(bytes),
            Some(_) => Pixels::F32(floats),
        };
        ImageSet::new(pixels, shape, self.labels.clone(), self.classes.clone())
            .ok_or_else(|| Error::invalid("image set", "pixel count does not match the labels"))
    }
}

impl Dataset for ImageFolder {
    type Item = ImageItem;

    fn len(&self) -> usize {
        self.files.len()
    }

    /// The decoded item; `None` out of range or when the file cannot be decoded.
    fn get(&self, index: usize) -> Option<ImageItem> {
        self.try_get(index).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transform::{CenterCrop, Compose, Resize, ResizeFilter, ResizeTo, Transformed};

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/images");

    fn folder(channels: Channels) -> ImageFolder {
        ImageFolder::open(format!("{DIR}/folder"), channels).unwrap()
    }

    /// Pixels back as bytes (exact: they were `byte / 255`).
    fn bytes(item: &ImageItem) -> Vec<u8> {
        item.pixels
            .iter()
            .map(|p| (p * 255.0).round() as u8)
            .collect()
    }

    /// The fixture images, as written: `a.png` gray `4 i`, `b.PNG` RGB `(32 x, 32 y,
    /// 255 - 16 (x + y))`, `c.png` gray `255 - 4 i` with alpha 128, `d.jpg` RGB
    /// `(40 + 20 x, 200 - 10 y, 100 + 5 (x + y))` at quality 95; all 8x8.
    fn planes(f: impl Fn(usize, usize) -> [u8; 3]) -> Vec<u8> {
        (0..3)
            .flat_map(|c| (0..64).map(move |i| (c, i)))
            .map(|(c, i)| f(i % 8, i / 8)[c])
            .collect()
    }

    fn gray_a() -> Vec<u8> {
        (0..64).map(|i| (i * 4) as u8).collect()
    }

    fn rgb_b() -> Vec<u8> {
        planes(|x, y| [x * 32, y * 32, 255 - (x + y) * 16].map(|v| v as u8))
    }

    #[test]
    fn open_lists_classes_and_files_in_order() {
        let data = folder(Channels::AsStored);
        assert_eq!(data.classes(), ["circle", "square"]);
        assert_eq!(data.labels(), [0, 0, 1, 1]);
        assert_eq!(data.len(), 4);
        let names: Vec<_> = (0..4)
            .map(|i| {
                let path = data.path(i).unwrap();
                path.strip_prefix(data.root())
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        // Hidden `.cache/`, `.DS_Store`, `README.txt` and `notes.txt` are skipped; the
        // upper-case extension and the nested folder are read.
        assert_eq!(
            names,
            [
                "circle/a.png",
                "circle/b.PNG",
                "square/c.png",
                "square/jpeg/d.jpg"
            ]
        );
        assert!(data.path(4).is_none());
    }

    #[test]
    fn png_pixels_are_exact() {
        let data = folder(Channels::AsStored);
        let a = data.try_get(0).unwrap();
        assert_eq!((a.shape, a.label), ([1, 8, 8], 0));
        assert_eq!(bytes(&a), gray_a());
        let b = data.try_get(1).unwrap();
        assert_eq!(b.shape, [3, 8, 8]);
        assert_eq!(bytes(&b), rgb_b());
        let c = data.get(2).unwrap();
        assert_eq!((c.shape, c.label), ([1, 8, 8], 1), "alpha is dropped");
        assert_eq!(
            bytes(&c),
            (0..64).map(|i| (255 - i * 4) as u8).collect::<Vec<_>>()
        );
    }

    #[test]
    fn jpeg_pixels_are_close() {
        let d = folder(Channels::AsStored).try_get(3).unwrap();
        assert_eq!(d.shape, [3, 8, 8]);
        let expected =
            planes(|x, y| [40 + x * 20, 200 - y * 10, 100 + (x + y) * 5].map(|v| v as u8));
        let worst = bytes(&d)
            .iter()
            .zip(&expected)
            .map(|(a, e)| a.abs_diff(*e))
            .max()
            .unwrap();
        assert!(worst <= 6, "largest JPEG error {worst}/255");
    }

    #[test]
    fn forced_channels() {
        let rgb = folder(Channels::Rgb);
        let a = rgb.try_get(0).unwrap();
        assert_eq!(a.shape, [3, 8, 8]);
        assert_eq!(bytes(&a), gray_a().repeat(3), "gray repeated in R, G and B");
        let gray = folder(Channels::Gray);
        let b = gray.try_get(1).unwrap();
        assert_eq!(b.shape, [1, 8, 8]);
        let rgb_b = rgb_b();
        let expected: Vec<u8> = (0..64)
            .map(|i| pil_luma(rgb_b[i], rgb_b[64 + i], rgb_b[128 + i]))
            .collect();
        assert_eq!(bytes(&b), expected);
        // (0, 0, 255) and (224, 224, 31): PIL's convert("L") gives 29 and 202.
        assert_eq!((expected[0], expected[63]), (29, 202));
        assert_eq!(
            [
                (255, 0, 0),
                (0, 255, 0),
                (0, 0, 255),
                (255, 255, 255),
                (0, 0, 0)
            ]
            .map(|(r, g, b)| pil_luma(r, g, b)),
            [76, 150, 29, 255, 0]
        );
        assert_eq!(gray.try_get(2).unwrap().shape, [1, 8, 8]);
    }

    #[test]
    fn load_all_checks_one_shape() {
        let e = folder(Channels::AsStored)
            .load_all(None, &MemoryBudget::machine_default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("b.PNG: gives an image of shape [3, 8, 8]")
                && e.contains("a.png gives [1, 8, 8]"),
            "{e}"
        );
        let data = folder(Channels::Rgb);
        let set = data
            .load_all(None, &MemoryBudget::machine_default())
            .unwrap();
        assert_eq!(set.shape(), [3, 8, 8]);
        assert_eq!(set.labels(), [0, 0, 1, 1]);
        assert_eq!(set.classes(), ["circle", "square"]);
        for i in 0..4 {
            assert_eq!(set.get(i).unwrap(), data.try_get(i).unwrap());
        }
        let crop = CenterCrop::new(4, 4).unwrap();
        let cropped = data
            .load_all(Some(&crop), &MemoryBudget::machine_default())
            .unwrap();
        assert_eq!(cropped.shape(), [3, 4, 4]);
        assert_eq!(
            cropped.get(1).unwrap().pixels[0],
            64.0 / 255.0,
            "b.PNG at (2, 2)"
        );
        let too_big = CenterCrop::new(9, 9).unwrap();
        let e = data
            .load_all(Some(&too_big), &MemoryBudget::machine_default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("a.png: transform failed: CenterCrop input"),
            "{e}"
        );
    }

    #[test]
    fn decoding_stops_at_the_memory_limit() {
        let data = folder(Channels::Rgb);
        let e = data
            .load_all(None, &MemoryBudget::new(100))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("decoding 4 images like ") && e.contains("a.png"),
            "{e}"
        );
        assert!(data.load_all(None, &MemoryBudget::new(1 << 20)).is_ok());
    }

    #[test]
    fn transformed_folder() {
        let resize = Resize::new(ResizeTo::Shorter(4), ResizeFilter::default()).unwrap();
        let data = Transformed::new(folder(Channels::Gray), Compose::new().then(resize), 1);
        let item = data.get(3).unwrap();
        assert_eq!((item.shape, item.label), ([1, 4, 4], 1));
    }

    #[test]
    fn corrupt_file_is_named() {
        let data = ImageFolder::open(format!("{DIR}/broken"), Channels::Rgb).unwrap();
        let e = data.try_get(0).unwrap_err().to_string();
        assert!(
            e.contains("broken/bad/corrupt.png: cannot decode the Png image"),
            "{e}"
        );
        assert!(data.get(0).is_none());
        assert!(
            data.load_all(None, &MemoryBudget::machine_default())
                .unwrap_err()
                .to_string()
                .contains("corrupt.png")
        );
        let e = data.try_get(1).unwrap_err().to_string();
        assert!(e.contains("1 is out of range for 1 images"), "{e}");
    }

    #[test]
    fn folder_errors_name_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("stray.png"), b"x").unwrap();
        let e = ImageFolder::open(dir.path(), Channels::Rgb)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no class folders"), "{e}");
        fs::create_dir(dir.path().join("cats")).unwrap();
        fs::write(dir.path().join("cats/notes.txt"), b"x").unwrap();
        fs::create_dir(dir.path().join("cats/.thumbs")).unwrap();
        fs::write(dir.path().join("cats/.thumbs/x.png"), b"x").unwrap();
        let e = ImageFolder::open(dir.path(), Channels::Rgb)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cats: class folder `cats` holds no image (expected files ending in"),
            "{e}"
        );
        let missing = dir.path().join("nope");
        let e = ImageFolder::open(&missing, Channels::Rgb)
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope"), "{e}");
    }

    fn encode_png(
        width: u32,
        height: u32,
        data: &[u8],
        color: image::ExtendedColorType,
    ) -> Vec<u8> {
        use image::ImageEncoder;
        let mut out = Vec::new();
        image::codecs::png::PngEncoder::new(&mut out)
            .write_image(data, width, height, color)
            .unwrap();
        out
    }

    #[test]
    fn decode_image_formats_and_errors() {
        let e = decode_image(b"hello world", "x.png", Channels::Rgb)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "x.png: expected a PNG or JPEG signature, found the bytes [68 65 6c 6c 6f 20 77 6f]"
        );
        let e = decode_image(b"GIF89a\x01\x00\x01\x00", "x.gif", Channels::Rgb)
            .unwrap_err()
            .to_string();
        assert_eq!(e, "x.gif: is a Gif image; only PNG and JPEG are read");
        let e = decode_image(&[], "empty.png", Channels::Rgb)
            .unwrap_err()
            .to_string();
        assert!(e.contains("found the bytes []"), "{e}");

        // 16-bit gray, big-endian samples 0, 32896 (128 * 257) and 65535: reduced to bytes.
        let png = encode_png(
            3,
            1,
            &[0, 0, 0x80, 0x80, 0xff, 0xff],
            image::ExtendedColorType::L16,
        );
        let image = decode_image(&png, "g16.png", Channels::AsStored).unwrap();
        assert_eq!((image.pixels, image.shape), (vec![0, 128, 255], [1, 1, 3]));
        // RGBA as stored: alpha dropped, channel-major.
        let png = encode_png(
            2,
            1,
            &[1, 2, 3, 9, 4, 5, 6, 9],
            image::ExtendedColorType::Rgba8,
        );
        let image = decode_image(&png, "rgba.png", Channels::AsStored).unwrap();
        assert_eq!(
            (image.pixels, image.shape),
            (vec![1, 4, 2, 5, 3, 6], [3, 1, 2])
        );

        // A header claiming 100000 x 100000 RGB (30 GB) is refused, not allocated.
        let mut huge = png[..8].to_vec();
        let mut ihdr = b"IHDR".to_vec();
        ihdr.extend(100_000u32.to_be_bytes());
        ihdr.extend(100_000u32.to_be_bytes());
        ihdr.extend([8, 2, 0, 0, 0]);
        let mut crc = flate2::Crc::new();
        crc.update(&ihdr);
        huge.extend(13u32.to_be_bytes());
        huge.extend(&ihdr);
        huge.extend(crc.sum().to_be_bytes());
        let e = decode_image(&huge, "huge.png", Channels::Rgb)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("huge.png: cannot decode the Png image"),
            "{e}"
        );

        // Found by fuzzing: a 700-byte JPEG whose header claims 4104 × 36362 pixels (a
        // 450 MB decode taking 15 s) is refused from its header.
        let jpeg = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/images/huge_claim.jpg"
        ))
        .unwrap();
        let e = decode_image(&jpeg, "huge.jpg", Channels::AsStored)
            .unwrap_err()
            .to_string();
        assert!(e.contains("pixels, more than the limit of 67108864"), "{e}");
        let small = decode_image_limited(&png, "rgba.png", Channels::AsStored, 1).unwrap_err();
        assert!(small.to_string().contains("limit of 1"), "{small}");
    }
}
