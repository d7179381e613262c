//! NumPy `.npy` arrays and `.npz` archives of them.
//!
//! The format is NumPy's own (NEP 1, `numpy.lib.format`): the magic bytes `\x93NUMPY`, a
//! major and a minor version byte, the header length (little-endian `u16` in version 1.0,
//! `u32` in 2.0 and 3.0), then the header: a Python dict literal such as
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`, padded with spaces to a
//! 64-byte boundary and ended by `'\n'` (latin-1 in versions 1.0 and 2.0, UTF-8 in 3.0). The
//! values follow, `shape` product × item size bytes, in C order or, with
//! `fortran_order: True`, in Fortran order.
//!
//! Supported element types ([`NpyDtype`]): `f4`, `f8`, `i8`, `i4`, `u1` and `b1`, in either
//! byte order (`<`, `>`, `=` or `|`). Big-endian values are converted and Fortran-order arrays
//! transposed while reading, so an [`NpyArray`] always holds native values in C order. Any
//! other `descr` (half floats, 16-bit or unsigned wide integers, strings, Python objects,
//! structured dtypes) is an error that names the `descr`. [`NpyArray::to_bytes`] and
//! [`write_npy`] write what `numpy.save` writes for the same array, byte for byte: version
//! 1.0, little-endian, C order.
//!
//! An `.npz` file ([`read_npz`], [`write_npz`]) is a zip archive (`numpy.savez`: stored,
//! `numpy.savez_compressed`: deflated) of `NAME.npy` members; the key of member `x.npy` is
//! `x`. A member whose name does not end in `.npy` is an error (numpy itself only writes
//! `.npy` members; a foreign file means the archive is not what the caller thinks). A
//! member may declare at most 1032 uncompressed bytes per compressed byte (deflate's largest
//! ratio) and is read with that limit, so a zip bomb cannot allocate unbounded memory.
//!
//! Every size in a header is checked with checked arithmetic against the bytes that follow
//! before anything is allocated. Errors are [`Error::File`] naming the file, for archives the
//! member, the byte offset and what was expected: a wrong magic number, an unsupported
//! version or dtype, a malformed header dict (missing, duplicated or unknown keys, a bad
//! shape literal), a shape that overflows, truncated data, trailing bytes, a bool byte other
//! than 0 or 1.
//!
//! Reading runs near memory bandwidth: the data is read in 256 KiB chunks and converted with
//! `from_le_bytes` over fixed-size byte arrays, a loop the compiler vectorizes.

use std::borrow::Cow;
use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read, Seek, Write};
use std::path::Path;

use convkit_core::{Error, Result};

use crate::atomic::write_atomically;

/// The element type of an [`NpyArray`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NpyDtype {
    /// `f4`: `float32`.
    F32,
    /// `f8`: `float64`.
    F64,
    /// `i8`: `int64`.
    I64,
    /// `i4`: `int32`.
    I32,
    /// `u1`: `uint8`.
    U8,
    /// `b1`: `bool`, one byte 0 or 1 per value.
    Bool,
}

impl NpyDtype {
    /// The `descr` numpy writes for this type on a little-endian machine (`<f4`, `|u1`, ...).
    pub fn descr(self) -> &'static str {
        match self {
            NpyDtype::F32 => "<f4",
            NpyDtype::F64 => "<f8",
            NpyDtype::I64 => "<i8",
            NpyDtype::I32 => "<i4",
            NpyDtype::U8 => "|u1",
            NpyDtype::Bool => "|b1",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            NpyDtype::F64 | NpyDtype::I64 => 8,
            NpyDtype::F32 | NpyDtype::I32 => 4,
            NpyDtype::U8 | NpyDtype::Bool => 1,
        }
    }

    /// NumPy's name of the type (`float32`, `uint8`, ...).
    pub fn name(self) -> &'static str {
        match self {
            NpyDtype::F32 => "float32",
            NpyDtype::F64 => "float64",
            NpyDtype::I64 => "int64",
            NpyDtype::I32 => "int32",
            NpyDtype::U8 => "uint8",
            NpyDtype::Bool => "bool",
        }
    }

    /// The type and whether its values are big-endian, from a `descr` string: an optional
    /// byte-order character (`<` little, `>` big, `=` or `|` native) and a type code.
    fn from_descr(descr: &str) -> Option<(NpyDtype, bool)> {
        let native_big = cfg!(target_endian = "big");
        let (big_endian, code) = match descr.as_bytes().first() {
            Some(b'<') => (false, &descr[1..]),
            Some(b'>') => (true, &descr[1..]),
            Some(b'=' | b'|') => (native_big, &descr[1..]),
            _ => (native_big, descr),
        };
        let dtype = match code {
            "f4" => NpyDtype::F32,
            "f8" => NpyDtype::F64,
            "i8" => NpyDtype::I64,
            "i4" => NpyDtype::I32,
            "u1" => NpyDtype::U8,
            "b1" => NpyDtype::Bool,
            _ => return None,
        };
        Some((dtype, big_endian))
    }
}

impl fmt::Display for NpyDtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The values of an [`NpyArray`], in C order.
#[derive(Debug, Clone, PartialEq)]
pub enum NpyData {
    /// `float32` values.
    F32(Vec<f32>),
    /// `float64` values.
    F64(Vec<f64>),
    /// `int64` values.
    I64(Vec<i64>),
    /// `int32` values.
    I32(Vec<i32>),
    /// `uint8` values.
    U8(Vec<u8>),
    /// `bool` values.
    Bool(Vec<bool>),
}

impl NpyData {
    /// The element type.
    pub fn dtype(&self) -> NpyDtype {
        match self {
            NpyData::F32(_) => NpyDtype::F32,
            NpyData::F64(_) => NpyDtype::F64,
            NpyData::I64(_) => NpyDtype::I64,
            NpyData::I32(_) => NpyDtype::I32,
            NpyData::U8(_) => NpyDtype::U8,
            NpyData::Bool(_) => NpyDtype::Bool,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        match self {
            NpyData::F32(v) => v.len(),
            NpyData::F64(v) => v.len(),
            NpyData::I64(v) => v.len(),
            NpyData::I32(v) => v.len(),
            NpyData::U8(v) => v.len(),
            NpyData::Bool(v) => v.len(),
        }
    }

    /// Whether there are no values.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reorders values stored in Fortran order (first axis fastest) into C order.
    fn fortran_to_c(self, shape: &[usize]) -> NpyData {
        match self {
            NpyData::F32(v) => NpyData::F32(fortran_to_c(v, shape)),
            NpyData::F64(v) => NpyData::F64(fortran_to_c(v, shape)),
            NpyData::I64(v) => NpyData::I64(fortran_to_c(v, shape)),
            NpyData::I32(v) => NpyData::I32(fortran_to_c(v, shape)),
            NpyData::U8(v) => NpyData::U8(fortran_to_c(v, shape)),
            NpyData::Bool(v) => NpyData::Bool(fortran_to_c(v, shape)),
        }
    }
}

/// A Rust type that is one of the [`NpyDtype`]s: `f32`, `f64`, `i64`, `i32`, `u8`, `bool`.
pub trait NpyElement: Copy + 'static {
    /// The element type this Rust type stores.
    const DTYPE: NpyDtype;
    /// Wraps values of this type.
    fn into_data(values: Vec<Self>) -> NpyData;
    /// The values, if `data` holds this type.
    fn slice(data: &NpyData) -> Option<&[Self]>;
    /// The values, if `data` holds this type; `data` back otherwise.
    fn into_values(data: NpyData) -> Result<Vec<Self>, NpyData>;
}

macro_rules! npy_element {
    ($($t:ty => $variant:ident),* $(,)?) => {$(
        impl NpyElement for $t {
            const DTYPE: NpyDtype = NpyDtype::$variant;
            fn into_data(values: Vec<Self>) -> NpyData {
                NpyData::$variant(values)
            }
            fn slice(data: &NpyData) -> Option<&[Self]> {
                match data {
                    NpyData::$variant(v) => Some(v),
                    _ => None,
                }
            }
            fn into_values(data: NpyData) -> Result<Vec<Self>, NpyData> {
                match data {
                    NpyData::$variant(v) => Ok(v),
                    other => Err(other),
                }
            }
        }
    )*};
}

npy_element!(f32 => F32, f64 => F64, i64 => I64, i32 => I32, u8 => U8, bool => Bool);

/// NumPy's limit on the number of dimensions (`NPY_MAXDIMS` of numpy 2).
pub const MAX_RANK: usize = 64;

/// The element count of `shape` for items of `item_size` bytes, or why the shape is refused:
/// more than [`MAX_RANK`] dimensions, or a size that overflows. Like numpy and ndarray, the
/// product of the non-zero dimensions times the item size must fit in `isize`, so an array
/// with a zero-sized axis is still refused if its other axes are absurd.
fn element_count(shape: &[usize], item_size: usize) -> std::result::Result<usize, String> {
    if shape.len() > MAX_RANK {
        return Err(format!(
            "{} dimensions, more than numpy's maximum of {MAX_RANK}",
            shape.len()
        ));
    }
    let non_zero_bytes = shape
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(item_size, |acc, &d| acc.checked_mul(d))
        .filter(|&bytes| bytes <= isize::MAX as usize);
    if non_zero_bytes.is_none() {
        return Err(format!(
            "shape {} of {item_size}-byte items overflows the address space",
            shape_text(shape)
        ));
    }
    Ok(shape.iter().product())
}

/// A shape as Python writes a tuple: `()`, `(5,)`, `(2, 3)`.
fn shape_text(shape: &[usize]) -> String {
    match shape {
        [] => "()".to_string(),
        [d] => format!("({d},)"),
        _ => {
            let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
            format!("({})", dims.join(", "))
        }
    }
}

/// An n-dimensional array as stored in a `.npy` file: a shape and values in C order.
///
/// The values always match the shape (checked by every constructor).
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    shape: Vec<usize>,
    data: NpyData,
}

impl NpyArray {
    /// An array of `shape` (empty for a scalar) holding `data` in C order; an error if the
    /// number of values is not the product of `shape`, the rank exceeds [`MAX_RANK`] or the
    /// size overflows.
    pub fn new(shape: Vec<usize>, data: NpyData) -> Result<Self> {
        let count = element_count(&shape, data.dtype().size())
            .map_err(|reason| Error::invalid("npy shape", reason))?;
        if count != data.len() {
            return Err(Error::invalid(
                "npy values",
                format!(
                    "{} {} values for shape {} ({count} values)",
                    data.len(),
                    data.dtype(),
                    shape_text(&shape)
                ),
            ));
        }
        Ok(NpyArray { shape, data })
    }

    /// An array of `shape` from typed values in C order; see [`NpyArray::new`].
    pub fn from_vec<T: NpyElement>(shape: Vec<usize>, values: Vec<T>) -> Result<Self> {
        Self::new(shape, T::into_data(values))
    }

    /// Dimensions, outermost first; empty for a scalar.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The values in C order.
    pub fn data(&self) -> &NpyData {
        &self.data
    }

    /// The shape and the values.
    pub fn into_parts(self) -> (Vec<usize>, NpyData) {
        (self.shape, self.data)
    }

    /// The element type.
    pub fn dtype(&self) -> NpyDtype {
        self.data.dtype()
    }

    /// Number of values (1 for a scalar).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the array has no values (some dimension is 0).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The values, if they are of type `T`.
    pub fn as_slice<T: NpyElement>(&self) -> Option<&[T]> {
        T::slice(&self.data)
    }

    /// The values converted to `f32` the way numpy's `astype(np.float32)` does: `f64` and
    /// integers are rounded to the nearest `f32`, `bool` becomes 0.0 or 1.0.
    pub fn to_f32(&self) -> Vec<f32> {
        match &self.data {
            NpyData::F32(v) => v.clone(),
            NpyData::F64(v) => v.iter().map(|&x| x as f32).collect(),
            NpyData::I64(v) => v.iter().map(|&x| x as f32).collect(),
            NpyData::I32(v) => v.iter().map(|&x| x as f32).collect(),
            NpyData::U8(v) => v.iter().map(|&x| f32::from(x)).collect(),
            NpyData::Bool(v) => v.iter().map(|&x| f32::from(u8::from(x))).collect(),
        }
    }

    /// The `.npy` file: the header `numpy.save` writes (version 1.0, or 2.0 for a header
    /// over 64 KiB) and the values, little-endian, C order.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = self.header();
        let mut out = Vec::with_capacity(header.len() + self.len() * self.dtype().size());
        out.extend_from_slice(&header);
        self.write_values(&mut out)
            .expect("writing to a Vec cannot fail");
        out
    }

    /// Writes the `.npy` file (the bytes of [`NpyArray::to_bytes`]) to `w`, in chunks.
    pub fn write_to(&self, w: &mut impl Write) -> std::io::Result<()> {
        w.write_all(&self.header())?;
        self.write_values(w)
    }

    fn write_values(&self, w: &mut impl Write) -> std::io::Result<()> {
        match &self.data {
            NpyData::F32(v) => write_values(w, v, f32::to_le_bytes),
            NpyData::F64(v) => write_values(w, v, f64::to_le_bytes),
            NpyData::I64(v) => write_values(w, v, i64::to_le_bytes),
            NpyData::I32(v) => write_values(w, v, i32::to_le_bytes),
            NpyData::U8(v) => w.write_all(v),
            NpyData::Bool(v) => write_values(w, v, |b| [u8::from(b)]),
        }
    }

    /// Magic, version, header length and the padded header dict, exactly as numpy's
    /// `_write_array_header` lays them out, including its spare spaces for growing the first
    /// axis in place.
    fn header(&self) -> Vec<u8> {
        let mut dict = format!(
            "{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
            self.dtype().descr(),
            shape_text(&self.shape)
        );
        if let Some(first) = self.shape.first() {
            let spare = GROWTH_AXIS_MAX_DIGITS.saturating_sub(first.to_string().len());
            dict.extend(std::iter::repeat_n(' ', spare));
        }
        // numpy pads the magic, version, length, dict and final newline to a multiple of 64
        // bytes, adding 64 - (len % 64) spaces: a full 64 when already aligned. Version 1.0
        // has a 2-byte length; a header too long for it takes version 2.0 and 4 bytes.
        let with_newline = dict.len() + 1;
        let padding = |prefix: usize| HEADER_ALIGN - (prefix + with_newline) % HEADER_ALIGN;
        let (version, length_size) = if with_newline + padding(MAGIC.len() + 4) <= u16::MAX as usize
        {
            (1, 2)
        } else {
            (2, 4)
        };
        let prefix = MAGIC.len() + 2 + length_size;
        let padding = padding(prefix);
        let header_len = with_newline + padding;
        let mut out = Vec::with_capacity(prefix + header_len);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&[version, 0]);
        if version == 1 {
            out.extend_from_slice(&(header_len as u16).to_le_bytes());
        } else {
            out.extend_from_slice(&(header_len as u32).to_le_bytes());
        }
        out.extend_from_slice(dict.as_bytes());
        out.extend(std::iter::repeat_n(b' ', padding));
        out.push(b'\n');
        out
    }
}

const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// numpy aligns the data to 64 bytes.
const HEADER_ALIGN: usize = 64;
/// numpy leaves room in the header for the first dimension to grow to this many digits.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;
/// Values are read and written in chunks of this many bytes: large enough that system calls
/// cost nothing, small enough to stay in the L2 cache while converting.
const CHUNK_BYTES: usize = 256 * 1024;
/// The largest expansion of deflate (258-byte matches coded in 2 bits, about 1032:1).
const MAX_DEFLATE_RATIO: u64 = 1032;

fn write_values<T: Copy, const N: usize>(
    w: &mut impl Write,
    values: &[T],
    encode: impl Fn(T) -> [u8; N],
) -> std::io::Result<()> {
    let per_chunk = CHUNK_BYTES / N;
    let mut buf: Vec<[u8; N]> = Vec::with_capacity(values.len().min(per_chunk));
    for chunk in values.chunks(per_chunk) {
        buf.clear();
        buf.extend(chunk.iter().map(|&v| encode(v)));
        w.write_all(buf.as_flattened())?;
    }
    Ok(())
}

/// Reorders `values` of `shape` from Fortran order (first axis fastest) to C order (last
/// axis fastest). The shape was checked against the number of values.
fn fortran_to_c<T: Copy>(values: Vec<T>, shape: &[usize]) -> Vec<T> {
    let Some(last) = shape.len().checked_sub(1) else {
        return values;
    };
    if last == 0 || values.is_empty() {
        return values;
    }
    // Stride of each axis in the Fortran-ordered source.
    let mut strides = Vec::with_capacity(shape.len());
    let mut stride = 1usize;
    for &d in shape {
        strides.push(stride);
        stride *= d;
    }
    let mut out = Vec::with_capacity(values.len());
    let mut index = vec![0usize; last];
    let mut start = 0usize;
    loop {
        out.extend(
            values[start..]
                .iter()
                .step_by(strides[last])
                .take(shape[last])
                .copied(),
        );
        // Advance the outer axes like an odometer, last of them fastest.
        let mut axis = last;
        loop {
            if axis == 0 {
                return out;
            }
            axis -= 1;
            index[axis] += 1;
            start += strides[axis];
            if index[axis] < shape[axis] {
                break;
            }
            start -= strides[axis] * shape[axis];
            index[axis] = 0;
        }
    }
}

/// Where bytes come from, for error messages: a file, or a member of an archive.
struct Source<'a> {
    path: &'a Path,
    member: Option<&'a str>,
}

impl Source<'_> {
    fn error(&self, offset: u64, msg: impl fmt::Display) -> Error {
        match self.member {
            Some(member) => {
                Error::file(self.path, format!("member {member}: byte {offset}: {msg}"))
            }
            None => Error::file(self.path, format!("byte {offset}: {msg}")),
        }
    }

    fn what(&self) -> &'static str {
        if self.member.is_some() {
            "member"
        } else {
            "file"
        }
    }
}

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
fn parse_stream(
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

/// What a header dict says.
struct Header {
    dtype: NpyDtype,
    big_endian: bool,
    fortran_order: bool,
    shape: Vec<usize>,
}

/// A parser for the subset of Python literal syntax a `.npy` header uses: one dict with
/// string keys, a string, a bool and a tuple of integers. Positions are byte offsets into
/// the header, reported as offsets into the file (`base` + position).
struct HeaderParser<'a> {
    text: &'a [u8],
    pos: usize,
    base: u64,
    src: &'a Source<'a>,
}

impl<'a> HeaderParser<'a> {
    fn parse(mut self) -> Result<Header> {
        let mut descr = None;
        let mut fortran_order = None;
        let mut shape = None;
        self.skip_space();
        self.expect(b'{', "'{' opening the header dict")?;
        loop {
            self.skip_space();
            if self.peek() == Some(b'}') {
                self.pos += 1;
                break;
            }
            let key_pos = self.pos;
            let key = self.string("a quoted key")?;
            self.skip_space();
            self.expect(b':', "':' after a key")?;
            self.skip_space();
            let duplicate = match key.as_ref() {
                "descr" => descr.replace(self.descr()?).is_some(),
                "fortran_order" => fortran_order.replace(self.bool()?).is_some(),
                "shape" => shape.replace(self.shape()?).is_some(),
                other => {
                    return Err(self.error_at(
                        key_pos,
                        format!(
                            "unexpected key '{other}': a .npy header has exactly the keys 'descr', 'fortran_order' and 'shape'"
                        ),
                    ));
                }
            };
            if duplicate {
                return Err(self.error_at(key_pos, format!("key '{key}' appears twice")));
            }
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    break;
                }
                _ => return Err(self.unexpected("',' or '}' after a value")),
            }
        }
        self.skip_space();
        if self.pos < self.text.len() {
            return Err(self.unexpected("only spaces and a newline after the header dict"));
        }
        let missing = |key: &str| {
            self.src.error(
                self.base,
                format!("the header dict has no '{key}' key (it needs 'descr', 'fortran_order' and 'shape')"),
            )
        };
        let (dtype, big_endian) = descr.ok_or_else(|| missing("descr"))?;
        Ok(Header {
            dtype,
            big_endian,
            fortran_order: fortran_order.ok_or_else(|| missing("fortran_order"))?,
            shape: shape.ok_or_else(|| missing("shape"))?,
        })
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn error_at(&self, pos: usize, msg: impl fmt::Display) -> Error {
        self.src
            .error(self.base + pos as u64, format!("header: {msg}"))
    }

    /// "expected X, found Y" at the current position.
    fn unexpected(&self, expected: &str) -> Error {
        let rest = &self.text[self.pos.min(self.text.len())..];
        let found = if rest.is_empty() {
            "the end of the header".to_string()
        } else {
            let shown = &rest[..rest.len().min(16)];
            format!("{:?}", String::from_utf8_lossy(shown))
        };
        self.error_at(self.pos, format!("expected {expected}, found {found}"))
    }

    fn expect(&mut self, byte: u8, expected: &str) -> Result<()> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected(expected))
        }
    }

    /// A string literal in single or double quotes (numpy writes no escapes).
    fn string(&mut self, expected: &str) -> Result<Cow<'a, str>> {
        let text = self.text;
        let quote = match self.peek() {
            Some(q @ (b'\'' | b'"')) => q,
            _ => return Err(self.unexpected(expected)),
        };
        let start = self.pos + 1;
        let Some(len) = self.text[start..]
            .iter()
            .position(|&b| b == quote || b == b'\\')
        else {
            return Err(self.error_at(self.pos, "unterminated string"));
        };
        if self.text[start + len] == b'\\' {
            return Err(self.error_at(
                start + len,
                "escape sequences are not supported in a .npy header",
            ));
        }
        self.pos = start + len + 1;
        Ok(String::from_utf8_lossy(&text[start..start + len]))
    }

    fn descr(&mut self) -> Result<(NpyDtype, bool)> {
        let pos = self.pos;
        if self.peek() == Some(b'[') {
            return Err(self.error_at(
                pos,
                format!(
                    "structured dtypes (a list of fields as 'descr') are not supported; {SUPPORTED}"
                ),
            ));
        }
        let descr = self.string("a dtype string as 'descr'")?.into_owned();
        NpyDtype::from_descr(&descr).ok_or_else(|| {
            self.error_at(
                pos,
                format!("unsupported dtype descr '{descr}'; {SUPPORTED}"),
            )
        })
    }

    fn bool(&mut self) -> Result<bool> {
        for (word, value) in [("True", true), ("False", false)] {
            if self.text[self.pos..].starts_with(word.as_bytes()) {
                self.pos += word.len();
                return Ok(value);
            }
        }
        Err(self.unexpected("True or False as 'fortran_order'"))
    }

    /// A tuple of non-negative integers: `()`, `(5,)`, `(2, 3)`, `(2, 3,)`; Python 2 files
    /// may write `3L`.
    fn shape(&mut self) -> Result<Vec<usize>> {
        self.expect(b'(', "a tuple '(' as 'shape'")?;
        let mut shape = Vec::new();
        let mut trailing_comma = false;
        loop {
            self.skip_space();
            if self.peek() == Some(b')') {
                self.pos += 1;
                break;
            }
            shape.push(self.dimension()?);
            self.skip_space();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    trailing_comma = true;
                }
                Some(b')') => {
                    self.pos += 1;
                    trailing_comma = false;
                    break;
                }
                _ => return Err(self.unexpected("',' or ')' in the shape tuple")),
            }
        }
        if shape.len() == 1 && !trailing_comma {
            return Err(self.error_at(
                self.pos - 1,
                format!(
                    "a one-dimensional shape needs a trailing comma, ({},): without it Python reads a number, not a tuple",
                    shape[0]
                ),
            ));
        }
        Ok(shape)
    }

    fn dimension(&mut self) -> Result<usize> {
        let start = self.pos;
        let digits = self.text[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            return Err(self.unexpected("a non-negative integer dimension"));
        }
        let text = &self.text[start..start + digits];
        let value = text
            .iter()
            .try_fold(0usize, |acc, &d| {
                acc.checked_mul(10)?.checked_add(usize::from(d - b'0'))
            })
            .ok_or_else(|| {
                self.error_at(
                    start,
                    format!(
                        "dimension {} does not fit in {} bits",
                        String::from_utf8_lossy(text),
                        usize::BITS
                    ),
                )
            })?;
        self.pos += digits;
        if self.peek() == Some(b'L') {
            self.pos += 1;
        }
        Ok(value)
    }
}

const SUPPORTED: &str = "supported: '<f4' float32, '<f8' float64, '<i8' int64, '<i4' int32, '|u1' uint8, '|b1' bool (any byte order)";

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

/// Writes `array` as a `.npy` file (the bytes of [`NpyArray::to_bytes`]), atomically: the
/// data goes to a temporary file in the same folder, synced and renamed into place, so a
/// crash never leaves a half-written file under `path`.
pub fn write_npy(path: impl AsRef<Path>, array: &NpyArray) -> Result<()> {
    let path = path.as_ref();
    write_atomically(path, |file, tmp| {
        array.write_to(file).map_err(|e| Error::io(tmp, e))
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::{RngExt, SeedableRng};

    fn fixture(name: &str) -> std::path::PathBuf {
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/npy")).join(name)
    }

    fn err(bytes: &[u8]) -> String {
        parse_npy(bytes, "x.npy").unwrap_err().to_string()
    }

    /// A file with `dict` as its header (padded like numpy) and `data` after it.
    fn npy_with_header(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut header = dict.to_string();
        while !(10 + header.len() + 1).is_multiple_of(64) {
            header.push(' ');
        }
        header.push('\n');
        let mut out = b"\x93NUMPY\x01\x00".to_vec();
        out.extend((header.len() as u16).to_le_bytes());
        out.extend(header.as_bytes());
        out.extend(data);
        out
    }

    #[test]
    fn numpy_fixtures_have_the_values_numpy_wrote() {
        let read = |name: &str| {
            let a = read_npy(fixture(name)).unwrap();
            assert_eq!(
                parse_npy(&std::fs::read(fixture(name)).unwrap(), name).unwrap(),
                a
            );
            a
        };
        let a = read("f32.npy");
        assert_eq!(a.shape(), &[2, 3, 4]);
        let f32s: Vec<f32> = (0..24).map(|i| i as f32 / 7.0).collect();
        assert_eq!(a.as_slice::<f32>().unwrap(), f32s);
        let a = read("f64.npy");
        assert_eq!(a.shape(), &[10]);
        let f64s: Vec<f64> = (0..10).map(|i| i as f64 / 3.0 - 1.0).collect();
        assert_eq!(a.as_slice::<f64>().unwrap(), f64s);
        let mut i64s: Vec<i64> = (0..12).map(|i| (i - 6) * 1_000_000_007).collect();
        (i64s[0], i64s[11]) = (i64::MIN, i64::MAX);
        let a = read("i64.npy");
        assert_eq!(
            (a.shape(), a.as_slice::<i64>().unwrap()),
            (&[4, 3][..], &i64s[..])
        );
        let a = read("i32.npy");
        let i32s: Vec<i32> = (0..20).map(|i| (i - 10) * 123457).collect();
        assert_eq!(
            (a.shape(), a.as_slice::<i32>().unwrap()),
            (&[5, 4][..], &i32s[..])
        );
        let a = read("u8.npy");
        let u8s: Vec<u8> = (0..=255).collect();
        assert_eq!(
            (a.shape(), a.as_slice::<u8>().unwrap()),
            (&[16, 16][..], &u8s[..])
        );
        let a = read("bool.npy");
        let bools: Vec<bool> = (0..10).map(|i| i % 3 == 0).collect();
        assert_eq!(
            (a.shape(), a.as_slice::<bool>().unwrap()),
            (&[2, 5][..], &bools[..])
        );
        assert_eq!(
            a.to_f32(),
            bools
                .iter()
                .map(|&b| if b { 1.0 } else { 0.0 })
                .collect::<Vec<_>>()
        );
        let a = read("scalar_f64.npy");
        assert_eq!(
            (a.shape(), a.as_slice::<f64>().unwrap()),
            (&[][..], &[3.25][..])
        );
        let a = read("empty_f32.npy");
        assert_eq!((a.shape(), a.len()), (&[0, 3][..], 0));
        let a = read("v2_f32.npy");
        let quarters: Vec<f32> = (0..6).map(|i| i as f32 / 4.0).collect();
        assert_eq!(
            (a.shape(), a.as_slice::<f32>().unwrap()),
            (&[2, 3][..], &quarters[..])
        );
        let a = read("v3_i64.npy");
        assert_eq!(a.as_slice::<i64>().unwrap(), &[-1, 0, 1]);
    }

    #[test]
    fn fortran_order_and_big_endian_come_back_in_c_order_native() {
        let a = read_npy(fixture("fortran_f32.npy")).unwrap();
        assert_eq!(a.shape(), &[2, 3]);
        assert_eq!(
            a.as_slice::<f32>().unwrap(),
            &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
        );
        let a = read_npy(fixture("fortran_i32.npy")).unwrap();
        assert_eq!(a.shape(), &[2, 3, 4]);
        assert_eq!(
            a.as_slice::<i32>().unwrap(),
            (0..24).map(|i| i - 5).collect::<Vec<_>>()
        );
        let a = read_npy(fixture("big_endian_f64.npy")).unwrap();
        assert_eq!(a.shape(), &[3, 2]);
        let expected: Vec<f64> = (0..6).map(|i| i as f64 * 0.25 - 1.0).collect();
        assert_eq!(a.as_slice::<f64>().unwrap(), expected);
        let a = read_npy(fixture("big_endian_i32.npy")).unwrap();
        assert_eq!(a.as_slice::<i32>().unwrap(), &[-140000, -70000, 0, 70000]);
    }

    #[test]
    fn writer_matches_numpy_save_byte_for_byte() {
        for name in [
            "f32.npy",
            "f64.npy",
            "i64.npy",
            "i32.npy",
            "u8.npy",
            "bool.npy",
            "scalar_f64.npy",
            "empty_f32.npy",
        ] {
            let bytes = std::fs::read(fixture(name)).unwrap();
            assert_eq!(parse_npy(&bytes, name).unwrap().to_bytes(), bytes, "{name}");
        }
        // Fortran order and big-endian files are written back little-endian in C order.
        let a = read_npy(fixture("big_endian_f64.npy")).unwrap();
        let c_order = a.to_bytes();
        assert!(
            std::str::from_utf8(&c_order[10..64])
                .unwrap()
                .contains("'descr': '<f8'")
        );
        assert_eq!(parse_npy(&c_order, "rt").unwrap(), a);
    }

    #[test]
    fn unsupported_dtypes_are_named() {
        let e = read_npy(fixture("unsupported_f2.npy"))
            .unwrap_err()
            .to_string();
        assert!(e.ends_with("unsupported_f2.npy: byte 20: header: unsupported dtype descr '<f2'; supported: '<f4' float32, '<f8' float64, '<i8' int64, '<i4' int32, '|u1' uint8, '|b1' bool (any byte order)"), "{e}");
        let e = read_npy(fixture("structured.npy")).unwrap_err().to_string();
        assert!(
            e.contains(
                "byte 20: header: structured dtypes (a list of fields as 'descr') are not supported"
            ),
            "{e}"
        );
        for descr in ["|O", "<U3", "<i2", "<u4", "|S5", "<c8"] {
            let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (1,), }}");
            let e = err(&npy_with_header(&dict, &[0; 16]));
            assert!(
                e.contains(&format!("unsupported dtype descr '{descr}'")),
                "{e}"
            );
        }
    }

    #[test]
    fn npz_fixtures_stored_and_deflated() {
        for name in ["arrays.npz", "arrays_compressed.npz"] {
            let npz = read_npz(fixture(name)).unwrap();
            assert_eq!(
                parse_npz(&std::fs::read(fixture(name)).unwrap(), name).unwrap(),
                npz
            );
            assert_eq!(npz.names().collect::<Vec<_>>(), ["a", "b", "c"], "{name}");
            let a = npz.get("a").unwrap();
            let sevenths: Vec<f32> = (0..6).map(|i| i as f32 / 7.0).collect();
            assert_eq!(
                (a.shape(), a.as_slice::<f32>().unwrap()),
                (&[2, 3][..], &sevenths[..])
            );
            assert_eq!(
                npz.get("b").unwrap().as_slice::<i64>().unwrap(),
                &[-2, -1, 0, 1, 2]
            );
            assert_eq!(
                npz.get("c").unwrap().as_slice::<bool>().unwrap(),
                &[false, true, false, true]
            );
            assert!(npz.get("d").is_none());
        }
    }

    #[test]
    fn bad_headers_name_offset_and_expectation() {
        assert_eq!(
            err(b""),
            "x.npy: byte 0: truncated: a .npy file starts with 6 magic bytes and 2 version bytes, the file has 0 bytes"
        );
        assert_eq!(
            err(b"PK\x03\x04 not npy"),
            "x.npy: byte 0: bad magic number \"PK\\u{3}\\u{4} n\": a .npy file starts with \\x93NUMPY"
        );
        assert!(
            err(b"\x93NUMPY\x04\x00\x10\x00")
                .contains("byte 6: unsupported format version 4.0 (supported: 1.0, 2.0, 3.0)")
        );
        assert!(err(b"\x93NUMPY\x01\x01\x10\x00").contains("unsupported format version 1.1"));
        assert_eq!(
            err(b"\x93NUMPY\x01\x00\xe8\x03{'descr'"),
            "x.npy: byte 8: header length 1000 runs past the end of the file (18 bytes)"
        );
        assert!(
            err(b"\x93NUMPY\x02\x00\x10")
                .contains("byte 9: truncated: expected 3 more bytes, the file ends here")
        );
        let bad = |dict: &str| err(&npy_with_header(dict, &[0; 12]));
        let e = bad("{'descr': '<f4', 'fortran_order': False, }");
        assert_eq!(
            e,
            "x.npy: byte 10: the header dict has no 'shape' key (it needs 'descr', 'fortran_order' and 'shape')"
        );
        let e = bad("{'descr': '<f4', 'fortran_order': False, 'shape': (3, x), }");
        assert!(
            e.contains("byte 64: header: expected a non-negative integer dimension, found \"x), }"),
            "{e}"
        );
        let e = bad("{'descr': '<f4', 'fortran_order': False, 'shape': (3), }");
        assert!(
            e.contains("byte 62: header: a one-dimensional shape needs a trailing comma, (3,)"),
            "{e}"
        );
        let e = bad("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }");
        assert!(
            e.contains("expected a non-negative integer dimension, found \"-3,)"),
            "{e}"
        );
        let e = bad("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }");
        assert!(
            e.contains(
                "byte 44: header: expected True or False as 'fortran_order', found \"0, 'shape'"
            ),
            "{e}"
        );
        let e = bad("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}");
        assert!(
            e.contains("byte 27: header: key 'descr' appears twice"),
            "{e}"
        );
        let e = bad("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}");
        assert!(e.contains("unexpected key 'extra'"), "{e}");
        let e = bad("{'descr': '<f4', 'fortran_order': False, 'shape': (3,) 'x'}");
        assert!(
            e.contains("expected ',' or '}' after a value, found \"'x'}"),
            "{e}"
        );
        let e = bad("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } junk");
        assert!(
            e.contains("expected only spaces and a newline after the header dict, found \"junk"),
            "{e}"
        );
        let e = bad("{'descr: '<f4'}");
        assert!(e.contains("expected ':' after a key"), "{e}");
        let e =
            bad("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }");
        assert!(
            e.contains("dimension 99999999999999999999999 does not fit in 64 bits"),
            "{e}"
        );
        // Flexible syntax numpy's literal_eval accepts: double quotes, any key order, no
        // trailing comma, Python 2 long suffixes.
        let ok = npy_with_header(
            "{\"shape\": (3L,), \"fortran_order\": False, \"descr\": \"<f4\"}",
            &[0; 12],
        );
        assert_eq!(parse_npy(&ok, "ok").unwrap().shape(), &[3]);
    }

    #[test]
    fn absurd_shapes_and_bad_data_are_refused_before_allocating() {
        let dict =
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }";
        let e = err(&npy_with_header(dict, &[1, 2, 3]));
        assert!(e.contains("byte 10: shape (1099511627776, 1099511627776) of 4-byte items overflows the address space"), "{e}");
        // 2^62 bytes fit in isize but not in the file: refused by the length check.
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824, 1073741824), }";
        let e = err(&npy_with_header(dict, &[1, 2, 3]));
        assert!(e.contains("byte 128: the header declares shape (1073741824, 1073741824) of float32 = 4611686018427387904 data bytes, the file has 3 (truncated)"), "{e}");
        // A zero-sized axis does not excuse absurd other axes.
        let dict =
            "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4611686018427387904, 4), }";
        assert!(err(&npy_with_header(dict, &[])).contains("overflows the address space"));
        let rank = vec!["1"; 65].join(", ");
        let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rank}), }}");
        assert!(
            err(&npy_with_header(&dict, &[0; 4]))
                .contains("65 dimensions, more than numpy's maximum of 64")
        );

        let good = std::fs::read(fixture("f32.npy")).unwrap();
        let e = err(&good[..good.len() - 3]);
        assert_eq!(
            e,
            "x.npy: byte 128: the header declares shape (2, 3, 4) of float32 = 96 data bytes, the file has 93 (truncated)"
        );
        let mut long = good.clone();
        long.push(0);
        assert!(err(&long).ends_with("the file has 97 (trailing bytes)"));
        let mut bools = std::fs::read(fixture("bool.npy")).unwrap();
        let data_start = bools.len() - 10;
        bools[data_start + 7] = 2;
        assert_eq!(
            err(&bools),
            format!(
                "x.npy: byte {}: bool byte 2: a bool must be 0 or 1",
                data_start + 7
            )
        );
    }

    /// A zip file with the given members, stored.
    fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, bytes) in members {
            zip.start_file(
                *name,
                zip::write::SimpleFileOptions::default()
                    .compression_method(zip::CompressionMethod::Stored),
            )
            .unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    #[test]
    fn bad_npz_archives_name_the_member() {
        assert!(
            parse_npz(b"hello", "x.npz")
                .unwrap_err()
                .to_string()
                .starts_with("x.npz: not a readable zip archive")
        );
        let npy = NpyArray::from_vec(vec![2], vec![1.5f32, 2.5])
            .unwrap()
            .to_bytes();
        let e = parse_npz(&zip_of(&[("a.npy", &npy), ("readme.txt", b"hi")]), "x.npz")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "x.npz: member readme.txt: not a .npy array (an .npz archive holds only NAME.npy members)"
        );
        let e = parse_npz(&zip_of(&[("a.npy", &npy[..npy.len() - 1])]), "x.npz")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("x.npz: member a.npy: byte 128: the header declares shape (2,) of float32 = 8 data bytes, the member has 7 (truncated)"), "{e}");
        // The zip writer refuses a repeated name, so rename b.npy to a.npy in the bytes.
        let mut twice = zip_of(&[("a.npy", &npy), ("b.npy", &npy)]);
        while let Some(at) = twice.windows(5).position(|w| w == b"b.npy") {
            twice[at] = b'a';
        }
        let e = parse_npz(&twice, "x.npz").unwrap_err().to_string();
        assert_eq!(
            e,
            "x.npz: the archive repeats a member name, so an array name is ambiguous"
        );

        // A flipped byte in a stored member's data fails its CRC; in a deflated member the
        // stream or the CRC.
        for name in ["arrays.npz", "arrays_compressed.npz"] {
            let mut bytes = std::fs::read(fixture(name)).unwrap();
            let data = 30
                + u16::from_le_bytes([bytes[26], bytes[27]]) as usize
                + u16::from_le_bytes([bytes[28], bytes[29]]) as usize;
            bytes[data + 70] ^= 0x55;
            let e = parse_npz(&bytes, name).unwrap_err().to_string();
            assert!(e.starts_with(&format!("{name}: member a.npy: ")), "{e}");
        }

        // A declared size beyond what deflate can produce from the compressed bytes.
        let mut bomb = zip_of(&[("a.npy", &npy)]);
        let central = bomb.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        bomb[central + 24..central + 28].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
        let e = parse_npz(&bomb, "bomb.npz").unwrap_err().to_string();
        assert!(
            e.starts_with(
                "bomb.npz: member a.npy: declares 2147483647 uncompressed bytes from 136 compressed"
            ),
            "{e}"
        );
    }

    /// Bits of `n` values of `dtype` from a seeded generator (every bit pattern, NaNs too).
    fn random_array(shape: Vec<usize>, dtype: NpyDtype, seed: u64) -> NpyArray {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let n: usize = shape.iter().product();
        let data = match dtype {
            NpyDtype::F32 => NpyData::F32((0..n).map(|_| f32::from_bits(rng.random())).collect()),
            NpyDtype::F64 => NpyData::F64((0..n).map(|_| f64::from_bits(rng.random())).collect()),
            NpyDtype::I64 => NpyData::I64((0..n).map(|_| rng.random()).collect()),
            NpyDtype::I32 => NpyData::I32((0..n).map(|_| rng.random()).collect()),
            NpyDtype::U8 => NpyData::U8((0..n).map(|_| rng.random()).collect()),
            NpyDtype::Bool => NpyData::Bool((0..n).map(|_| rng.random()).collect()),
        };
        NpyArray::new(shape, data).unwrap()
    }

    const DTYPES: [NpyDtype; 6] = [
        NpyDtype::F32,
        NpyDtype::F64,
        NpyDtype::I64,
        NpyDtype::I32,
        NpyDtype::U8,
        NpyDtype::Bool,
    ];

    fn array_strategy() -> impl Strategy<Value = NpyArray> {
        (
            proptest::collection::vec(0usize..5, 0..=4),
            0..DTYPES.len(),
            any::<u64>(),
        )
            .prop_map(|(shape, dtype, seed)| random_array(shape, DTYPES[dtype], seed))
    }

    proptest! {
        #[test]
        fn npy_write_read_round_trip(array in array_strategy()) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("a.npy");
            write_npy(&path, &array).unwrap();
            let back = read_npy(&path).unwrap();
            // Compared as bytes: NaN payloads must survive too, and NaN != NaN.
            prop_assert_eq!(back.to_bytes(), array.to_bytes());
            prop_assert_eq!(back.shape(), array.shape());
            prop_assert_eq!(back.dtype(), array.dtype());
            prop_assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
            let bytes = array.to_bytes();
            prop_assert_eq!(bytes.len() % 64, (array.len() * array.dtype().size()) % 64, "data starts 64-byte aligned");
            prop_assert_eq!(parse_npy(&bytes, "m").unwrap().to_bytes(), bytes);
        }

        #[test]
        fn fortran_order_files_read_in_c_order(shape in proptest::collection::vec(1usize..5, 0..=4)) {
            let n: usize = shape.iter().product();
            let c_order: Vec<i32> = (0..n as i32).collect();
            // Position in Fortran order of each C-order element.
            let mut fortran = vec![0i32; n];
            for (c_index, &value) in c_order.iter().enumerate() {
                let (mut rest, mut f_index, mut stride) = (c_index, 0, 1);
                let mut c_strides: Vec<usize> = shape.iter().rev().scan(1, |s, &d| { let v = *s; *s *= d; Some(v) }).collect();
                c_strides.reverse();
                for (axis, &d) in shape.iter().enumerate() {
                    let i = rest / c_strides[axis];
                    rest %= c_strides[axis];
                    f_index += i * stride;
                    stride *= d;
                }
                fortran[f_index] = value;
            }
            let data: Vec<u8> = fortran.iter().flat_map(|v| v.to_le_bytes()).collect();
            let dict = format!("{{'descr': '<i4', 'fortran_order': True, 'shape': {}, }}", shape_text(&shape));
            let back = parse_npy(&npy_with_header(&dict, &data), "f.npy").unwrap();
            prop_assert_eq!(back.shape(), &shape[..]);
            prop_assert_eq!(back.as_slice::<i32>().unwrap(), &c_order[..]);
        }

        #[test]
        fn npz_write_read_round_trip(arrays in proptest::collection::vec(array_strategy(), 0..4), compressed in any::<bool>()) {
            let names: Vec<String> = (0..arrays.len()).map(|i| format!("array_{i}")).collect();
            let members: Vec<(&str, &NpyArray)> = names.iter().map(String::as_str).zip(&arrays).collect();
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("a.npz");
            write_npz(&path, &members, compressed).unwrap();
            let back = read_npz(&path).unwrap();
            prop_assert_eq!(back.names().collect::<Vec<_>>(), names.iter().map(String::as_str).collect::<Vec<_>>());
            for ((_, a), (_, b)) in back.iter().zip(&members) {
                prop_assert_eq!(a.to_bytes(), b.to_bytes());
            }
            let bytes = std::fs::read(&path).unwrap();
            prop_assert_eq!(parse_npz(&bytes, "m").unwrap().len(), arrays.len());
        }
    }

    #[test]
    fn constructors_and_writers_check_their_inputs() {
        let e = NpyArray::new(vec![2, 3], NpyData::F32(vec![0.0; 5]))
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "invalid npy values: 5 float32 values for shape (2, 3) (6 values)"
        );
        let a = NpyArray::from_vec(vec![], vec![7u8]).unwrap();
        assert_eq!((a.len(), a.to_f32()), (1, vec![7.0]));
        let dir = tempfile::tempdir().unwrap();
        let e = write_npz(dir.path().join("x.npz"), &[("a", &a), ("a", &a)], false).unwrap_err();
        assert!(e.to_string().contains("'a' is empty or repeated"), "{e}");
        assert!(write_npz(dir.path().join("x.npz"), &[("", &a)], true).is_err());
        let e = write_npy(dir.path().join("missing/x.npy"), &a)
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing/.x.npy."), "{e}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
