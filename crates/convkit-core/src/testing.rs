//! Test helpers shared by every convkit crate (feature `testing`).
//!
//! - [`Fixture`]: a golden `.safetensors` file written by `tools/refgen` (inputs, weights and
//!   reference outputs from PyTorch and friends).
//! - [`compare`] / [`assert_close`]: element-wise closeness with `|a - e| <= atol + rtol * |e|`,
//!   reporting the largest absolute and relative errors and where they occur.
//! - [`test_devices`]: every compiled backend with a usable device, so one test body runs on
//!   each; a GPU backend without an adapter is skipped with a message on stderr.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use burn::tensor::{DType, Device, TensorData};
use safetensors::{Dtype, SafeTensors};

use crate::device::{Backend, DeviceSpec};
use crate::{Error, Result};

/// A golden fixture: named tensors from a `.safetensors` file.
#[derive(Debug, Clone)]
pub struct Fixture {
    path: PathBuf,
    tensors: BTreeMap<String, TensorData>,
}

impl Fixture {
    /// Loads every tensor of the file (f32, f64, i64, i32 and u8 are supported).
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let st = SafeTensors::deserialize(&bytes)
            .map_err(|e| Error::file(path, format!("not a safetensors file: {e}")))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in st.tensors() {
            let dtype = match view.dtype() {
                Dtype::F32 => DType::F32,
                Dtype::F64 => DType::F64,
                Dtype::I64 => DType::I64,
                Dtype::I32 => DType::I32,
                Dtype::U8 => DType::U8,
                other => {
                    return Err(Error::file(
                        path,
                        format!("tensor `{name}` has unsupported dtype {other:?}"),
                    ));
                }
            };
            let data =
                TensorData::from_bytes_vec(view.data().to_vec(), view.shape().to_vec(), dtype);
            tensors.insert(name, data);
        }
        Ok(Fixture {
            path: path.to_path_buf(),
            tensors,
        })
    }

    /// The tensor `name`, or an error naming the fixture and the keys it has.
    pub fn get(&self, name: &str) -> Result<&TensorData> {
        self.tensors.get(name).ok_or_else(|| {
            Error::file(
                &self.path,
                format!(
                    "fixture has no tensor `{name}` (has: {})",
                    self.tensors.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        })
    }

    /// The tensor `name` as a burn float tensor of rank `D` on `device`.
    pub fn float<const D: usize>(&self, name: &str, device: &Device) -> Result<burn::Tensor<D>> {
        let data = self.get(name)?;
        if data.rank() != D {
            return Err(Error::file(
                &self.path,
                format!("tensor `{name}` has rank {}, expected {D}", data.rank()),
            ));
        }
        Ok(burn::Tensor::from_data(
            data.clone().convert::<f32>(),
            device,
        ))
    }

    /// Names of all tensors.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.tensors.keys().map(String::as_str)
    }
}

/// Result of an element-wise comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct Closeness {
    /// Largest `|actual - expected|`.
    pub max_abs: f64,
    /// Index (row-major coordinates) of the largest absolute error.
    pub max_abs_at: Vec<usize>,
    /// Largest `|actual - expected| / |expected|` over elements with `expected != 0`.
    pub max_rel: f64,
    /// Number of elements outside `atol + rtol * |expected|`.
    pub violations: usize,
    /// Number of elements compared.
    pub len: usize,
}

impl fmt::Display for Closeness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} elements out of tolerance; max abs error {:.3e} at {:?}, max rel error {:.3e}",
            self.violations, self.len, self.max_abs, self.max_abs_at, self.max_rel
        )
    }
}

/// Compares two tensors element-wise: `|a - e| <= atol + rtol * |e|` for every element.
///
/// Shapes must be equal. NaN in either side counts as a violation.
pub fn compare(
    actual: &TensorData,
    expected: &TensorData,
    atol: f64,
    rtol: f64,
) -> std::result::Result<Closeness, String> {
    if actual.shape() != expected.shape() {
        return Err(format!(
            "shape mismatch: actual {:?}, expected {:?}",
            actual.shape(),
            expected.shape()
        ));
    }
    let a: Vec<f64> = actual.iter::<f64>().collect();
    let e: Vec<f64> = expected.iter::<f64>().collect();
    let dims = actual.shape().to_vec();
    let mut report = Closeness {
        max_abs: 0.0,
        max_abs_at: vec![0; dims.len()],
        max_rel: 0.0,
        violations: 0,
        len: a.len(),
    };
    for (i, (&x, &y)) in a.iter().zip(&e).enumerate() {
        let diff = (x - y).abs();
        if diff.is_nan() || diff > atol + rtol * y.abs() {
            report.violations += 1;
        }
        if diff > report.max_abs || diff.is_nan() {
            report.max_abs = diff;
            report.max_abs_at = unravel(i, &dims);
        }
        if y != 0.0 {
            report.max_rel = report.max_rel.max(diff / y.abs());
        }
    }
    if report.violations == 0 {
        Ok(report)
    } else {
        Err(report.to_string())
    }
}

/// Panics with a [`Closeness`] report unless `actual` is within tolerance of `expected`.
#[track_caller]
pub fn assert_close(what: &str, actual: &TensorData, expected: &TensorData, atol: f64, rtol: f64) {
    if let Err(report) = compare(actual, expected, atol, rtol) {
        panic!("{what}: not within atol {atol:e}, rtol {rtol:e}: {report}");
    }
}

fn unravel(mut i: usize, dims: &[usize]) -> Vec<usize> {
    let mut idx = vec![0; dims.len()];
    for (k, &d) in dims.iter().enumerate().rev() {
        if d > 0 {
            idx[k] = i % d;
            i /= d;
        }
    }
    idx
}

/// Every compiled backend with a usable device, named, for tests that run on each.
///
/// A GPU backend that is compiled in but has no adapter is skipped with a message on stderr.
pub fn test_devices() -> Vec<(Backend, Device)> {
    let mut devices = Vec::new();
    for backend in Backend::compiled() {
        let spec: DeviceSpec = backend.name().parse().expect("backend names parse");
        match spec.device() {
            Ok(device) => {
                eprintln!("testing on {backend}: {device:?}");
                devices.push((backend, device));
            }
            Err(e) => eprintln!("skipping backend {backend}: {e}"),
        }
    }
    devices
}

/// Path of a fixture file in the calling crate: `<crate>/tests/fixtures/<name>`.
#[macro_export]
macro_rules! fixture_path {
    ($name:expr) => {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests")
            .join("fixtures")
            .join($name)
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compare_reports_worst_element() {
        let e = TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0], [2, 2]);
        let a = TensorData::new(vec![1.0f32, 2.0, 3.5, 4.0], [2, 2]);
        let err = compare(&a, &e, 1e-3, 1e-3).unwrap_err();
        assert!(
            err.starts_with("1 of 4 elements out of tolerance; max abs error 5.000e-1 at [1, 0]"),
            "{err}"
        );
        assert!(compare(&a, &e, 0.6, 0.0).is_ok());
        let nan = TensorData::new(vec![1.0f32, f32::NAN, 3.0, 4.0], [2, 2]);
        assert!(compare(&nan, &e, 1.0, 1.0).is_err());
        let other = TensorData::new(vec![1.0f32; 4], [4]);
        assert!(
            compare(&other, &e, 1.0, 1.0)
                .unwrap_err()
                .contains("shape mismatch")
        );
    }
}
