//! Writing files so that a crash never leaves a half-written file under the user's name.

use std::ffi::OsString;
use std::fs::File;
use std::path::Path;

use convkit_core::{Error, Result};

/// Runs `write` on a temporary sibling of `path` (`.NAME.PID.partial`), syncs it and renames
/// it over `path`; on failure the temporary file is removed.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut File, &Path) -> Result<()>,
) -> Result<()> {
    let file_name = path.file_name().ok_or_else(|| {
        Error::invalid("output path", format!("{} names no file", path.display()))
    })?;
    let mut tmp_name = OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".{}.partial", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let result = File::create(&tmp)
        .map_err(|e| Error::io(&tmp, e))
        .and_then(|mut file| {
            write(&mut file, &tmp)?;
            file.sync_all().map_err(|e| Error::io(&tmp, e))
        })
        .and_then(|()| std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e)));
    if result.is_err() {
        // Best effort: the write already failed, and that is the error to report.
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
