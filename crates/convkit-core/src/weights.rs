//! Importing PyTorch weights.
//!
//! A PyTorch `state_dict` saved with `safetensors.torch.save_file` loads into any convkit
//! module with [`load_pytorch_safetensors`]. A [`KeyMap`] renames PyTorch keys to the module's
//! paths (regular expressions, applied in order) and lists keys to ignore (such as BatchNorm's
//! `num_batches_tracked`). burn-store's PyTorch adapter transposes `Linear` weights and renames
//! norm parameters (`weight`/`bias` → `gamma`/`beta`).
//!
//! Loading is all-or-nothing from the user's point of view: any missing, unexpected or
//! mis-shaped key is an [`Error::Weights`] whose [`WeightReport`] names every one of them.

use std::fmt;
use std::path::Path;

use burn::module::Module;
use burn::store::{KeyRemapper, ModuleSnapshot, PyTorchToBurnAdapter, SafetensorsStore};

use crate::{Error, Result};

/// How PyTorch key names map to a convkit module's parameter paths.
#[derive(Debug, Clone, Default)]
pub struct KeyMap {
    renames: Vec<(String, String)>,
    ignored: Vec<String>,
}

impl KeyMap {
    /// An empty map: keys are used as they are.
    pub fn new() -> Self {
        Self::default()
    }

    /// Renames keys matching the regular expression `from` (replacement syntax of the `regex`
    /// crate: `$1` for groups). Rules apply in the order they were added.
    pub fn rename(mut self, from: impl Into<String>, to: impl Into<String>) -> Self {
        self.renames.push((from.into(), to.into()));
        self
    }

    /// Ignores source keys matching the regular expression `pattern` (after renaming).
    pub fn ignore(mut self, pattern: impl Into<String>) -> Self {
        self.ignored.push(pattern.into());
        self
    }

    /// The rename rules, in order.
    pub fn renames(&self) -> &[(String, String)] {
        &self.renames
    }
}

/// What did not match when loading weights.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WeightReport {
    /// Module parameters the file did not provide.
    pub missing: Vec<String>,
    /// File keys (after renaming) the module has no parameter for.
    pub unexpected: Vec<String>,
    /// Keys whose shape differs: `(key, module shape, file shape)`.
    pub mismatched: Vec<(String, Vec<usize>, Vec<usize>)>,
    /// Other per-tensor failures (dtype, adapter).
    pub other: Vec<String>,
    /// Number of tensors loaded.
    pub applied: usize,
}

impl WeightReport {
    /// Whether every parameter was loaded and every key used.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
            && self.unexpected.is_empty()
            && self.mismatched.is_empty()
            && self.other.is_empty()
    }
}

impl fmt::Display for WeightReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if !self.missing.is_empty() {
            parts.push(format!("missing keys: {}", self.missing.join(", ")));
        }
        if !self.unexpected.is_empty() {
            parts.push(format!("unexpected keys: {}", self.unexpected.join(", ")));
        }
        for (key, module, file) in &self.mismatched {
            parts.push(format!(
                "shape mismatch for `{key}`: module has {module:?}, file has {file:?}"
            ));
        }
        parts.extend(self.other.iter().cloned());
        if parts.is_empty() {
            write!(f, "{} tensors loaded", self.applied)
        } else {
            f.write_str(&parts.join("; "))
        }
    }
}

/// Loads a PyTorch `state_dict` saved as safetensors into `module`.
///
/// Returns the module with the weights applied and the report (complete on success).
/// Fails with [`Error::Weights`] if any key is missing, unexpected or mis-shaped, with
/// [`Error::File`] if the file cannot be read or parsed, and with [`Error::Invalid`] if a
/// [`KeyMap`] pattern is not a valid regular expression.
pub fn load_pytorch_safetensors<M: Module>(
    module: M,
    path: impl AsRef<Path>,
    keys: &KeyMap,
) -> Result<(M, WeightReport)> {
    let path = path.as_ref();
    let remapper = KeyRemapper::from_patterns(keys.renames.clone())
        .map_err(|e| Error::invalid("weight key rename pattern", e.to_string()))?;
    let ignored = keys
        .ignored
        .iter()
        .map(|p| {
            regex::Regex::new(p).map_err(|e| Error::invalid("weight ignore pattern", e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    let store = SafetensorsStore::from_file(path)
        .skip_enum_variants(true)
        .with_from_adapter(PyTorchToBurnAdapter)
        .remap(remapper);
    load_checked(module, path, store, &ignored)
}

/// Applies `store` to `module` and turns every missing, unexpected (unless `ignored`) or
/// mis-shaped tensor into one [`Error::Weights`].
fn load_checked<M: Module>(
    mut module: M,
    path: &Path,
    store: SafetensorsStore,
    ignored: &[regex::Regex],
) -> Result<(M, WeightReport)> {
    if !path.is_file() {
        return Err(Error::file(path, "no such weight file"));
    }
    // Partial and unvalidated, so that burn-store reports every problem in its result instead
    // of stopping at the first.
    let mut store = store.allow_partial(true).validate(false);
    let result = module
        .load_from(&mut store)
        .map_err(|e| Error::file(path, format!("not a readable safetensors file: {e}")))?;
    let mut report = WeightReport {
        applied: result.applied.len(),
        missing: result.missing.iter().map(|(p, _)| p.clone()).collect(),
        unexpected: result
            .unused
            .iter()
            .filter(|k| !ignored.iter().any(|re| re.is_match(k)))
            .cloned()
            .collect(),
        ..WeightReport::default()
    };
    for e in &result.errors {
        match e {
            burn::store::ApplyError::ShapeMismatch {
                path,
                expected,
                found,
            } => report
                .mismatched
                .push((path.clone(), expected.to_vec(), found.to_vec())),
            other => report.other.push(other.to_string()),
        }
    }
    if report.is_complete() {
        Ok((module, report))
    } else {
        Err(Error::Weights {
            path: path.to_path_buf(),
            report: Box::new(report),
        })
    }
}

/// Saves a module's parameters to a safetensors file under burn's own key names (a checkpoint).
///
/// The file appears whole or not at all: a crash never leaves a half-written checkpoint. Equal
/// parameters give byte-identical files (burn's default header metadata is a hash map whose
/// order changes from run to run, so it is replaced by a single entry).
pub fn save_safetensors<M: Module>(module: &M, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    // burn-store writes to a scratch sibling and renames it into place.
    let mut store = SafetensorsStore::from_file(path)
        .clear_metadata()
        .metadata("producer", "convkit")
        .skip_enum_variants(true)
        .overwrite(true);
    module
        .save_into(&mut store)
        .map_err(|e| Error::file(path, format!("cannot write checkpoint: {e}")))
}

/// Loads a module saved by [`save_safetensors`]; every key must match exactly.
pub fn load_safetensors<M: Module>(module: M, path: impl AsRef<Path>) -> Result<M> {
    let path = path.as_ref();
    let store = SafetensorsStore::from_file(path).skip_enum_variants(true);
    load_checked(module, path, store, &[]).map(|(m, _)| m)
}

/// Number of learned values of `module`: every tensor except batch-norm running statistics
/// (`running_mean` / `running_var`), which burn's `num_params` counts and PyTorch's
/// `sum(p.numel() for p in model.parameters())` does not. This is the count reports show.
pub fn learned_parameter_count<M: Module>(module: &M) -> usize {
    module
        .collect(None, None, false)
        .iter()
        .filter(|t| {
            !t.name
                .rsplit('.')
                .next()
                .is_some_and(|leaf| leaf.starts_with("running_"))
        })
        .map(|t| t.shape.num_elements())
        .sum()
}

/// Every parameter and buffer of `module` as raw bytes, keyed by burn path.
///
/// Two modules are bit-identical exactly when these maps are equal; checkpoint round-trip
/// tests compare them.
pub fn parameter_bytes<M: Module>(
    module: &M,
) -> Result<std::collections::BTreeMap<String, Vec<u8>>> {
    module
        .collect(None, None, false)
        .into_iter()
        .map(|t| {
            let (name, _, _, _, bytes) = t
                .into_parts()
                .map_err(|e| Error::invalid("module parameter", e.to_string()))?;
            Ok((name, bytes.to_vec()))
        })
        .collect()
}
