//! Property test of the whole command line (issue #21): each case starts from a subcommand's
//! minimal arguments (`sandbox::minimal_args`), edits them (hostile values, dropped or added
//! flags, global flags) and may tamper with the checkpoint's `config.json`, then runs the
//! binary in a [`Sandbox`]. Every run must follow [`crate::sandbox::Outcome::check`] (exit 0,
//! one `error:` line, a usage error or a quiet broken pipe; never a panic, an abort or a
//! signal) and leave every file outside the run's `--out` (and the folders created to reach
//! it) as it was.
//!
//! `CONVKIT_CLI_CASES` (default 500) cases per worker from seed `CONVKIT_CLI_SEED` (default
//! 21), `CONVKIT_CLI_WORKERS` workers (default 1) with seeds seed, seed+1, …; runs longer
//! than `CONVKIT_CLI_TIMEOUT_S` seconds (default 60) are killed and counted as timeouts,
//! which are valid long runs, not failures. `CONVKIT_CLI_REPORT=path` writes the tallies as
//! JSON. docs/fuzzing.md reports a run of 100 000 cases.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::Value;

use crate::sandbox::{Sandbox, Snapshot, Streams, minimal_args};

const COMMANDS: [&str; 5] = ["train", "eval", "predict", "info", "tour"];

/// Flags without a value.
const SWITCHES: &[&str] = &[
    "--json",
    "--quiet",
    "--force",
    "--list-models",
    "--help",
    "--version",
];

/// Every flag of every subcommand: cases also try flags on the wrong command.
const FLAGS: &[&str] = &[
    "--data",
    "--model",
    "--epochs",
    "--lr",
    "--batch-size",
    "--seed",
    "--out",
    "--val-fraction",
    "--resize",
    "--channels",
    "--layout",
    "--checkpoint",
    "--top-k",
    "--train-size",
    "--test-size",
    "--width",
    "--kernel-size",
    "--pool-size",
    "--noise",
    "--device",
    "--memory-limit",
];

/// The flags and switches `command` takes; most edits use these, so most cases get past
/// argument parsing into validation.
fn own_flags(command: &str) -> (&'static [&'static str], &'static [&'static str]) {
    match command {
        "train" => (
            &FLAGS[..11],
            &["--json", "--quiet", "--force", "--list-models"],
        ),
        "eval" => (&["--checkpoint", "--data"], &["--json"]),
        "predict" => (&["--checkpoint", "--top-k"], &["--json"]),
        "tour" => (
            &[
                "--epochs",
                "--train-size",
                "--test-size",
                "--seed",
                "--out",
                "--width",
                "--lr",
                "--kernel-size",
                "--pool-size",
                "--noise",
            ],
            &["--quiet"],
        ),
        _ => (&[], &["--json"]),
    }
}

const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "7",
    "-1",
    "0.5",
    "1.5",
    "1e-3",
    "nan",
    "inf",
    "-inf",
    "1e308",
    "1e-300",
    "-0",
    "65",
    "255",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999",
    "0x10",
    "",
    " ",
    "abc",
    "1,2",
];

const SIZES: &[&str] = &[
    "8x8",
    "16x16",
    "1x1",
    "0x0",
    "0x8",
    "99999x99999",
    "4294967297x1",
    "8",
    "x8",
    "8x",
    "-8x8",
    "8x8x8",
    "16X16",
    "",
    "nanxnan",
];

const PATHS: &[&str] = &[
    "@/data/npy",
    "@/data/npy/x_train.npy",
    "@/data/images",
    "@/data/images_noval",
    "@/data/idx",
    "@/data/cifar10",
    "@/data/predict/a.png",
    "@/data/predict/big.png",
    "@/data/predict/two.npy",
    "@/data/predict",
    "@/ckpt",
    "@/ckpt/config.json",
    "@/ckpt/model.safetensors",
    "@/mut",
    "@/missing",
    "@/missing/deeper/x",
    "@/user",
    "@/user/notes.txt",
    "@/user.txt",
    "@/link",
    "@/outs/a",
    "@/outs/a/b",
    "@/data/npy/new",
    ".",
    "..",
    "",
];

const DATA: &[&str] = &[
    "npy:@/data/npy",
    "idx:@/data/idx",
    "cifar10:@/data/cifar10",
    "cifar100:@/data/cifar10",
    "images:@/data/images",
    "images:@/data/images_noval",
    "images:@/data/predict",
    "images:@/user",
    "npy:@/data/images",
    "idx:@/data/npy",
    "cifar10:@/data/npy",
    "npy:@/data/npy/x_train.npy",
    "npy:@/missing",
    "npy:@/link",
    "npy:",
    ":@/data/npy",
    "foo:@/data/npy",
    "@/data/npy",
    "NPY:@/data/npy",
    "",
];

const MODELS: &[&str] = &[
    "small-cnn",
    "se-cnn",
    "inception-v4",
    "inception-resnet-v1",
    "inception-resnet-v2",
    "SMALL-CNN",
    "unet",
    "bogus",
    "",
];

const DEVICES: &[&str] = &[
    "cpu", "ndarray", "wgpu", "wgpu:1", "cuda", "cuda:0", "cuda:x", "cpu:1", "tpu", "",
];

const MEMORY: &[&str] = &[
    "1",
    "1K",
    "64K",
    "1M",
    "512M",
    "8G",
    "0",
    "-1",
    "lots",
    "1e30T",
    "18446744073709551615",
    "",
];

const ENUMS: &[&str] = &[
    "auto", "gray", "rgb", "RGB", "nchw", "nhwc", "NHWC", "bogus", "",
];

/// The values that make sense (or almost) for `flag`.
fn values_for(flag: &str) -> &'static [&'static str] {
    match flag {
        "--data" => DATA,
        "--model" => MODELS,
        "--out" | "--checkpoint" => PATHS,
        "--resize" => SIZES,
        "--channels" | "--layout" => ENUMS,
        "--device" => DEVICES,
        "--memory-limit" => MEMORY,
        _ => NUMBERS,
    }
}

/// Any value of any kind.
fn any_value(pick: usize) -> &'static str {
    let pools = [NUMBERS, SIZES, PATHS, DATA, MODELS, DEVICES, MEMORY, ENUMS];
    let total: usize = pools.iter().map(|p| p.len()).sum();
    let mut i = pick % total;
    for pool in pools {
        if i < pool.len() {
            return pool[i];
        }
        i -= pool.len();
    }
    unreachable!()
}

/// One edit of the argument vector; positions and picks are reduced modulo what exists.
#[derive(Debug, Clone)]
enum Edit {
    /// Replace the `at`-th value (a token that is not a flag) with one suited to the flag
    /// before it or, with `any`, of any kind.
    Value { at: usize, pick: usize, any: bool },
    /// Remove the token at `at`.
    Drop { at: usize },
    /// Insert a flag and a value for it before the token at `at`: one of the command's own,
    /// or with `foreign` any command's.
    Flag {
        at: usize,
        flag: usize,
        pick: usize,
        foreign: bool,
    },
    /// Insert a switch (the command's own, or with `foreign` any).
    Switch {
        at: usize,
        switch: usize,
        foreign: bool,
    },
    /// Append a positional path (predict's inputs).
    Input { pick: usize },
    /// Put a global flag before the subcommand.
    Global { memory: bool, pick: usize },
}

/// One edit of the checkpoint's `config.json`, at node `node` of its depth-first order.
#[derive(Debug, Clone)]
enum ConfigEdit {
    Set {
        node: usize,
        value: usize,
    },
    Remove {
        node: usize,
    },
    /// Replace the node with a copy of another node.
    Copy {
        node: usize,
        from: usize,
    },
}

/// JSON values tried in `config.json`.
const JSON_VALUES: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "-1",
    "7",
    "65",
    "0.0",
    "-0.5",
    "1e-45",
    "1e308",
    "-1e308",
    "4294967296",
    "18446744073709551615",
    "null",
    "true",
    "\"\"",
    "\"x\"",
    "\"SmallCnn\"",
    "\"npy\"",
    "\"nhwc\"",
    "\"Rgb\"",
    "[]",
    "{}",
    "[0]",
    "[1, 1]",
    "[0, 0]",
    "[3, 8, 8]",
    "[1, 8, 8]",
    "[3, 0, 8]",
    "[99999, 99999]",
    "[3, 99999, 99999]",
    "[1e308, 1]",
    "[\"a\"]",
    "{\"SmallCnn\": {}}",
    "{\"Bogus\": {\"num_classes\": 2}}",
    "{\"SeCnn\": {\"num_classes\": 10, \"in_channels\": 3}}",
];

/// A case: the subcommand, its edits, `config.json` edits and the output streams.
#[derive(Debug, Clone)]
struct Case {
    command: usize,
    edits: Vec<Edit>,
    config: Vec<ConfigEdit>,
    streams: Streams,
}

fn edit() -> impl Strategy<Value = Edit> {
    let n = any::<usize>;
    let rarely = || prop::bool::weighted(0.15);
    prop_oneof![
        5 => (n(), n(), rarely()).prop_map(|(at, pick, any)| Edit::Value { at, pick, any }),
        1 => n().prop_map(|at| Edit::Drop { at }),
        4 => (n(), n(), n(), rarely()).prop_map(|(at, flag, pick, foreign)| Edit::Flag {
            at,
            flag,
            pick,
            foreign
        }),
        1 => (n(), n(), rarely()).prop_map(|(at, switch, foreign)| Edit::Switch {
            at,
            switch,
            foreign
        }),
        1 => n().prop_map(|pick| Edit::Input { pick }),
        1 => (any::<bool>(), n()).prop_map(|(memory, pick)| Edit::Global { memory, pick }),
    ]
}

fn config_edit() -> impl Strategy<Value = ConfigEdit> {
    let n = any::<usize>;
    prop_oneof![
        3 => (n(), n()).prop_map(|(node, value)| ConfigEdit::Set { node, value }),
        1 => n().prop_map(|node| ConfigEdit::Remove { node }),
        1 => (n(), n()).prop_map(|(node, from)| ConfigEdit::Copy { node, from }),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    (
        0..COMMANDS.len(),
        prop::collection::vec(edit(), 0..4),
        prop_oneof![
            2 => Just(Vec::new()),
            1 => prop::collection::vec(config_edit(), 1..3),
        ],
        prop_oneof![
            18 => Just(Streams::Captured),
            1 => Just(Streams::StdoutClosed),
            1 => Just(Streams::StderrClosed),
        ],
    )
        .prop_map(|(command, edits, config, streams)| Case {
            command,
            edits,
            config,
            streams,
        })
}

/// The argument vector of `case` (with `@/` tokens), `mut/` standing for the checkpoint
/// when the case tampers with it.
fn arguments(case: &Case) -> Vec<String> {
    let command = COMMANDS[case.command];
    let mut args: Vec<String> = minimal_args(command)
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    if !case.config.is_empty() {
        for a in &mut args {
            *a = a.replace("@/ckpt", "@/mut");
        }
        if command == "train" {
            args.extend(["--out", "@/mut", "--force"].map(String::from));
        }
    }
    let (own, own_switches) = own_flags(command);
    let mut global = Vec::new();
    for edit in &case.edits {
        let len = args.len();
        match *edit {
            Edit::Value { at, pick, any } => {
                let values: Vec<usize> = (0..len).filter(|&i| !args[i].starts_with("--")).collect();
                if values.is_empty() {
                    continue;
                }
                let at = values[at % values.len()];
                let value = if any || at == 0 {
                    any_value(pick)
                } else {
                    let pool = values_for(&args[at - 1]);
                    pool[pick % pool.len()]
                };
                args[at] = value.to_string();
            }
            Edit::Drop { at } if len > 0 => {
                args.remove(at % len);
            }
            Edit::Flag {
                at,
                flag,
                pick,
                foreign,
            } => {
                let flags = if foreign || own.is_empty() {
                    FLAGS
                } else {
                    own
                };
                let flag = flags[flag % flags.len()];
                let pool = values_for(flag);
                let at = at % (len + 1);
                args.insert(at, pool[pick % pool.len()].to_string());
                args.insert(at, flag.to_string());
            }
            Edit::Switch {
                at,
                switch,
                foreign,
            } => {
                let switches = if foreign { SWITCHES } else { own_switches };
                args.insert(
                    at % (len + 1),
                    switches[switch % switches.len()].to_string(),
                );
            }
            Edit::Input { pick } => args.push(PATHS[pick % PATHS.len()].to_string()),
            Edit::Global { memory, pick } => {
                let (flag, pool) = if memory {
                    ("--memory-limit", MEMORY)
                } else {
                    ("--device", DEVICES)
                };
                global.extend([flag.to_string(), pool[pick % pool.len()].to_string()]);
            }
            _ => {}
        }
    }
    global.push(command.to_string());
    global.extend(args);
    global
}

/// Paths to the nodes of `value`, depth first (the root excluded).
fn nodes(value: &Value, at: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let children: Vec<(String, &Value)> = match value {
        Value::Object(map) => map.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => return,
    };
    for (key, child) in children {
        at.push(key);
        out.push(at.clone());
        nodes(child, at, out);
        at.pop();
    }
}

fn pointer(path: &[String]) -> String {
    path.iter().map(|k| format!("/{k}")).collect()
}

/// The checkpoint's `config.json` with `edits` applied.
fn tampered(config: &Value, edits: &[ConfigEdit]) -> Value {
    let mut config = config.clone();
    for edit in edits {
        let mut all = Vec::new();
        nodes(&config, &mut Vec::new(), &mut all);
        if all.is_empty() {
            break;
        }
        let pick = |i: usize| all[i % all.len()].clone();
        let (path, replacement) = match *edit {
            ConfigEdit::Set { node, value } => (
                pick(node),
                Some(serde_json::from_str(JSON_VALUES[value % JSON_VALUES.len()]).unwrap()),
            ),
            ConfigEdit::Remove { node } => (pick(node), None),
            ConfigEdit::Copy { node, from } => {
                let copy = config.pointer(&pointer(&pick(from))).cloned();
                (pick(node), copy)
            }
        };
        let (key, parent) = path.split_last().unwrap();
        let Some(parent) = config.pointer_mut(&pointer(parent)) else {
            continue;
        };
        match (parent, replacement) {
            (Value::Object(map), Some(v)) => {
                map.insert(key.clone(), v);
            }
            (Value::Object(map), None) => {
                map.remove(key);
            }
            (Value::Array(items), Some(v)) => items[key.parse::<usize>().unwrap()] = v,
            (Value::Array(items), None) => {
                items.remove(key.parse::<usize>().unwrap());
            }
            _ => {}
        }
    }
    config
}

/// Tallies of a run, per subcommand and exit status.
#[derive(Default)]
struct Tally {
    cases: u64,
    by_exit: BTreeMap<String, u64>,
    timeouts: Vec<String>,
    /// The first words of each distinct error message, with counts.
    errors: BTreeMap<String, u64>,
    /// For each of those, the first command line and full error line seen.
    examples: BTreeMap<String, (String, String)>,
}

impl Tally {
    fn add(&mut self, args: &[String], code: Option<i32>, stderr: &str, timed_out: bool) {
        let command = args.iter().find(|a| COMMANDS.contains(&a.as_str()));
        let command = command.map_or("?", |c| c.as_str());
        self.cases += 1;
        if self.cases.is_multiple_of(5000) {
            eprintln!("CLI fuzz: {} cases", self.cases);
        }
        let status = match (timed_out, code) {
            (true, _) => "timeout".to_string(),
            (false, Some(c)) => c.to_string(),
            (false, None) => "signal".to_string(),
        };
        *self
            .by_exit
            .entry(format!("{command} {status}"))
            .or_default() += 1;
        if let Some(line) = stderr.lines().rev().find(|l| l.starts_with("error: ")) {
            let words: Vec<&str> = line.split_whitespace().skip(1).take(4).collect();
            let key = words.join(" ");
            self.examples
                .entry(key.clone())
                .or_insert_with(|| (args.join(" "), line.to_string()));
            *self.errors.entry(key).or_default() += 1;
        }
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `cases` cases from `seed` in a sandbox of its own.
fn worker(seed: u64, cases: u32, timeout: Duration, tally: &Mutex<Tally>) -> Result<(), String> {
    let sandbox = Sandbox::new();
    let before = sandbox.snapshot();
    let config_path = sandbox.root().join("ckpt/config.json");
    let config: Value = serde_json::from_slice(&std::fs::read(&config_path).unwrap()).unwrap();
    let mut seed_bytes = [0u8; 32];
    seed_bytes[..8].copy_from_slice(&seed.to_le_bytes());
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            max_shrink_iters: 2000,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes),
    );
    let before = std::cell::RefCell::new(before);
    let result = runner.run(&case(), |case| {
        let args = arguments(&case);
        if !case.config.is_empty() {
            let mutated = sandbox.root().join("mut");
            copy_files(&sandbox.root().join("ckpt"), &mutated);
            let json = serde_json::to_vec_pretty(&tampered(&config, &case.config)).unwrap();
            std::fs::write(mutated.join("config.json"), json).unwrap();
        }
        let expanded: Vec<String> = args.iter().map(|a| sandbox.expand(a)).collect();
        let outcome = sandbox.run(&expanded, &[], case.streams, timeout);
        tally
            .lock()
            .unwrap()
            .add(&args, outcome.code, &outcome.stderr, outcome.timed_out);
        if outcome.timed_out {
            tally.lock().unwrap().timeouts.push(args.join(" "));
        }
        let verdict = outcome.check(&expanded);
        let changed = sandbox.snapshot().changed_since(&before.borrow());
        let outs = out_paths(&args, &before.borrow());
        // A run may write under its `--out` and create the folders leading to it.
        let outside: Vec<&PathBuf> = changed
            .iter()
            .filter(|p| {
                !outs
                    .iter()
                    .any(|o| p.starts_with(o) || (o.starts_with(p) && !before.borrow().contains(p)))
            })
            .collect();
        let files = if outside.is_empty() {
            Ok(())
        } else {
            Err(format!("files outside --out changed: {outside:?}"))
        };
        if changed.is_empty() {
            sandbox.clear_scratch();
        } else {
            sandbox.restore();
            *before.borrow_mut() = sandbox.snapshot();
        }
        verdict
            .and(files)
            .map_err(|why| TestCaseError::fail(format!("convkit {}: {why}", args.join(" "))))
    });
    result.map_err(|e| e.to_string())
}

/// The sandbox-relative paths a run may write: its `--out` values that did not exist or held
/// a convkit checkpoint (`--force` may replace those, nothing else).
fn out_paths(args: &[String], pristine: &Snapshot) -> Vec<PathBuf> {
    args.windows(2)
        .filter(|w| w[0] == "--out")
        .filter_map(|w| w[1].strip_prefix("@/").map(PathBuf::from))
        .filter(|out| !pristine.contains(out) || out == Path::new("ckpt"))
        .collect()
}

fn copy_files(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn random_command_lines_never_panic_or_touch_other_files() {
    let cases: u32 = env_or("CONVKIT_CLI_CASES", 500);
    let seed: u64 = env_or("CONVKIT_CLI_SEED", 21);
    let workers: u64 = env_or("CONVKIT_CLI_WORKERS", 1);
    let timeout = Duration::from_secs(env_or("CONVKIT_CLI_TIMEOUT_S", 60));
    let tally = Mutex::new(Tally::default());
    let start = Instant::now();
    let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let tally = &tally;
                scope.spawn(move || worker(seed + w, cases, timeout, tally))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let tally = tally.into_inner().unwrap();
    let seconds = start.elapsed().as_secs_f64();
    eprintln!(
        "CLI fuzz: {} cases in {seconds:.0} s ({} workers from seed {seed}), {} timeouts",
        tally.cases,
        workers,
        tally.timeouts.len()
    );
    if let Ok(path) = std::env::var("CONVKIT_CLI_REPORT") {
        let report = serde_json::json!({
            "cases": tally.cases,
            "seconds": seconds,
            "workers": workers,
            "seed": seed,
            "by_exit": tally.by_exit,
            "timeouts": tally.timeouts,
            "errors": tally.errors,
            "examples": tally.examples,
            "failures": results.iter().filter_map(|r| r.as_ref().err()).collect::<Vec<_>>(),
        });
        std::fs::write(path, serde_json::to_string_pretty(&report).unwrap()).unwrap();
    }
    for result in results {
        if let Err(e) = result {
            panic!("{e}");
        }
    }
}
