//! Inception-v4 and Inception-ResNet-v2 against timm, Inception-ResNet-v1 against
//! facenet-pytorch (`tools/refgen/inception.py`), on every compiled backend; plus parameter
//! counts, taps, input checks and weight-loading errors.
//!
//! The reference weights are too large to commit, so they are "hashed": every tensor of the
//! reference `state_dict` is a pure function of its index, shape and role, computed with
//! integer hashing and exact `f32` arithmetic identically here and in
//! `tools/refgen/_common.py` (`hashed_state_dict`). The fixtures hold only the `state_dict`
//! manifest (key, shape, dtype, in order) and the reference outputs; each test regenerates
//! the weights, writes them as a safetensors file and loads them through the model's public
//! timm / facenet loader, so the real PyTorch key names are exercised.

use std::path::{Path, PathBuf};

use burn::config::Config;
use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::{Device, Tensor, TensorData};
use convkit_core::tap::Recorder;
use convkit_core::testing::{Fixture, compare, test_devices};
use convkit_core::{
    Backend, DeviceSpec, Error, ImageClassifier, Result, Tapped, Taps, fixture_path,
};
use convkit_zoo::{
    InceptionResNet, InceptionResNetConfig, InceptionResNetVersion, InceptionV4, InceptionV4Config,
};
use serde::{Deserialize, Serialize};

/// SplitMix64 (Steele, Lea & Flood 2014), wrapping.
fn splitmix64(z: u64) -> u64 {
    let z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// `f32(splitmix64(salt · 2^32 + i) >> 40) / 2^24 · 2 - 1` for `i < n`: exact in `f32`, in
/// `[-1, 1)`, bit-identical to `_common.hashed_uniform`.
fn hashed_uniform(salt: u64, n: usize) -> impl Iterator<Item = f32> {
    (0..n as u64).map(move |i| {
        let top24 = (splitmix64((salt << 32).wrapping_add(i)) >> 40) as f32;
        top24 / 16_777_216.0 * 2.0 - 1.0
    })
}

/// `(a, b)` of a `state_dict` tensor (value `u · b + a`), as `_common.hashed_role`.
fn hashed_role(key: &str, shape: &[usize]) -> (f64, f64) {
    let name = key.rsplit('.').next().unwrap_or(key);
    let fan_in = || shape[1..].iter().product::<usize>() as f64;
    match (name, shape.len()) {
        ("running_mean" | "bias", _) => (0.0, 0.1),
        ("running_var", _) => (1.0, 0.25),
        ("weight", 1) => (1.0, 0.1),
        ("weight", 4) => (0.0, (6.0 / fan_in()).sqrt()),
        ("weight", 2) => (0.0, (3.0 / fan_in()).sqrt()),
        _ => panic!("no hashed-weight role for `{key}` of shape {shape:?}"),
    }
}

/// The `state_dict` manifest written by `tools/refgen/inception.py`.
#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    /// `sum(p.numel() for p in model.parameters())` of the reference.
    num_params: usize,
    tensors: Vec<ManifestTensor>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ManifestTensor {
    key: String,
    shape: Vec<usize>,
    /// `F32` or `I64` (`num_batches_tracked`).
    dtype: String,
}

// burn's `Config` is its JSON reader.
impl Config for Manifest {}

impl Manifest {
    fn load(name: &str) -> Self {
        let path = fixture_path!(format!("{name}_manifest.json"));
        <Self as Config>::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// The hashed `state_dict` as a safetensors file: `u64` little-endian header length,
    /// JSON header `{key: {dtype, shape, data_offsets}}`, then the little-endian data.
    fn write_state_dict(&self, path: &Path, skip: &[&str], extra: &[&str]) {
        let mut header = Vec::new();
        let mut data = Vec::new();
        let entries = self
            .tensors
            .iter()
            .enumerate()
            .filter(|(_, t)| !skip.contains(&t.key.as_str()))
            .map(|(salt, t)| (salt, t.key.as_str(), t.shape.clone(), t.dtype.as_str()))
            .chain(
                extra
                    .iter()
                    .enumerate()
                    .map(|(i, key)| (self.tensors.len() + i, *key, vec![4], "F32")),
            );
        for (salt, key, shape, dtype) in entries {
            assert!(!key.contains(['"', '\\']), "key needs JSON escaping: {key}");
            let start = data.len();
            let n = shape.iter().product();
            match dtype {
                "F32" => {
                    let (a, b) = hashed_role(key, &shape);
                    let (a, b) = (a as f32, b as f32);
                    for u in hashed_uniform(salt as u64, n) {
                        data.extend_from_slice(&(u * b + a).to_le_bytes());
                    }
                }
                "I64" => data.extend(std::iter::repeat_n(0u8, 8 * n)),
                other => panic!("unexpected dtype {other} of `{key}`"),
            }
            header.push(format!(
                r#""{key}":{{"dtype":"{dtype}","shape":{shape:?},"data_offsets":[{start},{}]}}"#,
                data.len()
            ));
        }
        let mut header = format!("{{{}}}", header.join(",")).into_bytes();
        // Pad the header with spaces so the data starts 8-byte aligned, as safetensors does.
        header.resize(header.len().next_multiple_of(8), b' ');
        let mut file = (header.len() as u64).to_le_bytes().to_vec();
        file.extend(header);
        file.extend(data);
        std::fs::write(path, file).unwrap();
    }
}

/// A hashed `state_dict` file in cargo's scratch directory for integration tests, deleted
/// when dropped.
struct WeightFile(PathBuf);

impl WeightFile {
    fn write(manifest: &Manifest, name: &str, skip: &[&str], extra: &[&str]) -> Self {
        let path =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}_hashed.safetensors"));
        manifest.write_state_dict(&path, skip, extra);
        WeightFile(path)
    }
}

impl Drop for WeightFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The reference input: `hashed_uniform(0xC0FFEE, 2·3·299·299)` as `[2, 3, 299, 299]`.
fn reference_input(batch: usize, device: &Device) -> Tensor<4> {
    let all: Vec<f32> = hashed_uniform(0xC0FFEE, 2 * 3 * 299 * 299).collect();
    let n = batch * 3 * 299 * 299;
    Tensor::from_data(
        TensorData::new(all[..n].to_vec(), [batch, 3, 299, 299]),
        device,
    )
}

/// The rows `..batch` of the fixture tensor `name`.
fn reference_rows(fixture: &Fixture, name: &str, batch: usize) -> TensorData {
    let device = DeviceSpec::Cpu.device().unwrap();
    let t = fixture.float::<2>(name, &device).unwrap();
    let cols = t.dims()[1];
    t.slice([0..batch, 0..cols]).into_data()
}

/// What PyTorch's `parameters()` counts: every float tensor of the module but batch norm's
/// running statistics (buffers in PyTorch, [`RunningState`](burn::module::RunningState)s
/// that burn's `num_params` includes).
fn pytorch_parameter_count<M: Module>(module: &M) -> usize {
    #[derive(Default)]
    struct Count {
        path: Vec<String>,
        total: usize,
    }
    impl ModuleVisitor for Count {
        fn enter_module(&mut self, name: &str, _container_type: &str) {
            self.path.push(name.to_string());
        }
        fn exit_module(&mut self, _name: &str, _container_type: &str) {
            self.path.pop();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if !self.path.last().is_some_and(|f| f.starts_with("running_")) {
                self.total += param.lazy_shape().num_elements();
            }
        }
    }
    let mut count = Count::default();
    module.visit(&mut count);
    count.total
}

/// A model under test: loading, features and head, as the parity test needs them.
trait Reference: ImageClassifier {
    fn features(&self, x: Tensor<4>) -> Tensor<4>;
    fn head(&self, features: Tensor<4>) -> Tensor<2>;
}

impl Reference for InceptionV4 {
    fn features(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_features(x)
    }
    fn head(&self, features: Tensor<4>) -> Tensor<2> {
        self.forward_head(features)
    }
}

impl Reference for InceptionResNet {
    fn features(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_features(x)
    }
    fn head(&self, features: Tensor<4>) -> Tensor<2> {
        self.forward_head(features)
    }
}

/// Loads the hashed reference weights into `init(device)` with `load` on every device and
/// compares the eval-mode logits and the spatial means of `forward_features` with the
/// reference's.
///
/// Tolerance: `1e-4 · max |reference|` absolute on every element (logits and feature means
/// are O(1)-O(10); the float32 accumulation order differs between PyTorch and burn, and 150+
/// layers of it add up to a few 1e-6 relative).
fn check_parity<M: Reference>(
    name: &str,
    features_shape: [usize; 4],
    init: impl Fn(&Device) -> M,
    load: impl Fn(M, &Path) -> Result<(M, convkit_core::WeightReport)>,
) {
    let manifest = Manifest::load(name);
    let fixture = Fixture::load(fixture_path!(format!("{name}.safetensors"))).unwrap();
    let weights = WeightFile::write(&manifest, name, &[], &[]);
    for (backend, device) in test_devices() {
        // burn's ndarray backend is ~7× slower on convolutions: one image is enough there.
        let batch = if backend == Backend::NdArray { 1 } else { 2 };
        let model = init(&device);
        assert_eq!(
            pytorch_parameter_count(&model),
            manifest.num_params,
            "{name} parameters"
        );
        let (model, report) = load(model, &weights.0).unwrap();
        assert!(report.is_complete(), "{report}");
        let features = model.features(reference_input(batch, &device));
        let mut shape = features_shape;
        shape[0] = batch;
        assert_eq!(features.dims(), shape, "{name} forward_features");
        let means = features.clone().mean_dim(3).mean_dim(2).flatten::<2>(1, 3);
        let logits = model.head(features);
        for (what, actual) in [("feature_means", means), ("logits", logits)] {
            let expected = reference_rows(&fixture, what, batch);
            let scale = expected.iter::<f32>().fold(0.0f32, |m, v| m.max(v.abs())) as f64;
            match compare(&actual.into_data(), &expected, 1e-4 * scale, 0.0) {
                Ok(c) => eprintln!(
                    "{name} {what} on {backend}: max abs error {:.2e} = {:.2e} of max |ref| {scale:.3}",
                    c.max_abs,
                    c.max_abs / scale
                ),
                Err(report) => panic!("{name} {what} on {backend}: {report}"),
            }
        }
    }
}

#[test]
fn inception_v4_matches_timm() {
    check_parity(
        "inception_v4",
        [2, 1536, 8, 8],
        |d| InceptionV4Config::new().init(d).valid(),
        |m, p| m.load_timm(p),
    );
}

#[test]
fn inception_resnet_v2_matches_timm() {
    check_parity(
        "inception_resnet_v2",
        [2, 1536, 8, 8],
        |d| {
            InceptionResNetConfig::new(InceptionResNetVersion::V2)
                .init(d)
                .valid()
        },
        |m, p| m.load_timm(p),
    );
}

#[test]
fn inception_resnet_v1_matches_facenet() {
    check_parity(
        "inception_resnet_v1",
        [2, 1792, 8, 8],
        |d| {
            InceptionResNetConfig::new(InceptionResNetVersion::V1)
                .with_num_classes(8631)
                .init(d)
                .valid()
        },
        |m, p| m.load_facenet(p),
    );
}

#[test]
fn parameter_counts_are_the_references() {
    // `sum(p.numel() for p in model.parameters())`: timm 1.0.31 at 1000 classes (42.68 M and
    // 55.84 M), facenet-pytorch 2.6.0 with its 8631-class VGGFace2 head.
    for (name, count) in [
        ("inception_v4", 42_679_816),
        ("inception_resnet_v2", 55_843_464),
        ("inception_resnet_v1", 27_910_327),
    ] {
        assert_eq!(Manifest::load(name).num_params, count, "{name}");
    }
}

/// Every block's `out` site and the head's sites, for inputs of the minimum size 75×75.
#[test]
fn every_block_is_tapped_and_75_pixels_suffice() {
    let device = DeviceSpec::Cpu.device().unwrap();
    let numbered = |name: &'static str, n: usize| (0..n).map(move |i| format!("{name}.{i}"));
    let v4_blocks: Vec<String> = ["stem", "mixed_3a", "mixed_4a", "mixed_5a"]
        .map(String::from)
        .into_iter()
        .chain(numbered("inception_a", 4))
        .chain(["reduction_a".into()])
        .chain(numbered("inception_b", 7))
        .chain(["reduction_b".into()])
        .chain(numbered("inception_c", 3))
        .collect();
    let resnet_blocks = |v2: bool, [a, b, c]: [usize; 3]| -> Vec<String> {
        ["stem".to_string()]
            .into_iter()
            .chain(v2.then(|| "mixed_5b".to_string()))
            .chain(numbered("repeat", a))
            .chain(["mixed_6a".into()])
            .chain(numbered("repeat_1", b))
            .chain(["mixed_7a".into()])
            .chain(numbered("repeat_2", c))
            .chain(["block8".into()])
            .chain(v2.then(|| "conv2d_7b".to_string()))
            .collect()
    };
    let v2 = InceptionResNetConfig::new(InceptionResNetVersion::V2);
    let v1 = InceptionResNetConfig::new(InceptionResNetVersion::V1);
    let models: [(Recorder, Vec<String>, &[&str]); 3] = [
        (
            taps_of(&InceptionV4Config::new().init(&device), &device),
            v4_blocks,
            &["pooled", "logits"],
        ),
        (
            taps_of(&v2.init(&device), &device),
            resnet_blocks(true, [10, 20, 9]),
            &["pooled", "logits"],
        ),
        (
            taps_of(&v1.init(&device), &device),
            resnet_blocks(false, [5, 10, 5]),
            &["pooled", "embedding.out", "logits"],
        ),
    ];
    for (recorder, blocks, head) in models {
        let outs = blocks.iter().map(|b| format!("{b}.out"));
        for site in outs.chain(head.iter().map(|s| s.to_string())) {
            assert!(recorder.get(&site).is_some(), "no tap site {site}");
        }
        let last = format!("{}.out", blocks.last().unwrap());
        assert_eq!(recorder.get(&last).unwrap().shape()[2..], [1, 1]);
    }
}

/// Records the block outputs and head sites of a forward pass on a `[1, 3, 75, 75]` input.
fn taps_of<M: ImageClassifier>(model: &M, device: &Device) -> Recorder {
    let mut recorder = Recorder::kinds(&[
        convkit_core::SiteKind::Activation,
        convkit_core::SiteKind::Logits,
    ]);
    let mut taps = Taps::new(&mut recorder);
    let logits = model.forward_tapped(Tensor::zeros([1, 3, 75, 75], device), &mut taps);
    assert_eq!(logits.dims(), [1, model.num_classes()]);
    taps.finish().unwrap();
    recorder
}

/// `[2, c, 75, 75]` passes `check`; a wrong channel count, 74 rows or columns, or a missing
/// batch dimension are shape errors naming the minimum.
fn assert_rejects_bad_shapes(check: impl Fn(&[usize]) -> Result<()>, c: usize) {
    assert!(check(&[2, c, 75, 75]).is_ok());
    for bad in [
        vec![2, c + 1, 299, 299],
        vec![2, c, 74, 299],
        vec![2, c, 299, 74],
        vec![c, 299, 299],
    ] {
        let err = check(&bad).unwrap_err();
        assert!(matches!(err, Error::Shape { .. }), "{bad:?}: {err}");
        assert!(err.to_string().contains(">=75"), "{err}");
    }
}

#[test]
fn wrong_inputs_are_shape_errors() {
    let device = DeviceSpec::Cpu.device().unwrap();
    let v4 = InceptionV4Config::new().init(&device);
    let v2 = InceptionResNetConfig::new(InceptionResNetVersion::V2).init(&device);
    let v1 = InceptionResNetConfig::new(InceptionResNetVersion::V1)
        .with_in_channels(1)
        .init(&device);
    assert_eq!(v4.min_input_size(), [75, 75]);
    assert_eq!(v2.min_input_size(), [75, 75]);
    assert_eq!(v1.min_input_size(), [75, 75]);
    assert_rejects_bad_shapes(|s| v4.check_input(s), 3);
    assert_rejects_bad_shapes(|s| v2.check_input(s), 3);
    assert_rejects_bad_shapes(|s| v1.check_input(s), 1);
    let err = v4
        .try_forward(Tensor::zeros([1, 3, 74, 80], &device))
        .unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    let err = v1
        .try_forward(Tensor::zeros([1, 3, 80, 80], &device))
        .unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
}

#[test]
fn missing_and_unexpected_keys_are_weight_errors() {
    let device = DeviceSpec::Cpu.device().unwrap();
    let manifest = Manifest::load("inception_resnet_v1");
    let file = WeightFile::write(
        &manifest,
        "inception_resnet_v1_broken",
        &["repeat_2.3.branch1.2.conv.weight"],
        &["repeat_3.0.extra.weight"],
    );
    let model = InceptionResNetConfig::new(InceptionResNetVersion::V1)
        .with_num_classes(8631)
        .init(&device);
    let Err(Error::Weights { report, .. }) = model.load_facenet(&file.0) else {
        panic!("a missing and an unexpected key must fail the load");
    };
    assert_eq!(
        report.missing,
        ["repeat_1.3.branches.1.layers.2.conv.weight"],
        "{report}"
    );
    assert_eq!(report.unexpected, ["repeat_2.0.extra.weight"], "{report}");
}
