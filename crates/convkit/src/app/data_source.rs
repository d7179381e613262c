//! `--data <format>:<path>`: the image-classification data a user already has, read into a
//! training and a test [`ImageSet`].

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use convkit_core::{Error, MemoryBudget, Result};
use convkit_data::cifar::{Cifar, read_cifar_dir};
use convkit_data::idx::read_idx_images;
use convkit_data::image_folder::{Channels, ImageFolder};
use convkit_data::npy::read_npy;
use convkit_data::npy_images::{ImageLayout, image_set_from_arrays};
use convkit_data::split::stratified_split;
use convkit_data::transform::{Resize, ResizeFilter, ResizeTo, Transform};
use convkit_data::{Dataset, ImageSet, read_class_names};
use serde::{Deserialize, Serialize};

/// The file layouts `--data` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DataFormat {
    /// MNIST-style IDX files: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
    /// `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each optionally `.gz`.
    Idx,
    /// CIFAR-10 binary batches (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`).
    Cifar10,
    /// CIFAR-100 binary batches (`train.bin`, `test.bin`), fine labels.
    Cifar100,
    /// Image folders: `train/<class>/*.png|jpg` and `test/<class>/…`, or class folders only
    /// (a stratified share is then held out for testing).
    Images,
    /// NumPy arrays `x_train.npy`, `y_train.npy`, `x_test.npy`, `y_test.npy` and an optional
    /// `classes.txt` (one class name per line).
    Npy,
}

impl DataFormat {
    const ALL: [DataFormat; 5] = [
        DataFormat::Idx,
        DataFormat::Cifar10,
        DataFormat::Cifar100,
        DataFormat::Images,
        DataFormat::Npy,
    ];

    /// The name used in `--data`.
    pub fn name(self) -> &'static str {
        match self {
            DataFormat::Idx => "idx",
            DataFormat::Cifar10 => "cifar10",
            DataFormat::Cifar100 => "cifar100",
            DataFormat::Images => "images",
            DataFormat::Npy => "npy",
        }
    }
}

/// A `--data` argument: a format and a folder.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSource {
    /// How the folder is laid out.
    pub format: DataFormat,
    /// The folder.
    pub path: PathBuf,
}

impl fmt::Display for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.format.name(), self.path.display())
    }
}

impl FromStr for DataSource {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let names: Vec<_> = DataFormat::ALL.iter().map(|f| f.name()).collect();
        let Some((format, path)) = s.split_once(':') else {
            return Err(Error::invalid(
                "--data",
                format!(
                    "`{s}` has no format: write <format>:<folder>, e.g. idx:data/mnist, with \
                     <format> one of {}",
                    names.join(", ")
                ),
            ));
        };
        let format = DataFormat::ALL
            .into_iter()
            .find(|f| f.name() == format.to_ascii_lowercase())
            .ok_or_else(|| {
                Error::invalid(
                    "--data",
                    format!(
                        "unknown data format `{format}`; expected one of {}",
                        names.join(", ")
                    ),
                )
            })?;
        if path.is_empty() {
            return Err(Error::invalid(
                "--data",
                format!("`{s}` names no folder after `{}:`", format.name()),
            ));
        }
        Ok(DataSource {
            format,
            path: PathBuf::from(path),
        })
    }
}

/// How images are brought to one tensor shape; saved in the checkpoint so `eval` and
/// `predict` repeat it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preprocess {
    /// Resize every image to `[height, width]` (bilinear with antialiasing, torchvision's
    /// `Resize` default).
    pub resize: Option<[usize; 2]>,
    /// Channels image files are decoded to (`images` format only).
    pub channels: Channels,
    /// Where the channel axis of rank-4 NumPy arrays is (`npy` format only).
    pub layout: ImageLayout,
    /// Share held out for testing when an `images` folder has no `test/`.
    pub val_fraction: f64,
    /// Seed of that split.
    pub split_seed: u64,
}

impl Default for Preprocess {
    fn default() -> Self {
        Preprocess {
            resize: None,
            channels: Channels::AsStored,
            layout: ImageLayout::Auto,
            val_fraction: 0.2,
            split_seed: 0,
        }
    }
}

impl Preprocess {
    /// Parses a `--resize` value, `HEIGHTxWIDTH` with positive numbers (`32x32`).
    pub fn parse_resize(text: &str) -> Result<[usize; 2]> {
        text.split_once(['x', 'X'])
            .and_then(|(h, w)| Some([h.trim().parse().ok()?, w.trim().parse().ok()?]))
            .filter(|[h, w]: &[usize; 2]| *h > 0 && *w > 0)
            .ok_or_else(|| {
                Error::invalid(
                    "--resize",
                    format!("`{text}`: expected HEIGHTxWIDTH with positive numbers, e.g. 32x32"),
                )
            })
    }

    /// The resize to `[height, width]` with the filter used everywhere in the command line.
    pub fn resize_to(height: usize, width: usize) -> Result<Resize> {
        Resize::new(
            ResizeTo::Exact { height, width },
            ResizeFilter::BilinearAntialias,
        )
    }

    fn resize(&self) -> Result<Option<Resize>> {
        self.resize.map(|[h, w]| Self::resize_to(h, w)).transpose()
    }
}

/// Training and test images read from a [`DataSource`].
#[derive(Debug, Clone)]
pub struct LoadedData {
    /// The training split.
    pub train: ImageSet,
    /// The test split.
    pub test: ImageSet,
    /// Where the test split came from (`t10k files`, `test/ folder`, `held out 20% …`).
    pub test_origin: String,
    /// Whether the test split was held out of the training images
    /// ([`Preprocess::val_fraction`]) rather than given by the data.
    pub held_out: bool,
    /// What was detected while reading (array layout, conversions), for the user.
    pub notes: Vec<String>,
}

/// Reads `source`, applies `pre`, and checks that both splits share one image shape and
/// that the test labels are among the training classes. What is held in memory (decoded
/// images, resized copies) is checked against `memory` before it is allocated.
pub fn load(source: &DataSource, pre: &Preprocess, memory: &MemoryBudget) -> Result<LoadedData> {
    let dir = &source.path;
    if !dir.is_dir() {
        return Err(Error::file(
            dir,
            if dir.exists() {
                "is not a folder: --data takes <format>:<folder>"
            } else {
                "no such folder"
            },
        ));
    }
    if pre.channels != Channels::AsStored && source.format != DataFormat::Images {
        return Err(Error::invalid(
            "--channels",
            "it applies to the images format only (decoded image files)",
        ));
    }
    if pre.layout != ImageLayout::Auto && source.format != DataFormat::Npy {
        return Err(Error::invalid(
            "--layout",
            "it applies to the npy format only",
        ));
    }
    let mut notes = Vec::new();
    let resize = pre.resize()?;
    let (mut train, mut test, test_origin) = match source.format {
        DataFormat::Idx => {
            let train = read_idx_images(
                find(dir, "train-images-idx3-ubyte")?,
                find(dir, "train-labels-idx1-ubyte")?,
            )?;
            let labels = find(dir, "t10k-labels-idx1-ubyte")?;
            let test = read_idx_images(find(dir, "t10k-images-idx3-ubyte")?, &labels)?;
            let test = with_training_classes(test, train.classes(), &labels)?;
            (train, test, "the t10k files".to_string())
        }
        DataFormat::Cifar10 | DataFormat::Cifar100 => {
            let kind = if source.format == DataFormat::Cifar10 {
                Cifar::Ten
            } else {
                Cifar::HundredFine
            };
            let (train, test) = read_cifar_dir(dir, kind)?;
            (train, test, "the test batch".to_string())
        }
        DataFormat::Images => load_images(dir, pre, resize.as_ref(), memory, &mut notes)?,
        DataFormat::Npy => {
            let names = read_class_names(&dir.join("classes.txt"))?;
            let array = |name: &str| -> Result<_> {
                let path = dir.join(name);
                if !path.exists() {
                    return Err(Error::file(
                        &path,
                        "missing: an npy folder holds x_train.npy, y_train.npy, x_test.npy and \
                         y_test.npy",
                    ));
                }
                Ok((read_npy(&path)?, path))
            };
            let ((x, xp), (y, yp)) = (array("x_train.npy")?, array("y_train.npy")?);
            let (train, layout) = image_set_from_arrays(x, &xp, &y, &yp, pre.layout, names)?;
            let ((x, xp), (y, yp)) = (array("x_test.npy")?, array("y_test.npy")?);
            let names = Some(train.classes().to_vec());
            let (test, _) = image_set_from_arrays(x, &xp, &y, &yp, layout, names)?;
            notes.push(format!(
                "x_train.npy read as {layout} ({})",
                if pre.layout == ImageLayout::Auto {
                    "detected; --layout overrides"
                } else {
                    "from --layout"
                }
            ));
            (train, test, "x_test.npy / y_test.npy".to_string())
        }
    };
    if source.format != DataFormat::Images
        && let (Some(resize), Some([h, w])) = (&resize, pre.resize)
    {
        let [c, _, _] = train.shape();
        let images = (train.len() + test.len()) as u64;
        let each = (c as u64) * (h as u64) * (w as u64) * 4;
        memory.check_items(
            &format!("resizing {images} images to {h}x{w}"),
            images,
            each,
        )?;
        train = train.map_images(resize)?;
        test = test.map_images(resize)?;
    }
    if train.shape() != test.shape() {
        return Err(Error::invalid(
            "data",
            format!(
                "the test images are {:?} ([C, H, W]) but the training images are {:?}; pass \
                 --resize HxW to bring both to one size",
                test.shape(),
                train.shape()
            ),
        ));
    }
    if train.is_empty() || test.is_empty() {
        return Err(Error::file(
            dir,
            "the training or the test split holds no image",
        ));
    }
    Ok(LoadedData {
        train,
        test,
        test_origin,
        held_out: source.format == DataFormat::Images && !dir.join("train").is_dir(),
        notes,
    })
}

/// `dir/name`, or `dir/name.gz` when only that exists.
fn find(dir: &Path, name: &str) -> Result<PathBuf> {
    let plain = dir.join(name);
    let gz = dir.join(format!("{name}.gz"));
    if plain.exists() {
        Ok(plain)
    } else if gz.exists() {
        Ok(gz)
    } else {
        Err(Error::file(
            plain,
            "missing (also without .gz): an idx folder holds train-images-idx3-ubyte, \
             train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte",
        ))
    }
}

/// `test` relabelled with the training class names, or an error naming the first label the
/// training data does not have.
fn with_training_classes(test: ImageSet, classes: &[String], labels: &Path) -> Result<ImageSet> {
    if let Some((index, label)) = test
        .labels()
        .iter()
        .enumerate()
        .find(|&(_, &l)| l >= classes.len())
    {
        return Err(Error::file(
            labels,
            format!(
                "label {label} at index {index} is out of range: expected in 0..={} (the \
                 training labels' classes)",
                classes.len() - 1
            ),
        ));
    }
    ImageSet::new(
        test.pixels().clone(),
        test.shape(),
        test.labels().to_vec(),
        classes.to_vec(),
    )
    .ok_or_else(|| Error::file(labels, "inconsistent image and label counts"))
}

fn load_images(
    dir: &Path,
    pre: &Preprocess,
    resize: Option<&Resize>,
    memory: &MemoryBudget,
    notes: &mut Vec<String>,
) -> Result<(ImageSet, ImageSet, String)> {
    let read = |root: &Path| -> Result<ImageFolder> { ImageFolder::open(root, pre.channels) };
    let decode = |folder: &ImageFolder| -> Result<ImageSet> {
        if let Some([h, w]) = pre.resize {
            // Resized images are floats; at most 4 channels (RGBA files).
            let each = 4 * (h as u64) * (w as u64) * 4;
            let what = format!("{} images resized to {h}x{w}", folder.len());
            memory.check_items(&what, folder.len() as u64, each)?;
        }
        folder
            .load_all(resize.map(|r| r as &dyn Transform), memory)
            .map_err(|e| match (&e, resize) {
                (Error::File { path, reason }, _) if reason.contains("one channel count") => {
                    Error::file(
                        path,
                        format!(
                            "{reason}; with the command line, pass --channels gray or \
                             --channels rgb"
                        ),
                    )
                }
                (Error::File { path, reason }, None) if reason.contains("one size") => Error::file(
                    path,
                    format!("{reason}; with the command line, pass --resize HxW"),
                ),
                _ => e,
            })
    };
    let (train_dir, test_dir) = (dir.join("train"), dir.join("test"));
    if test_dir.is_dir() && !train_dir.is_dir() {
        return Err(Error::file(
            &train_dir,
            "missing: a folder with test/ also needs train/ (or put the class folders directly \
             in the folder to hold out --val-fraction of them)",
        ));
    }
    if train_dir.is_dir() {
        if !test_dir.is_dir() {
            return Err(Error::file(
                &test_dir,
                "missing: a folder with train/ also needs test/ (or put the class folders \
                 directly in the folder to hold out --val-fraction of them)",
            ));
        }
        let train = decode(&read(&train_dir)?)?;
        let test_folder = read(&test_dir)?;
        let mut labels = Vec::with_capacity(test_folder.len());
        for (index, &label) in test_folder.labels().iter().enumerate() {
            let name = &test_folder.classes()[label];
            let Some(train_label) = train.classes().iter().position(|c| c == name) else {
                let path = test_folder.path(index).unwrap_or(&test_dir);
                return Err(Error::file(
                    path.parent().unwrap_or(path),
                    format!(
                        "class `{name}` is not among the training classes ({})",
                        train.classes().join(", ")
                    ),
                ));
            };
            labels.push(train_label);
        }
        let test = decode(&test_folder)?;
        let test = ImageSet::new(
            test.pixels().clone(),
            test.shape(),
            labels,
            train.classes().to_vec(),
        )
        .ok_or_else(|| Error::file(&test_dir, "inconsistent image and label counts"))?;
        return Ok((train, test, "the test/ folder".into()));
    }
    let all = decode(&read(dir)?)?;
    let (train_idx, test_idx) = stratified_split(all.labels(), pre.val_fraction, pre.split_seed)?;
    let pick = |idx: &[usize]| {
        all.select(idx)
            .ok_or_else(|| Error::invalid("split", "index out of range"))
    };
    notes.push(format!(
        "no train/ and test/ folders: held out {} of {} images ({:.0}% per class, seed {}) for \
         testing",
        test_idx.len(),
        all.len(),
        100.0 * pre.val_fraction,
        pre.split_seed
    ));
    Ok((
        pick(&train_idx)?,
        pick(&test_idx)?,
        format!(
            "a stratified {:.0}% of the images (seed {})",
            100.0 * pre.val_fraction,
            pre.split_seed
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_arguments_parse_or_say_what_is_wrong() {
        let s: DataSource = "idx:data/mnist".parse().unwrap();
        assert_eq!(s.format, DataFormat::Idx);
        assert_eq!(s.path, PathBuf::from("data/mnist"));
        assert_eq!(s.to_string(), "idx:data/mnist");
        let c: DataSource = "CIFAR10:C:/x".parse().unwrap();
        assert_eq!(
            (c.format, c.path),
            (DataFormat::Cifar10, PathBuf::from("C:/x"))
        );
        let err = "tfrecord:x".parse::<DataSource>().unwrap_err().to_string();
        assert_eq!(
            err,
            "invalid --data: unknown data format `tfrecord`; expected one of idx, cifar10, \
             cifar100, images, npy"
        );
        assert!(
            "data/mnist"
                .parse::<DataSource>()
                .unwrap_err()
                .to_string()
                .contains("has no format")
        );
        assert!("npy:".parse::<DataSource>().is_err());
    }
}
