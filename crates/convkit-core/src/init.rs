//! Parameters initialised from the calling thread's seeded stream ([`crate::random`]).
//!
//! burn-nn's `Initializer::init_with` draws from burn's process-wide generator when a
//! parameter is first used, so two models built in one process interfere (see
//! [`crate::random`]). [`param`] keeps burn's initializers and formulas (which follow
//! PyTorch's defaults) but gives each parameter a sub-seed taken from this thread's stream when
//! the layer is built, and generates the values from that sub-seed alone, lazily on first use
//! as burn does. Every convkit layer creates its parameters through it.
//!
//! ```
//! use burn::nn::Initializer;
//! use burn::tensor::{Device, Tensor};
//! use convkit_core::{init, random};
//!
//! let device = Device::flex();
//! let kaiming = Initializer::KaimingUniform { gain: 1.0, fan_out_only: false };
//! let draw = || init::param::<2>(&kaiming, [4, 3], Some(3), None, &device).unwrap();
//! let a = random::with_seed(1, draw);
//! let b = random::with_seed(1, draw);
//! assert_eq!(a.val().into_data(), b.val().into_data());
//! ```

use burn::module::{Param, ParamId};
use burn::nn::Initializer;
use burn::tensor::{Device, Distribution, Tensor, TensorData};

use crate::random;

/// A parameter of `shape` drawn from `initializer`, with the fans burn's layers pass to it.
///
/// One sub-seed is taken from the calling thread's stream now; the values are generated from
/// it when the parameter is first used.
///
/// # Errors
/// [`crate::Error::Memory`] when the parameter takes the model being built past its memory
/// budget ([`crate::budget::reserve`]), or its size overflows.
///
/// # Panics
/// For a Kaiming initializer without the fan it needs, or a Xavier one without both fans (as
/// burn's `Initializer::init_with`).
pub fn param<const D: usize>(
    initializer: &Initializer,
    shape: [usize; D],
    fan_in: Option<usize>,
    fan_out: Option<usize>,
    device: &Device,
) -> crate::Result<Param<Tensor<D>>> {
    crate::budget::reserve(&shape, 4)?;
    let draw = Draw::of(initializer, &shape, fan_in, fan_out);
    let seed = random::next_seed();
    Ok(Param::uninitialized(
        ParamId::new(),
        move |device, require_grad| {
            let tensor = Tensor::from_data(draw.values(seed, &shape), device);
            if require_grad {
                tensor.require_grad()
            } else {
                tensor
            }
        },
        device.clone(),
        true,
        shape.into(),
    ))
}

/// What to draw for one parameter: burn-nn's `Initializer::init_tensor`, host-side.
#[derive(Clone, Debug)]
enum Draw {
    Constant(f64),
    Random(Distribution),
    /// A (semi-)orthogonal matrix from a standard normal one, times the gain.
    Orthogonal(f64),
}

impl Draw {
    fn of(
        initializer: &Initializer,
        shape: &[usize],
        fan_in: Option<usize>,
        fan_out: Option<usize>,
    ) -> Draw {
        let fan = |fan_out_only: bool| {
            let fan = if fan_out_only { fan_out } else { fan_in };
            fan.expect("Kaiming initialization needs the fan of the layer") as f64
        };
        let xavier_std = || {
            let (i, o) = fan_in
                .zip(fan_out)
                .expect("Xavier initialization needs both fans");
            (2.0 / (i + o) as f64).sqrt()
        };
        let uniform = |a: f64| Draw::Random(Distribution::Uniform(-a, a));
        let normal = |std: f64| Draw::Random(Distribution::Normal(0.0, std));
        match *initializer {
            Initializer::Constant { value } => Draw::Constant(value),
            Initializer::Ones => Draw::Constant(1.0),
            Initializer::Zeros => Draw::Constant(0.0),
            Initializer::Uniform { min, max } => Draw::Random(Distribution::Uniform(min, max)),
            Initializer::Normal { mean, std } => Draw::Random(Distribution::Normal(mean, std)),
            Initializer::KaimingUniform { gain, fan_out_only } => {
                uniform(3f64.sqrt() * gain / fan(fan_out_only).sqrt())
            }
            Initializer::KaimingNormal { gain, fan_out_only } => {
                normal(gain / fan(fan_out_only).sqrt())
            }
            Initializer::XavierUniform { gain } => uniform(3f64.sqrt() * gain * xavier_std()),
            Initializer::XavierNormal { gain } => normal(gain * xavier_std()),
            Initializer::Orthogonal { gain } => {
                assert!(
                    shape.len() >= 2,
                    "orthogonal initialization needs rank >= 2"
                );
                Draw::Orthogonal(gain)
            }
        }
    }

    fn values(&self, seed: u64, shape: &[usize]) -> TensorData {
        match *self {
            Draw::Constant(value) => {
                let n = shape.iter().product();
                TensorData::new(vec![value as f32; n], shape.to_vec())
            }
            Draw::Random(distribution) => random::values(seed, shape.to_vec(), distribution),
            Draw::Orthogonal(gain) => orthogonal(seed, shape, gain),
        }
    }
}

/// PyTorch's `nn.init.orthogonal_`: the Q factor of a standard normal `rows × cols` matrix
/// (transposed when it is wide), its columns' signs fixed by R's diagonal, times `gain`.
/// Q comes from modified Gram–Schmidt in f64, which for a Gaussian matrix is orthonormal to
/// rounding.
fn orthogonal(seed: u64, shape: &[usize], gain: f64) -> TensorData {
    let rows = shape[0];
    let cols: usize = shape[1..].iter().product();
    let (tall, short) = (rows.max(cols), rows.min(cols));
    let normal = random::values(seed, vec![short, tall], Distribution::Normal(0.0, 1.0));
    // `vectors[j]` is column j of the tall `tall × short` matrix.
    let mut vectors: Vec<Vec<f64>> = normal
        .iter::<f64>()
        .collect::<Vec<_>>()
        .chunks(tall)
        .map(<[f64]>::to_vec)
        .collect();
    for j in 0..short {
        let (done, rest) = vectors.split_at_mut(j);
        let v = &mut rest[0];
        for q in done.iter() {
            let dot: f64 = q.iter().zip(v.iter()).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(q).for_each(|(x, qi)| *x -= dot * qi);
        }
        // Gram–Schmidt's R has a positive diagonal already: the sign fix of PyTorch's QR is
        // the identity here.
        let norm = v.iter().map(|x| x * x).sum::<f64>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
    }
    let mut out = vec![0f32; rows * cols];
    for (j, q) in vectors.iter().enumerate() {
        for (i, &value) in q.iter().enumerate() {
            // Q is tall × short; a wide parameter takes its transpose.
            let index = if rows >= cols {
                i * cols + j
            } else {
                j * cols + i
            };
            out[index] = (value * gain) as f32;
        }
    }
    TensorData::new(out, shape.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values<const D: usize>(p: &Param<Tensor<D>>) -> Vec<f32> {
        p.val().into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn values_depend_on_the_seed_and_construction_order_only() {
        let device = Device::flex();
        let kaiming = Initializer::KaimingUniform {
            gain: 1.0 / 3f64.sqrt(),
            fan_out_only: false,
        };
        let build = |seed| {
            random::with_seed(seed, || {
                let a: Param<Tensor<4>> =
                    param(&kaiming, [4, 3, 3, 3], Some(27), None, &device).unwrap();
                let b: Param<Tensor<2>> = param(&kaiming, [4, 2], Some(4), None, &device).unwrap();
                (a, b)
            })
        };
        let (a1, b1) = build(9);
        let (a2, b2) = build(9);
        // Materialise in the opposite order, on another thread, with burn's own generator
        // reseeded in between: nothing of that reaches the values.
        let (w2, l2) = std::thread::spawn(move || {
            Device::flex().seed(123);
            (values(&b2), values(&a2))
        })
        .join()
        .unwrap();
        assert_eq!(values(&a1), l2);
        assert_eq!(values(&b1), w2);
        // U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with gain 1/sqrt(3).
        assert!(values(&a1).iter().all(|v| v.abs() <= 1.0 / 27f32.sqrt()));
        let (a3, _) = build(10);
        assert_ne!(values(&a1), values(&a3));
    }

    #[test]
    fn orthogonal_parameters_are_orthogonal() {
        let device = Device::flex();
        for shape in [[6, 4], [4, 6], [5, 5]] {
            let p: Param<Tensor<2>> = param(
                &Initializer::Orthogonal { gain: 2.0 },
                shape,
                None,
                None,
                &device,
            )
            .unwrap();
            let w = p.val();
            let gram = if shape[0] <= shape[1] {
                w.clone().matmul(w.transpose())
            } else {
                w.clone().transpose().matmul(w)
            };
            let n = shape[0].min(shape[1]);
            let eye = Tensor::<2>::eye(n, &device) * 4.0;
            let err = (gram - eye).abs().max().into_scalar::<f32>();
            assert!(err < 1e-5, "{shape:?}: {err}");
        }
    }
}
