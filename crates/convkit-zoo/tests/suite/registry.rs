//! Every registered classifier: a parity fixture and the test that reads it, and the generic
//! smoke test (build from its default config, forward at its minimum size, typed errors for
//! a wrong channel count and a too-small input, config through JSON). A model added to the
//! registry without its golden test fails here.

use std::path::Path;

use burn::tensor::{Device, Tensor};
use convkit_core::{Error, ImageClassifier, Tapped, random};
use convkit_zoo::{ClassifierConfig, ClassifierKind};

fn suite_file(kind: &str, name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(kind)
        .join(name)
}

#[test]
fn every_registered_model_has_a_parity_fixture_and_test() {
    for kind in ClassifierKind::all() {
        let parity = kind.parity();
        let fixture = suite_file("fixtures", parity.fixture);
        assert!(
            fixture.is_file(),
            "{kind}: no fixture {}",
            fixture.display()
        );
        let test = suite_file("suite", parity.test);
        let source = std::fs::read_to_string(&test)
            .unwrap_or_else(|e| panic!("{kind}: no parity test {}: {e}", test.display()));
        // The fixture is read by name, or by the `{name}.safetensors` pattern of a test that
        // covers several models.
        let stem = parity.fixture.trim_end_matches(".safetensors");
        let read = source.contains(parity.fixture)
            || (source.contains("{name}.safetensors") && source.contains(&format!("\"{stem}\"")));
        assert!(
            read,
            "{kind}: {} never reads {}",
            parity.test, parity.fixture
        );
    }
}

#[test]
fn every_registered_model_builds_runs_and_checks_its_input() {
    let device = Device::flex();
    for kind in ClassifierKind::all() {
        random::seed(0);
        let config = kind.config(2, 3);
        let model = config.try_init(&device).unwrap();
        assert_eq!(config.kind(), kind);
        assert_eq!(model.num_classes(), 3, "{kind}");
        assert_eq!(model.in_channels(), 2, "{kind}");
        let [h, w] = model.min_input_size();
        let logits = model
            .try_forward(Tensor::zeros([2, 2, h, w], &device))
            .unwrap();
        assert_eq!(logits.dims(), [2, 3], "{kind}");
        let err = model
            .try_forward(Tensor::zeros([1, 3, h, w], &device))
            .unwrap_err();
        assert!(matches!(err, Error::Shape { .. }), "{kind}: {err}");
        if h > 1 {
            let err = model.check_input(&[1, 2, h - 1, w]).unwrap_err();
            assert!(matches!(err, Error::Shape { .. }), "{kind}: {err}");
        }
        let json = serde_json::to_string(&config).unwrap();
        let back: ClassifierConfig = serde_json::from_str(&json).unwrap();
        assert_eq!(back.kind(), kind);
        assert!(
            kind.config(2, 0).try_init(&device).is_err(),
            "{kind}: 0 classes"
        );
    }
}
