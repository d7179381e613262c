//! convkit's kernels as a burn backend extension: on burn's flex CPU device the convolution
//! runs `kernels::conv2d` and max pooling `kernels::max_pool2d`, and on flex with autodiff
//! their backward passes are those kernels' gradients (burn-flex's own conv2d backward costs
//! up to ~100× the products it needs; its max-pool backward is a scalar scatter on one
//! thread). Built with burn's `extension` feature after the recipe of burn-signal's FFT: the
//! trait routes a [`burn::backend::Dispatch`] tensor to the [`Flex`] or [`Autodiff`]
//! implementation; [`crate::conv2d`] and [`crate::max_pool2d`] call it only for flex tensors
//! (other backends keep burn's ops).

use burn::backend::TensorMetadata;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::unary;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{FloatTensorOps, ModuleOps};
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{AutodiffBackend, Backend, Flex, backend_extension};
use burn::tensor::ops::{AvgPoolOptions, ConvOptions, ConvTransposeOptions, MaxPoolOptions};
use burn::tensor::{DType, Device, Shape, Tensor, TensorData};

use crate::kernels::avg_pool2d::{self, MeanWindows};
use crate::kernels::batch_norm::{self, Planes};
use crate::kernels::conv2d::{self, ChannelAffine, Conv2dShape};
use crate::kernels::max_pool2d::{self, PoolShape};

/// Convolution and pooling kernels with their own backward pass (see the module
/// documentation).
///
/// Second-order gradients are not tracked: the gradients these methods return are constants
/// to autodiff.
#[backend_extension(Flex, Autodiff)]
pub trait KernelOps: Backend {
    /// `conv2d(x, weight)` without bias, `x` `[N, C_in, H, W]`, `weight` `[C_out, C_in/G,
    /// k_h, k_w]`.
    fn conv2d_unbiased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;

    /// `scale[o] · conv2d(x, weight)[o] + shift[o]` (inference: a folded batch norm, or
    /// `scale = 1` and the bias as `shift`).
    fn conv2d_scale_shift(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        scale: FloatTensor<Self>,
        shift: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;

    /// The gradient of [`KernelOps::conv2d_unbiased`] with respect to `x`.
    fn conv2d_input_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;

    /// The gradient of [`KernelOps::conv2d_unbiased`] with respect to `weight`.
    fn conv2d_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;

    /// `conv_transpose2d(x, weight)` without bias, `x` `[N, C_in, H, W]`, `weight` `[C_in,
    /// C_out/G, k_h, k_w]`: the input gradient of the convolution it transposes (f32 only;
    /// [`crate::conv_transpose2d`] routes other types to burn).
    fn conv_transpose2d_unbiased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self>;

    /// The gradients of [`KernelOps::conv_transpose2d_unbiased`] with respect to `x` and to
    /// `weight`.
    fn conv_transpose2d_grads(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);

    /// `max_pool2d(x)` (`[N, C, H, W]` → `[N, C, H_out, W_out]`), differentiable in `x`.
    fn max_pool2d_tracked(x: FloatTensor<Self>, options: MaxPoolOptions<2>) -> FloatTensor<Self>;

    /// `max_pool2d(x)` and its argmaxes (i64 flat indices into each input plane).
    fn max_pool2d_argmax(
        x: FloatTensor<Self>,
        options: MaxPoolOptions<2>,
    ) -> (FloatTensor<Self>, IntTensor<Self>);

    /// The gradient `[N, C, H, W]` (`x_shape`) of a max pool's input: `output_grad` added at
    /// the argmaxes `indices` of [`KernelOps::max_pool2d_argmax`].
    fn max_pool2d_argmax_grad(
        x_shape: [usize; 4],
        output_grad: FloatTensor<Self>,
        indices: IntTensor<Self>,
    ) -> FloatTensor<Self>;

    /// Average pooling of `x` `[N, C, H, W]` over `windows` (sliding or adaptive),
    /// differentiable in `x` (f32 only; [`crate::avg_pool2d`] and
    /// [`crate::adaptive_avg_pool2d`] route other types to burn).
    fn mean_pool2d(x: FloatTensor<Self>, windows: PoolWindows) -> FloatTensor<Self>;

    /// The gradient `[N, C, H, W]` (`x_shape`) of [`KernelOps::mean_pool2d`]'s input.
    fn mean_pool2d_grad(
        x_shape: [usize; 4],
        output_grad: FloatTensor<Self>,
        windows: PoolWindows,
    ) -> FloatTensor<Self>;

    /// Batch normalisation with batch statistics, `x` `[N, C, ...]`, `gamma`, `beta` `[C]`:
    /// `(y, μ, σ²)`, `y` differentiable in `x`, `gamma` and `beta`; `μ` and the biased `σ²`
    /// (`[C]`) are constants to autodiff.
    fn batch_norm_training(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);

    /// The gradients of [`KernelOps::batch_norm_training`]'s `y` with respect to `x`, `gamma`
    /// and `beta`, from its statistics `mean` and `variance`.
    fn batch_norm_training_grads(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        variance: FloatTensor<Self>,
        epsilon: f64,
        output_grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>);
}

/// Whether `x` lives on burn's flex CPU device, with or without autodiff: where the entries
/// route to this extension (the convolutions pass any float type; the kernels without a
/// fallback inside the extension also need [`on_flex_f32`]).
pub(crate) fn on_flex<const D: usize>(x: &Tensor<D>) -> bool {
    x.device().inner() == Device::flex()
}

/// [`on_flex`], and of the kernels' type, f32.
pub(crate) fn on_flex_f32<const D: usize>(x: &Tensor<D>) -> bool {
    on_flex(x) && x.dtype() == DType::F32
}

/// The windows of an average pooling: `avg_pool2d`'s sliding windows or
/// `adaptive_avg_pool2d`'s output size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolWindows {
    /// `torch.nn.functional.avg_pool2d` with these options.
    Sliding(AvgPoolOptions<2>),
    /// `torch.nn.functional.adaptive_avg_pool2d` to this `[H_out, W_out]`.
    Adaptive([usize; 2]),
}

impl PoolWindows {
    fn of(&self, x_shape: [usize; 4]) -> MeanWindows {
        match self {
            PoolWindows::Sliding(options) => MeanWindows::sliding(x_shape, options),
            PoolWindows::Adaptive(size) => MeanWindows::adaptive(x_shape, *size),
        }
    }
}

/// The f32 values of a flex tensor (copied only when it is not contiguous).
fn host(tensor: &FlexTensor) -> std::borrow::Cow<'_, [f32]> {
    match tensor.as_slice::<f32>() {
        Some(values) => values.into(),
        None => tensor
            .to_contiguous()
            .as_slice::<f32>()
            .expect("a contiguous f32 tensor")
            .to_vec()
            .into(),
    }
}

fn flex(values: Vec<f32>, shape: [usize; 4]) -> FlexTensor {
    flex_shaped(values, shape.into())
}

/// A flex tensor of `values` with any shape.
fn flex_shaped(values: Vec<f32>, shape: Shape) -> FlexTensor {
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// The `[N, C, R]` view of a batch-norm input `[N, C, ...]`.
fn planes(tensor: &FlexTensor) -> Planes {
    let shape = tensor.layout().shape();
    Planes {
        batch: shape[0],
        channels: shape[1],
        row: shape.iter().skip(2).product(),
    }
}

fn dims(tensor: &FlexTensor) -> [usize; 4] {
    four(tensor.layout().shape())
}

/// The four sizes of an `[N, C, H, W]` shape.
fn four(shape: &[usize]) -> [usize; 4] {
    std::array::from_fn(|i| shape[i])
}

/// The convolution a transposed convolution of `x` (`[N, C_in, H, W]`) by `weight` (`[C_in,
/// C_out/G, k_h, k_w]`) transposes: input `[N, C_out, H_out, W_out]` with
/// `H_out = (H − 1)s − 2p + d(k − 1) + q + 1` (`q` the output padding, rows no window reads),
/// output `[N, C_in, H, W]`.
///
/// # Panics
/// As burn's `conv_transpose2d`, on sizes that disagree or a negative output size.
fn transposed(x: [usize; 4], weight: [usize; 4], options: &ConvTransposeOptions<2>) -> Conv2dShape {
    let [n, _, h, w] = x;
    let [_, out_per_group, kh, kw] = weight;
    let out_len = |len: usize, k: usize, i: usize| {
        ((len.max(1) - 1) * options.stride[i]
            + options.dilation[i] * (k.max(1) - 1)
            + options.padding_out[i]
            + 1)
        .checked_sub(2 * options.padding[i])
        .filter(|&l| l > 0)
        .expect("conv_transpose2d: the padding leaves no output")
    };
    let conv = ConvOptions {
        stride: options.stride,
        padding: options.padding.map(|p| (p, p)),
        dilation: options.dilation,
        groups: options.groups,
    };
    let s = Conv2dShape::new(
        [
            n,
            out_per_group * options.groups,
            out_len(h, kh, 0),
            out_len(w, kw, 1),
        ],
        weight,
        &conv,
    );
    assert_eq!(
        s.output_dims(),
        x,
        "conv_transpose2d: the weight does not fit the input's channels"
    );
    s
}

/// Whether every tensor is f32 (the kernel's type; others take burn-flex's ops).
fn all_f32(tensors: &[&FlexTensor]) -> bool {
    tensors.iter().all(|t| t.dtype() == DType::F32)
}

impl KernelOps for Flex {
    fn conv2d_unbiased(x: FlexTensor, weight: FlexTensor, options: ConvOptions<2>) -> FlexTensor {
        if !all_f32(&[&x, &weight]) {
            return <Flex as ModuleOps<Flex>>::conv2d(x, weight, None, options);
        }
        let s = Conv2dShape::new(dims(&x), dims(&weight), &options);
        let out = conv2d::forward(&s, &host(&x), &host(&weight), ChannelAffine::default());
        flex(out, s.output_dims())
    }

    fn conv2d_scale_shift(
        x: FlexTensor,
        weight: FlexTensor,
        scale: FlexTensor,
        shift: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        if !all_f32(&[&x, &weight, &scale, &shift]) {
            let out_channels = dims(&weight)[0];
            let scale = <Flex as FloatTensorOps<Flex>>::float_reshape(
                scale,
                [out_channels, 1, 1, 1].into(),
            );
            let weight = <Flex as FloatTensorOps<Flex>>::float_mul(weight, scale);
            return <Flex as ModuleOps<Flex>>::conv2d(x, weight, Some(shift), options);
        }
        let s = Conv2dShape::new(dims(&x), dims(&weight), &options);
        let (scale, shift) = (host(&scale), host(&shift));
        let affine = ChannelAffine {
            scale: Some(&scale),
            shift: Some(&shift),
        };
        flex(
            conv2d::forward(&s, &host(&x), &host(&weight), affine),
            s.output_dims(),
        )
    }

    fn conv2d_input_grad(
        x: FlexTensor,
        weight: FlexTensor,
        output_grad: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        if !all_f32(&[&x, &weight, &output_grad]) {
            return <Flex as ModuleOps<Flex>>::conv2d_x_backward(x, weight, output_grad, options);
        }
        let s = Conv2dShape::new(dims(&x), dims(&weight), &options);
        flex(
            conv2d::backward_input(&s, &host(&weight), &host(&output_grad)),
            dims(&x),
        )
    }

    fn conv2d_weight_grad(
        x: FlexTensor,
        weight: FlexTensor,
        output_grad: FlexTensor,
        options: ConvOptions<2>,
    ) -> FlexTensor {
        if !all_f32(&[&x, &weight, &output_grad]) {
            return <Flex as ModuleOps<Flex>>::conv2d_weight_backward(
                x,
                weight,
                output_grad,
                options,
            );
        }
        let s = Conv2dShape::new(dims(&x), dims(&weight), &options);
        flex(
            conv2d::backward_weight(&s, &host(&x), &host(&output_grad)),
            dims(&weight),
        )
    }

    fn conv_transpose2d_unbiased(
        x: FlexTensor,
        weight: FlexTensor,
        options: ConvTransposeOptions<2>,
    ) -> FlexTensor {
        let s = transposed(dims(&x), dims(&weight), &options);
        let out = conv2d::backward_input(&s, &host(&weight), &host(&x));
        flex(out, s.input_dims())
    }

    fn conv_transpose2d_grads(
        x: FlexTensor,
        weight: FlexTensor,
        output_grad: FlexTensor,
        options: ConvTransposeOptions<2>,
    ) -> (FlexTensor, FlexTensor) {
        let s = transposed(dims(&x), dims(&weight), &options);
        let (grad, x_values) = (host(&output_grad), host(&x));
        let dx = conv2d::forward(&s, &grad, &host(&weight), ChannelAffine::default());
        let dw = conv2d::backward_weight(&s, &grad, &x_values);
        (flex(dx, dims(&x)), flex(dw, dims(&weight)))
    }

    fn max_pool2d_tracked(x: FlexTensor, options: MaxPoolOptions<2>) -> FlexTensor {
        Self::max_pool2d_argmax(x, options).0
    }

    fn max_pool2d_argmax(x: FlexTensor, options: MaxPoolOptions<2>) -> (FlexTensor, FlexTensor) {
        let shape = dims(&x);
        let s = PoolShape::new(shape, &options);
        let (out, indices) = max_pool2d::forward(&s, &host(&x));
        let out_shape = [shape[0], shape[1], s.out_size[0], s.out_size[1]];
        (
            flex(out, out_shape),
            FlexTensor::from_data(TensorData::new(indices, out_shape)),
        )
    }

    fn max_pool2d_argmax_grad(
        x_shape: [usize; 4],
        output_grad: FlexTensor,
        indices: FlexTensor,
    ) -> FlexTensor {
        let [n, c, h, w] = x_shape;
        let [_, _, ho, wo] = dims(&output_grad);
        let s = PoolShape {
            planes: n * c,
            in_size: [h, w],
            out_size: [ho, wo],
            ..PoolShape::new(x_shape, &MaxPoolOptions::new([1, 1]))
        };
        let indices = indices.to_contiguous();
        let indices = indices.as_slice::<i64>().expect("i64 argmax indices");
        flex(
            max_pool2d::backward(&s, indices, &host(&output_grad)),
            x_shape,
        )
    }

    fn mean_pool2d(x: FlexTensor, windows: PoolWindows) -> FlexTensor {
        let shape = dims(&x);
        let s = windows.of(shape);
        let [ho, wo] = s.out_size();
        flex(
            avg_pool2d::forward(&s, &host(&x)),
            [shape[0], shape[1], ho, wo],
        )
    }

    fn mean_pool2d_grad(
        x_shape: [usize; 4],
        output_grad: FlexTensor,
        windows: PoolWindows,
    ) -> FlexTensor {
        let s = windows.of(x_shape);
        flex(avg_pool2d::backward(&s, &host(&output_grad)), x_shape)
    }

    fn batch_norm_training(
        x: FlexTensor,
        gamma: FlexTensor,
        beta: FlexTensor,
        epsilon: f64,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let p = planes(&x);
        let out = batch_norm::forward(&p, &host(&x), &host(&gamma), &host(&beta), epsilon);
        let channels = Shape::from([p.channels]);
        (
            flex_shaped(out.y, x.shape()),
            flex_shaped(out.mean, channels.clone()),
            flex_shaped(out.variance, channels),
        )
    }

    fn batch_norm_training_grads(
        x: FlexTensor,
        gamma: FlexTensor,
        mean: FlexTensor,
        variance: FlexTensor,
        epsilon: f64,
        output_grad: FlexTensor,
    ) -> (FlexTensor, FlexTensor, FlexTensor) {
        let p = planes(&x);
        let g = batch_norm::backward(
            &p,
            &host(&x),
            &host(&gamma),
            &host(&mean),
            &host(&variance),
            epsilon,
            &host(&output_grad),
        );
        let channels = Shape::from([p.channels]);
        (
            flex_shaped(g.x, x.shape()),
            flex_shaped(g.gamma, channels.clone()),
            flex_shaped(g.beta, channels),
        )
    }
}

impl<B: KernelOps, C: CheckpointStrategy> KernelOps for Autodiff<B, C> {
    fn conv2d_unbiased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct Conv2dBackward;

        impl<B: KernelOps> Backward<B, 2> for Conv2dBackward {
            type State = (NodeId, NodeId, ConvOptions<2>);

            fn backward(
                self,
                ops: Ops<Self::State, 2>,
                grads: &mut Gradients,
                checkpointer: &mut Checkpointer,
            ) {
                let [node_x, node_weight] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (x, weight, options) = ops.state;
                let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x);
                let weight = checkpointer.retrieve_node_output::<FloatTensor<B>>(weight);
                if let Some(node) = node_x {
                    let dx = B::conv2d_input_grad(
                        x.clone(),
                        weight.clone(),
                        grad.clone(),
                        options.clone(),
                    );
                    grads.register::<B>(node.id, dx);
                }
                if let Some(node) = node_weight {
                    grads.register::<B>(node.id, B::conv2d_weight_grad(x, weight, grad, options));
                }
            }
        }

        match Conv2dBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                let out = B::conv2d_unbiased(
                    x.into_primitive(),
                    weight.into_primitive(),
                    options.clone(),
                );
                prep.finish((x_state, weight_state, options), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv2d_unbiased(
                x.into_primitive(),
                weight.into_primitive(),
                options,
            )),
        }
    }

    fn conv2d_scale_shift(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        scale: FloatTensor<Self>,
        shift: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        // Differentiable composition: scale and shift broadcast over `[N, C_out, H, W]`.
        let channels = scale.shape()[0];
        let y = Self::conv2d_unbiased(x, weight, options);
        let scale = Self::float_reshape(scale, [1, channels, 1, 1].into());
        let shift = Self::float_reshape(shift, [1, channels, 1, 1].into());
        Self::float_add(Self::float_mul(y, scale), shift)
    }

    fn conv2d_input_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::from_inner(B::conv2d_input_grad(
            Self::inner(x),
            Self::inner(weight),
            Self::inner(output_grad),
            options,
        ))
    }

    fn conv2d_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        Self::from_inner(B::conv2d_weight_grad(
            Self::inner(x),
            Self::inner(weight),
            Self::inner(output_grad),
            options,
        ))
    }

    fn conv_transpose2d_unbiased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct ConvTranspose2dBackward;

        impl<B: KernelOps> Backward<B, 2> for ConvTranspose2dBackward {
            type State = (NodeId, NodeId, ConvTransposeOptions<2>);

            fn backward(
                self,
                ops: Ops<Self::State, 2>,
                grads: &mut Gradients,
                checkpointer: &mut Checkpointer,
            ) {
                let [node_x, node_weight] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (x, weight, options) = ops.state;
                let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x);
                let weight = checkpointer.retrieve_node_output::<FloatTensor<B>>(weight);
                let (dx, dw) = B::conv_transpose2d_grads(x, weight, grad, options);
                if let Some(node) = node_x {
                    grads.register::<B>(node.id, dx);
                }
                if let Some(node) = node_weight {
                    grads.register::<B>(node.id, dw);
                }
            }
        }

        match ConvTranspose2dBackward
            .prepare::<C>([x.node(), weight.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let weight_state = prep.checkpoint(&weight);
                let out = B::conv_transpose2d_unbiased(
                    x.into_primitive(),
                    weight.into_primitive(),
                    options.clone(),
                );
                prep.finish((x_state, weight_state, options), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::conv_transpose2d_unbiased(
                x.into_primitive(),
                weight.into_primitive(),
                options,
            )),
        }
    }

    fn conv_transpose2d_grads(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvTransposeOptions<2>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (dx, dw) = B::conv_transpose2d_grads(
            Self::inner(x),
            Self::inner(weight),
            Self::inner(output_grad),
            options,
        );
        (Self::from_inner(dx), Self::from_inner(dw))
    }

    fn max_pool2d_tracked(x: FloatTensor<Self>, options: MaxPoolOptions<2>) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct MaxPoolBackward;

        impl<B: KernelOps> Backward<B, 1> for MaxPoolBackward {
            type State = ([usize; 4], IntTensor<B>);

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let (x_shape, indices) = ops.state;
                unary::<B, _>(ops.parents, ops.node, grads, |grad| {
                    B::max_pool2d_argmax_grad(x_shape, grad, indices)
                });
            }
        }

        let x_shape = four(&x.shape());
        match MaxPoolBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let (out, indices) = B::max_pool2d_argmax(x.into_primitive(), options);
                prep.finish((x_shape, indices), out)
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::max_pool2d_tracked(x.into_primitive(), options))
            }
        }
    }

    fn max_pool2d_argmax(
        x: FloatTensor<Self>,
        options: MaxPoolOptions<2>,
    ) -> (FloatTensor<Self>, IntTensor<Self>) {
        let (out, indices) = B::max_pool2d_argmax(Self::inner(x), options);
        (Self::from_inner(out), indices)
    }

    fn max_pool2d_argmax_grad(
        x_shape: [usize; 4],
        output_grad: FloatTensor<Self>,
        indices: IntTensor<Self>,
    ) -> FloatTensor<Self> {
        Self::from_inner(B::max_pool2d_argmax_grad(
            x_shape,
            Self::inner(output_grad),
            indices,
        ))
    }

    fn mean_pool2d(x: FloatTensor<Self>, windows: PoolWindows) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct MeanPoolBackward;

        impl<B: KernelOps> Backward<B, 1> for MeanPoolBackward {
            type State = ([usize; 4], PoolWindows);

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                _checkpointer: &mut Checkpointer,
            ) {
                let (x_shape, windows) = ops.state;
                unary::<B, _>(ops.parents, ops.node, grads, |grad| {
                    B::mean_pool2d_grad(x_shape, grad, windows)
                });
            }
        }

        let x_shape = four(&x.shape());
        match MeanPoolBackward
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let out = B::mean_pool2d(x.into_primitive(), windows.clone());
                prep.finish((x_shape, windows), out)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::mean_pool2d(x.into_primitive(), windows)),
        }
    }

    fn mean_pool2d_grad(
        x_shape: [usize; 4],
        output_grad: FloatTensor<Self>,
        windows: PoolWindows,
    ) -> FloatTensor<Self> {
        Self::from_inner(B::mean_pool2d_grad(
            x_shape,
            Self::inner(output_grad),
            windows,
        ))
    }

    fn batch_norm_training(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        #[derive(Debug)]
        struct BatchNormBackward;

        impl<B: KernelOps> Backward<B, 3> for BatchNormBackward {
            type State = (NodeId, NodeId, FloatTensor<B>, FloatTensor<B>, f64);

            fn backward(
                self,
                ops: Ops<Self::State, 3>,
                grads: &mut Gradients,
                checkpointer: &mut Checkpointer,
            ) {
                let [node_x, node_gamma, node_beta] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (x, gamma, mean, variance, epsilon) = ops.state;
                let x = checkpointer.retrieve_node_output::<FloatTensor<B>>(x);
                let gamma = checkpointer.retrieve_node_output::<FloatTensor<B>>(gamma);
                let (dx, dgamma, dbeta) =
                    B::batch_norm_training_grads(x, gamma, mean, variance, epsilon, grad);
                for (node, grad) in [(node_x, dx), (node_gamma, dgamma), (node_beta, dbeta)] {
                    if let Some(node) = node {
                        grads.register::<B>(node.id, grad);
                    }
                }
            }
        }

        match BatchNormBackward
            .prepare::<C>([x.node(), gamma.node(), beta.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let x_state = prep.checkpoint(&x);
                let gamma_state = prep.checkpoint(&gamma);
                let (y, mean, variance) = B::batch_norm_training(
                    x.into_primitive(),
                    gamma.into_primitive(),
                    beta.into_primitive(),
                    epsilon,
                );
                let state = (
                    x_state,
                    gamma_state,
                    mean.clone(),
                    variance.clone(),
                    epsilon,
                );
                let y = prep.finish(state, y);
                (y, Self::from_inner(mean), Self::from_inner(variance))
            }
            OpsKind::UnTracked(prep) => {
                let (y, mean, variance) = B::batch_norm_training(
                    x.into_primitive(),
                    gamma.into_primitive(),
                    beta.into_primitive(),
                    epsilon,
                );
                (
                    prep.finish(y),
                    Self::from_inner(mean),
                    Self::from_inner(variance),
                )
            }
        }
    }

    fn batch_norm_training_grads(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        mean: FloatTensor<Self>,
        variance: FloatTensor<Self>,
        epsilon: f64,
        output_grad: FloatTensor<Self>,
    ) -> (FloatTensor<Self>, FloatTensor<Self>, FloatTensor<Self>) {
        let (dx, dgamma, dbeta) = B::batch_norm_training_grads(
            Self::inner(x),
            Self::inner(gamma),
            Self::inner(mean),
            Self::inner(variance),
            epsilon,
            Self::inner(output_grad),
        );
        (
            Self::from_inner(dx),
            Self::from_inner(dgamma),
            Self::from_inner(dbeta),
        )
    }
}
