//! Synthetic shapes: circles, squares and triangles on a noisy background.

use burn::config::Config;
use rand::RngExt;
use rand::rngs::StdRng;

use crate::random::{gaussian, item_rng};
use crate::{Dataset, ImageItem};

/// The classes of [`ShapesDataset`], in label order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeClass {
    /// Label 0.
    Circle,
    /// Label 1.
    Square,
    /// Label 2 (equilateral).
    Triangle,
}

impl ShapeClass {
    /// All classes in label order.
    pub const ALL: [ShapeClass; 3] = [ShapeClass::Circle, ShapeClass::Square, ShapeClass::Triangle];

    /// The class name.
    pub fn name(self) -> &'static str {
        match self {
            ShapeClass::Circle => "circle",
            ShapeClass::Square => "square",
            ShapeClass::Triangle => "triangle",
        }
    }
}

/// Configuration of [`ShapesDataset`].
#[derive(Config, Debug)]
pub struct ShapesConfig {
    /// Number of images.
    pub len: usize,
    /// Image side in pixels (at least 8).
    #[config(default = 28)]
    pub image_size: usize,
    /// Channels; every channel holds the same shape with its own noise.
    #[config(default = 1)]
    pub channels: usize,
    /// Standard deviation of the additive Gaussian pixel noise.
    #[config(default = 0.15)]
    pub noise: f32,
    /// Seed: the same seed gives the same images.
    #[config(default = 0)]
    pub seed: u64,
    /// Rotate squares and triangles by a random angle (harder: a small CNN with global
    /// pooling then needs many more epochs). Off by default: squares are axis-aligned and
    /// triangles point up.
    #[config(default = false)]
    pub rotate: bool,
}

/// Deterministic synthetic images of three shape classes, balanced (label = index mod 3).
///
/// Each image is drawn from its own generator seeded by `(seed, index)`: a shape of random
/// centre, size (15-35% of the side), optional rotation and brightness (0.5-1.0) on a dark background
/// (0-0.2), plus Gaussian noise, clamped to `[0, 1]`. Items are generated on access, so any
/// size costs no memory.
#[derive(Debug, Clone)]
pub struct ShapesDataset {
    config: ShapesConfig,
}

struct Geometry {
    class: ShapeClass,
    cx: f32,
    cy: f32,
    radius: f32,
    angle: f32,
    brightness: f32,
    background: f32,
}

impl ShapesDataset {
    /// Creates the dataset; `image_size` is raised to at least 8 and `channels` to 1.
    pub fn new(mut config: ShapesConfig) -> Self {
        config.image_size = config.image_size.max(8);
        config.channels = config.channels.max(1);
        ShapesDataset { config }
    }

    /// Class names in label order.
    pub fn class_names() -> Vec<String> {
        ShapeClass::ALL
            .iter()
            .map(|c| c.name().to_string())
            .collect()
    }

    fn rng(&self, index: usize) -> StdRng {
        item_rng(self.config.seed, index)
    }

    fn geometry(&self, index: usize, rng: &mut StdRng) -> Geometry {
        let s = self.config.image_size as f32;
        let radius = s * rng.random_range(0.15..0.35);
        let margin = radius + 1.0;
        Geometry {
            class: ShapeClass::ALL[index % 3],
            cx: rng.random_range(margin..(s - margin).max(margin + 1e-3)),
            cy: rng.random_range(margin..(s - margin).max(margin + 1e-3)),
            radius,
            angle: if self.config.rotate {
                rng.random_range(0.0..std::f32::consts::TAU)
            } else {
                0.0
            },
            brightness: rng.random_range(0.5..1.0),
            background: rng.random_range(0.0..0.2),
        }
    }

    /// The binary segmentation mask (`[H, W]`, 1 inside the shape) of item `index`.
    pub fn mask(&self, index: usize) -> Option<Vec<u8>> {
        if index >= self.config.len {
            return None;
        }
        let g = self.geometry(index, &mut self.rng(index));
        let n = self.config.image_size;
        Some(
            (0..n * n)
                .map(|p| u8::from(inside(&g, (p % n) as f32 + 0.5, (p / n) as f32 + 0.5)))
                .collect(),
        )
    }
}

fn inside(g: &Geometry, x: f32, y: f32) -> bool {
    let (dx, dy) = (x - g.cx, y - g.cy);
    let (sin, cos) = g.angle.sin_cos();
    let (u, v) = (cos * dx + sin * dy, -sin * dx + cos * dy);
    match g.class {
        ShapeClass::Circle => dx * dx + dy * dy <= g.radius * g.radius,
        ShapeClass::Square => {
            let half = g.radius * std::f32::consts::FRAC_1_SQRT_2;
            u.abs() <= half && v.abs() <= half
        }
        ShapeClass::Triangle => {
            // Equilateral triangle inscribed in the circle of radius r, apex along -v (up in
            // the image before rotation).
            let r = g.radius;
            let pts = [0.0f32, 120.0, 240.0].map(|deg| {
                let a = deg.to_radians();
                (r * a.sin(), -r * a.cos())
            });
            let edge = |(ax, ay): (f32, f32), (bx, by): (f32, f32)| {
                (bx - ax) * (v - ay) - (by - ay) * (u - ax)
            };
            let d = [
                edge(pts[0], pts[1]),
                edge(pts[1], pts[2]),
                edge(pts[2], pts[0]),
            ];
            d.iter().all(|&e| e >= 0.0) || d.iter().all(|&e| e <= 0.0)
        }
    }
}

impl Dataset for ShapesDataset {
    type Item = ImageItem;

    fn len(&self) -> usize {
        self.config.len
    }

    fn get(&self, index: usize) -> Option<ImageItem> {
        if index >= self.config.len {
            return None;
        }
        let mut rng = self.rng(index);
        let g = self.geometry(index, &mut rng);
        let n = self.config.image_size;
        let c = self.config.channels;
        let mut pixels = Vec::with_capacity(c * n * n);
        for _ in 0..c {
            for p in 0..n * n {
                let base = if inside(&g, (p % n) as f32 + 0.5, (p / n) as f32 + 0.5) {
                    g.brightness
                } else {
                    g.background
                };
                pixels.push((base + self.config.noise * gaussian(&mut rng)).clamp(0.0, 1.0));
            }
        }
        Some(ImageItem {
            pixels,
            shape: [c, n, n],
            label: index % 3,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn masks_have_area_and_classes_balance() {
        let data = ShapesDataset::new(ShapesConfig::new(30));
        for i in 0..30 {
            let mask = data.mask(i).unwrap();
            let area: usize = mask.iter().map(|&m| m as usize).sum();
            assert!(area > 20, "item {i} has a tiny shape ({area} px)");
            assert_eq!(data.get(i).unwrap().label, i % 3);
        }
        assert!(data.get(30).is_none());
        assert!(data.mask(30).is_none());
    }

    proptest! {
        #[test]
        fn deterministic_and_in_range(seed in 0u64..1000, index in 0usize..50, size in 8usize..40) {
            let config = ShapesConfig::new(50).with_seed(seed).with_image_size(size).with_channels(2);
            let a = ShapesDataset::new(config.clone()).get(index).unwrap();
            let b = ShapesDataset::new(config).get(index).unwrap();
            prop_assert_eq!(&a, &b);
            prop_assert_eq!(a.pixels.len(), 2 * size * size);
            prop_assert!(a.pixels.iter().all(|p| (0.0..=1.0).contains(p)));
        }
    }
}
