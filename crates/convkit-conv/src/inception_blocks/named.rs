//! The named blocks of Inception-v4 and Inception-ResNet (timm's and facenet's layouts), as
//! configurations.

use super::*;

/// Branch configs, all reading `in_channels` with the default ε.
fn branches(in_channels: usize, ops: &[&[BranchOp]]) -> Vec<InceptionBranchConfig> {
    ops.iter()
        .map(|ops| InceptionBranchConfig::new(in_channels, ops.to_vec()))
        .collect()
}

impl InceptionBlockConfig {
    /// Inception-v4 stem, first split (timm `Mixed3a`): max pool ‖ 3×3/2 valid → 96.
    /// `[N, 64, 147, 147]` → `[N, 160, 73, 73]`.
    pub fn inception_v4_mixed_3a() -> Self {
        Self::new(branches(
            64,
            &[&[BranchOp::MaxPool], &[BranchOp::conv_valid(96, 3, 2)]],
        ))
    }

    /// Inception-v4 stem, second split (timm `Mixed4a`): 1×1 → 64, 3×3 valid → 96 ‖ 1×1 → 64,
    /// 1×7 → 64, 7×1 → 64, 3×3 valid → 96. `[N, 160, 73, 73]` → `[N, 192, 71, 71]`.
    pub fn inception_v4_mixed_4a() -> Self {
        Self::new(branches(
            160,
            &[
                &[BranchOp::conv(64, [1, 1]), BranchOp::conv_valid(96, 3, 1)],
                &[
                    BranchOp::conv(64, [1, 1]),
                    BranchOp::conv(64, [1, 7]),
                    BranchOp::conv(64, [7, 1]),
                    BranchOp::conv_valid(96, 3, 1),
                ],
            ],
        ))
    }

    /// Inception-v4 stem, third split (timm `Mixed5a`): 3×3/2 valid → 192 ‖ max pool.
    /// `[N, 192, 71, 71]` → `[N, 384, 35, 35]`.
    pub fn inception_v4_mixed_5a() -> Self {
        Self::new(branches(
            192,
            &[&[BranchOp::conv_valid(192, 3, 2)], &[BranchOp::MaxPool]],
        ))
    }

    /// Inception-A of Inception-v4 (paper Fig. 4, timm `InceptionA`), 384 → 384 channels:
    /// 1×1 → 96 ‖ 1×1 → 64, 3×3 → 96 ‖ 1×1 → 64, 3×3 → 96, 3×3 → 96 ‖ avg pool, 1×1 → 96.
    pub fn inception_v4_a() -> Self {
        Self::new(branches(
            384,
            &[
                &[BranchOp::conv(96, [1, 1])],
                &[BranchOp::conv(64, [1, 1]), BranchOp::conv(96, [3, 3])],
                &[
                    BranchOp::conv(64, [1, 1]),
                    BranchOp::conv(96, [3, 3]),
                    BranchOp::conv(96, [3, 3]),
                ],
                &[BranchOp::AvgPool, BranchOp::conv(96, [1, 1])],
            ],
        ))
    }

    /// Inception-B of Inception-v4 (paper Fig. 5, timm `InceptionB`), 1024 → 1024 channels:
    /// 1×1 → 384 ‖ 1×1 → 192, 1×7 → 224, 7×1 → 256 ‖ 1×1 → 192, 7×1 → 192, 1×7 → 224,
    /// 7×1 → 224, 1×7 → 256 ‖ avg pool, 1×1 → 128.
    pub fn inception_v4_b() -> Self {
        Self::new(branches(
            1024,
            &[
                &[BranchOp::conv(384, [1, 1])],
                &[
                    BranchOp::conv(192, [1, 1]),
                    BranchOp::conv(224, [1, 7]),
                    BranchOp::conv(256, [7, 1]),
                ],
                &[
                    BranchOp::conv(192, [1, 1]),
                    BranchOp::conv(192, [7, 1]),
                    BranchOp::conv(224, [1, 7]),
                    BranchOp::conv(224, [7, 1]),
                    BranchOp::conv(256, [1, 7]),
                ],
                &[BranchOp::AvgPool, BranchOp::conv(128, [1, 1])],
            ],
        ))
    }

    /// Inception-C of Inception-v4 (paper Fig. 6, timm `InceptionC`), 1536 → 1536 channels:
    /// 1×1 → 256 ‖ 1×1 → 384, (1×3 → 256 ‖ 3×1 → 256) ‖ 1×1 → 384, 3×1 → 448, 1×3 → 512,
    /// (1×3 → 256 ‖ 3×1 → 256) ‖ avg pool, 1×1 → 256.
    pub fn inception_v4_c() -> Self {
        let split = vec![BranchOp::conv(256, [1, 3]), BranchOp::conv(256, [3, 1])];
        Self::new(vec![
            InceptionBranchConfig::new(1536, vec![BranchOp::conv(256, [1, 1])]),
            InceptionBranchConfig::new(1536, vec![BranchOp::conv(384, [1, 1])])
                .with_fork(split.clone()),
            InceptionBranchConfig::new(
                1536,
                vec![
                    BranchOp::conv(384, [1, 1]),
                    BranchOp::conv(448, [3, 1]),
                    BranchOp::conv(512, [1, 3]),
                ],
            )
            .with_fork(split),
            InceptionBranchConfig::new(1536, vec![BranchOp::AvgPool, BranchOp::conv(256, [1, 1])]),
        ])
    }

    /// Reduction-A, 35×35 → 17×17 (paper Fig. 7, shared by the three networks with the
    /// widths `[k, l, m, n]` of its Table 1: Inception-v4 `[192, 224, 256, 384]`,
    /// Inception-ResNet-v1 `[192, 192, 256, 384]`, -v2 `[256, 256, 384, 384]`; timm
    /// `ReductionA` / `Mixed_6a`): 3×3/2 valid → n ‖ 1×1 → k, 3×3 → l, 3×3/2 valid → m ‖
    /// max pool. `in_channels` → `in_channels + n + m`.
    pub fn reduction_a(in_channels: usize, [k, l, m, n]: [usize; 4]) -> Self {
        Self::new(branches(
            in_channels,
            &[
                &[BranchOp::conv_valid(n, 3, 2)],
                &[
                    BranchOp::conv(k, [1, 1]),
                    BranchOp::conv(l, [3, 3]),
                    BranchOp::conv_valid(m, 3, 2),
                ],
                &[BranchOp::MaxPool],
            ],
        ))
    }

    /// Reduction-B of Inception-v4, 17×17 → 8×8 (paper Fig. 8, timm `ReductionB`),
    /// 1024 → 1536 channels: 1×1 → 192, 3×3/2 valid → 192 ‖ 1×1 → 256, 1×7 → 256,
    /// 7×1 → 320, 3×3/2 valid → 320 ‖ max pool.
    pub fn inception_v4_reduction_b() -> Self {
        Self::new(branches(
            1024,
            &[
                &[BranchOp::conv(192, [1, 1]), BranchOp::conv_valid(192, 3, 2)],
                &[
                    BranchOp::conv(256, [1, 1]),
                    BranchOp::conv(256, [1, 7]),
                    BranchOp::conv(320, [7, 1]),
                    BranchOp::conv_valid(320, 3, 2),
                ],
                &[BranchOp::MaxPool],
            ],
        ))
    }

    /// The 35×35 block of Inception-ResNet-v2 before its residual blocks (timm `Mixed_5b`),
    /// 192 → 320 channels: 1×1 → 96 ‖ 1×1 → 48, 5×5 → 64 ‖ 1×1 → 64, 3×3 → 96, 3×3 → 96 ‖
    /// avg pool, 1×1 → 64.
    pub fn inception_resnet_v2_mixed_5b() -> Self {
        Self::new(branches(
            192,
            &[
                &[BranchOp::conv(96, [1, 1])],
                &[BranchOp::conv(48, [1, 1]), BranchOp::conv(64, [5, 5])],
                &[
                    BranchOp::conv(64, [1, 1]),
                    BranchOp::conv(96, [3, 3]),
                    BranchOp::conv(96, [3, 3]),
                ],
                &[BranchOp::AvgPool, BranchOp::conv(64, [1, 1])],
            ],
        ))
    }

    /// Inception-ResNet-A, the 35×35 residual block (paper Figs. 10 and 16; timm / facenet
    /// `Block35`): 1×1 → b0 ‖ 1×1 → `b1[0]`, 3×3 → `b1[1]` ‖ 1×1 → `b2[0]`, 3×3 → `b2[1]`,
    /// 3×3 → `b2[2]`, projected back to `width`. v1: `(256, 32, [32, 32], [32, 32, 32])`;
    /// v2: `(320, 32, [32, 32], [32, 48, 64])`; both with scale 0.17.
    pub fn inception_resnet_a(
        width: usize,
        b0: usize,
        b1: [usize; 2],
        b2: [usize; 3],
        residual: InceptionResidual,
    ) -> Self {
        Self::new(branches(
            width,
            &[
                &[BranchOp::conv(b0, [1, 1])],
                &[BranchOp::conv(b1[0], [1, 1]), BranchOp::conv(b1[1], [3, 3])],
                &[
                    BranchOp::conv(b2[0], [1, 1]),
                    BranchOp::conv(b2[1], [3, 3]),
                    BranchOp::conv(b2[2], [3, 3]),
                ],
            ],
        ))
        .with_residual(Some(residual))
    }

    /// Inception-ResNet-B, the 17×17 residual block (paper Figs. 11 and 17; timm / facenet
    /// `Block17`): 1×1 → b0 ‖ 1×1 → `b1[0]`, 1×7 → `b1[1]`, 7×1 → `b1[2]`, projected back to
    /// `width`. v1: `(896, 128, [128, 128, 128])`; v2: `(1088, 192, [128, 160, 192])`; both
    /// with scale 0.10.
    pub fn inception_resnet_b(
        width: usize,
        b0: usize,
        b1: [usize; 3],
        residual: InceptionResidual,
    ) -> Self {
        Self::factorized_residual(width, b0, b1, 7, residual)
    }

    /// Inception-ResNet-C, the 8×8 residual block (paper Figs. 13 and 19; timm / facenet
    /// `Block8`): 1×1 → b0 ‖ 1×1 → `b1[0]`, 1×3 → `b1[1]`, 3×1 → `b1[2]`, projected back to
    /// `width`. v1: `(1792, 192, [192, 192, 192])`; v2: `(2080, 192, [192, 224, 256])`; scale
    /// 0.20, and 1.0 without ReLU for the network's last block.
    pub fn inception_resnet_c(
        width: usize,
        b0: usize,
        b1: [usize; 3],
        residual: InceptionResidual,
    ) -> Self {
        Self::factorized_residual(width, b0, b1, 3, residual)
    }

    /// The B and C residual blocks: a 1×1 branch and a 1×1, 1×k, k×1 branch.
    fn factorized_residual(
        width: usize,
        b0: usize,
        b1: [usize; 3],
        k: usize,
        residual: InceptionResidual,
    ) -> Self {
        Self::new(branches(
            width,
            &[
                &[BranchOp::conv(b0, [1, 1])],
                &[
                    BranchOp::conv(b1[0], [1, 1]),
                    BranchOp::conv(b1[1], [1, k]),
                    BranchOp::conv(b1[2], [k, 1]),
                ],
            ],
        ))
        .with_residual(Some(residual))
    }

    /// Reduction-B of Inception-ResNet, 17×17 → 8×8 (paper Figs. 12 and 18; timm / facenet
    /// `Mixed_7a`): 1×1 → 256, 3×3/2 valid → a ‖ 1×1 → 256, 3×3/2 valid → b ‖ 1×1 → 256,
    /// 3×3 → c1, 3×3/2 valid → c2 ‖ max pool. v1: `(896, [384, 256, 256, 256])` → 1792
    /// channels; v2: `(1088, [384, 288, 288, 320])` → 2080.
    pub fn inception_resnet_reduction_b(in_channels: usize, [a, b, c1, c2]: [usize; 4]) -> Self {
        Self::new(branches(
            in_channels,
            &[
                &[BranchOp::conv(256, [1, 1]), BranchOp::conv_valid(a, 3, 2)],
                &[BranchOp::conv(256, [1, 1]), BranchOp::conv_valid(b, 3, 2)],
                &[
                    BranchOp::conv(256, [1, 1]),
                    BranchOp::conv(c1, [3, 3]),
                    BranchOp::conv_valid(c2, 3, 2),
                ],
                &[BranchOp::MaxPool],
            ],
        ))
    }
}
