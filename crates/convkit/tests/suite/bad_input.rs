//! Every failure is one actionable `error:` line naming what was wrong, with a non-zero exit
//! and no panic.

use std::fs;
use std::path::Path;

use convkit::data::npy::{NpyArray, write_npy};

use crate::common::{arg, convkit, copy_fixture, failure, fixture, text, train_one_epoch};

fn train_on(data: &str, model: &str) -> String {
    failure(&[
        "train", "--data", data, "--model", model, "--epochs", "1", "--quiet",
    ])
}

/// An IDX header: u8 type, the given dimensions.
fn idx_header(dims: &[u32]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        bytes.extend(d.to_be_bytes());
    }
    bytes
}

/// A copy of the idx fixture whose training images are `bytes` (uncompressed).
fn idx_with_train_images(tmp: &Path, bytes: &[u8]) -> String {
    let dir = copy_fixture("idx", tmp);
    fs::remove_file(dir.join("train-images-idx3-ubyte.gz")).unwrap();
    fs::write(dir.join("train-images-idx3-ubyte"), bytes).unwrap();
    format!("idx:{}", arg(&dir))
}

#[test]
fn command_line_mistakes() {
    let idx = format!("idx:{}", arg(&fixture("idx")));
    let e = train_on("idx:/no/such/folder", "small-cnn");
    assert_eq!(e, "error: /no/such/folder: no such folder");
    let e = train_on("tfrecord:x", "small-cnn");
    assert!(
        e.contains("unknown data format `tfrecord`; expected one of idx"),
        "{e}"
    );
    let e = train_on(&idx, "resnet-50");
    assert!(
        e.contains("unknown model `resnet-50`") && e.contains("--list-models"),
        "{e}"
    );
    let e = failure(&[
        "train",
        "--data",
        &idx,
        "--model",
        "small-cnn",
        "--resize",
        "3xabc",
    ]);
    assert!(e.contains("expected HEIGHTxWIDTH"), "{e}");
    let e = failure(&[
        "train",
        "--data",
        &idx,
        "--model",
        "small-cnn",
        "--val-fraction",
        "0.1",
    ]);
    assert!(
        e.contains("--val-fraction applies to the images format only"),
        "{e}"
    );
    let e = failure(&["train", "--model", "small-cnn"]);
    assert!(e.contains("--data"), "{e}");
    let e = failure(&[
        "train",
        "--data",
        &idx,
        "--model",
        "small-cnn",
        "--epochs",
        "x",
    ]);
    assert!(e.contains("--epochs"), "{e}");
    // A device whose backend is not compiled into this build.
    let e = failure(&[
        "--device",
        "cuda",
        "train",
        "--data",
        &idx,
        "--model",
        "small-cnn",
    ]);
    assert!(e.contains("not compiled into this build"), "{e}");
    // Inception needs 75x75: the error says how to get there.
    let e = train_on(&idx, "inception-v4");
    assert!(
        e.contains("at least 75x75, these are 8x8: pass --resize 75x75"),
        "{e}"
    );
    let out = convkit(&["predict", "--checkpoint", "nowhere", "x.png"], &[]);
    assert!(text(&out.stderr).contains("nowhere: no such checkpoint folder"));
}

#[test]
fn broken_idx_files_name_the_file_and_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    // Truncated: the header promises 150 images of 8x8, the file holds 100 bytes of them.
    let mut truncated = idx_header(&[150, 8, 8]);
    truncated.extend(vec![7u8; 100]);
    let e = train_on(
        &idx_with_train_images(&tmp.path().join("t"), &truncated),
        "small-cnn",
    );
    assert!(
        e.contains("train-images-idx3-ubyte: byte 16") && e.contains("truncated"),
        "{e}"
    );
    // Wrong magic number.
    let mut bad_magic = truncated.clone();
    bad_magic[0] = 0x42;
    let e = train_on(
        &idx_with_train_images(&tmp.path().join("m"), &bad_magic),
        "small-cnn",
    );
    assert!(
        e.contains("train-images-idx3-ubyte: byte 0: bad magic number"),
        "{e}"
    );
    // A header claiming 60000 28x28 images in a 1 KB file is refused before allocating.
    let mut absurd = idx_header(&[60000, 28, 28]);
    absurd.extend(vec![0u8; 1000]);
    let e = train_on(
        &idx_with_train_images(&tmp.path().join("h"), &absurd),
        "small-cnn",
    );
    assert!(e.contains("47040000 data bytes, the file has 1000"), "{e}");
    // More images than labels.
    let mut extra = idx_header(&[151, 8, 8]);
    extra.extend(vec![0u8; 151 * 64]);
    let e = train_on(
        &idx_with_train_images(&tmp.path().join("c"), &extra),
        "small-cnn",
    );
    assert!(
        e.contains("train-labels-idx1-ubyte: 150 labels for 151 images"),
        "{e}"
    );
    // A test label the training labels do not have.
    let dir = copy_fixture("idx", &tmp.path().join("l"));
    fs::remove_file(dir.join("t10k-labels-idx1-ubyte.gz")).unwrap();
    let mut labels = vec![0, 0, 0x08, 1];
    labels.extend(50u32.to_be_bytes());
    labels.extend((0..50).map(|i| if i == 7 { 12 } else { (i % 10) as u8 }));
    fs::write(dir.join("t10k-labels-idx1-ubyte"), labels).unwrap();
    let e = train_on(&format!("idx:{}", arg(&dir)), "small-cnn");
    assert!(
        e.contains("t10k-labels-idx1-ubyte: label 12 at index 7 is out of range"),
        "{e}"
    );
    // A missing file.
    let dir = copy_fixture("idx", &tmp.path().join("f"));
    fs::remove_file(dir.join("t10k-images-idx3-ubyte.gz")).unwrap();
    let e = train_on(&format!("idx:{}", arg(&dir)), "small-cnn");
    assert!(
        e.contains("t10k-images-idx3-ubyte: missing (also without .gz)"),
        "{e}"
    );
}

#[test]
fn broken_npy_files_name_the_file_and_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let with = |name: &str, file: &str, array: NpyArray| {
        let dir = copy_fixture("npy", &tmp.path().join(name));
        write_npy(dir.join(file), &array).unwrap();
        train_on(&format!("npy:{}", arg(&dir)), "small-cnn")
    };
    let e = with(
        "dtype",
        "x_train.npy",
        NpyArray::from_vec(vec![2, 8, 8], vec![0i64; 128]).unwrap(),
    );
    assert!(
        e.contains("x_train.npy: expected images of dtype uint8, float32 or float64, found int64"),
        "{e}"
    );
    let e = with(
        "rank",
        "x_train.npy",
        NpyArray::from_vec(vec![150, 64], vec![0u8; 9600]).unwrap(),
    );
    assert!(e.contains("x_train.npy: expected images of rank 3"), "{e}");
    let e = with(
        "count",
        "y_train.npy",
        NpyArray::from_vec(vec![149], vec![0i64; 149]).unwrap(),
    );
    assert!(e.contains("y_train.npy: 149 labels for 150 images"), "{e}");
    let e = with(
        "float",
        "y_test.npy",
        NpyArray::from_vec(vec![50], vec![0f32; 50]).unwrap(),
    );
    assert!(
        e.contains("y_test.npy: expected integer class labels"),
        "{e}"
    );
    let mut labels = vec![0i64; 50];
    labels[3] = 10;
    let e = with(
        "range",
        "y_test.npy",
        NpyArray::from_vec(vec![50], labels).unwrap(),
    );
    assert!(
        e.contains("y_test.npy: label 10 at index 3 is out of range"),
        "{e}"
    );
    let mut pixels = vec![0.5f32; 150 * 64];
    pixels[64 * 4 + 9] = f32::NAN;
    let e = with(
        "nan",
        "x_train.npy",
        NpyArray::from_vec(vec![150, 8, 8], pixels).unwrap(),
    );
    assert!(
        e.contains("x_train.npy: image 4 holds a non-finite value"),
        "{e}"
    );
    // Truncated file.
    let dir = copy_fixture("npy", &tmp.path().join("cut"));
    let bytes = fs::read(dir.join("x_test.npy")).unwrap();
    fs::write(dir.join("x_test.npy"), &bytes[..bytes.len() - 10]).unwrap();
    let e = train_on(&format!("npy:{}", arg(&dir)), "small-cnn");
    assert!(e.contains("x_test.npy"), "{e}");
}

#[test]
fn mixed_image_sizes_are_refused_unless_resized() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = copy_fixture("images", tmp.path());
    let odd = fixture("predict/big.png");
    fs::copy(&odd, dir.join("train/circle/zz-big.png")).unwrap();
    let data = format!("images:{}", arg(&dir));
    let e = train_on(&data, "small-cnn");
    assert!(
        e.contains("zz-big.png") && e.contains("pass --resize HxW"),
        "{e}"
    );
    train_one_epoch(&data, "small-cnn", &["--resize", "12x12"]);
}

#[test]
fn foreign_and_corrupted_checkpoints_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = format!("npy:{}", arg(&fixture("npy")));
    let make = |name: &str, model: &str| {
        let dir = tmp.path().join(name);
        train_one_epoch(&data, model, &["--out", arg(&dir)]);
        dir
    };
    let small = make("small", "small-cnn");
    let se = make("se", "se-cnn");
    let eval = |dir: &Path| failure(&["eval", "--checkpoint", arg(dir), "--data", &data]);

    // Weights of another model under a small-cnn card.
    let mixed = copy_fixture("npy", tmp.path())
        .parent()
        .unwrap()
        .join("mixed");
    fs::create_dir(&mixed).unwrap();
    for f in ["checkpoint.json", "config.json", "summary.json"] {
        fs::copy(small.join(f), mixed.join(f)).unwrap();
    }
    fs::copy(
        se.join("model.safetensors"),
        mixed.join("model.safetensors"),
    )
    .unwrap();
    let e = eval(&mixed);
    assert!(
        e.contains("loading weights from") && e.contains("model.safetensors"),
        "{e}"
    );

    // A card that names another model than the marker.
    fs::copy(se.join("config.json"), mixed.join("config.json")).unwrap();
    let e = eval(&mixed);
    assert!(
        e.contains("configures a se-cnn but checkpoint.json says small-cnn"),
        "{e}"
    );

    // Truncated weights.
    let bytes = fs::read(small.join("model.safetensors")).unwrap();
    fs::write(small.join("model.safetensors"), &bytes[..bytes.len() / 2]).unwrap();
    let e = eval(&small);
    assert!(e.contains("model.safetensors"), "{e}");

    // Invalid JSON, and a folder that is no checkpoint.
    fs::write(se.join("config.json"), "{\"model\": ").unwrap();
    let e = eval(&se);
    assert!(e.contains("config.json: invalid JSON at line 1"), "{e}");
    let e = eval(&fixture("npy"));
    assert!(e.contains("not a convkit checkpoint folder"), "{e}");
}

#[test]
fn predict_refuses_inputs_the_model_cannot_take() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("gray");
    let data = format!("idx:{}", arg(&fixture("idx")));
    train_one_epoch(&data, "small-cnn", &["--out", arg(&dir)]);
    // A 3-channel array for a 1-channel model.
    let e = failure(&[
        "predict",
        "--checkpoint",
        arg(&dir),
        arg(&fixture("predict/two.npy")),
    ]);
    assert!(
        e.contains("two.npy[0] has 3 channel(s) but the model was trained on 1"),
        "{e}"
    );
    // A colour PNG is converted to gray, as the model needs, and resized.
    let out = convkit(
        &[
            "predict",
            "--checkpoint",
            arg(&dir),
            arg(&fixture("predict/a.png")),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("(resized from 16x16 to 8x8)"));
    // Not an image at all.
    let junk = tmp.path().join("junk.png");
    fs::write(&junk, b"not a png").unwrap();
    let e = failure(&["predict", "--checkpoint", arg(&dir), arg(&junk)]);
    assert!(e.contains("junk.png"), "{e}");
}
