//! The vision rows of issue #5: whole-model forward passes, the scSE block and spatial
//! pyramid pooling, each mirroring a workload of `tools/refgen/bench_torch.py`.

use burn::tensor::{Device, Int, Tensor, TensorData};
use convkit_conv::{SeAggregation, SpatialChannelSqueezeExciteConfig, SpatialPyramidPoolConfig};
use convkit_core::Tapped;
use convkit_train::segmentation::PixelCrossEntropyConfig;
use convkit_zoo::{InceptionV4Config, UNetConfig};
use serde_json::Value;

use crate::{Timer, randn};

/// scSE (smp's aggregation: addition, reduction 16) on 8×64×56×56.
pub fn scse_fwd(device: &Device, timer: &Timer) -> Value {
    let block = SpatialChannelSqueezeExciteConfig::new(64)
        .with_aggregation(SeAggregation::Add)
        .init(device);
    let x = randn([8, 64, 56, 56], device);
    timer.time(|| {
        block.forward(x.clone()).into_data();
    })
}

/// Spatial pyramid pooling, levels 4/2/1, max, on 8×256×13×13.
pub fn spp_fwd(device: &Device, timer: &Timer) -> Value {
    let spp = SpatialPyramidPoolConfig::new(256).init();
    let x = randn([8, 256, 13, 13], device);
    timer.time(|| {
        spp.forward(x.clone()).into_data();
    })
}

/// Inception-v4 (timm's `inception_v4`, 1000 classes) in inference mode on `batch`×3×299×299.
pub fn inception_v4_fwd(device: &Device, timer: &Timer, batch: usize) -> Value {
    let model = InceptionV4Config::new().init(device);
    let x = randn([batch, 3, 299, 299], device);
    timer.time(|| {
        model.forward(x.clone()).into_data();
    })
}

/// U-Net (1 input channel, 2 classes, depth 4, width 16) in training mode on 4×1×128×128:
/// forward, pixel cross-entropy and backward (all gradients).
pub fn unet_fwd_bwd(device: &Device, timer: &Timer) -> Value {
    let ad = device.clone().autodiff();
    let model = UNetConfig::new(1, 2).with_depth(4).with_width(16).init(&ad);
    let x = randn([4, 1, 128, 128], &ad);
    let labels: Vec<i64> = (0..4 * 128 * 128).map(|i| ((i / 7) % 2) as i64).collect();
    let masks: Tensor<3, Int> = Tensor::from_data(TensorData::new(labels, [4, 128, 128]), &ad);
    let loss = PixelCrossEntropyConfig::new().init();
    timer.time(|| {
        let grads = loss
            .forward(model.forward(x.clone()), masks.clone())
            .backward();
        model
            .head
            .weight
            .grad(&grads)
            .expect("head gradient")
            .into_data();
    })
}
