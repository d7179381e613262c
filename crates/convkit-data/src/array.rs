//! Conversions between `ndarray` arrays, burn tensors and [`NpyArray`]s.
//!
//! - [`to_tensor`] / [`to_int_tensor`]: an `ndarray` view of any layout (C, Fortran, a
//!   transposed or strided view) becomes a tensor of rank `D` with the same logical values;
//!   a rank other than `D` is an [`Error::Shape`].
//! - [`from_tensor`] / [`from_int_tensor`]: a tensor read back into an [`ArrayD`] in C order.
//! - `NpyArray` ↔ `ArrayD`: [`NpyArray::to_ndarray`] (exact type), [`NpyArray::into_ndarray`]
//!   (no copy), [`NpyArray::to_ndarray_f32`] (any type converted to `f32`), and
//!   `NpyArray::try_from(array)` for an owned `ndarray` array of any supported element type.
//!
//! ```
//! use convkit_data::array::{from_tensor, to_tensor};
//! use ndarray::{ArrayD, IxDyn};
//!
//! let device = burn::tensor::Device::default();
//! let a = ArrayD::from_shape_vec(IxDyn(&[2, 3]), vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
//! let t = to_tensor::<2, _>(a.t(), &device).unwrap(); // the transpose, [3, 2]
//! assert_eq!(t.dims(), [3, 2]);
//! assert_eq!(from_tensor(t).unwrap(), a.t().to_owned());
//! ```

use burn::tensor::{Device, Element, Int, IntDType, Tensor, TensorData};
use ndarray::{Array, ArrayD, ArrayView, Dimension, IxDyn};

use convkit_core::{Error, Result};

use crate::npy::{NpyArray, NpyDtype, NpyElement};

/// A float tensor of rank `D` with the values of `array` in logical (C) order, on `device`;
/// an [`Error::Shape`] if the array's rank is not `D`. Non-contiguous views are copied in
/// logical order.
pub fn to_tensor<const D: usize, Di: Dimension>(
    array: ArrayView<'_, f32, Di>,
    device: &Device,
) -> Result<Tensor<D>> {
    Ok(Tensor::from_data(tensor_data::<D, _, _>(array)?, device))
}

/// An integer tensor of rank `D` with the values of `array`; see [`to_tensor`]. A value the
/// device's integer type cannot hold (the flex CPU backend stores `i32` by default) is an
/// [`Error::Invalid`] naming it, not a silent wrap.
pub fn to_int_tensor<const D: usize, Di: Dimension>(
    array: ArrayView<'_, i64, Di>,
    device: &Device,
) -> Result<Tensor<D, Int>> {
    let int_dtype = device.settings().int_dtype;
    let (min, max) = int_range(int_dtype);
    if let Some((i, v)) = array
        .iter()
        .enumerate()
        .find(|(_, v)| !(min..=max).contains(*v))
    {
        return Err(Error::invalid(
            "integer tensor values",
            format!(
                "{v} (element {i} in logical order) does not fit the device's integer type {int_dtype:?} ({min}..={max})"
            ),
        ));
    }
    Ok(Tensor::from_data(tensor_data::<D, _, _>(array)?, device))
}

/// The smallest and largest value of an integer type, as `i64` (`u64` capped at `i64::MAX`).
fn int_range(dtype: IntDType) -> (i64, i64) {
    match dtype {
        IntDType::I64 => (i64::MIN, i64::MAX),
        IntDType::I32 => (i32::MIN.into(), i32::MAX.into()),
        IntDType::I16 => (i16::MIN.into(), i16::MAX.into()),
        IntDType::I8 => (i8::MIN.into(), i8::MAX.into()),
        IntDType::U64 => (0, i64::MAX),
        IntDType::U32 => (0, u32::MAX.into()),
        IntDType::U16 => (0, u16::MAX.into()),
        IntDType::U8 => (0, u8::MAX.into()),
    }
}

/// The values of a float tensor as an `f32` array of the same shape, in C order.
pub fn from_tensor<const D: usize>(tensor: Tensor<D>) -> Result<ArrayD<f32>> {
    let dims = tensor.dims();
    let values = tensor
        .try_into_vec_as::<f32>()
        .map_err(|e| Error::invalid("tensor read back to ndarray", e.to_string()))?;
    logical_array(&dims, values)
}

/// The values of an integer tensor as an `i64` array of the same shape, in C order.
pub fn from_int_tensor<const D: usize>(tensor: Tensor<D, Int>) -> Result<ArrayD<i64>> {
    let dims = tensor.dims();
    let values = tensor
        .try_into_vec_as::<i64>()
        .map_err(|e| Error::invalid("tensor read back to ndarray", e.to_string()))?;
    logical_array(&dims, values)
}

fn tensor_data<const D: usize, E: Element, Di: Dimension>(
    array: ArrayView<'_, E, Di>,
) -> Result<TensorData> {
    if array.ndim() != D {
        return Err(Error::Shape {
            what: "ndarray converted to a tensor".to_string(),
            expected: format!("rank {D}"),
            got: array.shape().to_vec(),
        });
    }
    let values = match array.as_slice() {
        Some(contiguous) => contiguous.to_vec(),
        None => array.iter().copied().collect(),
    };
    Ok(TensorData::new(values, array.shape().to_vec()))
}

fn logical_array<E>(shape: &[usize], values: Vec<E>) -> Result<ArrayD<E>> {
    ArrayD::from_shape_vec(IxDyn(shape), values)
        .map_err(|e| Error::invalid("ndarray shape", format!("{shape:?}: {e}")))
}

/// The elements of an owned array in logical (C) order, without copying when the array is
/// already in standard layout.
fn into_logical_vec<T: Clone, D: Dimension>(array: Array<T, D>) -> Vec<T> {
    if !array.is_standard_layout() {
        return array.iter().cloned().collect();
    }
    let len = array.len();
    // A standard-layout array is one contiguous run of its buffer, from `offset` on (the
    // buffer may be longer if the array was sliced in place).
    let (mut buffer, offset) = array.into_raw_vec_and_offset();
    let start = offset.unwrap_or(0);
    buffer.truncate(start + len);
    buffer.drain(..start);
    buffer
}

impl NpyArray {
    /// The values as an `ndarray` array of the same shape, if they are of type `T`; an
    /// [`Error::Invalid`] naming both types otherwise.
    pub fn to_ndarray<T: NpyElement>(&self) -> Result<ArrayD<T>> {
        let values = self
            .as_slice::<T>()
            .ok_or_else(|| type_error::<T>(self.dtype()))?;
        logical_array(self.shape(), values.to_vec())
    }

    /// Like [`NpyArray::to_ndarray`], moving the values instead of copying them.
    pub fn into_ndarray<T: NpyElement>(self) -> Result<ArrayD<T>> {
        let (shape, data) = self.into_parts();
        match T::into_values(data) {
            Ok(values) => logical_array(&shape, values),
            Err(data) => Err(type_error::<T>(data.dtype())),
        }
    }

    /// The values converted to `f32` (see [`NpyArray::to_f32`]) as an array of the same shape.
    pub fn to_ndarray_f32(&self) -> Result<ArrayD<f32>> {
        logical_array(self.shape(), self.to_f32())
    }
}

fn type_error<T: NpyElement>(found: NpyDtype) -> Error {
    Error::invalid(
        "npy element type",
        format!("asked for {}, the array holds {found}", T::DTYPE),
    )
}

impl<T: NpyElement, D: Dimension> TryFrom<Array<T, D>> for NpyArray {
    type Error = Error;

    /// The array in C order; an error only beyond numpy's limit of
    /// [`MAX_RANK`](crate::npy::MAX_RANK) dimensions.
    fn try_from(array: Array<T, D>) -> Result<Self> {
        let shape = array.shape().to_vec();
        NpyArray::from_vec(shape, into_logical_vec(array))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    // `ndarray::s!` expands to `#[allow(unsafe_code)]`, which the workspace's
    // `forbid(unsafe_code)` rejects: slices are taken with `Slice` instead.
    use ndarray::{Array2, Array3, Axis, ShapeBuilder, Slice};

    fn device() -> Device {
        Device::flex()
    }

    #[test]
    fn array_tensor_array_round_trip_is_exact() {
        let values: Vec<f32> = (0..24).map(|i| (i as f32 - 7.5) / 3.0).collect();
        let a = Array3::from_shape_vec((2, 3, 4), values.clone()).unwrap();
        let t = to_tensor::<3, _>(a.view(), &device()).unwrap();
        assert_eq!(t.dims(), [2, 3, 4]);
        assert_eq!(t.clone().into_data().try_to_vec::<f32>().unwrap(), values);
        assert_eq!(from_tensor(t).unwrap(), a.into_dyn());

        let ints = ndarray::arr2(&[[-2_000_000_000i64, -1, 0], [1, 2, 2_000_000_000]]);
        let t = to_int_tensor::<2, _>(ints.view(), &device()).unwrap();
        assert_eq!(from_int_tensor(t).unwrap(), ints.into_dyn());
    }

    #[test]
    fn int_values_beyond_the_device_type_are_an_error() {
        let device = device();
        let int_dtype = device.settings().int_dtype;
        let big = ndarray::arr1(&[0, i64::MIN]);
        match to_int_tensor::<1, _>(big.view(), &device) {
            // A device storing i64 holds every value.
            Ok(t) => assert_eq!(from_int_tensor(t).unwrap(), big.into_dyn()),
            Err(e) => assert_eq!(
                e.to_string(),
                format!(
                    "invalid integer tensor values: -9223372036854775808 (element 1 in logical order) does not fit the device's integer type {int_dtype:?} ({}..={})",
                    int_range(int_dtype).0,
                    int_range(int_dtype).1
                )
            ),
        }
    }

    #[test]
    fn transposed_strided_and_fortran_views_copy_in_logical_order() {
        let a = Array2::from_shape_vec((2, 3), vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
        let t = to_tensor::<2, _>(a.t(), &device()).unwrap();
        assert_eq!(t.dims(), [3, 2]);
        assert_eq!(
            t.into_data().try_to_vec::<f32>().unwrap(),
            vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]
        );
        let t =
            to_tensor::<2, _>(a.slice_axis(Axis(1), Slice::new(0, None, 2)), &device()).unwrap();
        assert_eq!(
            t.into_data().try_to_vec::<f32>().unwrap(),
            vec![1.0, 3.0, 4.0, 6.0]
        );
        // Fortran layout in memory, same logical array as `a`.
        let f = Array2::from_shape_vec((2, 3).f(), vec![1.0f32, 4.0, 2.0, 5.0, 3.0, 6.0]).unwrap();
        assert_eq!(f, a);
        let t = to_tensor::<2, _>(f.view().into_dyn(), &device()).unwrap();
        assert_eq!(from_tensor(t).unwrap(), a.into_dyn());
    }

    #[test]
    fn rank_mismatch_is_a_shape_error() {
        let a = Array2::<f32>::zeros((2, 3));
        let e = to_tensor::<3, _>(a.view(), &device())
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "ndarray converted to a tensor: expected shape rank 3, got [2, 3]"
        );
        let e = to_int_tensor::<1, _>(ndarray::arr0(5i64).view(), &device())
            .unwrap_err()
            .to_string();
        assert!(e.contains("expected shape rank 1, got []"), "{e}");
    }

    #[test]
    fn npy_array_and_ndarray_convert_both_ways() {
        let npy = NpyArray::from_vec(vec![2, 2], vec![1i32, -2, 3, -4]).unwrap();
        let a = npy.to_ndarray::<i32>().unwrap();
        assert_eq!(a, ndarray::arr2(&[[1, -2], [3, -4]]).into_dyn());
        assert_eq!(
            npy.to_ndarray_f32().unwrap(),
            ndarray::arr2(&[[1.0f32, -2.0], [3.0, -4.0]]).into_dyn()
        );
        let e = npy.to_ndarray::<f32>().unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid npy element type: asked for float32, the array holds int32"
        );
        assert_eq!(NpyArray::try_from(a.clone()).unwrap(), npy);
        assert_eq!(npy.clone().into_ndarray::<i32>().unwrap(), a);
        assert!(npy.into_ndarray::<u8>().is_err());

        // Transposed (non-standard layout) and sliced-in-place owned arrays.
        let t = ndarray::arr2(&[[1u8, 2, 3], [4, 5, 6]]).reversed_axes();
        let npy = NpyArray::try_from(t).unwrap();
        assert_eq!(npy.shape(), &[3, 2]);
        assert_eq!(npy.as_slice::<u8>().unwrap(), &[1, 4, 2, 5, 3, 6]);
        let mut sliced = ndarray::arr2(&[[1.5f64, 2.5], [3.5, 4.5], [5.5, 6.5]]);
        sliced.slice_axis_inplace(Axis(0), Slice::from(1..));
        let npy = NpyArray::try_from(sliced).unwrap();
        assert_eq!(npy.as_slice::<f64>().unwrap(), &[3.5, 4.5, 5.5, 6.5]);
        let scalar = NpyArray::try_from(ndarray::arr0(true)).unwrap();
        assert_eq!(
            (scalar.shape(), scalar.as_slice::<bool>().unwrap()),
            (&[][..], &[true][..])
        );
        let empty = NpyArray::try_from(Array2::<i64>::zeros((0, 4))).unwrap();
        assert_eq!(empty.shape(), &[0, 4]);
        assert!(empty.is_empty());
    }
}
