//! The `convkit` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use convkit::core::DeviceSpec;
use convkit::core::device::{Backend, DEVICE_ENV};
use convkit::tour::{self, TourConfig};

#[derive(Parser)]
#[command(
    name = "convkit",
    version,
    about = "Building blocks of modern convolutional networks on burn"
)]
struct Cli {
    /// Compute device: cpu, ndarray, wgpu[:N] or cuda[:N]. Defaults to $CONVKIT_DEVICE, then cpu.
    #[arg(long, global = true)]
    device: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a small CNN on synthetic shapes, checkpoint it, reload it and check it is identical.
    Tour {
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
    },
    /// Version, compiled backends, available devices and threads.
    Info,
}

fn device_spec(flag: Option<&str>) -> anyhow::Result<DeviceSpec> {
    Ok(match flag {
        Some(s) => s.parse()?,
        None => DeviceSpec::from_env()?,
    })
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let spec = device_spec(cli.device.as_deref())?;
    match cli.command {
        Command::Info => {
            println!("convkit {}", env!("CARGO_PKG_VERSION"));
            let compiled: Vec<_> = Backend::compiled().iter().map(|b| b.name()).collect();
            println!("compiled backends: {}", compiled.join(", "));
            for backend in Backend::compiled() {
                let spec: DeviceSpec = backend.name().parse()?;
                match spec.device() {
                    Ok(d) => println!("  {backend}: available ({d:?})"),
                    Err(e) => println!("  {backend}: unavailable: {e}"),
                }
            }
            println!("selected device: {spec} (from --device, else ${DEVICE_ENV}, else cpu)");
            println!(
                "threads: {}",
                std::thread::available_parallelism()
                    .map(|n| n.get())
                    .unwrap_or(1)
            );
            Ok(())
        }
        Command::Tour {
            epochs,
            train_size,
            test_size,
            seed,
            out,
            quiet,
            width,
            lr,
            kernel_size,
            pool_size,
            noise,
        } => {
            let device = spec.device()?;
            convkit::train::checkpoint::check_target(&out, true)?;
            let config = TourConfig {
                epochs,
                train_size,
                test_size,
                seed,
                out,
                progress: !quiet,
                width,
                lr,
                kernel_size,
                pool_size,
                noise,
            };
            println!(
                "convkit tour: SmallCnn on synthetic shapes ({train_size} train / {test_size} test images, 28x28), device {spec}, seed {seed}"
            );
            let report = tour::run(&config, &device, |e| {
                let valid = e.valid.as_ref();
                println!(
                    "epoch {:>2}/{epochs}  train loss {:.4}  train acc {:.2}%  test loss {:.4}  test acc {:.2}%  {:.0} samples/s",
                    e.epoch,
                    e.train_loss,
                    100.0 * e.train_accuracy.unwrap_or(0.0),
                    valid.map_or(f64::NAN, |v| v.loss),
                    100.0 * valid.and_then(|v| v.accuracy).unwrap_or(0.0),
                    e.samples_per_second,
                );
            })
            .context("tour failed")?;
            let acc = report.test.accuracy.unwrap_or(0.0);
            let reloaded = report.reloaded_test.accuracy.unwrap_or(0.0);
            println!("final test accuracy: {:.2}%", 100.0 * acc);
            println!("checkpoint saved to {}", report.checkpoint.display());
            println!(
                "reloaded checkpoint: test accuracy {:.2}% ({}), parameters and logits bit-exact: {}",
                100.0 * reloaded,
                if reloaded == acc {
                    "identical"
                } else {
                    "DIFFERENT"
                },
                report.bit_exact
            );
            if reloaded != acc || !report.bit_exact {
                bail!("the reloaded checkpoint does not reproduce the trained model");
            }
            if acc < 0.95 {
                bail!(
                    "test accuracy {:.2}% is below the 95% the tour promises",
                    100.0 * acc
                );
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
