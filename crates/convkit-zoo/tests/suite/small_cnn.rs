//! SmallCnn against the PyTorch reference (`tools/refgen/small_cnn.py`), plus taps and input
//! checks, on every compiled backend.

use burn::module::Module;
use burn::tensor::{Int, Tensor};
use convkit_core::tap::{Recorder, Replayer, TapFn};
use convkit_core::testing::{Fixture, assert_close, compare, test_devices};
use convkit_core::{Error, SiteKind, Tapped, Taps, fixture_path};
use convkit_zoo::{SmallCnn, SmallCnnConfig};

fn reference_model(device: &burn::tensor::Device) -> SmallCnn {
    let model = SmallCnnConfig::new(3)
        .with_in_channels(3)
        .with_width(8)
        .init(device);
    let (model, report) = model
        .load_pytorch(fixture_path!("small_cnn_weights.safetensors"))
        .unwrap();
    assert!(report.is_complete(), "{report}");
    model
}

fn io() -> Fixture {
    Fixture::load(fixture_path!("small_cnn_io.safetensors")).unwrap()
}

#[test]
fn eval_logits_match_pytorch() {
    let io = io();
    for (backend, device) in test_devices() {
        let model = reference_model(&device);
        let logits = model.forward(io.float::<4>("input", &device).unwrap());
        assert_close(
            &format!("eval logits on {backend}"),
            &logits.into_data(),
            io.get("logits_eval").unwrap(),
            1e-5,
            1e-5,
        );
    }
}

#[test]
fn input_gradient_matches_pytorch() {
    let io = io();
    for (backend, device) in test_devices() {
        // Eval-mode batch norm on an autodiff device: the module is in inference state.
        let ad = device.clone().autodiff();
        let model = reference_model(&ad).valid().fork(&ad);
        let x = io.float::<4>("input", &ad).unwrap().require_grad();
        let target: Tensor<1, Int> = Tensor::from_data(io.get("target").unwrap().clone(), &ad);
        let logits = model.forward(x.clone());
        let loss = burn::nn::loss::CrossEntropyLossConfig::new()
            .init(&ad)
            .forward(logits, target);
        assert_close(
            &format!("loss on {backend}"),
            &loss.clone().into_data(),
            io.get("loss_eval").unwrap(),
            1e-5,
            1e-5,
        );
        let grads = loss.backward();
        let grad = x.grad(&grads).expect("input gradient");
        // Gradients are ~1e-4 in magnitude: compare relative to the largest one.
        assert_close(
            &format!("input gradient on {backend}"),
            &grad.into_data(),
            io.get("input_grad_eval").unwrap(),
            1e-4 * 5e-4,
            1e-4,
        );
    }
}

#[test]
fn train_mode_uses_batch_statistics_like_pytorch() {
    let io = io();
    for (backend, device) in test_devices() {
        let ad = device.clone().autodiff();
        let model = reference_model(&ad);
        let logits = model.forward(io.float::<4>("input", &ad).unwrap());
        assert_close(
            &format!("train logits on {backend}"),
            &logits.into_data(),
            io.get("logits_train").unwrap(),
            1e-5,
            1e-4,
        );
        let Some(convkit_conv::NormLayer::Batch(norm)) = model.stem.norm.as_ref() else {
            panic!("SmallCnn's stem has a batch norm");
        };
        assert_close(
            &format!("bn1 running mean on {backend}"),
            &norm.running_mean.value_sync().into_data(),
            io.get("running_mean_bn1_after_train").unwrap(),
            1e-6,
            1e-5,
        );
        assert_close(
            &format!("bn1 running var on {backend}"),
            &norm.running_var.value_sync().into_data(),
            io.get("running_var_bn1_after_train").unwrap(),
            1e-6,
            1e-5,
        );
    }
}

#[test]
fn missing_and_misshaped_keys_are_named() {
    let device = burn::tensor::Device::flex();
    // Width 16 instead of the file's 8: every conv and norm tensor is mis-shaped.
    let wide = SmallCnnConfig::new(3)
        .with_in_channels(3)
        .with_width(16)
        .init(&device);
    let err = wide
        .load_pytorch(fixture_path!("small_cnn_weights.safetensors"))
        .unwrap_err();
    let Error::Weights { report, .. } = &err else {
        panic!("unexpected error {err}")
    };
    assert!(
        report
            .mismatched
            .iter()
            .any(|(k, m, f)| k == "stem.conv.weight"
                && m == &vec![16, 3, 3, 3]
                && f == &vec![8, 3, 3, 3]),
        "{err}"
    );
    // A key map that forgets the head leaves head.* missing and fc.* unexpected.
    let model = SmallCnnConfig::new(3)
        .with_in_channels(3)
        .with_width(8)
        .init(&device);
    let keys = convkit_core::KeyMap::new()
        .rename(r"^conv1\.", "stem.conv.")
        .rename(r"^bn1\.", "stem.norm.")
        .rename(r"^conv2\.", "stage2.conv.")
        .rename(r"^bn2\.", "stage2.norm.")
        .ignore("num_batches_tracked$");
    let err = convkit_core::weights::load_pytorch_safetensors(
        model,
        fixture_path!("small_cnn_weights.safetensors"),
        &keys,
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("missing keys: head.weight, head.bias")
            || msg.contains("missing keys: head.bias, head.weight"),
        "{msg}"
    );
    assert!(
        msg.contains("unexpected keys: fc.bias, fc.weight")
            || msg.contains("unexpected keys: fc.weight, fc.bias"),
        "{msg}"
    );
    let model = SmallCnnConfig::new(3).init(&device);
    let err = model
        .load_pytorch("/nonexistent/weights.safetensors")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "/nonexistent/weights.safetensors: no such weight file"
    );
}

#[test]
fn wrong_inputs_are_typed_errors() {
    let device = burn::tensor::Device::flex();
    let model = SmallCnnConfig::new(3).with_in_channels(3).init(&device);
    let err = model
        .try_forward(Tensor::zeros([2, 1, 16, 16], &device))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "SmallCnn input: expected shape [_, 3, >=2, >=2], got [2, 1, 16, 16]"
    );
    let err = model.check_input(&[3, 16, 16]).unwrap_err();
    assert!(matches!(err, Error::Shape { .. }), "{err}");
    assert!(
        model
            .try_forward(Tensor::zeros([2, 3, 1, 16], &device))
            .is_err()
    );
    assert_eq!(
        model
            .try_forward(Tensor::zeros([2, 3, 2, 2], &device))
            .unwrap()
            .dims(),
        [2, 3]
    );
}

#[test]
fn taps_observe_every_site() {
    let device = burn::tensor::Device::flex();
    let model = reference_model(&device);
    let x = io().float::<4>("input", &device).unwrap();
    let mut rec = Recorder::all();
    let mut taps = Taps::new(&mut rec);
    let logits = model.forward_tapped(x.clone(), &mut taps);
    taps.finish().unwrap();
    let shapes: Vec<(String, Vec<usize>)> = rec
        .values()
        .iter()
        .map(|(k, v)| (k.clone(), v.shape()))
        .collect();
    let expect = |p: &str| {
        shapes
            .iter()
            .find(|(k, _)| k == p)
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| panic!("no site {p} in {shapes:?}"))
    };
    assert_eq!(expect("stem.conv.out"), vec![4, 8, 16, 16]);
    assert_eq!(expect("stem.activation.mask"), vec![4, 8, 16, 16]);
    assert_eq!(expect("pool.indices"), vec![4, 8, 8, 8]);
    assert_eq!(expect("stage2.out"), vec![4, 16, 8, 8]);
    assert_eq!(expect("features"), vec![4, 16]);
    assert_eq!(expect("logits"), vec![4, 3]);
    assert!(rec.get("pool.indices").unwrap().is_int());
    // Observing changes nothing but rounding: watching `conv` sites runs convolution and
    // batch norm in two steps instead of one folded convolution.
    assert_close(
        "tapped logits",
        &logits.into_data(),
        &model.forward(x).into_data(),
        1e-6,
        1e-6,
    );
}

#[test]
fn taps_replace_for_gradcam() {
    // Grad-CAM's ingredient: the gradient of a class logit w.r.t. a feature map, obtained by
    // replacing the map with a fresh leaf.
    let device = burn::tensor::Device::flex().autodiff();
    let model = reference_model(&device).valid().fork(&device);
    let x = io().float::<4>("input", &device).unwrap();
    let mut leaf: Option<Tensor<4>> = None;
    let mut grab = TapFn(
        |site: &convkit_core::Site<'_>, v: &convkit_core::TapTensor| {
            (site.path == "stage2.out").then(|| {
                let l = v.get::<Tensor<4>>().unwrap().detach().require_grad();
                leaf = Some(l.clone());
                l.into()
            })
        },
    );
    let mut taps = Taps::new(&mut grab);
    let logits = model.forward_tapped(x, &mut taps);
    taps.finish().unwrap();
    let score = logits.narrow(1, 0, 1).sum();
    let grads = score.backward();
    let leaf = leaf.expect("stage2.out was tapped");
    let g = leaf.grad(&grads).expect("leaf gradient survives backward");
    assert_eq!(g.dims(), [4, 16, 8, 8]);
    // d(mean-pooled features · w)/d(map) is w[c] / (8·8) wherever the map feeds the pool.
    let w = model
        .head
        .weight
        .val()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let g = g.into_data().try_to_vec::<f32>().unwrap();
    for c in 0..16 {
        let expected = w[c * 3] / 64.0;
        assert!(
            (g[c * 64] - expected).abs() < 1e-6,
            "channel {c}: {} vs {expected}",
            g[c * 64]
        );
    }
}

#[test]
fn linearscope_replay_is_exact_and_affine() {
    for (backend, device) in test_devices() {
        let model = reference_model(&device);
        let x = io().float::<4>("input", &device).unwrap();
        let gates = [SiteKind::ReluMask, SiteKind::PoolIndices];
        let mut rec = Recorder::kinds(&gates);
        model.forward_tapped(x.clone(), &mut Taps::new(&mut rec));
        let recorded = rec.into_values();
        assert_eq!(recorded.len(), 3, "two ReLU masks and one pool");
        let replay = |input: Tensor<4>| {
            let mut r = Replayer::new(recorded.clone());
            let mut taps = Taps::new(&mut r);
            let y = model.forward_tapped(input, &mut taps);
            taps.finish().unwrap();
            y.into_data()
        };
        // Replaying x's own decisions on x gives the network's output.
        assert_close(
            &format!("self replay on {backend}"),
            &replay(x.clone()),
            &model.forward(x.clone()).into_data(),
            1e-6,
            1e-6,
        );
        // With frozen decisions the network is affine: f(a) + f(b) - f(0) = f(a + b).
        let dist = burn::tensor::Distribution::Normal(0.0, 1.0);
        let a = convkit_core::random::tensor(x.dims(), dist, &device);
        let b = convkit_core::random::tensor(x.dims(), dist, &device);
        let fa = Tensor::<2>::from_data(replay(a.clone()), &device);
        let fb = Tensor::<2>::from_data(replay(b.clone()), &device);
        let f0 = Tensor::<2>::from_data(replay(a.zeros_like()), &device);
        let lhs = fa + fb - f0;
        compare(&lhs.into_data(), &replay(a + b), 1e-4, 1e-4)
            .unwrap_or_else(|e| panic!("{backend}: {e}"));
    }
}
