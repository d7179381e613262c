//! Reading `.npy` data from a file or from memory, chunk by chunk.

use std::fs::File;
use std::io::{BufReader, Read};

use super::header::HeaderParser;
use super::*;

/// Reads a `.npy` file.
///
/// For the fastest read of a large file call this (not [`parse_npy`] on the file's bytes): the
/// values are converted chunk by chunk as they are read, without a second copy of the file.
pub fn read_npy(path: impl AsRef<Path>) -> Result<NpyArray> {
    let path = path.as_ref();
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let source = Source { path, member: None };
    parse_stream(&mut BufReader::new(file), len, true, &source)
}

/// Parses a `.npy` file already in memory; `name` only names the source in errors.
pub fn parse_npy(bytes: &[u8], name: impl AsRef<Path>) -> Result<NpyArray> {
    let source = Source {
        path: name.as_ref(),
        member: None,
    };
    parse_stream(&mut &bytes[..], bytes.len() as u64, true, &source)
}

/// Reads as many bytes as fit in `buf`, fewer only at the end of the stream.
fn fill(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Fills `buf` from the stream at byte `offset`, or fails naming where the data ended.
fn read_exact_at(r: &mut impl Read, buf: &mut [u8], offset: u64, src: &Source) -> Result<()> {
    let got = fill(r, buf).map_err(|e| src.error(offset, format!("cannot read: {e}")))?;
    if got < buf.len() {
        return Err(src.error(
            offset + got as u64,
            format!(
                "truncated: expected {} more bytes, the {} ends here",
                buf.len() - got,
                src.what()
            ),
        ));
    }
    Ok(())
}

/// Parses a `.npy` stream of `total_len` bytes. With `len_is_known`, `total_len` is the real
/// length (a file or a slice) and the whole output is allocated at once; otherwise it is a
/// declaration (an archive member) and the output grows as data actually arrives.
pub(super) fn parse_stream(
    r: &mut impl Read,
    total_len: u64,
    len_is_known: bool,
    src: &Source,
) -> Result<NpyArray> {
    let mut prefix = [0u8; 8];
    let got = fill(r, &mut prefix).map_err(|e| src.error(0, format!("cannot read: {e}")))?;
    let magic_len = got.min(MAGIC.len());
    if prefix[..magic_len] != MAGIC[..magic_len] {
        return Err(src.error(
            0,
            format!(
                "bad magic number {:?}: a .npy file starts with \\x93NUMPY",
                String::from_utf8_lossy(&prefix[..magic_len])
            ),
        ));
    }
    if got < prefix.len() {
        return Err(src.error(
            got as u64,
            format!(
                "truncated: a .npy file starts with 6 magic bytes and 2 version bytes, the {} has {got} bytes",
                src.what()
            ),
        ));
    }
    let (major, minor) = (prefix[6], prefix[7]);
    let length_size = match (major, minor) {
        (1, 0) => 2,
        (2 | 3, 0) => 4,
        _ => {
            return Err(src.error(
                6,
                format!("unsupported format version {major}.{minor} (supported: 1.0, 2.0, 3.0)"),
            ));
        }
    };
    let mut length = [0u8; 4];
    read_exact_at(r, &mut length[..length_size], 8, src)?;
    let header_len = u32::from_le_bytes(length);
    let header_start = 8 + length_size as u64;
    let data_start = header_start + u64::from(header_len);
    if data_start > total_len {
        return Err(src.error(
            8,
            format!(
                "header length {header_len} runs past the end of the {} ({total_len} bytes)",
                src.what()
            ),
        ));
    }
    let mut header_bytes = vec![0u8; header_len as usize];
    read_exact_at(r, &mut header_bytes, header_start, src)?;
    let header = HeaderParser {
        text: &header_bytes,
        pos: 0,
        base: header_start,
        src,
    }
    .parse()?;

    let size = header.dtype.size();
    let count = element_count(&header.shape, size).map_err(|e| src.error(header_start, e))?;
    let declared = count as u64 * size as u64;
    let available = total_len - data_start;
    if declared != available {
        return Err(src.error(
            data_start,
            format!(
                "the header declares shape {} of {} = {declared} data bytes, the {} has {available} ({})",
                shape_text(&header.shape),
                header.dtype,
                src.what(),
                if available < declared { "truncated" } else { "trailing bytes" }
            ),
        ));
    }
    let capacity = if len_is_known {
        count
    } else {
        count.min(CHUNK_BYTES)
    };
    let reader = ChunkReader {
        count,
        capacity,
        offset: data_start,
        src,
    };
    let mut data = reader.read(r, header.dtype, header.big_endian)?;
    let mut extra = [0u8; 1];
    if fill(r, &mut extra)
        .map_err(|e| src.error(data_start + declared, format!("cannot read: {e}")))?
        > 0
    {
        return Err(src.error(
            data_start + declared,
            format!("trailing bytes after the {declared} data bytes the header declares"),
        ));
    }
    if header.fortran_order {
        data = data.fortran_to_c(&header.shape);
    }
    Ok(NpyArray {
        shape: header.shape,
        data,
    })
}

/// Reads `count` values starting at byte `offset`, chunk by chunk.
struct ChunkReader<'a> {
    count: usize,
    /// Values allocated up front.
    capacity: usize,
    offset: u64,
    src: &'a Source<'a>,
}

impl ChunkReader<'_> {
    fn read(self, r: &mut impl Read, dtype: NpyDtype, big_endian: bool) -> Result<NpyData> {
        Ok(match (dtype, big_endian) {
            (NpyDtype::F32, false) => NpyData::F32(self.numbers(r, f32::from_le_bytes)?),
            (NpyDtype::F32, true) => NpyData::F32(self.numbers(r, f32::from_be_bytes)?),
            (NpyDtype::F64, false) => NpyData::F64(self.numbers(r, f64::from_le_bytes)?),
            (NpyDtype::F64, true) => NpyData::F64(self.numbers(r, f64::from_be_bytes)?),
            (NpyDtype::I64, false) => NpyData::I64(self.numbers(r, i64::from_le_bytes)?),
            (NpyDtype::I64, true) => NpyData::I64(self.numbers(r, i64::from_be_bytes)?),
            (NpyDtype::I32, false) => NpyData::I32(self.numbers(r, i32::from_le_bytes)?),
            (NpyDtype::I32, true) => NpyData::I32(self.numbers(r, i32::from_be_bytes)?),
            (NpyDtype::U8, _) => NpyData::U8(self.numbers(r, |[b]: [u8; 1]| b)?),
            (NpyDtype::Bool, _) => NpyData::Bool(self.chunks(r, |bytes, out| {
                if let Some(i) = bytes.iter().position(|&[b]| b > 1) {
                    return Err((
                        i,
                        format!("bool byte {}: a bool must be 0 or 1", bytes[i][0]),
                    ));
                }
                out.extend(bytes.iter().map(|&[b]| b == 1));
                Ok(())
            })?),
        })
    }

    fn numbers<T, const N: usize>(
        self,
        r: &mut impl Read,
        decode: impl Fn([u8; N]) -> T,
    ) -> Result<Vec<T>> {
        self.chunks(r, |bytes, out| {
            out.extend(bytes.iter().map(|&b| decode(b)));
            Ok(())
        })
    }

    /// Reads the values in chunks of `N`-byte items and hands each chunk to `decode`, which
    /// appends the values or returns the index of a bad item and what is wrong with it.
    fn chunks<T, const N: usize>(
        self,
        r: &mut impl Read,
        mut decode: impl FnMut(&[[u8; N]], &mut Vec<T>) -> std::result::Result<(), (usize, String)>,
    ) -> Result<Vec<T>> {
        let per_chunk = CHUNK_BYTES / N;
        let mut out = Vec::with_capacity(self.capacity);
        let mut buf = vec![[0u8; N]; self.count.min(per_chunk)];
        let mut offset = self.offset;
        let mut left = self.count;
        while left > 0 {
            let items = &mut buf[..left.min(per_chunk)];
            read_exact_at(r, items.as_flattened_mut(), offset, self.src)?;
            decode(items, &mut out)
                .map_err(|(i, msg)| self.src.error(offset + (i * N) as u64, msg))?;
            offset += (items.len() * N) as u64;
            left -= items.len();
        }
        Ok(out)
    }
}
