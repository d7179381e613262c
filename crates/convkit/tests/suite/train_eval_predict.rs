//! Every command's happy path, the JSON schema, reproducibility and checkpoint safety.

use serde_json::Value;

use crate::common::{arg, convkit, failure, fixture, json, text, train_one_epoch};

/// The stable keys of `train --json` and `eval --json`, with their JSON types.
const STABLE_KEYS: [(&str, &str); 8] = [
    ("test_accuracy", "number"),
    ("train_loss", "number"),
    ("epochs", "integer"),
    ("samples_per_second", "number"),
    ("model", "string"),
    ("params", "integer"),
    ("seconds", "number"),
    ("checkpoint", "string or null"),
];

fn assert_schema(report: &Value) {
    for (key, kind) in STABLE_KEYS {
        let value = &report[key];
        let ok = match kind {
            "number" => value.is_number(),
            "integer" => value.is_u64(),
            "string" => value.is_string(),
            _ => value.is_string() || value.is_null(),
        };
        assert!(ok, "`{key}` should be a {kind}: {report}");
    }
    let accuracy = report["test_accuracy"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&accuracy), "{report}");
}

#[test]
fn train_eval_and_predict_agree_and_keep_their_schema() {
    let tmp = tempfile::tempdir().unwrap();
    let ckpt = tmp.path().join("digits");
    let data = format!("idx:{}", arg(&fixture("idx")));
    let train = json(&[
        "train",
        "--data",
        &data,
        "--model",
        "small-cnn",
        "--epochs",
        "8",
        "--lr",
        "1e-2",
        "--quiet",
        "--json",
        "--out",
        arg(&ckpt),
    ]);
    assert_schema(&train);
    assert_eq!(train["epochs"], 8);
    assert_eq!(train["model"], "small-cnn");
    assert_eq!(train["checkpoint"], arg(&ckpt));
    assert_eq!(train["data"]["train_samples"], 150);
    assert_eq!(train["data"]["test_samples"], 50);
    assert_eq!(train["history"].as_array().unwrap().len(), 8);
    for file in [
        "checkpoint.json",
        "config.json",
        "model.safetensors",
        "summary.json",
    ] {
        assert!(ckpt.join(file).is_file(), "{file} missing");
    }
    // Eight epochs on 150 digits beat chance (10%) by far: 0.84 at seed 0, 0.76-0.90 over
    // seeds 0-9.
    assert!(train["test_accuracy"].as_f64().unwrap() > 0.5, "{train}");

    let eval = json(&[
        "eval",
        "--checkpoint",
        arg(&ckpt),
        "--data",
        &data,
        "--json",
    ]);
    assert_schema(&eval);
    // Exactly the accuracy training reported, from the reloaded checkpoint.
    assert_eq!(eval["test_accuracy"], train["test_accuracy"]);
    assert_eq!(eval["train_loss"], train["train_loss"]);
    assert_eq!(eval["params"], train["params"]);
    let confusion = eval["confusion"].as_array().unwrap();
    assert_eq!(confusion.len(), 10);
    let total: u64 = confusion
        .iter()
        .flat_map(|row| row.as_array().unwrap())
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(total, 50);
    let per_class = eval["per_class"].as_array().unwrap();
    assert_eq!(per_class.len(), 10);
    for class in per_class {
        for key in ["precision", "recall"] {
            let v = class[key].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{class}");
        }
        assert_eq!(class["support"], 5);
    }

    // The text form has the table and the matrix.
    let out = convkit(&["eval", "--checkpoint", arg(&ckpt), "--data", &data], &[]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("precision  recall  support"), "{stdout}");
    assert!(stdout.contains("confusion matrix"), "{stdout}");
}

#[test]
fn image_folders_train_and_predict_resizes_other_sizes() {
    let tmp = tempfile::tempdir().unwrap();
    let ckpt = tmp.path().join("shapes");
    let data = format!("images:{}", arg(&fixture("images")));
    let train = json(&[
        "train",
        "--data",
        &data,
        "--model",
        "se-cnn",
        "--epochs",
        "2",
        "--quiet",
        "--json",
        "--out",
        arg(&ckpt),
    ]);
    assert_eq!(train["data"]["image_shape"], serde_json::json!([3, 16, 16]));
    assert_eq!(
        train["data"]["classes"],
        serde_json::json!(["circle", "square", "triangle"])
    );

    let predict = fixture("predict");
    let report = json(&[
        "predict",
        "--checkpoint",
        arg(&ckpt),
        arg(&predict.join("a.png")),
        arg(&predict.join("big.png")),
        arg(&predict.join("two.npy")),
        "--top-k",
        "2",
        "--json",
    ]);
    let predictions = report["predictions"].as_array().unwrap();
    assert_eq!(predictions.len(), 4, "{report}");
    assert!(predictions[0]["resized_from"].is_null());
    assert_eq!(predictions[1]["resized_from"], serde_json::json!([24, 20]));
    assert!(
        predictions[3]["input"]
            .as_str()
            .unwrap()
            .ends_with("two.npy[1]")
    );
    for p in predictions {
        let top = p["top"].as_array().unwrap();
        assert_eq!(top.len(), 2);
        let (a, b) = (
            top[0]["probability"].as_f64().unwrap(),
            top[1]["probability"].as_f64().unwrap(),
        );
        assert!(a >= b && a + b <= 1.0 + 1e-6, "{p}");
    }
    let out = convkit(
        &[
            "predict",
            "--checkpoint",
            arg(&ckpt),
            arg(&predict.join("big.png")),
        ],
        &[],
    );
    assert!(text(&out.stdout).contains("(resized from 24x20 to 16x16)"));
}

#[test]
fn every_format_loads_and_says_what_it_detected() {
    let cases = [
        ("npy", "se-cnn", vec![], "read as NHWC"),
        ("cifar10", "small-cnn", vec![], ""),
        (
            "images_noval",
            "small-cnn",
            vec!["--val-fraction", "0.3"],
            "held out 9 of 30",
        ),
    ];
    for (folder, model, extra, note) in cases {
        let format = if folder == "images_noval" {
            "images"
        } else {
            folder
        };
        let data = format!("{format}:{}", arg(&fixture(folder)));
        let mut args = vec!["train", "--data", &data, "--model", model, "--epochs", "1"];
        args.extend(extra);
        let out = convkit(&args, &[]);
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{folder}: {stderr}");
        assert!(stderr.contains(note), "{folder}: {stderr}");
        assert!(stderr.contains("epoch   1/1"), "{folder}: {stderr}");
        assert!(text(&out.stdout).contains("test accuracy"), "{folder}");
    }
}

#[test]
fn equal_seeds_give_identical_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let data = format!("npy:{}", arg(&fixture("npy")));
    let run = |name: &str, seed: &str| {
        let dir = tmp.path().join(name);
        let report = json(&[
            "train",
            "--data",
            &data,
            "--model",
            "small-cnn",
            "--epochs",
            "2",
            "--seed",
            seed,
            "--quiet",
            "--json",
            "--out",
            arg(&dir),
        ]);
        (
            report,
            std::fs::read(dir.join("model.safetensors")).unwrap(),
        )
    };
    let (a, weights_a) = run("a", "7");
    let (b, weights_b) = run("b", "7");
    let (c, weights_c) = run("c", "8");
    assert_eq!(a["history"][1]["train_loss"], b["history"][1]["train_loss"]);
    assert_eq!(a["test_accuracy"], b["test_accuracy"]);
    assert!(weights_a == weights_b, "same seed, different weights");
    assert_ne!(a["history"][1]["train_loss"], c["history"][1]["train_loss"]);
    assert!(weights_a != weights_c);
}

#[test]
fn checkpoints_are_replaced_only_with_force_and_user_folders_never() {
    let tmp = tempfile::tempdir().unwrap();
    let data = format!("npy:{}", arg(&fixture("npy")));
    let out = tmp.path().join("ckpt");
    let train = |extra: &[&str]| {
        let mut args = vec![
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
        ];
        args.extend_from_slice(extra);
        convkit(&args, &[])
    };
    assert!(train(&[]).status.success());
    let again = failure(&[
        "train",
        "--data",
        &data,
        "--model",
        "small-cnn",
        "--out",
        arg(&out),
    ]);
    assert!(again.contains("already holds a checkpoint") && again.contains("--force"));
    let forced = train(&["--force", "--seed", "3"]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    // No staging or old folders are left next to it.
    let names: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, ["ckpt"]);

    let user = tmp.path().join("mine");
    std::fs::create_dir(&user).unwrap();
    std::fs::write(user.join("thesis.tex"), "precious").unwrap();
    let refused = failure(&[
        "train",
        "--data",
        &data,
        "--model",
        "small-cnn",
        "--out",
        arg(&user),
        "--force",
    ]);
    assert!(refused.contains("is not a convkit checkpoint"), "{refused}");
    assert_eq!(
        std::fs::read_to_string(user.join("thesis.tex")).unwrap(),
        "precious"
    );

    // An empty folder is fine.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    train_one_epoch(&data, "small-cnn", &["--out", arg(&empty)]);
    assert!(empty.join("model.safetensors").is_file());
}

#[test]
fn the_model_list_names_every_classifier_with_sizes() {
    let list = json(&["train", "--list-models", "--json"]);
    let models = list["models"].as_array().unwrap();
    let names: Vec<_> = models.iter().map(|m| m["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "small-cnn",
            "se-cnn",
            "inception-v4",
            "inception-resnet-v1",
            "inception-resnet-v2"
        ]
    );
    for m in models {
        assert!(m["params"].as_u64().unwrap() > 1000, "{m}");
    }
    assert_eq!(models[2]["min_input"], serde_json::json!([75, 75]));
}

#[test]
fn every_compiled_cpu_backend_trains_and_evaluates() {
    let info = json(&["info", "--json"]);
    let backends: Vec<&str> = info["backends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let data = format!("idx:{}", arg(&fixture("idx")));
    for device in ["cpu", "ndarray"] {
        if !backends.contains(&device) {
            eprintln!("skipping {device}: not compiled into this build");
            continue;
        }
        let dir = tmp.path().join(device);
        let train = json(&[
            "--device",
            device,
            "train",
            "--data",
            &data,
            "--model",
            "se-cnn",
            "--epochs",
            "2",
            "--quiet",
            "--json",
            "--out",
            arg(&dir),
        ]);
        assert_eq!(train["device"], device);
        let eval = json(&[
            "--device",
            device,
            "eval",
            "--checkpoint",
            arg(&dir),
            "--data",
            &data,
            "--json",
        ]);
        assert_eq!(eval["test_accuracy"], train["test_accuracy"], "{device}");
    }
}
