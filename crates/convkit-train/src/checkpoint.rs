//! Checkpoints: a folder holding the weights, the model config and a training summary.
//!
//! Layout of a checkpoint folder:
//! - `checkpoint.json`: `{"format": "convkit-checkpoint", "version": 1, "model": <name>}`;
//!   marks the folder as a convkit checkpoint;
//! - `config.json`: the model's config (any serde type);
//! - `model.safetensors`: the weights under burn's parameter paths;
//! - `summary.json`: what the training run reported (any serde type).
//!
//! [`save`] writes everything into a sibling temporary folder (a fresh name, so it never
//! collides with the user's files) and renames it into place (into an existing empty folder
//! file by file, the marker last), so a crash never leaves a half-written checkpoint under the
//! target name; the temporary folder is removed whatever fails. It never deletes anything convkit did not write: an existing folder is replaced only
//! if it is empty, or if `overwrite` is set and it holds a convkit checkpoint and nothing but
//! the files a checkpoint consists of ([`FILES`]). A symbolic link is never followed or
//! replaced, and [`check_target`] finds a folder that cannot be written before any training.

use std::fs;
use std::path::{Component, Path, PathBuf};

use burn::module::Module;
use convkit_core::weights::{load_safetensors, save_safetensors};
use convkit_core::{Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

const MARKER: &str = "checkpoint.json";
const FORMAT: &str = "convkit-checkpoint";
const WEIGHTS: &str = "model.safetensors";
const CONFIG: &str = "config.json";
const SUMMARY: &str = "summary.json";

/// The files a checkpoint folder consists of: all [`save`] writes, and all `overwrite` may
/// replace.
pub const FILES: [&str; 4] = [MARKER, CONFIG, WEIGHTS, SUMMARY];

#[derive(Serialize, serde::Deserialize)]
struct Marker {
    format: String,
    version: u32,
    model: String,
}

/// Whether `dir` is a convkit checkpoint folder.
pub fn is_checkpoint(dir: &Path) -> bool {
    read_json::<Marker>(&dir.join(MARKER)).is_ok_and(|m| m.format == FORMAT)
}

/// Checks that [`save`] may write to `dir`, before a long training run: `dir` is not a
/// symbolic link; it does not exist (and its parent is a folder that can be written), is an
/// empty folder, or is a convkit checkpoint holding only [`FILES`] and `overwrite` is set.
pub fn check_target(dir: &Path, overwrite: bool) -> Result<()> {
    let dir = &resolve(dir)?;
    let what = "checkpoint folder";
    if fs::symlink_metadata(dir).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::invalid(
            what,
            format!(
                "{} is a symbolic link; name the folder itself",
                dir.display()
            ),
        ));
    }
    if dir.exists() && !dir.is_dir() {
        return Err(Error::invalid(
            what,
            format!("{} exists and is not a folder", dir.display()),
        ));
    }
    let parent = parent_of(dir);
    if let Some(blocker) = parent.ancestors().find(|p| p.exists() && !p.is_dir()) {
        return Err(Error::invalid(
            what,
            format!(
                "cannot create {}: {} is not a folder",
                dir.display(),
                blocker.display()
            ),
        ));
    }
    if parent.is_dir() {
        // The one reliable test of writability: create (and drop) a folder there.
        tempfile::Builder::new()
            .prefix(".convkit-write-test-")
            .tempdir_in(&parent)
            .map_err(|e| Error::io(&parent, e))?;
    }
    if !dir.exists() || is_empty_dir(dir) {
        return Ok(());
    }
    if !is_checkpoint(dir) {
        return Err(Error::invalid(
            "checkpoint folder",
            format!(
                "{} exists and is not a convkit checkpoint; refusing to touch it (choose \
                 another folder)",
                dir.display()
            ),
        ));
    }
    if !overwrite {
        return Err(Error::invalid(
            "checkpoint folder",
            format!(
                "{} already holds a checkpoint; pass overwrite (--force) to replace it",
                dir.display()
            ),
        ));
    }
    let entries = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let name = entry.file_name();
        let ours = FILES.iter().any(|f| name == *f) && entry.file_type().is_ok_and(|t| t.is_file());
        if !ours {
            return Err(Error::invalid(
                "checkpoint folder",
                format!(
                    "{} holds {}, which convkit did not write; refusing to replace the folder \
                     (move it, or choose another folder)",
                    dir.display(),
                    entry.path().display()
                ),
            ));
        }
    }
    Ok(())
}

/// `dir` as an absolute path without `.` or `..` components, so that `--out .` names the
/// folder itself (a path ending in `.` can be neither renamed nor removed).
fn resolve(dir: &Path) -> Result<PathBuf> {
    if dir.as_os_str().is_empty() {
        return Err(Error::invalid("checkpoint folder", "the path is empty"));
    }
    let absolute = std::path::absolute(dir).map_err(|e| Error::io(dir, e))?;
    let mut resolved = PathBuf::new();
    for part in absolute.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                resolved.pop();
            }
            part => resolved.push(part),
        }
    }
    Ok(resolved)
}

/// The folder `dir` is created in (`.` for a bare name).
fn parent_of(dir: &Path) -> PathBuf {
    match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Saves `model` with its `config` and training `summary` into the folder `dir`.
///
/// Fails if `dir` exists and is not a convkit checkpoint, or is one and `overwrite` is false.
pub fn save<M: Module, C: Serialize, S: Serialize>(
    dir: &Path,
    model_name: &str,
    model: &M,
    config: &C,
    summary: &S,
    overwrite: bool,
) -> Result<()> {
    check_target(dir, overwrite)?;
    let dir = &resolve(dir)?;
    let parent = parent_of(dir);
    fs::create_dir_all(&parent).map_err(|e| Error::io(&parent, e))?;
    // Removed on drop if anything below fails.
    let staging = tempfile::Builder::new()
        .prefix(&format!(".{}.partial-", file_name(dir)))
        .tempdir_in(&parent)
        .map_err(|e| Error::io(&parent, e))?;
    let tmp = staging.path();
    let marker = Marker {
        format: FORMAT.into(),
        version: 1,
        model: model_name.into(),
    };
    write_json(&tmp.join(MARKER), &marker)?;
    write_json(&tmp.join(CONFIG), config)?;
    write_json(&tmp.join(SUMMARY), summary)?;
    save_safetensors(model, tmp.join(WEIGHTS))?;
    // From here the staging folder is moved into place; it is deleted if that fails.
    let tmp = staging.keep();
    let placed = place(&tmp, dir, &parent);
    if tmp.exists() {
        let _ = fs::remove_dir_all(&tmp);
    }
    placed
}

/// Moves the finished folder `tmp` to `dir` (filling an empty folder, or replacing a
/// checkpoint that [`check_target`] accepted).
fn place(tmp: &Path, dir: &Path, parent: &Path) -> Result<()> {
    if is_empty_dir(dir) {
        // The folder itself stays (its permissions, and a shell whose working folder it is).
        return move_files_into(tmp, dir);
    }
    if dir.exists() {
        // Only a verified checkpoint reaches here: move it aside, then drop it once the new
        // one is in place.
        let old = tempfile::Builder::new()
            .prefix(&format!(".{}.old-", file_name(dir)))
            .tempdir_in(parent)
            .map_err(|e| Error::io(parent, e))?
            .keep();
        let old = old.join("checkpoint");
        fs::rename(dir, &old).map_err(|e| Error::io(dir, e))?;
        if let Err(e) = fs::rename(tmp, dir) {
            // Put the previous checkpoint back rather than leave nothing under `dir`.
            let _ = fs::rename(&old, dir);
            return Err(Error::io(dir, e));
        }
        let holder = old.parent().unwrap_or(&old).to_path_buf();
        fs::remove_dir_all(&holder).map_err(|e| Error::io(&holder, e))?;
    } else {
        fs::rename(tmp, dir).map_err(|e| Error::io(dir, e))?;
    }
    Ok(())
}

/// Moves [`FILES`] from `tmp` into the empty folder `dir`, the marker last so that a folder
/// is never a checkpoint before it is complete; on failure removes what it moved.
fn move_files_into(tmp: &Path, dir: &Path) -> Result<()> {
    let mut moved = Vec::new();
    for name in [CONFIG, WEIGHTS, SUMMARY, MARKER] {
        let to = dir.join(name);
        if let Err(e) = fs::rename(tmp.join(name), &to) {
            for path in moved {
                let _ = fs::remove_file(path);
            }
            return Err(Error::io(&to, e));
        }
        moved.push(to);
    }
    Ok(())
}

fn is_empty_dir(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none())
}

/// The model name recorded in a checkpoint.
pub fn model_name(dir: &Path) -> Result<String> {
    let marker: Marker = read_json(&dir.join(MARKER))?;
    if marker.format != FORMAT {
        return Err(Error::file(
            dir.join(MARKER),
            "not a convkit checkpoint marker",
        ));
    }
    Ok(marker.model)
}

/// Reads the model config saved in a checkpoint.
pub fn load_config<C: DeserializeOwned>(dir: &Path) -> Result<C> {
    read_json(&dir.join(CONFIG))
}

/// Reads the training summary saved in a checkpoint.
pub fn load_summary<S: DeserializeOwned>(dir: &Path) -> Result<S> {
    read_json(&dir.join(SUMMARY))
}

/// Loads a checkpoint's weights into `model` (built from the same config).
pub fn load_weights<M: Module>(dir: &Path, model: M) -> Result<M> {
    if !is_checkpoint(dir) {
        return Err(Error::file(
            dir,
            "not a convkit checkpoint folder (no valid checkpoint.json)",
        ));
    }
    load_safetensors(model, dir.join(WEIGHTS))
}

fn file_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "checkpoint".into())
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::file(path, format!("cannot serialize: {e}")))?;
    fs::write(path, text).map_err(|e| Error::io(path, e))
}

fn read_json<T: DeserializeOwned>(path: &Path) -> Result<T> {
    let text = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| {
        // serde_json ends its message with the position, which leads ours instead.
        let message = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        let kind = match e.classify() {
            serde_json::error::Category::Data => "unexpected value",
            _ => "invalid JSON",
        };
        Error::file(
            path,
            format!(
                "{kind} at line {}, column {}: {}",
                e.line(),
                e.column(),
                message.strip_suffix(&position).unwrap_or(&message)
            ),
        )
    })
}
