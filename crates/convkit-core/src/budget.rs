//! The memory a run may plan to use, checked before anything sized from user input is
//! allocated.
//!
//! A PNG of 62 KB can decode to 190 MB, a label of 100000 asks for a 100000² confusion matrix,
//! `--resize 99999x99999` for 40 GB per image: each would end in the allocator aborting the
//! process (exit 134, the checkpoint lost). Readers and commands instead add up what they are
//! about to hold and ask [`MemoryBudget::check`] first, which fails with a typed error naming
//! the input and the limit.
//!
//! Models are checked while they are built: [`MemoryBudget::build_module`] runs a config's
//! `try_init` with the budget in scope, every parameter a layer creates is counted
//! ([`reserve`], called by [`crate::init::param`] and by layers that allocate buffers
//! eagerly), and the first tensor that would take the running total over the limit fails with
//! [`Error::Memory`] before it is allocated. convkit's parameters are allocated lazily, so a
//! `--width 4294967296` or a tampered checkpoint config is refused without touching memory.
//!
//! The limit is `CONVKIT_MEMORY_LIMIT` (`512M`, `8G`, `1.5T` or plain bytes; the CLI's
//! `--memory-limit` sets it), else 80% of the machine's physical memory, else 8 GiB where that
//! cannot be read.

use std::cell::RefCell;
use std::fmt;

use crate::{Error, Result};

/// A limit on the bytes a run plans to hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryBudget {
    bytes: u64,
}

impl MemoryBudget {
    /// The environment variable that sets the limit.
    pub const ENV: &'static str = "CONVKIT_MEMORY_LIMIT";

    /// Share of physical memory the default allows.
    const DEFAULT_SHARE: f64 = 0.8;

    /// The default where physical memory cannot be read.
    const FALLBACK: u64 = 8 << 30;

    /// A limit of `bytes`.
    pub fn new(bytes: u64) -> Self {
        MemoryBudget { bytes }
    }

    /// The limit from [`MemoryBudget::ENV`], else 80% of physical memory.
    ///
    /// Errors if the variable is set but not a size.
    pub fn from_env() -> Result<Self> {
        match std::env::var(Self::ENV) {
            Ok(text) => Self::parse(&text).map_err(|e| e.about(format!("${}", Self::ENV))),
            Err(_) => Ok(Self::machine_default()),
        }
    }

    /// 80% of the machine's physical memory (`MemTotal` of `/proc/meminfo`), or 8 GiB.
    pub fn machine_default() -> Self {
        let total = std::fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|text| {
                let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
                let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
                kib.checked_mul(1024)
            });
        match total {
            Some(bytes) => MemoryBudget::new((bytes as f64 * Self::DEFAULT_SHARE) as u64),
            None => MemoryBudget::new(Self::FALLBACK),
        }
    }

    /// Parses a size: a positive number of bytes, optionally with a binary suffix `K`, `M`,
    /// `G` or `T` (`512M`, `1.5G`; case-insensitive, an optional `iB`/`B` after it).
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || {
            Error::invalid(
                "memory limit",
                format!("`{text}` is not a size such as 512M, 8G or 1073741824"),
            )
        };
        let lower = text.trim().to_ascii_lowercase();
        let number = lower
            .strip_suffix("ib")
            .or_else(|| lower.strip_suffix('b'))
            .unwrap_or(&lower);
        let (digits, scale) = match number.char_indices().last() {
            Some((i, 'k')) => (&number[..i], 1u64 << 10),
            Some((i, 'm')) => (&number[..i], 1 << 20),
            Some((i, 'g')) => (&number[..i], 1 << 30),
            Some((i, 't')) => (&number[..i], 1 << 40),
            _ => (number, 1),
        };
        let value: f64 = digits.trim().parse().map_err(|_| bad())?;
        let bytes = value * scale as f64;
        if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
            return Err(bad());
        }
        Ok(MemoryBudget::new(bytes as u64))
    }

    /// The limit in bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Succeeds if `bytes` fit the limit; else an error naming `what` needs them.
    pub fn check(&self, what: &str, bytes: u64) -> Result<()> {
        if bytes <= self.bytes {
            return Ok(());
        }
        Err(Error::Memory {
            what: what.to_string(),
            needs: bytes,
            limit: self.bytes,
        })
    }

    /// [`MemoryBudget::check`] for `count` items of `each` bytes, overflow included.
    pub fn check_items(&self, what: &str, count: u64, each: u64) -> Result<()> {
        self.check(what, count.saturating_mul(each))
    }

    /// Runs `build` (a config's `try_init`) counting every tensor it creates through
    /// [`reserve`], each held `copies` times (1 for inference; 4 for training with Adam:
    /// values, gradients and two moments); fails with [`Error::Memory`] naming `what` as soon
    /// as the total would exceed the limit, before that tensor is allocated, or if the built
    /// model exceeds it. Returns what `build` returned and the bytes planned.
    pub fn build_module<T>(
        &self,
        what: &str,
        copies: u64,
        build: impl FnOnce() -> Result<T>,
    ) -> Result<(T, u64)> {
        let plan = Plan {
            budget: *self,
            what: what.to_string(),
            copies,
            bytes: 0,
        };
        let outer = PLAN.with(|p| p.borrow_mut().replace(plan));
        let built = build();
        let plan = PLAN.with(|p| std::mem::replace(&mut *p.borrow_mut(), outer));
        let planned = plan.map_or(0, |p| p.total());
        let built = built?;
        self.check(what, planned)?;
        Ok((built, planned))
    }
}

/// The model being built under [`MemoryBudget::build_module`] on this thread.
struct Plan {
    budget: MemoryBudget,
    what: String,
    copies: u64,
    /// Bytes of one copy of the tensors reserved so far.
    bytes: u64,
}

impl Plan {
    fn total(&self) -> u64 {
        self.bytes.saturating_mul(self.copies)
    }
}

thread_local! {
    static PLAN: RefCell<Option<Plan>> = const { RefCell::new(None) };
}

/// Counts a tensor of `shape` with elements of `element_bytes` against the model being built
/// on this thread ([`MemoryBudget::build_module`]); errors when the total would pass the
/// limit. Outside `build_module` it only refuses shapes whose size overflows `u64`. Layers call
/// it (through [`crate::init::param`] for parameters) before creating a tensor.
pub fn reserve(shape: &[usize], element_bytes: u64) -> Result<()> {
    let bytes = shape
        .iter()
        .try_fold(element_bytes, |acc, &d| acc.checked_mul(d as u64));
    PLAN.with(|p| match p.borrow_mut().as_mut() {
        Some(plan) => {
            plan.bytes = plan.bytes.saturating_add(bytes.unwrap_or(u64::MAX));
            plan.budget.check(&plan.what, plan.total())
        }
        None => match bytes {
            Some(_) => Ok(()),
            None => Err(Error::Memory {
                what: format!("a tensor of shape {shape:?}"),
                needs: u64::MAX,
                limit: MemoryBudget::machine_default().bytes(),
            }),
        },
    })
}

impl fmt::Display for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Size(self.bytes).fmt(f)
    }
}

/// A byte count for people: `512 MiB`, `1.5 GiB`.
pub(crate) struct Size(pub(crate) u64);

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        let mut value = self.0 as f64;
        let mut unit = 0;
        while value >= 1024.0 && unit + 1 < units.len() {
            value /= 1024.0;
            unit += 1;
        }
        if unit == 0 {
            write!(f, "{} bytes", self.0)
        } else {
            write!(f, "{value:.1} {}", units[unit])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_and_print() {
        for (text, bytes) in [
            ("512M", 512u64 << 20),
            ("8G", 8 << 30),
            ("1.5g", 3 << 29),
            ("2GiB", 2 << 30),
            ("1048576", 1 << 20),
            ("4kb", 4 << 10),
        ] {
            assert_eq!(MemoryBudget::parse(text).unwrap().bytes(), bytes, "{text}");
        }
        for bad in ["", "G", "-1G", "nan", "1e30T", "0", "12X"] {
            assert!(MemoryBudget::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(MemoryBudget::new(3 << 29).to_string(), "1.5 GiB");
    }

    #[test]
    fn over_the_limit_is_an_error_naming_the_input() {
        let budget = MemoryBudget::new(1 << 30);
        assert!(budget.check("images", 1 << 30).is_ok());
        let err = budget.check_items("16 images of 8000x8000", 16, 192_000_000);
        assert_eq!(
            err.unwrap_err().to_string(),
            "16 images of 8000x8000 needs 2.9 GiB, more than the memory limit of 1.0 GiB (raise \
             it with --memory-limit or $CONVKIT_MEMORY_LIMIT)"
        );
        assert!(budget.check_items("overflow", u64::MAX, 2).is_err());
        assert!(MemoryBudget::machine_default().bytes() > 0);
    }

    #[test]
    fn models_are_planned_while_they_are_built() {
        let budget = MemoryBudget::new(1000);
        let (value, planned) = budget
            .build_module("a model", 2, || {
                reserve(&[10, 10], 4)?;
                Ok(7)
            })
            .unwrap();
        assert_eq!((value, planned), (7, 800));
        let err = budget
            .build_module("a wide model", 2, || {
                reserve(&[10, 10], 4)?;
                reserve(&[1 << 40, 1 << 40], 4)?;
                unreachable!("the second tensor is refused before it exists")
            })
            .map(|(v, _): ((), u64)| v)
            .unwrap_err();
        assert!(
            err.to_string().starts_with("a wide model needs 16.0 EiB"),
            "{err}"
        );
        // Outside a plan only overflowing shapes are refused, and the plan does not leak.
        assert!(reserve(&[1 << 40], 4).is_ok());
        assert!(reserve(&[1 << 40, 1 << 40], 4).is_err());
    }
}
