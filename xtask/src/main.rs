//! `cargo xtask`: convkit's tasks.
//!
//! All cargo invocations use the release profile, so one build of burn (and of its proc
//! macros and build scripts) serves clippy, the tests, the checks and the docs.
//!
//! - `ci`: everything CI checks — formatting, clippy (warnings denied), the tests, that the
//!   graph crate and the data crate without its default features build no image or archive
//!   decoders, `cargo check` with the optional backends, and the docs (warnings denied).
//! - `test`: the test suite, release profile, on every CPU backend (flex and ndarray).
//! - `refgen`: regenerate the golden fixtures from the Python references in `tools/refgen/`,
//!   in a virtualenv under `target/refgen-venv`.
//! - `bench [--quick]`: convkit and PyTorch side by side; writes `docs/benchmarks.md` and
//!   `docs/benchmarks.json`.
//! - `miri`: `convkit-ops`' kernel unit tests under Miri (nightly toolchain with the `miri`
//!   component; not part of `ci`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(name = "cargo xtask")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// fmt --check, clippy -D warnings, tests, check with ndarray and wgpu, docs -D warnings.
    Ci,
    /// The test suite on every CPU backend.
    Test,
    /// Regenerate golden fixtures with PyTorch (creates target/refgen-venv on first use).
    Refgen,
    /// convkit-ops' kernel tests under Miri (needs `rustup +nightly component add miri`).
    Miri,
    /// Benchmarks against PyTorch; writes docs/benchmarks.md and docs/benchmarks.json.
    Bench {
        /// Fewer repetitions, for a quick look.
        #[arg(long)]
        quick: bool,
        /// Threads for both sides.
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
}

/// Features the tests and benchmarks are built with: one feature set, so one build of burn.
const TEST_FEATURES: &str = "convkit-core/ndarray";
/// Reference scripts that write fixtures (not the helpers or the benchmark).
const REFGEN_SCRIPTS: &[&str] = &[
    "small_cnn.py",
    "se_cnn.py",
    "conv_norm_act.py",
    "npy_fixtures.py",
    "transforms.py",
    "karate.py",
    "squeeze_excite.py",
    "spatial_pyramid_pool.py",
    "inception.py",
    "unet.py",
    "segmentation_loss.py",
    "cli_fixtures.py",
    "conv_kernels.py",
];

fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace root")
        .to_path_buf()
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(project_root());
    cmd
}

fn run(mut cmd: Command) -> Result<()> {
    let shown = format!("{cmd:?}");
    eprintln!("$ {shown}");
    let start = Instant::now();
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {shown}"))?;
    eprintln!("  ({:.0} s)", start.elapsed().as_secs_f64());
    if !status.success() {
        bail!("{shown} failed with {status}");
    }
    Ok(())
}

fn cargo_run(args: &[&str]) -> Result<()> {
    let mut cmd = cargo();
    cmd.args(args);
    run(cmd)
}

fn test() -> Result<()> {
    cargo_run(&[
        "test",
        "--workspace",
        "--release",
        "--features",
        TEST_FEATURES,
    ])
}

fn ci() -> Result<()> {
    cargo_run(&["fmt", "--all", "--check"])?;
    cargo_run(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--release",
        "--features",
        TEST_FEATURES,
        "--",
        "-D",
        "warnings",
    ])?;
    test()?;
    check_light_dependencies()?;
    cargo_run(&[
        "check",
        "--workspace",
        "--release",
        "--features",
        // The facade's feature: the wgpu backend and the binary's headless display probe.
        "convkit/wgpu",
    ])?;
    let mut doc = cargo();
    doc.args([
        "doc",
        "--workspace",
        "--no-deps",
        "--release",
        "--features",
        TEST_FEATURES,
    ])
    .env("RUSTDOCFLAGS", "-D warnings");
    run(doc)
}

/// Decoders a graph-only (or data-without-images) user must not build: the image and archive
/// crates behind convkit-data's default `images` and `npz` features.
const HEAVY_DECODERS: &[&str] = &["image", "zip", "png", "zune-jpeg", "zune-core"];

/// Fails if `convkit-graph`, or `convkit-data` without its default features, depends on one of
/// [`HEAVY_DECODERS`] (issue #20: the graph type lives below the I/O crate).
fn check_light_dependencies() -> Result<()> {
    let cases: [(&str, &[&str]); 2] = [
        ("convkit-graph", &[]),
        ("convkit-data", &["--no-default-features"]),
    ];
    for (package, flags) in cases {
        let mut cmd = cargo();
        cmd.args(["tree", "-p", package, "-e", "normal", "--prefix", "none"])
            .args(["--format", "{p}"])
            .args(flags);
        eprintln!("$ {cmd:?}");
        let out = cmd.output().context("cannot run cargo tree")?;
        if !out.status.success() {
            bail!(
                "cargo tree failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let tree = String::from_utf8_lossy(&out.stdout);
        let heavy: Vec<&str> = HEAVY_DECODERS
            .iter()
            .copied()
            .filter(|name| tree.lines().any(|l| l.split(' ').next() == Some(*name)))
            .collect();
        if !heavy.is_empty() {
            bail!(
                "{package} {} depends on {}",
                flags.join(" "),
                heavy.join(", ")
            );
        }
    }
    Ok(())
}

fn venv_python() -> PathBuf {
    project_root().join("target/refgen-venv/bin/python")
}

/// The kernel unit tests of `convkit-ops` under Miri, on the portable paths: Miri reports no
/// SIMD features, so `gemm` takes its generic kernels. Tree Borrows, because rayon's
/// crossbeam-epoch deque breaks the experimental Stacked Borrows rules; leaks ignored, because
/// rayon's global pool outlives `main`; two proptest cases each; one worker thread. Two tests
/// are skipped as too slow interpreted (minutes each): the thread-count comparison and the
/// large shapes, which run the same code as the others on more data.
fn miri() -> Result<()> {
    // Through rustup: `$CARGO` is the stable toolchain's cargo, which takes no `+nightly`.
    let mut cmd = Command::new("rustup");
    cmd.current_dir(project_root())
        .args([
            "run",
            "nightly",
            "cargo",
            "miri",
            "test",
            "-p",
            "convkit-ops",
            "--lib",
            "--",
        ])
        .args([
            "kernels::",
            "--skip",
            "every_thread_count",
            "--skip",
            "large_shapes",
        ])
        .env("RAYON_NUM_THREADS", "1")
        .env("PROPTEST_CASES", "2")
        .env(
            "MIRIFLAGS",
            "-Zmiri-disable-isolation -Zmiri-tree-borrows -Zmiri-ignore-leaks",
        );
    run(cmd)
}

fn refgen() -> Result<()> {
    let root = project_root();
    let python = venv_python();
    if !python.exists() {
        let mut venv = Command::new("python3");
        venv.args(["-m", "venv"])
            .arg(root.join("target/refgen-venv"));
        run(venv)?;
        let mut pip = Command::new(&python);
        pip.args(["-m", "pip", "install", "-r"])
            .arg(root.join("tools/refgen/requirements.txt"));
        run(pip)?;
    }
    for script in REFGEN_SCRIPTS {
        let mut cmd = Command::new(&python);
        cmd.arg(root.join("tools/refgen").join(script))
            .current_dir(&root);
        run(cmd)?;
    }
    Ok(())
}

fn capture_json(mut cmd: Command) -> Result<Value> {
    eprintln!("$ {cmd:?}");
    let out = cmd.output().context("cannot start benchmark")?;
    if !out.status.success() {
        bail!(
            "benchmark failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    serde_json::from_slice(&out.stdout).context("benchmark did not print one JSON object")
}

fn bench(quick: bool, threads: usize) -> Result<()> {
    let root = project_root();
    let threads_s = threads.to_string();
    // Files of the data-loading rows: written by convkit's side, read by both.
    let data_dir = root.join("target/bench-data");
    let mut rust = cargo();
    rust.args([
        "run",
        "--release",
        "-p",
        "convkit-bench",
        "--features",
        TEST_FEATURES,
        "--",
    ])
    .args(["--threads", &threads_s])
    .arg("--data-dir")
    .arg(&data_dir)
    .env("RAYON_NUM_THREADS", &threads_s);
    if quick {
        rust.arg("--quick");
    }
    // Build first so compile output does not mix with timings.
    cargo_run(&[
        "build",
        "--release",
        "-p",
        "convkit-bench",
        "--features",
        TEST_FEATURES,
    ])?;
    let ours = capture_json(rust)?;
    let python = venv_python();
    let torch = if python.exists() {
        let mut cmd = Command::new(&python);
        cmd.arg(root.join("tools/refgen/bench_torch.py"))
            .args(["--threads", &threads_s])
            .arg("--data-dir")
            .arg(&data_dir)
            .env("OMP_NUM_THREADS", &threads_s)
            .current_dir(&root);
        if quick {
            cmd.arg("--quick");
        }
        Some(capture_json(cmd)?)
    } else {
        eprintln!("no PyTorch virtualenv (run `cargo xtask refgen`): PyTorch column left empty");
        None
    };
    let report = json!({
        "date": command_output("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        "machine": machine(),
        "threads": threads,
        "quick": quick,
        "convkit": ours,
        "pytorch": torch,
    });
    std::fs::write(
        root.join("docs/benchmarks.json"),
        serde_json::to_string_pretty(&report)? + "\n",
    )?;
    std::fs::write(root.join("docs/benchmarks.md"), markdown(&report))?;
    eprintln!("wrote docs/benchmarks.md and docs/benchmarks.json");
    Ok(())
}

fn command_output(cmd: &str, args: &[&str]) -> String {
    Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!(
        "{cpu}, {cores} cores, {}",
        command_output("uname", &["-sr"])
    )
}

fn ms(v: &Value) -> Option<f64> {
    v.get("median_ms").and_then(Value::as_f64)
}

fn markdown(report: &Value) -> String {
    let mut md = String::from("# Benchmarks\n\n");
    md.push_str("Written by `cargo xtask bench`. convkit and PyTorch run in the same invocation; the machine is shared and noisy, so compare the **ratio** (convkit time / PyTorch time, lower is better), not absolute times.\n\n");
    md.push_str(&format!(
        "- date: {}\n- machine: {}\n- threads: {} on both sides (`RAYON_NUM_THREADS`, `torch.set_num_threads`)\n- mode: {}\n",
        report["date"].as_str().unwrap_or(""),
        report["machine"].as_str().unwrap_or(""),
        report["threads"],
        if report["quick"].as_bool() == Some(true) { "quick (`--quick`: fewer repetitions)" } else { "full" },
    ));
    if let Some(b) = report["convkit"]["backend"].as_str() {
        md.push_str(&format!("- convkit backend: {b}\n"));
    }
    if let Some(v) = report["pytorch"]["torch_version"].as_str() {
        md.push_str(&format!("- PyTorch: {v} (CPU)\n"));
    }
    md.push_str("\nTimes are medians (min in parentheses) in milliseconds. Rows above 1.0x are profiled in [performance.md](performance.md).\n\n");
    md.push_str("| benchmark | convkit | PyTorch | ratio |\n|---|---|---|---|\n");
    let empty = serde_json::Map::new();
    let ours = report["convkit"]["results"].as_object().unwrap_or(&empty);
    let peer_of = |name: &str, r: &Value| {
        let peer = r["peer"].as_str().unwrap_or(name).to_string();
        report["pytorch"]["results"][peer.as_str()].clone()
    };
    let ratio = |r: &Value, theirs: &Value| match (ms(r), ms(theirs)) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "—".to_string(),
    };
    let mut data_rows = String::new();
    for (name, r) in ours {
        let desc = r["description"].as_str().unwrap_or(name);
        let theirs = peer_of(name, r);
        if ms(r).is_none() {
            continue; // not timed (e.g. a memory measurement): shown as a note below
        }
        if let Some(bytes) = r.get("bytes").and_then(Value::as_f64) {
            // Throughput rows: MB/s from the median (and from the best run).
            let rate = |v: &Value| match (ms(v), v.get("min_ms").and_then(Value::as_f64)) {
                (Some(m), Some(lo)) if m > 0.0 && lo > 0.0 => {
                    format!("{:.0} ({:.0})", bytes / m / 1e3, bytes / lo / 1e3)
                }
                _ => "—".to_string(),
            };
            let target = r["target_mb_s"]
                .as_f64()
                .map_or("—".to_string(), |t| format!("≥ {t:.0}"));
            data_rows.push_str(&format!(
                "| {desc} | {:.1} | {} | {} | {} | {target} |\n",
                bytes / 1e6,
                rate(r),
                rate(&theirs),
                ratio(r, &theirs),
            ));
            continue;
        }
        let cell = |v: &Value| match (ms(v), v.get("min_ms").and_then(Value::as_f64)) {
            (Some(m), Some(lo)) => format!("{m:.2} ({lo:.2})"),
            _ => "—".to_string(),
        };
        md.push_str(&format!(
            "| {desc} | {} | {} | {} |\n",
            cell(r),
            cell(&theirs),
            ratio(r, &theirs)
        ));
    }
    if !data_rows.is_empty() {
        md.push_str("\n## Data loading\n\nThroughput in MB/s from the page cache, median (best run in parentheses); the ratio is of times, as above. The PyTorch column is what PyTorch users run for the same file: torchvision's MNIST reader for IDX, `numpy.load` for NPY.\n\n");
        md.push_str("| benchmark | MB | convkit MB/s | PyTorch / NumPy MB/s | ratio | target MB/s |\n|---|---|---|---|---|---|\n");
        md.push_str(&data_rows);
    }
    for (name, r) in ours {
        if let Some(extra) = r.get("note").and_then(Value::as_str) {
            md.push_str(&format!("\n- `{name}`: {extra}\n"));
        }
    }
    md
}

fn main() -> Result<()> {
    match Cli::parse().task {
        Task::Ci => ci(),
        Task::Test => test(),
        Task::Refgen => refgen(),
        Task::Miri => miri(),
        Task::Bench { quick, threads } => bench(quick, threads),
    }
}
