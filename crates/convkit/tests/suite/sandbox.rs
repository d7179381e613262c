//! A private copy of the fixtures and a trained checkpoint for hostile command lines, the
//! snapshot that proves nothing in it changed, and the rules every outcome must follow.
//!
//! Arguments name sandbox paths as `@/…` (`npy:@/data/npy`); [`Sandbox::expand`] makes them
//! absolute. Only `outs/`, `cwd/` (the processes' working directory) and `mut/` (a tampered
//! checkpoint) are scratch; a run may also change what it was given as `--out`. Anything
//! else that changes is a failure.

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, symlink};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{fixture, text};

/// Arguments that run each subcommand quickly in the sandbox, `None` for a subcommand not yet
/// listed. Every subcommand must be here: the shared hostile cases and the fuzz test start
/// from these.
pub fn minimal_args(command: &str) -> Option<&'static [&'static str]> {
    Some(match command {
        "train" => &[
            "--data",
            "npy:@/data/npy",
            "--model",
            "small-cnn",
            "--epochs",
            "1",
            "--quiet",
        ],
        "eval" => &["--checkpoint", "@/ckpt", "--data", "npy:@/data/npy"],
        "predict" => &["--checkpoint", "@/ckpt", "@/data/predict/a.png"],
        "info" => &[],
        "tour" => &[
            "--epochs",
            "1",
            "--train-size",
            "30",
            "--test-size",
            "10",
            "--quiet",
            "--out",
            "@/outs/tour",
        ],
        _ => return None,
    })
}

/// The subcommands `convkit --help` lists (without `help`).
pub fn subcommands() -> Vec<String> {
    let help = Command::new(env!("CARGO_BIN_EXE_convkit"))
        .arg("--help")
        .output()
        .expect("convkit runs");
    assert!(help.status.success());
    text(&help.stdout)
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// Which output stream, if any, is a pipe whose reader has already gone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Streams {
    /// Both captured.
    Captured,
    /// stdout closed (`convkit … | head -0`); stderr captured.
    StdoutClosed,
    /// stderr closed; stdout captured.
    StderrClosed,
}

/// How a run ended.
#[derive(Debug)]
pub struct Outcome {
    /// The exit status, `None` when a signal ended the process.
    pub code: Option<i32>,
    /// Captured stdout (empty when closed).
    pub stdout: String,
    /// Captured stderr (empty when closed).
    pub stderr: String,
    /// Killed after the timeout (a long but valid run, such as many epochs).
    pub timed_out: bool,
}

impl Outcome {
    /// The rules every run follows: exit 0, 1 with exactly one `error: …` line and it last,
    /// 2 for a usage error (clap's message), or 141 for a closed stdout; never a signal, a
    /// panic or an internal error; `--json` success prints one JSON object.
    pub fn check(&self, args: &[String]) -> Result<(), String> {
        if self.timed_out {
            return Ok(());
        }
        let stderr = &self.stderr;
        let bad = |why: &str| Err(format!("{why}\n  exit {:?}\n  stderr: {stderr}", self.code));
        for poison in [
            "panicked",
            "internal error",
            "RUST_BACKTRACE",
            "memory allocation",
        ] {
            if stderr.contains(poison) {
                return bad(&format!("stderr mentions `{poison}`"));
            }
        }
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        let errors = lines.iter().filter(|l| l.starts_with("error")).count();
        match self.code {
            None => bad("ended by a signal"),
            Some(0) => {
                if errors > 0 {
                    return bad("success with an error line");
                }
                let help = args
                    .iter()
                    .any(|a| ["--help", "-h", "--version", "-V"].contains(&a.as_str()));
                if args.iter().any(|a| a == "--json") && !help && !self.stdout.is_empty() {
                    let value: serde_json::Value = serde_json::from_str(self.stdout.trim())
                        .map_err(|e| format!("--json printed no JSON ({e}): {}", self.stdout))?;
                    if !value.is_object() || self.stdout.trim().lines().count() != 1 {
                        return bad("--json printed more than one object");
                    }
                }
                Ok(())
            }
            Some(1) => {
                let closed_stderr = lines.is_empty();
                if !closed_stderr && (errors != 1 || !lines.last().unwrap().starts_with("error: "))
                {
                    return bad("a failure must end with exactly one `error: …` line");
                }
                Ok(())
            }
            Some(2) if lines.is_empty() || lines[0].starts_with("error: ") => Ok(()),
            Some(2) => bad("a usage error must start with `error: `"),
            Some(141) => Ok(()),
            Some(_) => bad("unexpected exit status"),
        }
    }
}

/// A file's identity for change detection: kind, size, mode, modification time, link target.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    kind: &'static str,
    len: u64,
    mode: u32,
    mtime_ns: i128,
    target: Option<PathBuf>,
}

/// What lies under the sandbox, scratch folders excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot(BTreeMap<PathBuf, Stamp>);

impl Snapshot {
    /// Whether the sandbox-relative `path` existed.
    pub fn contains(&self, path: &Path) -> bool {
        self.0.contains_key(path)
    }

    /// Paths added, removed or changed since `before`.
    pub fn changed_since(&self, before: &Snapshot) -> Vec<PathBuf> {
        let mut changed: Vec<PathBuf> = before
            .0
            .iter()
            .filter(|(path, stamp)| self.0.get(*path) != Some(stamp))
            .map(|(path, _)| path.clone())
            .collect();
        changed.extend(
            self.0
                .keys()
                .filter(|path| !before.0.contains_key(*path))
                .cloned(),
        );
        changed
    }
}

/// Scratch folders: recreated after every run, never compared.
const SCRATCH: [&str; 3] = ["outs", "cwd", "mut"];

/// Fixtures, a checkpoint and user files in a temporary folder, with a pristine copy to
/// restore from.
pub struct Sandbox {
    root: tempfile::TempDir,
    pristine: tempfile::TempDir,
}

impl Sandbox {
    /// Copies the fixtures, trains the checkpoint and lays out the user's files.
    pub fn new() -> Sandbox {
        let pristine = tempfile::tempdir().unwrap();
        let p = pristine.path();
        for name in ["npy", "images", "images_noval", "idx", "cifar10", "predict"] {
            copy_tree(&fixture(name), &p.join("data").join(name));
        }
        std::fs::create_dir_all(p.join("user")).unwrap();
        std::fs::write(p.join("user/notes.txt"), "the user's notes\n").unwrap();
        std::fs::write(p.join("user/checkpoint.json"), "{\"not\": \"ours\"}\n").unwrap();
        std::fs::write(p.join("user.txt"), "a user's file\n").unwrap();
        symlink("user", p.join("link")).unwrap();
        let data = format!("npy:{}", p.join("data/npy").display());
        let ckpt = p.join("ckpt");
        let train = Command::new(env!("CARGO_BIN_EXE_convkit"))
            .args(["train", "--data", &data, "--model", "small-cnn"])
            .args(["--epochs", "1", "--quiet", "--out"])
            .arg(&ckpt)
            .env_remove("CONVKIT_DEVICE")
            .output()
            .unwrap();
        assert!(train.status.success(), "{}", text(&train.stderr));
        let sandbox = Sandbox {
            root: tempfile::tempdir().unwrap(),
            pristine,
        };
        sandbox.restore();
        sandbox
    }

    /// The sandbox folder.
    pub fn root(&self) -> &Path {
        self.root.path()
    }

    /// `token` with every `@/` made the sandbox's absolute path.
    pub fn expand(&self, token: &str) -> String {
        token.replace("@/", &format!("{}/", self.root().display()))
    }

    /// The sandbox as [`Sandbox::new`] left it.
    pub fn restore(&self) {
        let root = self.root();
        for entry in std::fs::read_dir(root).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() && !path.is_symlink() {
                std::fs::remove_dir_all(&path).unwrap();
            } else {
                std::fs::remove_file(&path).unwrap();
            }
        }
        copy_tree(self.pristine.path(), root);
        self.clear_scratch();
    }

    /// Empties the scratch folders.
    pub fn clear_scratch(&self) {
        for scratch in SCRATCH {
            let path = self.root().join(scratch);
            if path.exists() {
                std::fs::remove_dir_all(&path).unwrap();
            }
            std::fs::create_dir_all(&path).unwrap();
        }
    }

    /// Every path outside the scratch folders.
    pub fn snapshot(&self) -> Snapshot {
        let mut stamps = BTreeMap::new();
        stamp_tree(self.root(), self.root(), &mut stamps);
        Snapshot(stamps)
    }

    /// Runs `convkit args…` (already expanded) from `cwd/`, killing it after `timeout`.
    pub fn run(
        &self,
        args: &[String],
        env: &[(&str, &str)],
        streams: Streams,
        timeout: Duration,
    ) -> Outcome {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_convkit"));
        cmd.args(args)
            .current_dir(self.root().join("cwd"))
            .env_remove("CONVKIT_DEVICE")
            .env_remove("CONVKIT_MEMORY_LIMIT")
            .stdin(Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let closed = || {
            let (reader, writer) = std::io::pipe().unwrap();
            drop(reader);
            Stdio::from(writer)
        };
        match streams {
            Streams::Captured => cmd.stdout(Stdio::piped()).stderr(Stdio::piped()),
            Streams::StdoutClosed => cmd.stdout(closed()).stderr(Stdio::piped()),
            Streams::StderrClosed => cmd.stdout(Stdio::piped()).stderr(closed()),
        };
        let mut child = cmd.spawn().expect("convkit starts");
        let drain = |stream: Option<Box<dyn Read + Send>>| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut s) = stream {
                    let _ = s.read_to_end(&mut bytes);
                }
                text(&bytes)
            })
        };
        let stdout = drain(child.stdout.take().map(|s| Box::new(s) as _));
        let stderr = drain(child.stderr.take().map(|s| Box::new(s) as _));
        let start = Instant::now();
        let mut timed_out = false;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > timeout {
                timed_out = true;
                let _ = child.kill();
                break child.wait().unwrap();
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        Outcome {
            code: if timed_out { None } else { status.code() },
            stdout: stdout.join().unwrap(),
            stderr: stderr.join().unwrap(),
            timed_out,
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_symlink() {
            symlink(std::fs::read_link(entry.path()).unwrap(), &target).unwrap();
        } else if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn stamp_tree(root: &Path, dir: &Path, stamps: &mut BTreeMap<PathBuf, Stamp>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap().to_path_buf();
        if dir == root && SCRATCH.iter().any(|s| rel == Path::new(s)) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        let kind = if meta.is_symlink() {
            "link"
        } else if meta.is_dir() {
            "dir"
        } else {
            "file"
        };
        stamps.insert(
            rel,
            Stamp {
                kind,
                len: if meta.is_dir() { 0 } else { meta.len() },
                mode: meta.mode(),
                mtime_ns: if meta.is_dir() {
                    0
                } else {
                    meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128
                },
                target: std::fs::read_link(&path).ok(),
            },
        );
        if kind == "dir" {
            stamp_tree(root, &path, stamps);
        }
    }
}
