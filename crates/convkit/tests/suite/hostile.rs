//! Hostile inputs (issue #21): each ends in one `error:` line (or a quiet, conventional exit),
//! never a panic, an abort or a lost or deleted file; memory stays within the limit.

use std::fs;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};

use convkit::data::npy::{NpyArray, read_npy, write_npy};

use crate::common::{arg, convkit, copy_fixture, failure, json, text};

/// The npy fixture in `tmp` with `y_train.npy` replaced by `labels` and, without `named`, no
/// `classes.txt` (the class count then comes from the labels).
fn npy_with_train_labels(tmp: &Path, labels: Vec<i64>, named: bool) -> String {
    let dir = copy_fixture("npy", tmp);
    if !named {
        let _ = fs::remove_file(dir.join("classes.txt"));
    }
    let n = labels.len();
    write_npy(
        dir.join("y_train.npy"),
        &NpyArray::from_vec(vec![n], labels).unwrap(),
    )
    .unwrap();
    format!("npy:{}", arg(&dir))
}

fn fixture_train_labels() -> Vec<i64> {
    let y = read_npy(crate::common::fixture("npy").join("y_train.npy")).unwrap();
    y.as_slice::<i64>().unwrap().to_vec()
}

fn train(data: &str, extra: &[&str]) -> String {
    let mut args = vec![
        "train",
        "--data",
        data,
        "--model",
        "small-cnn",
        "--epochs",
        "1",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    failure(&args)
}

#[test]
fn absurd_labels_are_errors_not_allocations() {
    let tmp = tempfile::tempdir().unwrap();
    let mut labels = fixture_train_labels();
    labels[7] = 100_000;
    let e = train(
        &npy_with_train_labels(tmp.path(), labels.clone(), false),
        &[],
    );
    assert!(
        e.contains("y_train.npy: label 100000 makes 100001 classes, but only 11 label values"),
        "{e}"
    );
    // With class names, the names set the count.
    let tmp = tempfile::tempdir().unwrap();
    let e = train(
        &npy_with_train_labels(tmp.path(), labels.clone(), true),
        &[],
    );
    assert!(e.contains("label 100000 at index 7 is out of range"), "{e}");
    labels[7] = 1 << 62;
    let tmp = tempfile::tempdir().unwrap();
    let e = train(&npy_with_train_labels(tmp.path(), labels, false), &[]);
    assert!(e.contains(&format!("label {} makes", 1u64 << 62)), "{e}");

    // An IDX label 255 among digits would silently make a 256-class model.
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture("idx", tmp.path());
    let mut bytes = fs::read(dir.join("train-labels-idx1-ubyte")).unwrap();
    *bytes.last_mut().unwrap() = 255;
    fs::write(dir.join("train-labels-idx1-ubyte"), bytes).unwrap();
    let e = train(&format!("idx:{}", arg(&dir)), &[]);
    assert!(e.contains("label 255 makes 256 classes"), "{e}");
}

#[test]
fn sizes_beyond_the_memory_limit_are_refused_before_allocating() {
    let images = format!("images:{}", arg(&crate::common::fixture("images")));
    let e = train(&images, &["--resize", "99999x99999"]);
    assert!(
        e.contains("more than the memory limit") && e.contains("resized to 99999x99999"),
        "{e}"
    );
    let npy = format!("npy:{}", arg(&crate::common::fixture("npy")));
    let e = train(&npy, &["--resize", "99999x99999"]);
    assert!(e.contains("resizing 200 images to 99999x99999"), "{e}");
    let e = failure(&[
        "train",
        "--data",
        &npy,
        "--model",
        "small-cnn",
        "--epochs",
        "4294967296",
    ]);
    assert!(
        e.contains("--epochs: 4294967296 is more than 1000000"),
        "{e}"
    );
    let e = train(&npy, &["--memory-limit", "lots"]);
    assert!(e.contains("--memory-limit") && e.contains("`lots`"), "{e}");
}

/// 16 PNGs of 8000×8000 (under 1 MB each; 3 GB decoded): refused image by image once the
/// limit is reached, with the peak memory measured (`/usr/bin/time`) far below the decoded
/// total.
#[test]
fn many_large_images_stop_at_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let class = tmp.path().join("big").join("train").join("a");
    fs::create_dir_all(&class).unwrap();
    let test = tmp.path().join("big").join("test").join("a");
    fs::create_dir_all(&test).unwrap();
    let png = {
        let mut bytes = Vec::new();
        let image = image::RgbImage::new(8000, 8000);
        image
            .write_to(
                &mut std::io::Cursor::new(&mut bytes),
                image::ImageFormat::Png,
            )
            .unwrap();
        bytes
    };
    assert!(png.len() < 1_000_000, "{} bytes", png.len());
    for i in 0..16 {
        fs::write(class.join(format!("{i:02}.png")), &png).unwrap();
    }
    fs::write(test.join("00.png"), &png).unwrap();
    let data = format!("images:{}", arg(&tmp.path().join("big")));
    let args = [
        "train",
        "--data",
        &data,
        "--model",
        "small-cnn",
        "--quiet",
        "--memory-limit",
        "1G",
    ];
    let (stderr, peak_kb) = failure_with_peak(&args);
    assert!(
        stderr.contains("error: decoding") && stderr.contains("1.0 GiB"),
        "{stderr}"
    );
    if let Some(peak_kb) = peak_kb {
        // Under the 1 GiB limit plus one decoded image and the process itself; decoding all
        // 16 would take 3 GB.
        assert!(peak_kb < 1_600_000, "peak {peak_kb} KB");
        eprintln!("16 × 8000×8000 PNGs with --memory-limit 1G: peak {peak_kb} KB");
    }
}

/// Runs convkit expecting exit status 1; its stderr and, where `/usr/bin/time` exists, its
/// peak resident memory in KB.
fn failure_with_peak(args: &[&str]) -> (String, Option<u64>) {
    let timed = Path::new("/usr/bin/time").exists();
    let out = if timed {
        Command::new("/usr/bin/time")
            .args(["-f", "peak-kb %M"])
            .arg(env!("CARGO_BIN_EXE_convkit"))
            .args(args)
            .env_remove("CONVKIT_DEVICE")
            .env_remove("CONVKIT_MEMORY_LIMIT")
            .output()
            .unwrap()
    } else {
        convkit(args, &[])
    };
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let peak_kb = timed.then(|| {
        stderr
            .lines()
            .find_map(|l| l.strip_prefix("peak-kb "))
            .and_then(|v| v.trim().parse().ok())
            .expect("peak memory line")
    });
    (stderr, peak_kb)
}

/// A model too wide for memory (`tour --width`, a tampered checkpoint's width) is refused
/// while it is planned, before a parameter is allocated.
#[test]
fn models_too_large_for_memory_are_refused_before_allocating() {
    for width in ["4294967296", "100000"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("tour");
        let (stderr, peak_kb) = failure_with_peak(&[
            "tour",
            "--width",
            width,
            "--epochs",
            "1",
            "--quiet",
            "--out",
            arg(&out),
        ]);
        assert!(
            stderr.contains("the tour's SmallCnn") && stderr.contains("more than the memory limit"),
            "{stderr}"
        );
        assert!(!out.exists());
        if let Some(peak_kb) = peak_kb {
            assert!(peak_kb < 400_000, "width {width}: peak {peak_kb} KB");
        }
    }
}

/// A short run leaves a checkpoint to tamper with.
fn checkpoint(tmp: &Path) -> String {
    let out = tmp.join("ckpt");
    let data = format!("npy:{}", arg(&crate::common::fixture("npy")));
    let run = convkit(
        &[
            "train",
            "--data",
            &data,
            "--model",
            "small-cnn",
            "--epochs",
            "1",
            "--quiet",
            "--out",
            arg(&out),
        ],
        &[],
    );
    assert!(run.status.success(), "{}", text(&run.stderr));
    arg(&out).to_string()
}

/// A change to a checkpoint's `config.json`.
type Edit = fn(&mut serde_json::Value);

fn edit_config(dir: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = Path::new(dir).join("config.json");
    let mut config: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut config);
    fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
}

#[test]
fn tampered_checkpoints_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let ckpt = checkpoint(tmp.path());
    let image = arg(&crate::common::fixture("predict").join("two.npy")).to_string();
    let predict = |dir: &str| failure(&["predict", "--checkpoint", dir, &image]);
    let cases: [(&str, Edit, &str); 6] = [
        (
            "kernel 0",
            |c| c["model"]["SmallCnn"]["kernel_size"] = 0.into(),
            "kernel size and pool size must be positive",
        ),
        (
            "pool 0",
            |c| c["model"]["SmallCnn"]["pool_size"] = 0.into(),
            "kernel size and pool size must be positive",
        ),
        (
            "std 0",
            |c| c["std"] = serde_json::json!([0.0, 1.0, 1.0]),
            "standard deviation 0",
        ),
        (
            "huge resize",
            |c| {
                c["preprocess"]["resize"] = serde_json::json!([99999, 99999]);
                c["input_shape"] = serde_json::json!([3, 99999, 99999]);
            },
            "more than the memory limit",
        ),
        (
            "huge width",
            |c| c["model"]["SmallCnn"]["width"] = 4_294_967_296u64.into(),
            "more than the memory limit",
        ),
        (
            "resize against the input shape",
            |c| c["preprocess"]["resize"] = serde_json::json!([4, 4]),
            "resize 4x4 disagrees with the input shape 8x8",
        ),
    ];
    for (name, edit, expected) in cases {
        let copy = tmp.path().join(name.replace(' ', "-"));
        fs::create_dir_all(&copy).unwrap();
        for file in fs::read_dir(&ckpt).unwrap() {
            let file = file.unwrap();
            fs::copy(file.path(), copy.join(file.file_name())).unwrap();
        }
        edit_config(arg(&copy), edit);
        let e = predict(arg(&copy));
        assert!(e.contains(expected), "{name}: {e}");
    }
}

#[test]
fn force_never_deletes_what_convkit_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    let ckpt = checkpoint(tmp.path());
    let notes = Path::new(&ckpt).join("notes.txt");
    fs::write(&notes, "mine").unwrap();
    let data = format!("npy:{}", arg(&crate::common::fixture("npy")));
    let e = train(&data, &["--out", &ckpt, "--force"]);
    assert!(e.contains("notes.txt, which convkit did not write"), "{e}");
    assert_eq!(fs::read_to_string(&notes).unwrap(), "mine");
    // Without the stranger, --force replaces the checkpoint.
    fs::remove_file(&notes).unwrap();
    let out = convkit(
        &[
            "train",
            "--data",
            &data,
            "--model",
            "small-cnn",
            "--epochs",
            "1",
            "--quiet",
            "--out",
            &ckpt,
            "--force",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn bad_output_folders_are_refused_before_training() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("a-file");
    fs::write(&file, "x").unwrap();
    let data = format!("npy:{}", arg(&crate::common::fixture("npy")));
    let under_file = file.join("ckpt");
    let out = convkit(
        &[
            "train",
            "--data",
            &data,
            "--model",
            "small-cnn",
            "--epochs",
            "3",
            "--out",
            arg(&under_file),
        ],
        &[],
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains("a-file is not a folder"), "{stderr}");
    assert!(
        !stderr.contains("epoch"),
        "trained before failing: {stderr}"
    );
    // A symbolic link is refused and nothing is left beside it.
    let target = tmp.path().join("elsewhere");
    fs::create_dir(&target).unwrap();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let e = train(&data, &["--out", arg(&link)]);
    assert!(e.contains("is a symbolic link"), "{e}");
    let left: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn out_may_name_the_working_folder() {
    use std::os::unix::fs::MetadataExt;
    // `--out .` in an empty folder fills that folder; it is not replaced (a shell inside it
    // keeps a valid working folder).
    let tmp = tempfile::tempdir().unwrap();
    let inode = fs::metadata(tmp.path()).unwrap().ino();
    let data = format!("npy:{}", arg(&crate::common::fixture("npy")));
    let run = Command::new(env!("CARGO_BIN_EXE_convkit"))
        .args(["train", "--data", &data, "--model", "small-cnn"])
        .args(["--epochs", "1", "--quiet", "--out", "."])
        .current_dir(tmp.path())
        .env_remove("CONVKIT_DEVICE")
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", text(&run.stderr));
    assert_eq!(fs::metadata(tmp.path()).unwrap().ino(), inode);
    let mut names: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "checkpoint.json",
            "config.json",
            "model.safetensors",
            "summary.json"
        ]
    );
    // `dir/.` and `dir/sub/..` name `dir`: it now holds a checkpoint, so without --force
    // both are refused.
    let dir = tmp.path().display();
    for out in [format!("{dir}/."), format!("{dir}/sub/..")] {
        let e = train(&data, &["--out", &out]);
        assert!(e.contains("already holds a checkpoint"), "{e}");
    }
}

/// An output stream whose reader has already gone.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    Stdio::from(writer)
}

/// A full disk: every write to `/dev/full` fails with "No space left on device".
fn full_disk() -> Stdio {
    Stdio::from(
        fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap(),
    )
}

#[test]
fn closed_or_full_output_streams_neither_panic_nor_lose_the_checkpoint() {
    let tmp = tempfile::tempdir().unwrap();
    let data = format!("npy:{}", arg(&crate::common::fixture("npy")));
    // stderr closed, or on a full disk: every per-epoch line fails to write, training goes
    // on and the checkpoint is written.
    for (name, stderr) in [("closed", closed_pipe()), ("full", full_disk())] {
        let out_dir = tmp.path().join(name);
        let status = Command::new(env!("CARGO_BIN_EXE_convkit"))
            .args(["train", "--data", &data, "--model", "small-cnn"])
            .args(["--epochs", "2", "--out", arg(&out_dir)])
            .env_remove("CONVKIT_DEVICE")
            .stdout(Stdio::null())
            .stderr(stderr)
            .status()
            .unwrap();
        assert!(status.success(), "stderr {name}: {status}");
        assert!(out_dir.join("model.safetensors").is_file(), "stderr {name}");
    }

    let out_dir = tmp.path().join("closed");
    let image = crate::common::fixture("predict").join("two.npy");
    let predict = |stdout: Stdio| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_convkit"))
            .args(["predict", "--checkpoint", arg(&out_dir)])
            .args([arg(&image), arg(&image), arg(&image)])
            .env_remove("CONVKIT_DEVICE")
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        (child.wait().unwrap().code(), stderr)
    };
    // A reader that goes away (`| head -1`): a quiet exit 141.
    let (code, stderr) = predict(closed_pipe());
    assert_eq!(code, Some(141), "{stderr}");
    assert_eq!(stderr, "");
    // stdout on a full disk: a failure, said on stderr.
    let (code, stderr) = predict(full_disk());
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(
        stderr.trim(),
        "error: writing to stdout: No space left on device (os error 28)"
    );
}

#[test]
fn tour_options_are_validated() {
    for (args, expected) in [
        (
            vec!["--pool-size", "99"],
            "expected shape [_, 1, >=99, >=99]",
        ),
        (
            vec!["--kernel-size", "0"],
            "kernel size and pool size must be positive",
        ),
        (
            vec!["--width", "0"],
            "width, kernel size and pool size must be positive",
        ),
        (
            vec!["--lr", "nan"],
            "invalid --lr: NaN is not a positive number",
        ),
        (
            vec!["--epochs", "0"],
            "--epochs, --train-size and --test-size must be positive",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("tour");
        let mut full = vec!["tour", "--quiet", "--out", arg(&out)];
        full.extend(args.iter().copied());
        let run = convkit(&full, &[]);
        let stderr = text(&run.stderr);
        assert_eq!(run.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!out.exists(), "{args:?} wrote a checkpoint");
    }
}

#[test]
fn misleading_data_is_named() {
    // Only test/: no longer a one-class model called "test".
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture("images", tmp.path());
    fs::remove_dir_all(dir.join("train")).unwrap();
    let e = train(&format!("images:{}", arg(&dir)), &[]);
    assert!(e.contains("a folder with test/ also needs train/"), "{e}");
    // Gray and RGB files side by side: the fix is --channels, not --resize.
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture("images_noval", tmp.path());
    let colour = image::RgbImage::from_pixel(12, 12, image::Rgb([200, 10, 10]));
    colour
        .save(dir.join("circle").join("zz-colour.png"))
        .unwrap();
    let e = train(&format!("images:{}", arg(&dir)), &[]);
    assert!(e.contains("pass --channels gray or --channels rgb"), "{e}");
    // A selected backend that is not compiled in is reported as unavailable.
    let out = convkit(&["--device", "cuda", "info"], &[]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("selected device: cuda, unavailable"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn conversions_and_immature_statistics_are_said() {
    let tmp = tempfile::tempdir().unwrap();
    let ckpt = tmp.path().join("gray");
    let data = format!("images:{}", arg(&crate::common::fixture("images")));
    let report = json(&[
        "train",
        "--data",
        &data,
        "--model",
        "small-cnn",
        "--epochs",
        "1",
        "--channels",
        "gray",
        "--quiet",
        "--json",
        "--out",
        arg(&ckpt),
    ]);
    let warnings = report["warnings"].as_array().expect("a warnings array");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("batch norm's running statistics"),
        "{report}"
    );
    let colour = crate::common::fixture("predict").join("a.png");
    let out = convkit(
        &[
            "predict",
            "--checkpoint",
            arg(&ckpt),
            arg(&colour),
            "--json",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("converted RGB to gray"),
        "{}",
        text(&out.stderr)
    );
    let predictions: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(predictions["predictions"][0]["converted"], "RGB to gray");
}
