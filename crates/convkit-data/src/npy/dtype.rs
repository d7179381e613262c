//! The element types of `.npy` arrays and their values.

use super::*;

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
    pub(super) fn from_descr(descr: &str) -> Option<(NpyDtype, bool)> {
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
    pub(super) fn fortran_to_c(self, shape: &[usize]) -> NpyData {
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
