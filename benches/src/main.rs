//! convkit's side of `cargo xtask bench`.
//!
//! Each workload mirrors one in `tools/refgen/bench_torch.py` (same shapes, same work) and is
//! timed the same way: warm-up runs, then the median and minimum of timed runs. Prints one
//! JSON object on stdout. A custom harness rather than criterion: the numbers must be taken
//! exactly like PyTorch's, in the same invocation, and reported as ratios.

mod conv;
mod data;
mod pool;
mod training;
mod vision;

use std::path::PathBuf;
use std::time::Instant;

use burn::optim::GradientsParams;
use burn::tensor::{Device, Distribution, Int, Tensor, TensorData};
use clap::Parser;
use convkit_core::Tapped;
use convkit_core::device::Backend;
use convkit_train::OptimizerKind;
use convkit_zoo::SmallCnnConfig;
use serde_json::{Map, Value, json};

/// The allocator the `convkit` binary uses (see its source): the rows time what users run.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
struct Args {
    /// Fewer repetitions.
    #[arg(long)]
    quick: bool,
    /// Threads (informational: set RAYON_NUM_THREADS, as `cargo xtask bench` does).
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Folder for the data-loading rows' files (created; PyTorch's side reads the same files).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Internal: load this edge list, print peak memory as JSON and exit (the child process
    /// of the peak-memory row).
    #[arg(long, hide = true)]
    load_edges: Option<PathBuf>,
    /// Run only these rows (comma-separated names), e.g. `--only inception_v4_fwd_1`.
    #[arg(long)]
    only: Option<String>,
}

struct Timer {
    warmup: usize,
    runs: usize,
}

impl Timer {
    fn time(&self, mut f: impl FnMut()) -> Value {
        for _ in 0..self.warmup {
            f();
        }
        let mut ms: Vec<f64> = (0..self.runs)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        json!({"median_ms": ms[ms.len() / 2], "min_ms": ms[0], "runs": self.runs})
    }
}

fn randn<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
    convkit_core::random::tensor(shape, Distribution::Normal(0.0, 1.0), device)
}

fn matmul(device: &Device, timer: &Timer) -> Value {
    let a = randn([1024, 1024], device);
    let b = randn([1024, 1024], device);
    timer.time(|| {
        a.clone().matmul(b.clone()).into_data();
    })
}

fn small_cnn_train_step(device: &Device, timer: &Timer) -> Value {
    let ad = device.clone().autodiff();
    let mut model = SmallCnnConfig::new(3)
        .with_in_channels(3)
        .with_width(16)
        .init(&ad);
    let mut optim = OptimizerKind::default().build();
    let images = randn([32, 3, 32, 32], &ad);
    let labels: Vec<i64> = (0..32).map(|i| i % 3).collect();
    let targets: Tensor<1, Int> = Tensor::from_data(TensorData::new(labels, [32]), &ad);
    let loss_fn = burn::nn::loss::CrossEntropyLossConfig::new().init(&ad);
    timer.time(|| {
        let logits = model.forward(images.clone());
        let loss = loss_fn.forward(logits, targets.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(1e-3, model.clone(), grads);
        model.stem.conv.weight.val().into_data();
    })
}

fn main() {
    let args = Args::parse();
    if let Some(path) = &args.load_edges {
        println!("{}", data::load_edges_and_report(path));
        return;
    }
    let timer = if args.quick {
        Timer { warmup: 1, runs: 5 }
    } else {
        Timer {
            warmup: 3,
            runs: 20,
        }
    };
    // Whole-model rows take a second or more per run (as HEAVY_RUNS in bench_torch.py).
    let heavy = Timer {
        warmup: 1,
        runs: timer.runs.min(6),
    };
    // A training epoch takes tens of seconds (as EPOCH_RUNS in bench_torch.py).
    let epoch = if args.quick {
        Timer { warmup: 0, runs: 1 }
    } else {
        Timer { warmup: 1, runs: 3 }
    };
    let only: Option<Vec<String>> = args
        .only
        .as_ref()
        .map(|list| list.split(',').map(|s| s.trim().to_string()).collect());
    let cpu = Device::flex();
    convkit_core::random::seed(0);
    let mut results = Map::new();
    let mut add = |name: &str, desc: &str, peer: &str, measure: &mut dyn FnMut() -> Value| {
        if only.as_ref().is_some_and(|o| !o.iter().any(|n| n == name)) {
            return;
        }
        let mut v = measure();
        v["description"] = json!(desc);
        v["peer"] = json!(peer);
        eprintln!("{name}: {v}");
        results.insert(name.to_string(), v);
    };

    add(
        "conv2d_fwd",
        "conv2d 8×64×56×56, 64 out, 3×3, pad 1, forward (convkit_ops::conv2d: convkit's kernel)",
        "conv2d_fwd",
        &mut || conv::conv2d_fwd(&cpu, &timer),
    );
    add(
        "conv2d_fwd_bwd",
        "same conv2d, forward + backward (input and weight gradients), convkit's kernel",
        "conv2d_fwd_bwd",
        &mut || conv::conv2d_fwd_bwd(&cpu, &timer),
    );
    add(
        "conv2d_fwd_bwd_burn",
        "same conv2d forward + backward through burn-flex's own conv2d (for the record)",
        "conv2d_fwd_bwd",
        &mut || conv::conv2d_fwd_bwd_burn(&cpu, &timer),
    );
    add(
        "dwconv3_fwd_bwd",
        "depth-wise conv2d 3×3, pad 1, on 8×64×56×56, forward + backward",
        "dwconv3_fwd_bwd",
        &mut || conv::depthwise_fwd_bwd(&cpu, &timer, 3, 1),
    );
    add(
        "dwconv7_d3_fwd_bwd",
        "depth-wise conv2d 7×7, dilation 3, pad 9, on 8×64×56×56, forward + backward",
        "dwconv7_d3_fwd_bwd",
        &mut || conv::depthwise_fwd_bwd(&cpu, &timer, 7, 3),
    );
    add(
        "conv1d_dilated_fwd_bwd",
        "conv1d 64→64, k 3, dilations 1/2/4/8 (same padding) of 32×64×1024, summed, forward + backward",
        "conv1d_dilated_fwd_bwd",
        &mut || conv::conv1d_dilated_fwd_bwd(&cpu, &timer),
    );
    add(
        "max_pool2_fwd_bwd",
        "max_pool2d 2×2, stride 2, on 8×64×56×56, forward + backward (convkit's kernel)",
        "max_pool2_fwd_bwd",
        &mut || pool::max_pool2_fwd_bwd(&cpu, &timer, false),
    );
    add(
        "max_pool2_fwd_bwd_burn",
        "same max pooling through burn-flex's own max_pool2d (for the record)",
        "max_pool2_fwd_bwd",
        &mut || pool::max_pool2_fwd_bwd(&cpu, &timer, true),
    );
    add(
        "avg_pool3_fwd_bwd",
        "avg_pool2d 3×3, stride 1, pad 1, padding not counted, on 8×64×56×56, forward + backward (convkit's kernel)",
        "avg_pool3_fwd_bwd",
        &mut || pool::avg_pool3_fwd_bwd(&cpu, &timer, false),
    );
    add(
        "avg_pool3_fwd_bwd_burn",
        "same average pooling through burn-flex's own avg_pool2d (for the record)",
        "avg_pool3_fwd_bwd",
        &mut || pool::avg_pool3_fwd_bwd(&cpu, &timer, true),
    );
    add(
        "matmul_1024",
        "matmul 1024×1024 · 1024×1024",
        "matmul_1024",
        &mut || matmul(&cpu, &timer),
    );
    add(
        "small_cnn_train_step",
        "SmallCnn (width 16) train step: batch 32×3×32×32, forward + CE + backward + Adam",
        "small_cnn_train_step",
        &mut || small_cnn_train_step(&cpu, &timer),
    );
    add(
        "small_cnn_epoch",
        &format!(
            "CLI small-cnn (5×5 kernels, width 16, 10 classes) training epoch, CLI recipe: {} u8 images 1×28×28, shuffled, batch {}, /255 + normalize, forward + CE + backward + Adam (cosine LR), {} threads",
            training::TRAIN_IMAGES,
            training::TRAIN_BATCH,
            args.threads
        ),
        "small_cnn_epoch",
        &mut || training::small_cnn_epoch(&cpu, &epoch),
    );
    add(
        "small_cnn_inference",
        &format!(
            "CLI small-cnn (5×5 kernels, width 16, 10 classes) inference: {} u8 images 1×28×28, batch {}, /255 + normalize, forward + argmax, {} threads",
            training::TEST_IMAGES,
            training::EVAL_BATCH,
            args.threads
        ),
        "small_cnn_inference",
        &mut || training::small_cnn_inference(&cpu, &heavy),
    );
    add(
        "inception_v4_fwd_1",
        "Inception-v4 (timm layout, 1000 classes), inference, 1×3×299×299",
        "inception_v4_fwd_1",
        &mut || vision::inception_v4_fwd(&cpu, &heavy, 1),
    );
    add(
        "inception_v4_fwd_8",
        "Inception-v4 (timm layout, 1000 classes), inference, 8×3×299×299",
        "inception_v4_fwd_8",
        &mut || vision::inception_v4_fwd(&cpu, &heavy, 8),
    );
    add(
        "unet_fwd_bwd",
        "U-Net (depth 4, width 16, 2 classes) train mode on 4×1×128×128: forward + pixel CE + backward",
        "unet_fwd_bwd",
        &mut || vision::unet_fwd_bwd(&cpu, &heavy),
    );
    add(
        "scse_fwd",
        "scSE (cSE + sSE added, reduction 16) on 8×64×56×56, forward",
        "scse_fwd",
        &mut || vision::scse_fwd(&cpu, &timer),
    );
    add(
        "spp_fwd",
        "spatial pyramid pooling, levels 4/2/1, max, on 8×256×13×13",
        "spp_fwd",
        &mut || vision::spp_fwd(&cpu, &timer),
    );

    if Backend::NdArray.is_compiled() {
        let nd = convkit_core::DeviceSpec::NdArray
            .device()
            .expect("ndarray is compiled");
        add(
            "conv2d_fwd_ndarray",
            "conv2d forward as above on burn's ndarray backend (for backend choice)",
            "conv2d_fwd",
            &mut || conv::conv2d_fwd(&nd, &timer),
        );
    }

    if let Some(dir) = &args.data_dir {
        std::fs::create_dir_all(dir).expect("bench data folder can be created");
        add(
            "idx_read",
            "read IDX 60000×28×28 u8 (MNIST train images) from the page cache",
            "idx_read",
            &mut || data::idx_read(dir, &timer),
        );
        add(
            "npy_read",
            "read NPY 25000×1000 f32 from the page cache",
            "npy_read",
            &mut || data::npy_read(dir, &timer),
        );
        add(
            "edge_list_read",
            "parse a 10 M-edge list (tab-separated text) into a directed CSR graph",
            "edge_list_read",
            &mut || data::edge_list_read(dir, &timer),
        );
        // 100 M edges is the size; --quick checks the mechanism on 10 M.
        let edges = if args.quick { 10_000_000 } else { 100_000_000 };
        add(
            "edge_list_peak_memory",
            "peak memory of loading a large edge list",
            "edge_list_peak_memory",
            &mut || data::edge_list_peak_memory(dir, edges),
        );
    }

    let out = json!({
        "backend": "burn 0.22.1 flex (rayon + simd), autodiff for training rows",
        "threads": args.threads,
        "results": results,
    });
    println!("{out}");
}
