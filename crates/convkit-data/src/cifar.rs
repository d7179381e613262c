//! CIFAR-10 and CIFAR-100 binary batches.
//!
//! CIFAR-10 (`data_batch_1.bin` … `data_batch_5.bin`, `test_batch.bin`): records of one label
//! byte and 3,072 pixel bytes (`[3, 32, 32]`, channel-major). CIFAR-100 (`train.bin`,
//! `test.bin`): records of a coarse label byte, a fine label byte and 3,072 pixel bytes.
//! Class names come from `batches.meta.txt` / `fine_label_names.txt` /
//! `coarse_label_names.txt` when present, else the published names' indices.

use std::path::Path;

use convkit_core::{Error, Result};

use crate::{ImageSet, Pixels};

const PIXELS: usize = 3 * 32 * 32;

/// Which CIFAR variant, and for CIFAR-100 which labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cifar {
    /// 10 classes.
    Ten,
    /// 100 fine classes.
    HundredFine,
    /// 20 coarse superclasses of CIFAR-100.
    HundredCoarse,
}

impl Cifar {
    fn label_bytes(self) -> usize {
        match self {
            Cifar::Ten => 1,
            Cifar::HundredFine | Cifar::HundredCoarse => 2,
        }
    }

    fn classes(self) -> usize {
        match self {
            Cifar::Ten => 10,
            Cifar::HundredFine => 100,
            Cifar::HundredCoarse => 20,
        }
    }

    fn names_file(self) -> &'static str {
        match self {
            Cifar::Ten => "batches.meta.txt",
            Cifar::HundredFine => "fine_label_names.txt",
            Cifar::HundredCoarse => "coarse_label_names.txt",
        }
    }

    fn train_files(self) -> Vec<String> {
        match self {
            Cifar::Ten => (1..=5).map(|i| format!("data_batch_{i}.bin")).collect(),
            _ => vec!["train.bin".into()],
        }
    }

    fn test_file(self) -> &'static str {
        match self {
            Cifar::Ten => "test_batch.bin",
            _ => "test.bin",
        }
    }
}

/// Appends the records of one binary batch file to `pixels` and `labels`.
pub fn read_batch(
    path: &Path,
    kind: Cifar,
    pixels: &mut Vec<u8>,
    labels: &mut Vec<usize>,
) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_batch(&bytes, path, kind, pixels, labels)
}

/// Appends the records of one binary batch held in memory; `path` is what errors name.
pub fn parse_batch(
    bytes: &[u8],
    path: &Path,
    kind: Cifar,
    pixels: &mut Vec<u8>,
    labels: &mut Vec<usize>,
) -> Result<()> {
    let record = kind.label_bytes() + PIXELS;
    if bytes.is_empty() || !bytes.len().is_multiple_of(record) {
        return Err(Error::file(
            path,
            format!(
                "{} bytes is not a whole number of {record}-byte {kind:?} records (truncated or not a CIFAR batch)",
                bytes.len()
            ),
        ));
    }
    let label_at = kind.label_bytes() - 1 - usize::from(kind == Cifar::HundredCoarse);
    for (i, rec) in bytes.chunks_exact(record).enumerate() {
        let label = rec[label_at] as usize;
        if label >= kind.classes() {
            return Err(Error::file(
                path,
                format!(
                    "record {i} (byte {}): label {label} out of range 0..{}",
                    i * record + label_at,
                    kind.classes()
                ),
            ));
        }
        labels.push(label);
        pixels.extend_from_slice(&rec[kind.label_bytes()..]);
    }
    Ok(())
}

fn class_names(dir: &Path, kind: Cifar) -> Result<Vec<String>> {
    let path = dir.join(kind.names_file());
    let Some(names) = crate::read_class_names(&path)? else {
        return Ok((0..kind.classes()).map(|c| c.to_string()).collect());
    };
    if names.len() != kind.classes() {
        return Err(Error::file(
            &path,
            format!("{} class names, expected {}", names.len(), kind.classes()),
        ));
    }
    Ok(names)
}

/// Reads the training and test sets of a CIFAR folder (the extracted `*-binary` archive).
pub fn read_cifar_dir(dir: impl AsRef<Path>, kind: Cifar) -> Result<(ImageSet, ImageSet)> {
    let dir = dir.as_ref();
    let names = class_names(dir, kind)?;
    let load = |files: &[String]| -> Result<ImageSet> {
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        for f in files {
            read_batch(&dir.join(f), kind, &mut pixels, &mut labels)?;
        }
        ImageSet::new(Pixels::U8(pixels), [3, 32, 32], labels, names.clone())
            .ok_or_else(|| Error::file(dir, "inconsistent CIFAR batches"))
    };
    Ok((
        load(&kind.train_files())?,
        load(&[kind.test_file().to_string()])?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dataset;

    fn record(labels: &[u8], fill: u8) -> Vec<u8> {
        let mut r = labels.to_vec();
        r.extend(std::iter::repeat_n(fill, PIXELS));
        r
    }

    #[test]
    fn reads_both_variants_and_reports_bad_records() {
        let dir = std::env::temp_dir().join(format!("convkit-cifar-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut bytes = record(&[3], 255);
        bytes.extend(record(&[9], 0));
        for i in 1..=5 {
            std::fs::write(dir.join(format!("data_batch_{i}.bin")), &bytes).unwrap();
        }
        std::fs::write(dir.join("test_batch.bin"), record(&[1], 51)).unwrap();
        let (train, test) = read_cifar_dir(&dir, Cifar::Ten).unwrap();
        assert_eq!((train.len(), test.len()), (10, 1));
        let item = test.get(0).unwrap();
        assert_eq!(
            (item.label, item.shape, item.pixels[0]),
            (1, [3, 32, 32], 0.2)
        );

        std::fs::write(dir.join("train.bin"), record(&[4, 77], 0)).unwrap();
        std::fs::write(dir.join("test.bin"), record(&[19, 99], 0)).unwrap();
        let (fine, _) = read_cifar_dir(&dir, Cifar::HundredFine).unwrap();
        assert_eq!(fine.labels(), &[77]);
        let (_, coarse) = read_cifar_dir(&dir, Cifar::HundredCoarse).unwrap();
        assert_eq!(coarse.labels(), &[19]);

        std::fs::write(dir.join("test_batch.bin"), &bytes[..100]).unwrap();
        let e = read_cifar_dir(&dir, Cifar::Ten).unwrap_err().to_string();
        assert!(
            e.contains("100 bytes is not a whole number of 3073-byte"),
            "{e}"
        );
        let mut bad = record(&[3], 0);
        bad.extend(record(&[12], 0));
        std::fs::write(dir.join("test_batch.bin"), bad).unwrap();
        let e = read_cifar_dir(&dir, Cifar::Ten).unwrap_err().to_string();
        assert!(
            e.contains("record 1 (byte 3073): label 12 out of range 0..10"),
            "{e}"
        );
        std::fs::write(dir.join("batches.meta.txt"), "a\nb\n").unwrap();
        let e = read_cifar_dir(&dir, Cifar::Ten).unwrap_err().to_string();
        assert!(e.contains("2 class names, expected 10"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn committed_cifar10_fixture() {
        // Two CIFAR-10 records (labels 3 and 9; byte k of record r's pixels is (100 r + k) mod
        // 256), in the layout of `test_batch.bin`.
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/cifar/test_batch.bin"
        ));
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        read_batch(path, Cifar::Ten, &mut pixels, &mut labels).unwrap();
        assert_eq!(labels, [3, 9]);
        assert_eq!(pixels.len(), 2 * 3072);
        assert_eq!((pixels[0], pixels[3071], pixels[3072]), (0, 255, 100));
        let e = read_batch(path, Cifar::HundredFine, &mut pixels, &mut labels)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a whole number of 3074-byte"), "{e}");
    }
}
