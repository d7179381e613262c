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

use std::fmt;
use std::io::Write;
use std::path::Path;

use convkit_core::{Error, Result};

use crate::atomic::write_atomically;

mod array;
mod dtype;
mod header;
#[cfg(feature = "npz")]
mod npz;
mod read;
#[cfg(test)]
mod tests;

pub use array::NpyArray;
pub use dtype::{NpyData, NpyDtype, NpyElement};
#[cfg(feature = "npz")]
pub use npz::{Npz, parse_npz, read_npz, write_npz};
pub use read::{parse_npy, read_npy};

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

const MAGIC: &[u8; 6] = b"\x93NUMPY";
/// numpy aligns the data to 64 bytes.
const HEADER_ALIGN: usize = 64;
/// numpy leaves room in the header for the first dimension to grow to this many digits.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;
/// Values are read and written in chunks of this many bytes: large enough that system calls
/// cost nothing, small enough to stay in the L2 cache while converting.
const CHUNK_BYTES: usize = 256 * 1024;

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

const SUPPORTED: &str = "supported: '<f4' float32, '<f8' float64, '<i8' int64, '<i4' int32, '|u1' uint8, '|b1' bool (any byte order)";

/// Writes `array` as a `.npy` file (the bytes of [`NpyArray::to_bytes`]), atomically: the
/// data goes to a temporary file in the same folder, synced and renamed into place, so a
/// crash never leaves a half-written file under `path`.
pub fn write_npy(path: impl AsRef<Path>, array: &NpyArray) -> Result<()> {
    let path = path.as_ref();
    write_atomically(path, |file, tmp| {
        array.write_to(file).map_err(|e| Error::io(tmp, e))
    })
}
