//! Data-loading rows: read throughput of the file formats from the page cache.
//!
//! The files are written once into `--data-dir` (PyTorch's side reads the same files), read
//! once to warm the page cache, then timed like every other row. Each row carries `bytes`
//! (the file size), so the report can show MB/s.

use std::path::Path;

use convkit_data::graph::edge_list::{EdgeListOptions, read_edge_list};
use convkit_data::idx::{IdxArray, read_idx, write_idx};
use convkit_data::npy::{NpyArray, read_npy, write_npy};
use serde_json::{Value, json};

use crate::Timer;

/// MNIST-training-set-sized IDX images: 60000 × 28 × 28 bytes.
const IDX_DIMS: [usize; 3] = [60_000, 28, 28];

/// Adds the file size and the throughput target (MB/s) of issue #4 to a timed row.
fn throughput(mut row: Value, path: &Path, target_mb_s: f64) -> Value {
    row["bytes"] = json!(std::fs::metadata(path).map(|m| m.len()).unwrap_or(0));
    row["target_mb_s"] = json!(target_mb_s);
    row
}

/// Reads `bench-images-idx3-ubyte` with [`read_idx`].
pub fn idx_read(dir: &Path, timer: &Timer) -> Value {
    let path = dir.join("bench-images-idx3-ubyte");
    let n: usize = IDX_DIMS.iter().product();
    let pixels: Vec<u8> = (0..n)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let array = IdxArray::from_u8(IDX_DIMS.to_vec(), pixels).expect("consistent dims");
    write_idx(&path, &array).expect("bench data folder is writable");
    let row = timer.time(|| {
        let read = read_idx(&path).expect("just written");
        assert_eq!(read.dims, IDX_DIMS);
    });
    throughput(row, &path, 1000.0)
}

/// Reads `bench.npy`, 25 M f32 values (100 MB), with [`read_npy`].
pub fn npy_read(dir: &Path, timer: &Timer) -> Value {
    let path = dir.join("bench.npy");
    let n = 25_000_000usize;
    let values: Vec<f32> = (0..n).map(|i| (i % 1000) as f32 * 0.5).collect();
    let array = NpyArray::from_vec(vec![n / 1000, 1000], values).expect("consistent shape");
    write_npy(&path, &array).expect("bench data folder is writable");
    let row = timer.time(|| {
        let read = read_npy(&path).expect("just written");
        assert_eq!(read.len(), n);
    });
    throughput(row, &path, 1000.0)
}

/// Writes `edges` directed edges among `nodes` nodes as a tab-separated edge list (the
/// SNAP layout), ids from a fixed hash so every run writes the same file.
fn write_edges(path: &Path, edges: usize, nodes: u64) -> std::io::Result<()> {
    use std::io::Write;
    if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) && path.with_extension("done").exists() {
        return Ok(()); // written by an earlier run
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(out, "# FromNodeId\tToNodeId")?;
    let mut z = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..edges {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let h = (z ^ (z >> 29)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        writeln!(out, "{}\t{}", (h >> 32) % nodes, (h & 0xFFFF_FFFF) % nodes)?;
    }
    out.flush()?;
    std::fs::write(path.with_extension("done"), b"")
}

/// Parses a 10 M-edge list (about 160 MB) into a directed CSR graph with [`read_edge_list`].
pub fn edge_list_read(dir: &Path, timer: &Timer) -> Value {
    let path = dir.join("bench-10m.edges");
    write_edges(&path, 10_000_000, 1_000_000).expect("bench data folder is writable");
    let options = EdgeListOptions::new().with_directed(true);
    let row = timer.time(|| {
        let graph = read_edge_list(&path, &options).expect("just written");
        assert_eq!(graph.num_entries(), 10_000_000);
    });
    throughput(row, &path, 100.0)
}

/// Loads `path` in this process and reports its peak resident memory (for the child process
/// of [`edge_list_peak_memory`]).
pub fn load_edges_and_report(path: &Path) -> Value {
    let graph =
        read_edge_list(path, &EdgeListOptions::new().with_directed(true)).expect("edge file");
    let csr_bytes = std::mem::size_of_val(graph.offsets()) + std::mem::size_of_val(graph.targets());
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let peak_kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN);
    json!({"entries": graph.num_entries(), "csr_mb": csr_bytes as f64 / 1e6, "peak_rss_mb": peak_kb / 1e3})
}

/// Peak memory of loading an edge list of `edges` edges, measured in a fresh child process
/// (this process has other rows' allocations): the CSR itself is the floor.
pub fn edge_list_peak_memory(dir: &Path, edges: usize) -> Value {
    let path = dir.join(format!("bench-{}m.edges", edges / 1_000_000));
    write_edges(&path, edges, 10_000_000).expect("bench data folder is writable");
    let started = std::time::Instant::now();
    let output = std::process::Command::new(std::env::current_exe().expect("own path"))
        .arg("--load-edges")
        .arg(&path)
        .output()
        .expect("child bench process starts");
    let seconds = started.elapsed().as_secs_f64();
    let mut row: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(
        |_| json!({"error": String::from_utf8_lossy(&output.stderr).trim().to_string()}),
    );
    let file_mb = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0) as f64 / 1e6;
    row["file_mb"] = json!(file_mb);
    row["seconds"] = json!(seconds);
    row["note"] = json!(format!(
        "{edges} edges ({file_mb:.0} MB of text) into a directed CSR of {:.0} MB: peak resident memory {:.0} MB, {seconds:.1} s including process start",
        row["csr_mb"].as_f64().unwrap_or(f64::NAN),
        row["peak_rss_mb"].as_f64().unwrap_or(f64::NAN),
    ));
    row
}
