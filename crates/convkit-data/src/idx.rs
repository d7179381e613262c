//! The IDX format of MNIST and Fashion-MNIST (`*-ubyte`, optionally gzip-compressed).
//!
//! Layout: two zero bytes, a type code (`0x08` u8, `0x09` i8, `0x0B` i16, `0x0C` i32,
//! `0x0D` f32, `0x0E` f64), the rank, one big-endian `u32` per dimension, then the values in
//! row-major order, big-endian.
//!
//! Parsing checks the header against the data before allocating anything the header claims:
//! a truncated file, trailing bytes, a wrong magic number or an absurd dimension is an
//! [`Error::File`] naming the file, the byte offset and what was expected.

use std::io::{Read, Write};
use std::path::Path;

use convkit_core::{Error, Result};

/// The element type of an IDX file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdxType {
    /// `0x08`
    U8,
    /// `0x09`
    I8,
    /// `0x0B`
    I16,
    /// `0x0C`
    I32,
    /// `0x0D`
    F32,
    /// `0x0E`
    F64,
}

impl IdxType {
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0x08 => IdxType::U8,
            0x09 => IdxType::I8,
            0x0B => IdxType::I16,
            0x0C => IdxType::I32,
            0x0D => IdxType::F32,
            0x0E => IdxType::F64,
            _ => return None,
        })
    }

    fn code(self) -> u8 {
        match self {
            IdxType::U8 => 0x08,
            IdxType::I8 => 0x09,
            IdxType::I16 => 0x0B,
            IdxType::I32 => 0x0C,
            IdxType::F32 => 0x0D,
            IdxType::F64 => 0x0E,
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            IdxType::U8 | IdxType::I8 => 1,
            IdxType::I16 => 2,
            IdxType::I32 | IdxType::F32 => 4,
            IdxType::F64 => 8,
        }
    }
}

/// An IDX array: its dimensions, element type and raw big-endian values.
#[derive(Debug, Clone, PartialEq)]
pub struct IdxArray {
    /// Dimensions, outermost first (e.g. `[60000, 28, 28]`).
    pub dims: Vec<usize>,
    /// Element type.
    pub dtype: IdxType,
    bytes: Vec<u8>,
}

/// Largest rank accepted; IDX files in the wild have rank 1 to 4.
const MAX_RANK: usize = 8;

impl IdxArray {
    /// A `u8` array (the type of MNIST images and labels).
    pub fn from_u8(dims: Vec<usize>, values: Vec<u8>) -> Result<Self> {
        Self::from_parts(dims, IdxType::U8, values)
    }

    /// An `f32` array.
    pub fn from_f32(dims: Vec<usize>, values: &[f32]) -> Result<Self> {
        let bytes = values.iter().flat_map(|v| v.to_be_bytes()).collect();
        Self::from_parts(dims, IdxType::F32, bytes)
    }

    fn from_parts(dims: Vec<usize>, dtype: IdxType, bytes: Vec<u8>) -> Result<Self> {
        let count = element_count(&dims)
            .ok_or_else(|| Error::invalid("IDX dimensions", format!("{dims:?} overflow")))?;
        if dims.is_empty() || dims.len() > MAX_RANK || dims.iter().any(|&d| d > u32::MAX as usize) {
            return Err(Error::invalid(
                "IDX dimensions",
                format!("{dims:?}: rank must be 1 to {MAX_RANK} and each size fit in u32"),
            ));
        }
        if count * dtype.size() != bytes.len() {
            return Err(Error::invalid(
                "IDX values",
                format!("{} bytes for dimensions {dims:?} of {dtype:?}", bytes.len()),
            ));
        }
        Ok(IdxArray { dims, dtype, bytes })
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.bytes.len() / self.dtype.size()
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The values as `u8`, if that is the element type.
    pub fn as_u8(&self) -> Option<&[u8]> {
        (self.dtype == IdxType::U8).then_some(&self.bytes)
    }

    /// The values converted to `f64` (exact for every IDX type).
    pub fn to_f64(&self) -> Vec<f64> {
        let b = &self.bytes;
        match self.dtype {
            IdxType::U8 => b.iter().map(|&v| v as f64).collect(),
            IdxType::I8 => b.iter().map(|&v| v as i8 as f64).collect(),
            IdxType::I16 => b
                .chunks_exact(2)
                .map(|c| i16::from_be_bytes([c[0], c[1]]) as f64)
                .collect(),
            IdxType::I32 => b
                .chunks_exact(4)
                .map(|c| i32::from_be_bytes(c.try_into().expect("4 bytes")) as f64)
                .collect(),
            IdxType::F32 => b
                .chunks_exact(4)
                .map(|c| f32::from_be_bytes(c.try_into().expect("4 bytes")) as f64)
                .collect(),
            IdxType::F64 => b
                .chunks_exact(8)
                .map(|c| f64::from_be_bytes(c.try_into().expect("8 bytes")))
                .collect(),
        }
    }

    /// The file's bytes: header and values.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![0, 0, self.dtype.code(), self.dims.len() as u8];
        for &d in &self.dims {
            out.extend((d as u32).to_be_bytes());
        }
        out.extend_from_slice(&self.bytes);
        out
    }
}

fn element_count(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// Reads an IDX file; a `.gz` file (by its gzip magic bytes) is decompressed while reading.
pub fn read_idx(path: impl AsRef<Path>) -> Result<IdxArray> {
    let path = path.as_ref();
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let file_len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut reader = std::io::BufReader::new(file);
    let mut magic = [0u8; 2];
    let peeked = read_up_to(&mut reader, &mut magic).map_err(|e| Error::io(path, e))?;
    let head = std::io::Cursor::new(magic[..peeked].to_vec()).chain(reader);
    if peeked == 2 && magic == [0x1f, 0x8b] {
        parse_stream(flate2::read::GzDecoder::new(head), None, path)
    } else {
        parse_stream(head, Some(file_len), path)
    }
}

/// Parses IDX bytes already in memory; `path` only names the source in errors.
pub fn parse_idx(bytes: &[u8], path: impl AsRef<Path>) -> Result<IdxArray> {
    parse_stream(bytes, Some(bytes.len() as u64), path.as_ref())
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Parses from a stream. `known_len` is the total length when known (plain files), so the
/// declared size is checked before any allocation; for compressed streams the data is read
/// incrementally and never more than declared plus one byte.
fn parse_stream(mut r: impl Read, known_len: Option<u64>, path: &Path) -> Result<IdxArray> {
    let bad = |offset: usize, msg: String| Error::file(path, format!("byte {offset}: {msg}"));
    let io = |e: std::io::Error| Error::file(path, format!("cannot read: {e}"));
    let mut magic = [0u8; 4];
    let got = read_up_to(&mut r, &mut magic).map_err(io)?;
    if got < 4 {
        return Err(bad(
            got,
            format!(
                "truncated header: IDX starts with a 4-byte magic number, the file has {got} bytes"
            ),
        ));
    }
    if magic[0] != 0 || magic[1] != 0 {
        return Err(bad(
            0,
            format!(
                "bad magic number {:02x}{:02x}{:02x}{:02x}: an IDX file starts with two zero bytes, a type code and a rank",
                magic[0], magic[1], magic[2], magic[3]
            ),
        ));
    }
    let dtype = IdxType::from_code(magic[2]).ok_or_else(|| {
        bad(
            2,
            format!(
                "unknown type code 0x{:02x} (expected 08, 09, 0b, 0c, 0d or 0e)",
                magic[2]
            ),
        )
    })?;
    let rank = magic[3] as usize;
    if rank == 0 || rank > MAX_RANK {
        return Err(bad(3, format!("rank {rank} out of range 1..={MAX_RANK}")));
    }
    let mut header = vec![0u8; 4 * rank];
    let got = read_up_to(&mut r, &mut header).map_err(io)?;
    if got < header.len() {
        return Err(bad(
            4 + got,
            format!(
                "truncated header: {rank} dimensions need {} bytes, the file ends after {got}",
                4 * rank
            ),
        ));
    }
    let dims: Vec<usize> = header
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes(c.try_into().expect("4 bytes")) as usize)
        .collect();
    let header_len = 4 + 4 * rank;
    let declared = element_count(&dims)
        .and_then(|n| n.checked_mul(dtype.size()))
        .ok_or_else(|| bad(4, format!("dimensions {dims:?} overflow")))?;
    if let Some(total) = known_len {
        let actual = total.saturating_sub(header_len as u64);
        if actual != declared as u64 {
            return Err(bad(
                header_len,
                format!(
                    "the header declares {dims:?} of {dtype:?} = {declared} data bytes, the file has {actual}{}",
                    if actual < declared as u64 {
                        " (truncated)"
                    } else {
                        " (trailing bytes)"
                    }
                ),
            ));
        }
    }
    let mut bytes = Vec::new();
    r.take(declared as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() != declared {
        return Err(bad(
            header_len + bytes.len().min(declared),
            format!(
                "the header declares {dims:?} of {dtype:?} = {declared} data bytes, the stream has {}",
                if bytes.len() > declared {
                    "more (trailing bytes)".to_string()
                } else {
                    format!("{} (truncated)", bytes.len())
                }
            ),
        ));
    }
    Ok(IdxArray { dims, dtype, bytes })
}

/// Writes an IDX file (uncompressed), atomically: a temporary sibling renamed into place.
pub fn write_idx(path: impl AsRef<Path>, array: &IdxArray) -> Result<()> {
    let path = path.as_ref();
    crate::atomic::write_atomically(path, |file, tmp| {
        file.write_all(&array.to_bytes())
            .map_err(|e| Error::io(tmp, e))
    })
}

/// Reads an IDX image file (`[N, H, W]` u8) and its label file (`[N]` u8) into an
/// [`ImageSet`](crate::ImageSet) of `N` one-channel images, classes `"0"`…`"9"` (or up to
/// the largest label; a mostly empty span is an error, see
/// [`class_count`](crate::class_count::class_count)).
pub fn read_idx_images(
    images: impl AsRef<Path>,
    labels: impl AsRef<Path>,
) -> Result<crate::ImageSet> {
    let (images, labels) = (images.as_ref(), labels.as_ref());
    let img = read_idx(images)?;
    let lab = read_idx(labels)?;
    let (Some(pixels), [n, h, w]) = (img.as_u8(), img.dims.as_slice()) else {
        return Err(Error::file(
            images,
            format!(
                "expected an IDX image file of u8 with dimensions [N, H, W], found {:?} with dimensions {:?}",
                img.dtype, img.dims
            ),
        ));
    };
    let (Some(label_bytes), [m]) = (lab.as_u8(), lab.dims.as_slice()) else {
        return Err(Error::file(
            labels,
            format!(
                "expected an IDX label file of u8 with dimensions [N], found {:?} with dimensions {:?}",
                lab.dtype, lab.dims
            ),
        ));
    };
    if n != m {
        return Err(Error::file(
            labels,
            format!("{m} labels for {n} images in {}", images.display()),
        ));
    }
    let labels_usize: Vec<usize> = label_bytes.iter().map(|&l| l as usize).collect();
    let classes = crate::class_count::class_count(&labels_usize, labels, 10)?;
    let names = (0..classes).map(|c| c.to_string()).collect();
    crate::ImageSet::new(
        crate::Pixels::U8(pixels.to_vec()),
        [1, *h, *w],
        labels_usize,
        names,
    )
    .ok_or_else(|| Error::file(images, "inconsistent image and label sizes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn err(bytes: &[u8]) -> String {
        parse_idx(bytes, "x.idx").unwrap_err().to_string()
    }

    #[test]
    fn bad_inputs_name_offset_and_expectation() {
        assert_eq!(
            err(&[0, 0]),
            "x.idx: byte 2: truncated header: IDX starts with a 4-byte magic number, the file has 2 bytes"
        );
        assert!(err(&[1, 2, 8, 1, 0, 0, 0, 1, 5]).contains("byte 0: bad magic number 01020801"));
        assert!(err(&[0, 0, 7, 1, 0, 0, 0, 1, 5]).contains("byte 2: unknown type code 0x07"));
        assert!(err(&[0, 0, 8, 0]).contains("byte 3: rank 0 out of range"));
        assert!(
            err(&[0, 0, 8, 2, 0, 0, 0]).contains("truncated header: 2 dimensions need 8 bytes")
        );
        // 60000 x 28 x 28 declared, 3 bytes present: refused before allocating 47 MB.
        let mut b = vec![0, 0, 8, 3];
        for d in [60000u32, 28, 28] {
            b.extend(d.to_be_bytes());
        }
        b.extend([1, 2, 3]);
        assert!(
            err(&b).contains("= 47040000 data bytes, the file has 3 (truncated)"),
            "{}",
            err(&b)
        );
        // An absurd header (4 x 2^32 - 1 elements of f64) is refused without allocating.
        let mut b = vec![0, 0, 0x0E, 4];
        for _ in 0..4 {
            b.extend(u32::MAX.to_be_bytes());
        }
        assert!(
            err(&b).contains("overflow") || err(&b).contains("the file has 0"),
            "{}",
            err(&b)
        );
        let mut ok = IdxArray::from_u8(vec![2], vec![1, 2]).unwrap().to_bytes();
        ok.push(9);
        assert!(err(&ok).contains("the file has 3 (trailing bytes)"));
    }

    #[test]
    fn gzip_files_are_read_and_checked() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("convkit-idx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let array = IdxArray::from_u8(vec![2, 3], vec![1, 2, 3, 4, 5, 6]).unwrap();
        let gz = dir.join("a-idx1-ubyte.gz");
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::default(),
        );
        enc.write_all(&array.to_bytes()).unwrap();
        enc.finish().unwrap();
        assert_eq!(read_idx(&gz).unwrap(), array);
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::default(),
        );
        enc.write_all(&array.to_bytes()[..12]).unwrap();
        enc.finish().unwrap();
        let e = read_idx(&gz).unwrap_err().to_string();
        assert!(e.contains("the stream has 0 (truncated)"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    proptest! {
        #[test]
        fn write_read_round_trip(dims in proptest::collection::vec(1usize..6, 1..4), seed in any::<u8>()) {
            let n: usize = dims.iter().product();
            let values: Vec<f32> = (0..n).map(|i| (i as f32 - seed as f32) * 0.37).collect();
            let array = IdxArray::from_f32(dims.clone(), &values).unwrap();
            let dir = std::env::temp_dir().join(format!("convkit-idx-rt-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("rt.idx");
            write_idx(&path, &array).unwrap();
            let back = read_idx(&path).unwrap();
            prop_assert_eq!(&back, &array);
            prop_assert_eq!(back.to_f64(), values.iter().map(|&v| v as f64).collect::<Vec<_>>());
            let bytes = IdxArray::from_u8(dims.clone(), vec![seed; n]).unwrap();
            prop_assert_eq!(parse_idx(&bytes.to_bytes(), "m").unwrap(), bytes);
        }
    }

    #[test]
    fn image_and_label_files_must_agree() {
        let dir = std::env::temp_dir().join(format!("convkit-idx-pair-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (img, lab) = (dir.join("images"), dir.join("labels"));
        write_idx(
            &img,
            &IdxArray::from_u8(vec![3, 2, 2], (0..12).collect()).unwrap(),
        )
        .unwrap();
        write_idx(&lab, &IdxArray::from_u8(vec![3], vec![0, 7, 2]).unwrap()).unwrap();
        let set = read_idx_images(&img, &lab).unwrap();
        assert_eq!(set.shape(), [1, 2, 2]);
        assert_eq!(set.classes().len(), 10);
        let item = crate::Dataset::get(&set, 1).unwrap();
        assert_eq!((item.label, item.pixels[0]), (7, 4.0 / 255.0));
        write_idx(&lab, &IdxArray::from_u8(vec![2], vec![0, 1]).unwrap()).unwrap();
        let e = read_idx_images(&img, &lab).unwrap_err().to_string();
        assert!(
            e.ends_with(&format!(
                "labels: 2 labels for 3 images in {}",
                img.display()
            )),
            "{e}"
        );
        let e = read_idx_images(&lab, &lab).unwrap_err().to_string();
        assert!(
            e.contains("expected an IDX image file of u8 with dimensions [N, H, W]"),
            "{e}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn committed_mnist_layout_fixture() {
        // Three 4×4 images (pixel k of image i is 16 i + k) and gzip-compressed labels 7, 0, 9,
        // in the file names and layout of the MNIST test set.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/idx");
        let set = read_idx_images(
            format!("{dir}/t10k-images-idx3-ubyte"),
            format!("{dir}/t10k-labels-idx1-ubyte.gz"),
        )
        .unwrap();
        assert_eq!(set.shape(), [1, 4, 4]);
        assert_eq!(set.labels(), [7, 0, 9]);
        let item = crate::Dataset::get(&set, 2).unwrap();
        assert_eq!(item.pixels[5], (32.0 + 5.0) / 255.0);
    }
}
