//! Running the binary and reading what it printed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `convkit args…` with `env` (and without the caller's `CONVKIT_DEVICE`).
pub fn convkit(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_convkit"));
    cmd.args(args).env_remove("CONVKIT_DEVICE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("convkit runs")
}

/// Runs `convkit train --data data --model model --epochs 1 --quiet extra…`, which must
/// succeed.
pub fn train_one_epoch(data: &str, model: &str, extra: &[&str]) -> Output {
    let mut args = vec![
        "train", "--data", data, "--model", model, "--epochs", "1", "--quiet",
    ];
    args.extend_from_slice(extra);
    let out = convkit(&args, &[]);
    assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
    out
}

/// Lossy UTF-8.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A fixture folder or file.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A path as a `&str` argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("UTF-8 test path")
}

/// Runs a command that must fail, and returns its single stderr line, checking that it is
/// one `error: …` line without a panic.
pub fn failure(args: &[&str]) -> String {
    let out = convkit(args, &[]);
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success(),
        "expected a failure from {args:?}; stdout: {}",
        text(&out.stdout)
    );
    assert_eq!(stderr.lines().count(), 1, "one line expected: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        !stderr.contains("panicked") && !stderr.contains("internal error"),
        "{stderr}"
    );
    stderr.trim_end().to_string()
}

/// Runs a command that must succeed with `--json`, returning the one JSON object it printed.
pub fn json(args: &[&str]) -> serde_json::Value {
    let out = convkit(args, &[]);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        stdout.lines().count(),
        1,
        "one JSON line expected: {stdout}"
    );
    let value: serde_json::Value = serde_json::from_str(&stdout).expect("valid JSON");
    assert!(value.is_object(), "{stdout}");
    value
}

/// Copies the fixture folder `name` into `into`, returning the copy's path.
pub fn copy_fixture(name: &str, into: &Path) -> PathBuf {
    let to = into.join(name);
    copy_dir(&fixture(name), &to);
    to
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}
