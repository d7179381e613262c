//! Taps: named points inside a block or model where a caller can observe or replace the value
//! flowing through `forward`.
//!
//! burn 0.22 has no forward hooks, and gradients of intermediate tensors are dropped during the
//! backward pass. convkit designs observation into its blocks instead: every block has a
//! `forward_tapped(input, &mut Taps)` next to `forward`, and calls [`Taps::tap`] at each named
//! [`Site`]. A [`Tap`] visitor sees every site's path (e.g. `stage2.act`), its [`SiteKind`]
//! and value, and may return a replacement. One mechanism serves:
//!
//! - feature extraction and quantization observers ([`Recorder`]): observe only;
//! - fake-quant insertion: replace an activation by its quantized version;
//! - Grad-CAM and input/feature gradients: replace `a` by `a.detach().require_grad()` and keep
//!   the new leaf, whose `grad` survives the backward pass;
//! - LinearScope: record the [`SiteKind::ReluMask`] and [`SiteKind::PoolIndices`] sites on one
//!   input and replay them (replace) on another, turning the network into the linear system
//!   it is for the first input.
//!
//! With [`Taps::none`], `forward_tapped` does exactly what `forward` does and costs nothing
//! extra; blocks only compute mask or index sites when the visitor [`Tap::wants`] them.
//!
//! A replacement must keep the original's kind (float or int), rank and shape; otherwise the
//! original value is kept and the first such mistake is returned by [`Taps::finish`].

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use burn::tensor::{Int, Tensor};

use crate::{Error, Result};

/// What a tap site carries.
///
/// New kinds may be added as blocks arrive (the enum is `#[non_exhaustive]`): match with a
/// wildcard arm, and ask [`SiteKind::is_decision`] / [`SiteKind::is_unfreezable`] rather than
/// listing kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SiteKind {
    /// A feature map or other activation (a block's or a layer's output).
    Activation,
    /// A model's final output before any softmax.
    Logits,
    /// A layer's weight as the layer is about to use it (path `<layer>.weight`, the
    /// parameter's own path); replacing it (fake quantization) changes this pass only.
    Weight,
    /// The 0/1 float mask of a ReLU, `x > 0`; the ReLU's output is `x * mask`.
    /// Replacing it replays another input's gating (LinearScope).
    ReluMask,
    /// The flat per-channel argmax indices (int) of a max pool, as returned by burn's
    /// `max_pool2d_with_indices`; the pool's output gathers the input at these indices.
    PoolIndices,
    /// A multiplicative gate computed from the input (a squeeze-excitation sigmoid): the
    /// block's output is its input times the gate, so a replayed gate is a fixed scale.
    Gate,
    /// The output of a non-linearity that has no decision to freeze (GELU, SiLU, softmax):
    /// a model with such a site is not piecewise linear.
    Nonlinear,
}

impl SiteKind {
    /// Whether the site is a decision of a non-linear unit that, replayed from another input,
    /// makes the unit linear: a ReLU mask, a max-pool argmax, a gate.
    pub fn is_decision(self) -> bool {
        matches!(
            self,
            SiteKind::ReluMask | SiteKind::PoolIndices | SiteKind::Gate
        )
    }

    /// Whether the site is a non-linearity that no recorded decision can freeze.
    pub fn is_unfreezable(self) -> bool {
        self == SiteKind::Nonlinear
    }
}

/// A tap site: where in the model, and what kind of value.
#[derive(Debug, Clone, Copy)]
pub struct Site<'a> {
    /// Dotted path from the model root, e.g. `stage2.act`.
    pub path: &'a str,
    /// What the value is.
    pub kind: SiteKind,
}

/// A visitor called at every tap site of a `forward_tapped` pass.
pub trait Tap {
    /// Whether the visitor looks at this site at all. Blocks skip computing mask and index
    /// sites nobody wants, so returning `false` keeps the fast path. Defaults to `true`.
    fn wants(&self, site: &Site<'_>) -> bool {
        let _ = site;
        true
    }

    /// Observes the value at `site`; returns `Some(replacement)` to replace it.
    fn visit(&mut self, site: &Site<'_>, value: &TapTensor) -> Option<TapTensor>;
}

/// A tensor of any rank 1 to 5, float or int, as seen by a [`Tap`].
///
/// Convert with [`TapTensor::from`] and read back with [`TapTensor::get`], e.g.
/// `value.get::<Tensor<4>>()`.
#[derive(Debug, Clone)]
pub struct TapTensor(Repr);

#[derive(Debug, Clone)]
enum Repr {
    F1(Tensor<1>),
    F2(Tensor<2>),
    F3(Tensor<3>),
    F4(Tensor<4>),
    F5(Tensor<5>),
    I1(Tensor<1, Int>),
    I2(Tensor<2, Int>),
    I3(Tensor<3, Int>),
    I4(Tensor<4, Int>),
    I5(Tensor<5, Int>),
}

/// Tensor types a tap site can carry: `Tensor<D>` and `Tensor<D, Int>` for `D` in 1..=5.
pub trait Tappable: Sized {
    /// Wraps the tensor.
    fn into_tap(self) -> TapTensor;
    /// Unwraps a tensor of this exact kind and rank.
    fn from_tap(value: TapTensor) -> Option<Self>;
}

macro_rules! tappable {
    ($($variant:ident => $ty:ty),* $(,)?) => {$(
        impl Tappable for $ty {
            fn into_tap(self) -> TapTensor {
                TapTensor(Repr::$variant(self))
            }
            fn from_tap(value: TapTensor) -> Option<Self> {
                match value.0 {
                    Repr::$variant(t) => Some(t),
                    _ => None,
                }
            }
        }
    )*};
}

tappable!(
    F1 => Tensor<1>, F2 => Tensor<2>, F3 => Tensor<3>, F4 => Tensor<4>, F5 => Tensor<5>,
    I1 => Tensor<1, Int>, I2 => Tensor<2, Int>, I3 => Tensor<3, Int>, I4 => Tensor<4, Int>,
    I5 => Tensor<5, Int>,
);

impl<T: Tappable> From<T> for TapTensor {
    fn from(t: T) -> Self {
        t.into_tap()
    }
}

impl TapTensor {
    /// The tensor, if it has this type (kind and rank). Cheap: burn tensors share storage.
    pub fn get<T: Tappable>(&self) -> Option<T> {
        T::from_tap(self.clone())
    }

    /// Consumes the value, returning the tensor if it has this type.
    pub fn into_tensor<T: Tappable>(self) -> Option<T> {
        T::from_tap(self)
    }

    /// Whether the value is an int tensor.
    pub fn is_int(&self) -> bool {
        matches!(
            self.0,
            Repr::I1(_) | Repr::I2(_) | Repr::I3(_) | Repr::I4(_) | Repr::I5(_)
        )
    }

    /// The shape.
    pub fn shape(&self) -> Vec<usize> {
        match &self.0 {
            Repr::F1(t) => t.dims().to_vec(),
            Repr::F2(t) => t.dims().to_vec(),
            Repr::F3(t) => t.dims().to_vec(),
            Repr::F4(t) => t.dims().to_vec(),
            Repr::F5(t) => t.dims().to_vec(),
            Repr::I1(t) => t.dims().to_vec(),
            Repr::I2(t) => t.dims().to_vec(),
            Repr::I3(t) => t.dims().to_vec(),
            Repr::I4(t) => t.dims().to_vec(),
            Repr::I5(t) => t.dims().to_vec(),
        }
    }

    fn describe(&self) -> String {
        let kind = if self.is_int() { "int" } else { "float" };
        format!("{kind} tensor of shape {:?}", self.shape())
    }
}

/// The handle blocks receive in `forward_tapped`: a visitor (or none) and the current path.
pub struct Taps<'a> {
    visitor: Option<&'a mut dyn Tap>,
    prefix: String,
    error: Rc<RefCell<Option<Error>>>,
}

impl Taps<'static> {
    /// No visitor: every site passes its value through untouched.
    pub fn none() -> Self {
        Taps {
            visitor: None,
            prefix: String::new(),
            error: Rc::default(),
        }
    }
}

impl<'a> Taps<'a> {
    /// Taps calling `visitor` at every site.
    pub fn new(visitor: &'a mut dyn Tap) -> Self {
        Taps {
            visitor: Some(visitor),
            prefix: String::new(),
            error: Rc::default(),
        }
    }

    /// Taps for a sub-block named `name`: its sites get the path `<prefix>.<name>.<site>`.
    pub fn child(&mut self, name: &str) -> Taps<'_> {
        let prefix = self.path(name);
        Taps {
            visitor: self.visitor.as_deref_mut().map(|v| v as &mut dyn Tap),
            prefix,
            error: Rc::clone(&self.error),
        }
    }

    /// Whether any visitor is attached.
    pub fn is_active(&self) -> bool {
        self.visitor.is_some()
    }

    /// Whether the visitor wants the site `name` of this kind (false without a visitor).
    pub fn wants(&self, name: &str, kind: SiteKind) -> bool {
        match &self.visitor {
            Some(v) => v.wants(&Site {
                path: &self.path(name),
                kind,
            }),
            None => false,
        }
    }

    /// Passes `value` through the site `name`: the visitor observes it and may replace it.
    pub fn tap<T: Tappable>(&mut self, name: &str, kind: SiteKind, value: T) -> T {
        if self.visitor.is_none() {
            return value;
        }
        let path = self.path(name);
        let visitor = self.visitor.as_deref_mut().expect("checked above");
        let site = Site { path: &path, kind };
        if !visitor.wants(&site) {
            return value;
        }
        let original = value.into_tap();
        let Some(replacement) = visitor.visit(&site, &original) else {
            return T::from_tap(original).expect("the original keeps its type");
        };
        let same_kind = replacement.is_int() == original.is_int();
        if same_kind && replacement.shape() == original.shape() {
            if let Some(t) = T::from_tap(replacement) {
                return t;
            }
        } else {
            let mut error = self.error.borrow_mut();
            if error.is_none() {
                *error = Some(Error::TapReplace {
                    site: path.clone(),
                    expected: original.describe(),
                    got: replacement.describe(),
                });
            }
        }
        T::from_tap(original).expect("the original keeps its type")
    }

    /// Shorthand for [`Taps::tap`] with [`SiteKind::Activation`].
    pub fn float<const D: usize>(&mut self, name: &str, value: Tensor<D>) -> Tensor<D>
    where
        Tensor<D>: Tappable,
    {
        self.tap(name, SiteKind::Activation, value)
    }

    /// Shorthand for [`Taps::tap`] with [`SiteKind::Weight`].
    pub fn weight<const D: usize>(&mut self, name: &str, value: Tensor<D>) -> Tensor<D>
    where
        Tensor<D>: Tappable,
    {
        self.tap(name, SiteKind::Weight, value)
    }

    /// The first invalid replacement made during the pass, if any.
    pub fn finish(self) -> Result<()> {
        match self.error.borrow_mut().take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}.{name}", self.prefix)
        }
    }
}

/// A [`Tap`] that records (clones) the values of selected sites, keyed by path.
///
/// Records feature maps for feature extraction, ReLU masks and pool indices for LinearScope,
/// and activations for quantization calibration.
#[derive(Debug, Default)]
pub struct Recorder {
    filter: Option<Vec<SiteKind>>,
    paths: Option<Vec<String>>,
    values: BTreeMap<String, TapTensor>,
}

impl Recorder {
    /// Records every site.
    pub fn all() -> Self {
        Self::default()
    }

    /// Records only sites of these kinds.
    pub fn kinds(kinds: &[SiteKind]) -> Self {
        Recorder {
            filter: Some(kinds.to_vec()),
            ..Self::default()
        }
    }

    /// Records only these paths.
    pub fn paths<S: AsRef<str>>(paths: &[S]) -> Self {
        Recorder {
            paths: Some(paths.iter().map(|p| p.as_ref().to_string()).collect()),
            ..Self::default()
        }
    }

    /// The recorded value at `path`.
    pub fn get(&self, path: &str) -> Option<&TapTensor> {
        self.values.get(path)
    }

    /// All recorded values in path order.
    pub fn values(&self) -> &BTreeMap<String, TapTensor> {
        &self.values
    }

    /// Takes the recorded values, e.g. to replay them with a [`Replayer`].
    pub fn into_values(self) -> BTreeMap<String, TapTensor> {
        self.values
    }
}

impl Tap for Recorder {
    fn wants(&self, site: &Site<'_>) -> bool {
        self.filter.as_ref().is_none_or(|k| k.contains(&site.kind))
            && self
                .paths
                .as_ref()
                .is_none_or(|p| p.iter().any(|p| p == site.path))
    }

    fn visit(&mut self, site: &Site<'_>, value: &TapTensor) -> Option<TapTensor> {
        self.values.insert(site.path.to_string(), value.clone());
        None
    }
}

/// A [`Tap`] that replaces the sites it holds values for with those values.
///
/// Fed with a [`Recorder`]'s ReLU masks and pool indices from input `a`, it runs the network on
/// input `b` with `a`'s gating: the LinearScope linear interpreter.
#[derive(Debug, Default)]
pub struct Replayer {
    values: BTreeMap<String, TapTensor>,
}

impl Replayer {
    /// Replays `values` (path → value).
    pub fn new(values: BTreeMap<String, TapTensor>) -> Self {
        Replayer { values }
    }
}

impl Tap for Replayer {
    fn wants(&self, site: &Site<'_>) -> bool {
        self.values.contains_key(site.path)
    }

    fn visit(&mut self, site: &Site<'_>, _value: &TapTensor) -> Option<TapTensor> {
        self.values.get(site.path).cloned()
    }
}

/// A [`Tap`] from a closure, for one-off observers and replacers.
pub struct TapFn<F>(pub F);

impl<F> Tap for TapFn<F>
where
    F: FnMut(&Site<'_>, &TapTensor) -> Option<TapTensor>,
{
    fn visit(&mut self, site: &Site<'_>, value: &TapTensor) -> Option<TapTensor> {
        (self.0)(site, value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn block(x: Tensor<2>, taps: &mut Taps<'_>) -> Tensor<2> {
        let h = taps.float("pre", x + 1.0);
        taps.tap("out", SiteKind::Activation, h * 2.0)
    }

    fn model(x: Tensor<2>, taps: &mut Taps<'_>) -> Tensor<2> {
        let x = block(x, &mut taps.child("a"));
        block(x, &mut taps.child("b"))
    }

    #[test]
    fn none_is_identity_and_paths_nest() {
        let device = Device::flex();
        let x = Tensor::<2>::zeros([1, 2], &device);
        let plain = model(x.clone(), &mut Taps::none());
        assert_eq!(
            plain.into_data().try_to_vec::<f32>().unwrap(),
            vec![6.0, 6.0]
        );
        let mut rec = Recorder::all();
        let mut taps = Taps::new(&mut rec);
        model(x, &mut taps);
        taps.finish().unwrap();
        let keys: Vec<_> = rec.values().keys().cloned().collect();
        assert_eq!(keys, ["a.out", "a.pre", "b.out", "b.pre"]);
    }

    #[test]
    fn replacement_changes_the_rest_of_the_pass() {
        let device = Device::flex();
        let x = Tensor::<2>::zeros([1, 2], &device);
        let mut zero_a = TapFn(|site: &Site<'_>, v: &TapTensor| {
            (site.path == "a.out").then(|| v.get::<Tensor<2>>().unwrap().zeros_like().into())
        });
        let mut taps = Taps::new(&mut zero_a);
        let y = model(x, &mut taps);
        taps.finish().unwrap();
        assert_eq!(y.into_data().try_to_vec::<f32>().unwrap(), vec![2.0, 2.0]);
    }

    #[test]
    fn bad_replacement_is_reported_and_ignored() {
        let device = Device::flex();
        let x = Tensor::<2>::zeros([1, 2], &device);
        let dev = device.clone();
        let mut wrong = TapFn(move |site: &Site<'_>, _: &TapTensor| {
            (site.path == "a.pre").then(|| Tensor::<2>::zeros([3, 3], &dev).into())
        });
        let mut taps = Taps::new(&mut wrong);
        let y = model(x, &mut taps);
        let err = taps.finish().unwrap_err();
        assert_eq!(
            err.to_string(),
            "tap `a.pre`: replacement must keep float tensor of shape [1, 2], got float tensor of shape [3, 3]"
        );
        assert_eq!(y.into_data().try_to_vec::<f32>().unwrap(), vec![6.0, 6.0]);
    }
}
