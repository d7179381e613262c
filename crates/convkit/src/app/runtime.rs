//! Where and within what a command runs: the compute device and the memory budget, read once
//! from the command line or the environment and passed to every command.

use convkit_core::{DeviceSpec, MemoryBudget, Result};

/// The device and the memory limit every command runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    /// The compute device (`--device`, else `CONVKIT_DEVICE`, else the CPU).
    pub device: DeviceSpec,
    /// What a command may plan to hold in memory (`--memory-limit`, else
    /// `CONVKIT_MEMORY_LIMIT`, else 80% of physical memory); inputs that need more are
    /// refused before anything is allocated.
    pub memory: MemoryBudget,
}

impl Runtime {
    /// From the command line's values, each falling back to its environment variable and
    /// default. Errors name the flag or variable that does not parse.
    pub fn from_args(device: Option<&str>, memory_limit: Option<&str>) -> Result<Runtime> {
        let device = match device {
            Some(s) => s.parse()?,
            None => DeviceSpec::from_env()?,
        };
        let memory = match memory_limit {
            Some(s) => MemoryBudget::parse(s).map_err(|e| e.about("--memory-limit"))?,
            None => MemoryBudget::from_env()?,
        };
        Ok(Runtime { device, memory })
    }

    /// The CPU, with the machine's default memory limit.
    pub fn cpu() -> Runtime {
        Runtime {
            device: DeviceSpec::Cpu,
            memory: MemoryBudget::machine_default(),
        }
    }
}
