//! The `convkit` command line: train, evaluate and run image classifiers on your own files.
//!
//! Every failure prints one line `error: …` on stderr and exits non-zero (1 for a failed
//! command, 2 for a command line that does not parse).

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use convkit::app::{
    self, DataSource, EvalReport, InfoReport, ModelEntry, PredictReport, Preprocess, Runtime,
    TrainOptions, TrainReport,
};
use convkit::core::MemoryBudget;
use convkit::core::device::DEVICE_ENV;
use convkit::data::image_folder::Channels;
use convkit::data::npy_images::ImageLayout;
use convkit::tour::{self, TourConfig};
use convkit::train::EpochStats;
use convkit::zoo::ClassifierKind;

/// mimalloc keeps freed memory for reuse. With glibc's allocator every large intermediate
/// tensor goes back to the system when dropped, and the next op faults fresh pages in (see
/// docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The exit status of a process whose output pipe closed (128 + SIGPIPE), as shells report it.
const BROKEN_PIPE_EXIT: i32 = 141;

/// `println!` that ends the process quietly with [`BROKEN_PIPE_EXIT`] when stdout's reader has
/// gone (`convkit predict … | head -1`), and returns any other write error.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout().lock(), $($arg)*) {
            exit_on_broken_pipe(&e);
            return Err(anyhow::Error::from(e).context("writing to stdout"));
        }
    }};
}

/// `print!` with the same handling as [`out!`].
macro_rules! out_part {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = write!(std::io::stdout().lock(), $($arg)*) {
            exit_on_broken_pipe(&e);
            return Err(anyhow::Error::from(e).context("writing to stdout"));
        }
    }};
}

/// `eprintln!` that never fails: a closed or full stderr must not abort a training run or
/// lose its checkpoint.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

fn exit_on_broken_pipe(e: &std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(BROKEN_PIPE_EXIT);
    }
}

#[derive(Parser)]
#[command(
    name = "convkit",
    version,
    about = "Train, evaluate and run convolutional image classifiers on your own files (burn, CPU or GPU)"
)]
struct Cli {
    /// Compute device: cpu, ndarray, wgpu[:N] or cuda[:N]. Defaults to $CONVKIT_DEVICE, then cpu.
    #[arg(long, global = true)]
    device: Option<String>,
    /// Memory a command may plan to use (512M, 8G, …); inputs needing more are refused before
    /// anything is allocated. Defaults to $CONVKIT_MEMORY_LIMIT, then 80% of physical memory.
    #[arg(long, global = true)]
    memory_limit: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a zoo classifier on a dataset folder, report test accuracy, save a checkpoint.
    Train(TrainArgs),
    /// Evaluate a checkpoint on the test split of a dataset folder.
    Eval {
        /// Checkpoint folder written by `convkit train --out`.
        #[arg(long)]
        checkpoint: PathBuf,
        /// <format>:<folder>, as for train.
        #[arg(long)]
        data: String,
        /// Print one JSON object on stdout instead of tables.
        #[arg(long)]
        json: bool,
    },
    /// Classify image files (PNG, JPEG) or .npy arrays with a checkpoint.
    Predict {
        /// Checkpoint folder written by `convkit train --out`.
        #[arg(long)]
        checkpoint: PathBuf,
        /// Image files or .npy arrays ([N, H, W], [N, C, H, W] or [N, H, W, C]).
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// How many classes to show per image.
        #[arg(long, default_value_t = 3)]
        top_k: usize,
        /// Print one JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Version, compiled backends, available devices and threads.
    Info {
        /// Print one JSON object on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Train a small CNN on synthetic shapes, checkpoint it, reload it and check it is identical.
    Tour(TourArgs),
}

#[derive(Args)]
struct TrainArgs {
    /// Data: idx:DIR, cifar10:DIR, cifar100:DIR, images:DIR or npy:DIR (see the README).
    #[arg(long, required_unless_present = "list_models")]
    data: Option<String>,
    /// Model name (see --list-models).
    #[arg(long, required_unless_present = "list_models")]
    model: Option<String>,
    /// List the models with their parameter counts and input sizes, then exit.
    #[arg(long)]
    list_models: bool,
    /// Passes over the training split.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Peak learning rate (Adam; one epoch of linear warm-up, then cosine decay to 1%).
    #[arg(long, default_value_t = 1e-2)]
    lr: f64,
    /// Images per training batch.
    #[arg(long, default_value_t = 64)]
    batch_size: usize,
    /// Seed of initialization, shuffling and held-out splits: equal seeds give equal runs.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Checkpoint folder to write (must not exist, be empty, or be a convkit checkpoint with --force).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace --out if it holds a convkit checkpoint (nothing else is ever replaced).
    #[arg(long)]
    force: bool,
    /// Print one JSON object on stdout (per-epoch lines still go to stderr unless --quiet).
    #[arg(long)]
    json: bool,
    /// No progress bar and no per-epoch lines.
    #[arg(long)]
    quiet: bool,
    /// images format without test/: the stratified share held out for testing [default: 0.2].
    #[arg(long)]
    val_fraction: Option<f64>,
    /// Resize every image to HxW (bilinear, antialiased), e.g. 32x32.
    #[arg(long)]
    resize: Option<String>,
    /// images format: decode to auto (as stored), gray or rgb.
    #[arg(long, value_enum, default_value_t = ChannelsArg::Auto, ignore_case = true)]
    channels: ChannelsArg,
    /// npy format: auto (detect), nchw or nhwc.
    #[arg(long, value_enum, default_value_t = LayoutArg::Auto, ignore_case = true)]
    layout: LayoutArg,
}

/// `--channels`.
#[derive(Clone, Copy, ValueEnum)]
enum ChannelsArg {
    Auto,
    Gray,
    Rgb,
}

impl From<ChannelsArg> for Channels {
    fn from(arg: ChannelsArg) -> Channels {
        match arg {
            ChannelsArg::Auto => Channels::AsStored,
            ChannelsArg::Gray => Channels::Gray,
            ChannelsArg::Rgb => Channels::Rgb,
        }
    }
}

/// `--layout`.
#[derive(Clone, Copy, ValueEnum)]
enum LayoutArg {
    Auto,
    Nchw,
    Nhwc,
}

impl From<LayoutArg> for ImageLayout {
    fn from(arg: LayoutArg) -> ImageLayout {
        match arg {
            LayoutArg::Auto => ImageLayout::Auto,
            LayoutArg::Nchw => ImageLayout::Nchw,
            LayoutArg::Nhwc => ImageLayout::Nhwc,
        }
    }
}

#[derive(Args)]
struct TourArgs {
    /// Training epochs.
    #[arg(long, default_value_t = 8)]
    epochs: usize,
    /// Training images.
    #[arg(long, default_value_t = 3000)]
    train_size: usize,
    /// Test images.
    #[arg(long, default_value_t = 600)]
    test_size: usize,
    /// Seed of data, initialization and shuffling.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Checkpoint folder (replaced only if it already holds a convkit checkpoint).
    #[arg(long, default_value = "tour-out")]
    out: PathBuf,
    /// No progress bars.
    #[arg(long)]
    quiet: bool,
    /// Channels of the first conv block (the second has twice as many).
    #[arg(long, default_value_t = 16)]
    width: usize,
    /// Base learning rate (Adam, one epoch of warm-up, then cosine decay).
    #[arg(long, default_value_t = 3e-3)]
    lr: f64,
    /// Kernel size of both convolutions.
    #[arg(long, default_value_t = 5)]
    kernel_size: usize,
    /// Max-pool window between the blocks.
    #[arg(long, default_value_t = 2)]
    pool_size: usize,
    /// Standard deviation of the synthetic images' pixel noise.
    #[arg(long, default_value_t = 0.15)]
    noise: f32,
}

fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    out!("{}", serde_json::to_string(value)?);
    Ok(())
}

fn epoch_line(e: &EpochStats, epochs: usize) -> String {
    let valid = e.valid.as_ref();
    format!(
        "epoch {:>3}/{epochs}  train loss {:.4}  train acc {:6.2}%  test acc {:6.2}%  {:.0} samples/s",
        e.epoch,
        e.train_loss,
        100.0 * e.train_accuracy.unwrap_or(0.0),
        100.0 * valid.and_then(|v| v.accuracy).unwrap_or(0.0),
        e.samples_per_second,
    )
}

fn run_train(args: TrainArgs, runtime: &Runtime) -> anyhow::Result<()> {
    if args.list_models {
        let models = app::model_list(&runtime.device.device()?)?;
        if args.json {
            return print_json(&serde_json::json!({
                "models": models,
                "params_for": {"classes": app::LISTED_CLASSES, "channels": app::LISTED_CHANNELS},
            }));
        }
        return print_models(&models);
    }
    let (Some(data), Some(model)) = (args.data.as_deref(), args.model.as_deref()) else {
        bail!("train needs --data <format>:<folder> and --model <name>");
    };
    let data: DataSource = data.parse()?;
    let model: ClassifierKind = model
        .parse()
        .map_err(|e| anyhow::anyhow!("{e} (see convkit train --list-models)"))?;
    let preprocess = Preprocess {
        resize: args
            .resize
            .as_deref()
            .map(Preprocess::parse_resize)
            .transpose()?,
        channels: args.channels.into(),
        layout: args.layout.into(),
        ..Preprocess::default()
    };
    let options = TrainOptions {
        epochs: args.epochs,
        lr: args.lr,
        batch_size: args.batch_size,
        seed: args.seed,
        out: args.out.clone(),
        force: args.force,
        progress: !args.quiet && std::io::stderr().is_terminal(),
        preprocess,
        val_fraction: args.val_fraction,
        ..TrainOptions::new(data, model)
    };
    let quiet = args.quiet;
    let epochs = args.epochs;
    let spec = &runtime.device;
    let report = app::train(
        &options,
        runtime,
        |summary, notes| {
            if quiet {
                return;
            }
            let [c, h, w] = summary.image_shape;
            note!(
                "convkit train: {model} on {} ({} train / {} test images of {c}x{h}x{w}, {} classes; test split: {}), device {spec}, seed {}",
                summary.source,
                summary.train_samples,
                summary.test_samples,
                summary.classes.len(),
                summary.test_split,
                options.seed,
            );
            for note in notes {
                note!("  {note}");
            }
        },
        |e| {
            if !quiet {
                note!("{}", epoch_line(e, epochs));
            }
        },
    )?;
    for warning in &report.warnings {
        note!("warning: {warning}");
    }
    if args.json {
        return print_json(&report);
    }
    print_train(&report)
}

fn print_models(models: &[ModelEntry]) -> anyhow::Result<()> {
    out!(
        "{:<22} {:>12}  {:<9} {:<8} description",
        "model",
        "params",
        "min size",
        "channels"
    );
    for m in models {
        out!(
            "{:<22} {:>12}  {:<9} {:<8} {}",
            m.name,
            m.params,
            format!("{}x{}", m.min_input[0], m.min_input[1]),
            m.channels,
            m.description
        );
    }
    out!(
        "(parameters for {} classes and {} input channels; any larger input size works)",
        app::LISTED_CLASSES,
        app::LISTED_CHANNELS
    );
    Ok(())
}

fn print_train(r: &TrainReport) -> anyhow::Result<()> {
    let s = &r.summary;
    out!(
        "test accuracy {:.2}% on {} images  (train loss {:.4}, train accuracy {:.2}%)",
        100.0 * s.test_accuracy,
        r.data.test_samples,
        s.train_loss,
        100.0 * r.train_accuracy
    );
    out!(
        "model {} ({} parameters), {} epochs, {:.0} samples/s, {:.1} s",
        s.model,
        s.params,
        s.epochs,
        s.samples_per_second,
        s.seconds
    );
    match &s.checkpoint {
        Some(dir) => out!("checkpoint: {}", dir.display()),
        None => out!("no checkpoint written (pass --out DIR to keep the model)"),
    }
    Ok(())
}

fn print_eval(r: &EvalReport) -> anyhow::Result<()> {
    let s = &r.summary;
    out!(
        "test accuracy {:.2}% on {} images ({} from {}, {:.0} images/s)",
        100.0 * s.test_accuracy,
        r.samples,
        s.model,
        s.checkpoint.as_deref().unwrap_or(Path::new("?")).display(),
        s.samples_per_second
    );
    let width = r.classes.iter().map(|c| c.len()).max().unwrap_or(5).max(5);
    out!("\n{:<width$}  precision  recall  support", "class");
    for m in &r.per_class {
        out!(
            "{:<width$}  {:>9.4}  {:>6.4}  {:>7}",
            m.class,
            m.precision,
            m.recall,
            m.support
        );
    }
    out!("\nconfusion matrix (rows: true class, columns: predicted class)");
    let cell = r
        .confusion
        .iter()
        .flatten()
        .map(|n| n.to_string().len())
        .max()
        .unwrap_or(1)
        .max(3);
    out_part!("{:<width$}", "");
    for c in 0..r.classes.len() {
        out_part!(" {c:>cell$}");
    }
    out!();
    for (c, row) in r.confusion.iter().enumerate() {
        out_part!("{:<width$}", format!("{c} {}", r.classes[c]));
        for n in row {
            out_part!(" {n:>cell$}");
        }
        out!();
    }
    Ok(())
}

fn print_predict(r: &PredictReport) -> anyhow::Result<()> {
    for p in &r.predictions {
        let top: Vec<String> = p
            .top
            .iter()
            .map(|c| format!("{} {:.4}", c.class, c.probability))
            .collect();
        let resized = p
            .resized_from
            .map(|[h, w]| {
                format!(
                    "  (resized from {h}x{w} to {}x{})",
                    r.input_shape[1], r.input_shape[2]
                )
            })
            .unwrap_or_default();
        out!("{}: {}{resized}", p.input, top.join(", "));
    }
    Ok(())
}

fn print_info(r: &InfoReport) -> anyhow::Result<()> {
    out!("convkit {}", r.version);
    out!("compiled backends: {}", r.backends.join(", "));
    out!(
        "optional features: {}",
        if r.features.is_empty() {
            "none (build with --features ndarray, wgpu or cuda for more backends)".to_string()
        } else {
            r.features.join(", ")
        }
    );
    for backend in &r.backends {
        match r.devices.get(backend) {
            Some(status) if status.available => out!(
                "  {backend}: available ({})",
                status.device.as_deref().unwrap_or("?")
            ),
            Some(status) => out!(
                "  {backend}: unavailable: {}",
                status.reason.as_deref().unwrap_or("?")
            ),
            None => {}
        }
    }
    match &r.selected_status.reason {
        None => out!(
            "selected device: {} (from --device, else ${DEVICE_ENV}, else cpu)",
            r.selected_device
        ),
        Some(reason) => out!(
            "selected device: {}, unavailable: {reason}",
            r.selected_device
        ),
    }
    out!(
        "memory limit: {} (from --memory-limit, else ${}, else 80% of physical memory)",
        MemoryBudget::new(r.memory_limit),
        MemoryBudget::ENV
    );
    out!(
        "threads: {} available, {} used for compute (RAYON_NUM_THREADS)",
        r.threads,
        r.compute_threads
    );
    Ok(())
}

fn run_tour(args: TourArgs, runtime: &Runtime) -> anyhow::Result<()> {
    let spec = &runtime.device;
    let device = spec.device()?;
    let config = TourConfig {
        epochs: args.epochs,
        train_size: args.train_size,
        test_size: args.test_size,
        seed: args.seed,
        out: args.out,
        progress: !args.quiet,
        width: args.width,
        lr: args.lr,
        kernel_size: args.kernel_size,
        pool_size: args.pool_size,
        noise: args.noise,
    };
    out!(
        "convkit tour: SmallCnn on synthetic shapes ({} train / {} test images, 28x28), device {spec}, seed {}",
        config.train_size,
        config.test_size,
        config.seed
    );
    let epochs = config.epochs;
    let report = tour::run(&config, &device, &runtime.memory, |e| {
        let _ = writeln!(std::io::stdout().lock(), "{}", epoch_line(e, epochs));
    })
    .context("tour failed")?;
    let acc = report.test.accuracy.unwrap_or(0.0);
    let reloaded = report.reloaded_test.accuracy.unwrap_or(0.0);
    out!("final test accuracy: {:.2}%", 100.0 * acc);
    out!("checkpoint saved to {}", report.checkpoint.display());
    out!(
        "reloaded checkpoint: test accuracy {:.2}% ({}), parameters and logits bit-exact: {}",
        100.0 * reloaded,
        if reloaded == acc {
            "identical"
        } else {
            "DIFFERENT"
        },
        report.bit_exact
    );
    Ok(report.verify()?)
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let runtime = Runtime::from_args(cli.device.as_deref(), cli.memory_limit.as_deref())?;
    match cli.command {
        Command::Train(args) => run_train(args, &runtime),
        Command::Eval {
            checkpoint,
            data,
            json,
        } => {
            let report = app::eval(&checkpoint, &data.parse()?, &runtime)?;
            if json {
                return print_json(&report);
            }
            print_eval(&report)
        }
        Command::Predict {
            checkpoint,
            inputs,
            top_k,
            json,
        } => {
            let report = app::predict(&checkpoint, &inputs, top_k, &runtime)?;
            for p in &report.predictions {
                if let Some(conversion) = &p.converted {
                    note!(
                        "note: {}: converted {conversion} (the model takes {}-channel images)",
                        p.input,
                        report.input_shape[0]
                    );
                }
            }
            if json {
                return print_json(&report);
            }
            print_predict(&report)
        }
        Command::Info { json } => {
            let report = app::info(&runtime);
            if json {
                return print_json(&report);
            }
            print_info(&report)
        }
        Command::Tour(args) => run_tour(args, &runtime),
    }
}

/// The error and its causes, each cause added only where the text so far does not already
/// say it (convkit's I/O errors print their source themselves).
fn error_chain(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&cause);
        }
    }
    text
}

/// One line for everything on stderr: no multi-line usage dumps, no panic backtraces.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn main() -> ExitCode {
    app::quiet_display_probe();
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        note!(
            "error: internal error, please report it: {}{at}",
            one_line(&message)
        );
    }));
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version.
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            // clap's message without its usage block, on one line.
            let rendered = e.render().to_string();
            let message: Vec<&str> = rendered
                .lines()
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .collect();
            let message = one_line(&message.join("\n"));
            let message = message.strip_prefix("error: ").unwrap_or(&message);
            note!("error: {message} (see convkit --help)");
            return ExitCode::from(2);
        }
    };
    match std::panic::catch_unwind(|| run(cli)) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            note!("error: {}", one_line(&error_chain(&e)));
            ExitCode::FAILURE
        }
        Err(_) => ExitCode::FAILURE,
    }
}
