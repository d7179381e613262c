//! One way to pick a compute device everywhere.
//!
//! A [`DeviceSpec`] is parsed from `cpu`, `ndarray`, `wgpu[:N]` or `cuda[:N]` — the syntax of
//! the CLI's `--device` flag and of the `CONVKIT_DEVICE` environment variable — and turned into
//! a burn [`Device`] by [`DeviceSpec::device`], which fails with [`Error::Device`] when the
//! backend was not compiled in (a Cargo feature of `convkit-core`) or no adapter exists.
//!
//! `cpu` is burn's `flex` backend, compiled with its `rayon` and `simd` features: the fastest
//! CPU backend of burn 0.22 (measured against `ndarray` in `docs/benchmarks.md`).

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;

use crate::{Error, Result};

/// Environment variable read by [`DeviceSpec::from_env`].
pub const DEVICE_ENV: &str = "CONVKIT_DEVICE";

/// A compute backend convkit knows about, compiled in or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// burn's `flex` CPU backend (always compiled).
    Cpu,
    /// burn's `ndarray` CPU backend (feature `ndarray`, deprecated by burn, kept for parity).
    NdArray,
    /// burn's wgpu backend (feature `wgpu`).
    Wgpu,
    /// burn's CUDA backend (feature `cuda`).
    Cuda,
}

impl Backend {
    /// Every backend, compiled in or not.
    pub const ALL: [Backend; 4] = [Backend::Cpu, Backend::NdArray, Backend::Wgpu, Backend::Cuda];

    /// The name used in device strings and Cargo features.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Cpu => "cpu",
            Backend::NdArray => "ndarray",
            Backend::Wgpu => "wgpu",
            Backend::Cuda => "cuda",
        }
    }

    /// Whether this build of convkit includes the backend.
    pub fn is_compiled(self) -> bool {
        match self {
            Backend::Cpu => true,
            Backend::NdArray => cfg!(feature = "ndarray"),
            Backend::Wgpu => cfg!(feature = "wgpu"),
            Backend::Cuda => cfg!(feature = "cuda"),
        }
    }

    /// Backends compiled into this build.
    pub fn compiled() -> Vec<Backend> {
        Self::ALL.into_iter().filter(|b| b.is_compiled()).collect()
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A device request: a backend and, for GPUs, an index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DeviceSpec {
    /// The flex CPU backend.
    #[default]
    Cpu,
    /// The ndarray CPU backend.
    NdArray,
    /// A wgpu adapter; `None` lets wgpu choose.
    Wgpu(Option<usize>),
    /// A CUDA device by index; `None` is device 0.
    Cuda(Option<usize>),
}

impl DeviceSpec {
    /// The backend this spec asks for.
    pub fn backend(self) -> Backend {
        match self {
            DeviceSpec::Cpu => Backend::Cpu,
            DeviceSpec::NdArray => Backend::NdArray,
            DeviceSpec::Wgpu(_) => Backend::Wgpu,
            DeviceSpec::Cuda(_) => Backend::Cuda,
        }
    }

    /// Reads `CONVKIT_DEVICE`; unset or empty means [`DeviceSpec::Cpu`].
    pub fn from_env() -> Result<Self> {
        match std::env::var(DEVICE_ENV) {
            Ok(s) if !s.trim().is_empty() => s.parse().map_err(|e| match e {
                Error::Device { spec, reason } => Error::Device {
                    spec,
                    reason: format!("{reason} (from {DEVICE_ENV})"),
                },
                other => other,
            }),
            _ => Ok(DeviceSpec::Cpu),
        }
    }

    /// Creates the burn device, checking that the backend is compiled in and has an adapter.
    pub fn device(self) -> Result<Device> {
        let unavailable = |reason: String| Error::Device {
            spec: self.to_string(),
            reason,
        };
        if !self.backend().is_compiled() {
            return Err(unavailable(format!(
                "the `{}` backend is not compiled into this build; rebuild with the Cargo feature `{}` (compiled: {})",
                self.backend(),
                self.backend(),
                Backend::compiled()
                    .iter()
                    .map(|b| b.name())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        match self {
            DeviceSpec::Cpu => Ok(Device::flex()),
            // burn deprecates ndarray in favour of flex; convkit keeps it selectable for
            // cross-backend parity checks.
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            DeviceSpec::NdArray => Ok(Device::ndarray()),
            #[cfg(feature = "wgpu")]
            DeviceSpec::Wgpu(index) => {
                let adapters = Device::enumerate(burn::tensor::DeviceType::Wgpu).into_vec();
                pick(adapters, index).map_err(unavailable)
            }
            #[cfg(feature = "cuda")]
            DeviceSpec::Cuda(index) => {
                let devices = Device::enumerate(burn::tensor::DeviceType::Cuda).into_vec();
                pick(devices, index).map_err(unavailable)
            }
            #[allow(unreachable_patterns)]
            _ => unreachable!("backend availability was checked above"),
        }
    }
}

#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn pick(devices: Vec<Device>, index: Option<usize>) -> std::result::Result<Device, String> {
    if devices.is_empty() {
        return Err("no adapter found on this machine".to_string());
    }
    let count = devices.len();
    let i = index.unwrap_or(0);
    devices
        .into_iter()
        .nth(i)
        .ok_or_else(|| format!("index {i} out of range: {count} adapter(s) found"))
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::NdArray => f.write_str("ndarray"),
            DeviceSpec::Wgpu(None) => f.write_str("wgpu"),
            DeviceSpec::Wgpu(Some(i)) => write!(f, "wgpu:{i}"),
            DeviceSpec::Cuda(None) => f.write_str("cuda"),
            DeviceSpec::Cuda(Some(i)) => write!(f, "cuda:{i}"),
        }
    }
}

impl FromStr for DeviceSpec {
    type Err = Error;

    /// Parses `cpu`, `flex` (alias of `cpu`), `ndarray`, `wgpu[:N]`, `cuda[:N]`.
    fn from_str(s: &str) -> Result<Self> {
        let bad = |reason: &str| Error::Device {
            spec: s.to_string(),
            reason: reason.to_string(),
        };
        let lower = s.trim().to_ascii_lowercase();
        let (name, index) = match lower.split_once(':') {
            Some((name, idx)) => {
                let idx = idx
                    .parse::<usize>()
                    .map_err(|_| bad("the index after `:` must be a non-negative integer"))?;
                (name, Some(idx))
            }
            None => (lower.as_str(), None),
        };
        match (name, index) {
            ("cpu" | "flex", None) => Ok(DeviceSpec::Cpu),
            ("ndarray", None) => Ok(DeviceSpec::NdArray),
            ("wgpu", i) => Ok(DeviceSpec::Wgpu(i)),
            ("cuda", i) => Ok(DeviceSpec::Cuda(i)),
            ("cpu" | "flex" | "ndarray", Some(_)) => Err(bad("CPU backends take no index")),
            _ => Err(bad(
                "unknown device; expected cpu, ndarray, wgpu[:N] or cuda[:N]",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!("cpu".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cpu);
        assert_eq!("FLEX".parse::<DeviceSpec>().unwrap(), DeviceSpec::Cpu);
        assert_eq!(
            "ndarray".parse::<DeviceSpec>().unwrap(),
            DeviceSpec::NdArray
        );
        assert_eq!(
            "wgpu".parse::<DeviceSpec>().unwrap(),
            DeviceSpec::Wgpu(None)
        );
        assert_eq!(
            "cuda:1".parse::<DeviceSpec>().unwrap(),
            DeviceSpec::Cuda(Some(1))
        );
        for s in ["cpu", "ndarray", "wgpu", "wgpu:2", "cuda", "cuda:0"] {
            assert_eq!(s.parse::<DeviceSpec>().unwrap().to_string(), s);
        }
    }

    #[test]
    fn rejects_bad_strings() {
        let err = "tpu".parse::<DeviceSpec>().unwrap_err();
        assert!(err.to_string().contains("unknown device"), "{err}");
        let err = "cuda:x".parse::<DeviceSpec>().unwrap_err();
        assert!(err.to_string().contains("non-negative integer"), "{err}");
        let err = "cpu:1".parse::<DeviceSpec>().unwrap_err();
        assert!(err.to_string().contains("no index"), "{err}");
    }

    #[test]
    fn missing_backend_is_a_typed_error() {
        for b in Backend::ALL.into_iter().filter(|b| !b.is_compiled()) {
            let spec: DeviceSpec = b.name().parse().unwrap();
            let err = spec.device().unwrap_err();
            assert!(err.to_string().contains("not compiled"), "{err}");
        }
        assert!(DeviceSpec::Cpu.device().is_ok());
    }
}
