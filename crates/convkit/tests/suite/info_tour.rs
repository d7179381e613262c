//! `convkit info`, device selection errors, and a short `tour`.

use crate::common::{convkit, text};

#[test]
fn info_lists_backends_and_the_selected_device() {
    let out = convkit(&["info"], &[("CONVKIT_DEVICE", "cpu")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("compiled backends: cpu"), "{stdout}");
    assert!(stdout.contains("cpu: available"), "{stdout}");
    assert!(stdout.contains("selected device: cpu"), "{stdout}");
}

/// In a `wgpu` build on a headless machine with Mesa's Vulkan driver (as CI containers are),
/// the GPU probe of `info` used to print libwayland's `error: XDG_RUNTIME_DIR is invalid…`;
/// a successful command's stderr holds nothing but convkit's own lines. (Without `wgpu`
/// nothing probes a display and this holds trivially.)
#[test]
fn a_headless_gpu_probe_prints_nothing_on_stderr() {
    for device in [
        "cpu",
        if cfg!(feature = "wgpu") {
            "wgpu"
        } else {
            "cpu"
        },
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_convkit"))
            .args(["--device", device, "info"])
            .env_remove("XDG_RUNTIME_DIR")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("WAYLAND_SOCKET")
            .output()
            .expect("convkit runs");
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(!stderr.contains("XDG_RUNTIME_DIR"), "{stderr}");
        assert!(text(&out.stdout).contains("selected device"));
    }
}

#[test]
fn bad_devices_are_one_line_errors() {
    let out = convkit(&["--device", "tpu", "info"], &[]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.trim(),
        "error: device `tpu`: unknown device; expected cpu, ndarray, wgpu[:N] or cuda[:N]"
    );

    let out = convkit(&["info"], &[("CONVKIT_DEVICE", "cuda:x")]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("(from CONVKIT_DEVICE)"), "{stderr}");

    // This test build has no cuda backend compiled in.
    let out = convkit(&["--device", "cuda", "tour", "--epochs", "1"], &[]);
    assert!(!out.status.success());
    let stderr = text(&out.stderr);
    assert!(stderr.contains("not compiled into this build"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn short_tour_saves_a_reloadable_checkpoint_and_holds_its_promise() {
    let dir = std::env::temp_dir().join(format!("convkit-tour-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out_dir = dir.to_str().unwrap();
    // Two epochs on 90 images cannot reach 95%: the checkpoint must still round-trip, and the
    // command must fail, saying why.
    let out = convkit(
        &[
            "tour",
            "--quiet",
            "--epochs",
            "2",
            "--train-size",
            "90",
            "--test-size",
            "30",
            "--out",
            out_dir,
        ],
        &[],
    );
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(stdout.contains("epoch   2/2"), "{stdout}");
    assert!(
        stdout.contains("(identical), parameters and logits bit-exact: true"),
        "{stdout}"
    );
    assert!(dir.join("model.safetensors").is_file());
    assert!(!out.status.success());
    assert!(
        stderr.contains("below the 95% the tour promises"),
        "{stderr}"
    );

    // A folder that is not a checkpoint is never overwritten.
    let user = dir.join("user-folder");
    std::fs::create_dir_all(&user).unwrap();
    std::fs::write(user.join("notes.txt"), "mine").unwrap();
    let out = convkit(
        &[
            "tour",
            "--quiet",
            "--epochs",
            "1",
            "--out",
            user.to_str().unwrap(),
        ],
        &[],
    );
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("is not a convkit checkpoint"));
    assert_eq!(
        std::fs::read_to_string(user.join("notes.txt")).unwrap(),
        "mine"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
