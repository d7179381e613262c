//! [`NpyArray`]: a shape and values in C order, and how it is written.

use super::*;

/// An n-dimensional array as stored in a `.npy` file: a shape and values in C order.
///
/// The values always match the shape (checked by every constructor).
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    pub(super) shape: Vec<usize>,
    pub(super) data: NpyData,
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
