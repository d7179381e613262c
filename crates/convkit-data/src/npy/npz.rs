//! `.npz` archives: zip files of `.npy` members.

use std::fs::File;
use std::io::{BufReader, Read, Seek};

use super::read::parse_stream;
use super::*;

/// The largest expansion of deflate (258-byte matches coded in 2 bits, about 1032:1).
const MAX_DEFLATE_RATIO: u64 = 1032;

/// The arrays of an `.npz` archive, in archive order; member `x.npy` is named `x`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Npz {
    arrays: Vec<(String, NpyArray)>,
}

impl Npz {
    /// The array named `name` (the member `name.npy`).
    pub fn get(&self, name: &str) -> Option<&NpyArray> {
        self.arrays.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }

    /// The names, in archive order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.arrays.iter().map(|(n, _)| n.as_str())
    }

    /// Names and arrays, in archive order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &NpyArray)> {
        self.arrays.iter().map(|(n, a)| (n.as_str(), a))
    }

    /// Number of arrays.
    pub fn len(&self) -> usize {
        self.arrays.len()
    }

    /// Whether the archive has no arrays.
    pub fn is_empty(&self) -> bool {
        self.arrays.is_empty()
    }

    /// Names and arrays, in archive order.
    pub fn into_vec(self) -> Vec<(String, NpyArray)> {
        self.arrays
    }
}

/// Reads an `.npz` archive (`numpy.savez` or `numpy.savez_compressed`).
pub fn read_npz(path: impl AsRef<Path>) -> Result<Npz> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    parse_archive(BufReader::new(file), len, path)
}

/// Parses an `.npz` archive already in memory; `name` only names the source in errors.
pub fn parse_npz(bytes: &[u8], name: impl AsRef<Path>) -> Result<Npz> {
    parse_archive(
        std::io::Cursor::new(bytes),
        bytes.len() as u64,
        name.as_ref(),
    )
}

fn parse_archive(reader: impl Read + Seek, archive_len: u64, path: &Path) -> Result<Npz> {
    let mut zip = zip::ZipArchive::new(reader)
        .map_err(|e| Error::file(path, format!("not a readable zip archive: {e}")))?;
    if zip.has_duplicate_names() {
        // The zip reader keeps one member per name; numpy would load one of them as well,
        // but which one is an accident of the implementation.
        return Err(Error::file(
            path,
            "the archive repeats a member name, so an array name is ambiguous",
        ));
    }
    let mut arrays: Vec<(String, NpyArray)> = Vec::with_capacity(zip.len());
    for index in 0..zip.len() {
        let mut member = zip
            .by_index(index)
            .map_err(|e| Error::file(path, format!("member #{index}: {e}")))?;
        let name = member
            .name()
            .map_err(|e| Error::file(path, format!("member #{index}: {e}")))?
            .into_owned();
        let key = match name.strip_suffix(".npy") {
            Some(key) if !member.is_dir() => key.to_string(),
            _ => {
                return Err(Error::file(
                    path,
                    format!(
                        "member {name}: not a .npy array (an .npz archive holds only NAME.npy members)"
                    ),
                ));
            }
        };
        let declared = member.size();
        let limit = member
            .compressed_size()
            .min(archive_len)
            .saturating_mul(MAX_DEFLATE_RATIO)
            .saturating_add(HEADER_ALIGN as u64);
        if declared > limit {
            return Err(Error::file(
                path,
                format!(
                    "member {name}: declares {declared} uncompressed bytes from {} compressed, more than deflate can expand to (at most {limit})",
                    member.compressed_size()
                ),
            ));
        }
        let source = Source {
            path,
            member: Some(&name),
        };
        let array = parse_stream(&mut member, declared, false, &source)?;
        arrays.push((key, array));
    }
    Ok(Npz { arrays })
}

/// Writes an `.npz` archive of `arrays` (member `name.npy` for each name), deflated like
/// `numpy.savez_compressed` if `compressed`, stored like `numpy.savez` otherwise; atomically
/// like [`write_npy`]. Names must be non-empty and distinct.
pub fn write_npz(
    path: impl AsRef<Path>,
    arrays: &[(&str, &NpyArray)],
    compressed: bool,
) -> Result<()> {
    let path = path.as_ref();
    for (i, (name, _)) in arrays.iter().enumerate() {
        if name.is_empty() || arrays[..i].iter().any(|(n, _)| n == name) {
            return Err(Error::invalid(
                "npz array names",
                format!("'{name}' is empty or repeated: each array needs its own non-empty name"),
            ));
        }
    }
    let method = if compressed {
        zip::CompressionMethod::Deflated
    } else {
        zip::CompressionMethod::Stored
    };
    write_atomically(path, |file, tmp| {
        let zip_error = |e: zip::result::ZipError| {
            Error::file(tmp, format!("cannot write the zip archive: {e}"))
        };
        let mut zip = zip::ZipWriter::new(file);
        for (name, array) in arrays {
            let size = array.len() as u64 * array.dtype().size() as u64 + 4096;
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(method)
                .large_file(size >= u64::from(u32::MAX));
            zip.start_file(format!("{name}.npy"), options)
                .map_err(zip_error)?;
            array.write_to(&mut zip).map_err(|e| Error::io(tmp, e))?;
        }
        zip.finish().map_err(zip_error)?;
        Ok(())
    })
}
