//! convkit's kernels as a burn backend extension: on burn's flex CPU device the convolution
//! runs [`crate::kernels::conv2d`], and on flex with autodiff its backward pass is that
//! kernel's input and weight gradients (burn-flex's own conv2d backward costs up to ~100× the
//! products it needs). Built with burn's `extension` feature after the recipe of burn-signal's
//! FFT: the trait routes a [`Dispatch`] tensor to the [`Flex`] or [`Autodiff`] implementation;
//! [`crate::conv2d`] calls it only for flex tensors (other backends keep burn's conv2d).

use burn::backend::TensorMetadata;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::autodiff::{Autodiff, NodeId};
use burn::backend::flex::FlexTensor;
use burn::backend::ops::{FloatTensorOps, ModuleOps};
use burn::backend::{AutodiffBackend, Backend, Flex, backend_extension, tensor::FloatTensor};
use burn::tensor::ops::ConvOptions;
use burn::tensor::{DType, TensorData};

use crate::kernels::conv2d::{self, ChannelAffine, Conv2dShape};

/// Convolution kernels with their own backward pass (see the module documentation).
///
/// Second-order gradients are not tracked: the gradients these methods return are constants
/// to autodiff.
#[backend_extension(Flex, Autodiff)]
pub trait ConvKernels: Backend {
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

    /// The gradient of [`ConvKernels::conv2d_unbiased`] with respect to `x`.
    fn conv2d_input_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;

    /// The gradient of [`ConvKernels::conv2d_unbiased`] with respect to `weight`.
    fn conv2d_weight_grad(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        output_grad: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self>;
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
    FlexTensor::from_data(TensorData::new(values, shape))
}

fn dims(tensor: &FlexTensor) -> [usize; 4] {
    let shape = tensor.layout().shape();
    std::array::from_fn(|i| shape[i])
}

/// Whether every tensor is f32 (the kernel's type; others take burn-flex's ops).
fn all_f32(tensors: &[&FlexTensor]) -> bool {
    tensors.iter().all(|t| t.dtype() == DType::F32)
}

impl ConvKernels for Flex {
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
}

impl<B: ConvKernels, C: CheckpointStrategy> ConvKernels for Autodiff<B, C> {
    fn conv2d_unbiased(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        options: ConvOptions<2>,
    ) -> FloatTensor<Self> {
        #[derive(Debug)]
        struct Conv2dBackward;

        impl<B: ConvKernels> Backward<B, 2> for Conv2dBackward {
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
}
