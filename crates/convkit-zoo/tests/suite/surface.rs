//! The surface every zoo model shares (issue #20), checked by walking each registered
//! classifier and the U-Net:
//!
//! - every module that holds parameters has an `out` site at its parameter path, and every
//!   convolution and linear weight is a `SiteKind::Weight` site at its own parameter path;
//! - every site is `<module path>.<local name>`: the module that computes it, then `out`,
//!   `weight`, `mask`, `indices` or `gate` (through a non-module field such as `activation`
//!   where one computes it), or a model-level value at the root;
//! - every non-linearity is a decision site: replaying the recorded decisions reproduces the
//!   output (to float rounding), and with them frozen the model is affine in its input.

use std::collections::{BTreeMap, BTreeSet};

use burn::module::{Flag, Module, ModuleVisitor, Param};
use burn::tensor::{Device, Distribution, Tensor};
use convkit_core::tap::{Replayer, Site, TapTensor};
use convkit_core::{Tap, Tapped, Taps, random};
use convkit_zoo::{ClassifierKind, UNetConfig};

/// The module tree of a model: module paths (enum variants skipped, as in parameter paths)
/// and, per parameter, its path and the type of the module that owns it.
#[derive(Default)]
struct Tree {
    stack: Vec<(String, String)>,
    entered: BTreeSet<String>,
    params: BTreeMap<String, String>,
    flags: BTreeSet<String>,
    /// `Vec` fields: containers of modules, not modules.
    lists: BTreeSet<String>,
    /// Parameter slots of layers (an absent bias is entered but never visited).
    slots: BTreeSet<String>,
}

/// The layers: every field of theirs is a parameter (or a flag).
const LAYERS: [&str; 5] = [
    "Struct:Conv2d",
    "Struct:ConvTranspose2d",
    "Struct:Linear",
    "Struct:BatchNorm",
    "Struct:GroupNorm",
];

impl Tree {
    fn of<M: Module>(model: &M) -> Tree {
        let mut tree = Tree::default();
        model.visit(&mut tree);
        tree
    }

    fn path(&self) -> String {
        self.stack
            .iter()
            .filter(|(_, container)| !container.starts_with("Enum:"))
            .map(|(name, _)| name.as_str())
            .collect::<Vec<_>>()
            .join(".")
    }

    /// Paths of modules, parameterless ones included.
    fn modules(&self) -> BTreeSet<String> {
        self.entered
            .iter()
            .filter(|p| {
                !self.params.contains_key(*p)
                    && !self.flags.contains(*p)
                    && !self.lists.contains(*p)
                    && !self.slots.contains(*p)
            })
            .cloned()
            .collect()
    }
}

impl ModuleVisitor for Tree {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        if container_type == "Vec" {
            let list = self.path();
            self.lists.insert(list);
        }
        self.stack
            .push((name.to_string(), container_type.to_string()));
        let path = self.path();
        if LAYERS.contains(&container_type) {
            self.slots.insert(path.clone());
        }
        self.entered.insert(path);
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.stack.pop();
    }

    fn visit_float<const D: usize>(&mut self, _param: &Param<Tensor<D>>) {
        let owner = self
            .stack
            .last()
            .map(|(_, c)| c.clone())
            .unwrap_or_default();
        self.params.insert(self.path(), owner);
    }

    fn visit_flag(&mut self, _flag: &Param<Flag>) {
        self.flags.insert(self.path());
    }
}

/// Records every site with its kind.
#[derive(Default)]
struct Sites(BTreeMap<String, (convkit_core::SiteKind, TapTensor)>);

impl Tap for Sites {
    fn visit(&mut self, site: &Site<'_>, value: &TapTensor) -> Option<TapTensor> {
        self.0
            .insert(site.path.to_string(), (site.kind, value.clone()));
        None
    }
}

/// Site names a module computes for itself.
const LOCAL: [&str; 5] = ["out", "weight", "mask", "indices", "gate"];
/// Parts of a module that compute sites but are not modules themselves (fields of a
/// non-module type, skipped in parameter paths): a block's `activation`, scSE's
/// `aggregation`, an Inception-ResNet block's `residual.activation`, a pyramid pool's
/// `levels.{i}`.
const PARTS: [&str; 4] = [
    "activation",
    "aggregation",
    "residual.activation",
    "levels.",
];
/// Values a model computes at its root, outside any sub-module.
const ROOT: [&str; 3] = ["features", "pooled", "logits"];

/// A tapped forward pass, its output as a rank-4 tensor.
type Forward = Box<dyn Fn(Tensor<4>, &mut Taps<'_>) -> Tensor<4>>;

/// A model under test: its module tree and a forward pass on a 2-image batch.
struct Case {
    name: String,
    tree: Tree,
    forward: Forward,
    input: [usize; 4],
}

fn cases(device: &Device) -> Vec<Case> {
    let mut cases: Vec<Case> = ClassifierKind::all()
        .into_iter()
        .map(|kind| {
            random::seed(1);
            let model = kind.config(3, 4).try_init(device).unwrap();
            let [h, w] = convkit_core::ImageClassifier::min_input_size(&model);
            let tree = Tree::of(&model);
            Case {
                name: kind.name().to_string(),
                tree,
                forward: Box::new(move |x, taps| model.forward_tapped(x, taps).unsqueeze::<4>()),
                input: [2, 3, h.max(9), w.max(9)],
            }
        })
        .collect();
    for scse in [false, true] {
        random::seed(2);
        let unet = UNetConfig::new(3, 4)
            .with_depth(2)
            .with_width(4)
            .with_scse(scse)
            .with_scse_reduction(2)
            .init(device);
        cases.push(Case {
            name: format!("unet (scse {scse})"),
            tree: Tree::of(&unet),
            forward: Box::new(move |x, taps| unet.forward_tapped(x, taps)),
            input: [2, 3, 8, 12],
        });
    }
    cases
}

fn input(case: &Case, seed: u64, device: &Device) -> Tensor<4> {
    random::with_seed(seed, || {
        random::tensor(case.input, Distribution::Normal(0.0, 1.0), device)
    })
}

fn sites(case: &Case, x: Tensor<4>) -> BTreeMap<String, (convkit_core::SiteKind, TapTensor)> {
    let mut sites = Sites::default();
    let mut taps = Taps::new(&mut sites);
    (case.forward)(x, &mut taps);
    taps.finish().unwrap();
    sites.0
}

#[test]
fn sites_are_named_after_the_modules_that_compute_them() {
    let device = Device::flex();
    for case in cases(&device) {
        let sites = sites(&case, input(&case, 3, &device));
        let modules = case.tree.modules();
        // Every module with parameters reports its output; layers report their weights.
        for (param, owner) in &case.tree.params {
            let module = param.rsplit_once('.').map_or("", |(m, _)| m);
            let out = format!("{module}.out");
            assert!(sites.contains_key(&out), "{}: no site {out}", case.name);
            if param.ends_with(".weight") && LAYERS[..3].contains(&owner.as_str()) {
                let kind = sites.get(param).map(|(k, _)| *k);
                assert_eq!(
                    kind,
                    Some(convkit_core::SiteKind::Weight),
                    "{}: {param}",
                    case.name
                );
            }
        }
        // Every site is <module>.<local name>, through a non-module part where one computes
        // it.
        for path in sites.keys() {
            let segments: Vec<&str> = path.split('.').collect();
            let owner = (0..segments.len())
                .rev()
                .map(|n| segments[..n].join("."))
                .find(|prefix| prefix.is_empty() || modules.contains(prefix))
                .expect("the root always matches");
            let local = &path[if owner.is_empty() { 0 } else { owner.len() + 1 }..];
            let ok = match local.rsplit_once('.') {
                None if owner.is_empty() => ROOT.contains(&local) || LOCAL.contains(&local),
                None => LOCAL.contains(&local),
                Some((part, name)) => {
                    let known = PARTS.iter().any(|p| match p.strip_suffix('.') {
                        Some(list) => part
                            .strip_prefix(list)
                            .and_then(|i| i.strip_prefix('.'))
                            .is_some_and(|i| i.parse::<usize>().is_ok()),
                        None => part == *p,
                    });
                    known && LOCAL.contains(&name)
                }
            };
            assert!(
                ok,
                "{}: site {path} (module `{owner}`, local `{local}`)",
                case.name
            );
        }
    }
}

#[test]
fn frozen_decisions_replay_exactly_and_make_every_model_affine() {
    let device = Device::flex();
    for case in cases(&device) {
        let x = input(&case, 4, &device);
        let decisions: BTreeMap<String, TapTensor> = sites(&case, x.clone())
            .into_iter()
            .filter(|(_, (kind, _))| kind.is_decision())
            .map(|(path, (_, value))| (path, value))
            .collect();
        assert!(!decisions.is_empty(), "{}: no decision sites", case.name);
        let no_unfreezable = sites(&case, x.clone())
            .values()
            .all(|(kind, _)| !kind.is_unfreezable());
        assert!(
            no_unfreezable,
            "{}: an unfreezable non-linearity",
            case.name
        );
        let frozen = |input: Tensor<4>| {
            let mut replayer = Replayer::new(decisions.clone());
            let mut taps = Taps::new(&mut replayer);
            let out = (case.forward)(input, &mut taps);
            taps.finish().unwrap();
            out
        };
        // Equal up to rounding: untapped, Inception's branches pool after their 1×1
        // convolution instead of before (docs/ARCHITECTURE.md, invariants).
        let plain = (case.forward)(x.clone(), &mut Taps::none());
        let scale = plain.clone().abs().max().into_scalar::<f32>().max(1.0);
        let err = (frozen(x.clone()) - plain).abs().max().into_scalar::<f32>() / scale;
        assert!(
            err < 1e-6,
            "{}: replaying its own decisions ({err:e})",
            case.name
        );
        // g(u) + g(v) - g(0) = g(u + v) for an affine g.
        let u = input(&case, 5, &device);
        let v = input(&case, 6, &device);
        let zero = Tensor::zeros(case.input, &device);
        let lhs = frozen(u.clone()) + frozen(v.clone()) - frozen(zero);
        let rhs = frozen(u + v);
        let scale = rhs.clone().abs().max().into_scalar::<f32>().max(1.0);
        let err = (lhs - rhs).abs().max().into_scalar::<f32>() / scale;
        assert!(
            err < 1e-4,
            "{}: not affine with frozen decisions ({err:e})",
            case.name
        );
    }
}
