//! `convkit info`: version, compiled backends, devices and threads.

use std::collections::BTreeMap;

use convkit_core::DeviceSpec;
use convkit_core::device::Backend;
use serde::{Deserialize, Serialize};

use super::Runtime;

/// Whether a compiled backend has a device here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceStatus {
    /// The device could be created.
    pub available: bool,
    /// The device, when available.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub device: Option<String>,
    /// Why not, when unavailable.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub reason: Option<String>,
}

impl DeviceStatus {
    /// Whether `spec`'s device can be created here.
    fn of(spec: &DeviceSpec) -> DeviceStatus {
        match spec.device() {
            Ok(d) => DeviceStatus {
                available: true,
                device: Some(format!("{d:?}")),
                reason: None,
            },
            Err(e) => DeviceStatus::unavailable(e.to_string()),
        }
    }

    fn unavailable(reason: String) -> DeviceStatus {
        DeviceStatus {
            available: false,
            device: None,
            reason: Some(reason),
        }
    }
}

/// What `convkit info` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InfoReport {
    /// convkit's version.
    pub version: String,
    /// Backends compiled into this build.
    pub backends: Vec<String>,
    /// Optional backend features compiled in (`ndarray`, `wgpu`, `cuda`).
    pub features: Vec<String>,
    /// Each compiled backend's device, or why there is none.
    pub devices: BTreeMap<String, DeviceStatus>,
    /// The device commands run on.
    pub selected_device: String,
    /// Whether that device is available (a backend not compiled in, or without an adapter,
    /// is not), and why not.
    pub selected_status: DeviceStatus,
    /// The memory limit commands plan within, in bytes.
    pub memory_limit: u64,
    /// Hardware threads.
    pub threads: usize,
    /// Threads used for compute (`RAYON_NUM_THREADS`, else all).
    pub compute_threads: usize,
}

/// The report for `runtime`, the device and memory limit commands would run with.
pub fn info(runtime: &Runtime) -> InfoReport {
    let spec = &runtime.device;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let compute_threads = std::env::var("RAYON_NUM_THREADS")
        .ok()
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(threads);
    let devices = Backend::compiled()
        .into_iter()
        .map(|backend| {
            let status = backend.name().parse::<DeviceSpec>().map_or_else(
                |e| DeviceStatus::unavailable(e.to_string()),
                |spec| DeviceStatus::of(&spec),
            );
            (backend.name().to_string(), status)
        })
        .collect();
    let backends: Vec<String> = Backend::compiled()
        .iter()
        .map(|b| b.name().to_string())
        .collect();
    // Every backend but the default CPU one comes from the Cargo feature of its name.
    let features = backends.iter().filter(|b| *b != "cpu").cloned().collect();
    InfoReport {
        version: env!("CARGO_PKG_VERSION").to_string(),
        backends,
        features,
        devices,
        selected_device: spec.to_string(),
        selected_status: DeviceStatus::of(spec),
        memory_limit: runtime.memory.bytes(),
        threads,
        compute_threads,
    }
}
