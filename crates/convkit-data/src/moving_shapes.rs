//! Synthetic video clips: one shape (circle, square or triangle) crossing the frame; the
//! label is the direction of motion.
//!
//! A small action-recognition task for video models that combine a per-frame CNN with
//! temporal modelling (LRCN: Donahue et al. 2015, "Long-term Recurrent Convolutional Networks
//! for Visual Recognition and Description"; TD3Net). The label is the motion, not the shape,
//! so that no single frame tells the class: a model has to compare frames.
//!
//! Item `i` of [`MovingShapesDataset`] has label `i mod 4` ([`Motion`]: right, left, down,
//! up) and is drawn from its own generator seeded by `(seed, i)`: a shape of random class,
//! size and brightness (the shape masks of [`ShapesDataset`] at half the frame size, cropped
//! to their bounding box), a dark background, and a straight path at constant speed covering
//! half to all of the free range along the motion axis, at a fixed random position across
//! it. The whole shape stays inside every frame. Gaussian noise is added per pixel, frame and
//! channel, and values are clamped to `[0, 1]`. Items are generated on access.
//!
//! [`VideoItem::frames`] is `[T, C, H, W]` row-major; [`VideoBatcher`] stacks items into a
//! `[N, T, C, H, W]` tensor.

use burn::config::Config;
use burn::tensor::{Device, Int, Tensor};
use rand::RngExt;
use rand::rngs::StdRng;

use crate::dataset::stack_labelled;
use crate::random::{gaussian, item_rng};
use crate::{Batcher, Dataset, ShapesConfig, ShapesDataset};

/// The classes of [`MovingShapesDataset`], in label order (image coordinates: `y` grows
/// downwards).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    /// Label 0: towards larger `x`.
    Right,
    /// Label 1: towards smaller `x`.
    Left,
    /// Label 2: towards larger `y`.
    Down,
    /// Label 3: towards smaller `y`.
    Up,
}

impl Motion {
    /// All classes in label order.
    pub const ALL: [Motion; 4] = [Motion::Right, Motion::Left, Motion::Down, Motion::Up];

    /// The class name.
    pub fn name(self) -> &'static str {
        match self {
            Motion::Right => "right",
            Motion::Left => "left",
            Motion::Down => "down",
            Motion::Up => "up",
        }
    }

    /// The unit step `(dx, dy)` in image coordinates.
    pub fn direction(self) -> (i32, i32) {
        match self {
            Motion::Right => (1, 0),
            Motion::Left => (-1, 0),
            Motion::Down => (0, 1),
            Motion::Up => (0, -1),
        }
    }
}

/// Configuration of [`MovingShapesDataset`].
#[derive(Config, Debug)]
pub struct MovingShapesConfig {
    /// Number of clips.
    pub len: usize,
    /// Frames per clip (at least 2).
    #[config(default = 16)]
    pub frames: usize,
    /// Frame side in pixels (at least 16).
    #[config(default = 32)]
    pub image_size: usize,
    /// Channels; every channel holds the same picture with its own noise.
    #[config(default = 1)]
    pub channels: usize,
    /// Standard deviation of the additive Gaussian pixel noise.
    #[config(default = 0.1)]
    pub noise: f32,
    /// Seed: the same seed gives the same clips.
    #[config(default = 0)]
    pub seed: u64,
}

/// One clip with its class label.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoItem {
    /// Pixels in `[T, C, H, W]` order (row-major), in `[0, 1]`.
    pub frames: Vec<f32>,
    /// `[T, C, H, W]`.
    pub shape: [usize; 4],
    /// Class index ([`Motion`] for [`MovingShapesDataset`]).
    pub label: usize,
}

/// Deterministic synthetic clips of a shape moving in one of four directions (see the
/// module documentation).
#[derive(Debug, Clone)]
pub struct MovingShapesDataset {
    config: MovingShapesConfig,
}

/// The moving object of one clip.
struct Sprite {
    /// `[height, width]` row-major, true inside the shape.
    mask: Vec<bool>,
    width: usize,
    height: usize,
    brightness: f32,
    background: f32,
}

impl Sprite {
    fn covers(&self, x: usize, y: usize) -> bool {
        x < self.width && y < self.height && self.mask[y * self.width + x]
    }
}

impl MovingShapesDataset {
    /// Creates the dataset; `frames` is raised to at least 2, `image_size` to 16 and
    /// `channels` to 1.
    pub fn new(mut config: MovingShapesConfig) -> Self {
        config.frames = config.frames.max(2);
        config.image_size = config.image_size.max(16);
        config.channels = config.channels.max(1);
        MovingShapesDataset { config }
    }

    /// Class names in label order.
    pub fn class_names() -> Vec<String> {
        Motion::ALL.iter().map(|m| m.name().to_string()).collect()
    }

    /// A shape mask of [`ShapesDataset`] cropped to its bounding box (a single pixel in the
    /// unlikely case that a tiny triangle covers no pixel centre).
    fn sprite(&self, rng: &mut StdRng) -> Sprite {
        let class = rng.random_range(0..3usize);
        let side = self.config.image_size / 2;
        let shapes = ShapesDataset::new(
            ShapesConfig::new(3)
                .with_image_size(side)
                .with_seed(rng.random()),
        );
        // `ShapesDataset` gives item `k` the class `k mod 3`; its side is at least 8.
        let full = shapes.mask(class).unwrap_or_default();
        // The mask is square; `ShapesDataset` may have raised its side.
        let side = (full.len() as f64).sqrt() as usize;
        let inside: Vec<(usize, usize)> = full
            .iter()
            .enumerate()
            .filter(|&(_, &m)| m != 0)
            .map(|(p, _)| (p % side, p / side))
            .collect();
        let (x0, y0) = inside
            .iter()
            .fold((usize::MAX, usize::MAX), |(a, b), &(x, y)| {
                (a.min(x), b.min(y))
            });
        let (x1, y1) = inside
            .iter()
            .fold((0, 0), |(a, b), &(x, y)| (a.max(x), b.max(y)));
        let (width, height, mask) = if inside.is_empty() {
            (1, 1, vec![true])
        } else {
            let (width, height) = (x1 - x0 + 1, y1 - y0 + 1);
            let mut mask = vec![false; width * height];
            for &(x, y) in &inside {
                mask[(y - y0) * width + (x - x0)] = true;
            }
            (width, height, mask)
        };
        Sprite {
            mask,
            width,
            height,
            brightness: rng.random_range(0.5..1.0),
            background: rng.random_range(0.0..0.2),
        }
    }

    /// The top-left corner `(x, y)` of the sprite in each frame.
    fn path(&self, motion: Motion, sprite: &Sprite, rng: &mut StdRng) -> Vec<(usize, usize)> {
        let n = self.config.image_size;
        let frames = self.config.frames;
        // The sprite is at most half the frame, so both free ranges are at least n / 2.
        let (free_x, free_y) = (n - sprite.width, n - sprite.height);
        let (dx, dy) = motion.direction();
        let (along, across) = if dx != 0 {
            (free_x, free_y)
        } else {
            (free_y, free_x)
        };
        let travel =
            ((along as f32 * rng.random_range(0.5..=1.0)).round() as usize).clamp(1, along);
        let start = rng.random_range(0..=along - travel);
        let across = rng.random_range(0..=across);
        let backwards = dx < 0 || dy < 0;
        (0..frames)
            .map(|t| {
                let step = (travel as f32 * t as f32 / (frames - 1) as f32).round() as usize;
                let position = if backwards {
                    start + travel - step
                } else {
                    start + step
                };
                if dx != 0 {
                    (position, across)
                } else {
                    (across, position)
                }
            })
            .collect()
    }
}

impl Dataset for MovingShapesDataset {
    type Item = VideoItem;

    fn len(&self) -> usize {
        self.config.len
    }

    fn get(&self, index: usize) -> Option<VideoItem> {
        if index >= self.config.len {
            return None;
        }
        let mut rng = item_rng(self.config.seed, index);
        let label = index % Motion::ALL.len();
        let sprite = self.sprite(&mut rng);
        let path = self.path(Motion::ALL[label], &sprite, &mut rng);
        let (n, c, t) = (
            self.config.image_size,
            self.config.channels,
            self.config.frames,
        );
        let mut frames = Vec::with_capacity(t * c * n * n);
        for &(left, top) in &path {
            for _ in 0..c {
                for y in 0..n {
                    for x in 0..n {
                        let on = x >= left && y >= top && sprite.covers(x - left, y - top);
                        let base = if on {
                            sprite.brightness
                        } else {
                            sprite.background
                        };
                        frames
                            .push((base + self.config.noise * gaussian(&mut rng)).clamp(0.0, 1.0));
                    }
                }
            }
        }
        Some(VideoItem {
            frames,
            shape: [t, c, n, n],
            label,
        })
    }
}

/// A batch of clips and labels.
#[derive(Debug, Clone)]
pub struct VideoBatch {
    /// `[N, T, C, H, W]`.
    pub videos: Tensor<5>,
    /// `[N]` class indices.
    pub targets: Tensor<1, Int>,
}

/// Stacks [`VideoItem`]s of one shape into a [`VideoBatch`].
#[derive(Debug, Clone, Copy, Default)]
pub struct VideoBatcher;

impl Batcher<VideoItem> for VideoBatcher {
    type Batch = VideoBatch;

    /// # Panics
    /// If the items have different shapes: datasets make items of one shape, so this is a
    /// programming error.
    fn batch(&self, items: Vec<VideoItem>, device: &Device) -> VideoBatch {
        let (videos, targets) = stack_labelled(
            &items,
            "clips",
            |item| (item.shape, item.label),
            |item, out| out.extend_from_slice(&item.frames),
            device,
        );
        VideoBatch { videos, targets }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Centre of mass `(x, y)` of the bright pixels of frame `t`, channel 0, and their count.
    fn bright(item: &VideoItem, t: usize) -> (f32, f32, usize) {
        let [_, c, h, w] = item.shape;
        let plane = &item.frames[t * c * h * w..][..h * w];
        let (mut sx, mut sy, mut count) = (0.0, 0.0, 0);
        for (p, &v) in plane.iter().enumerate() {
            // Noise-free frames hold the brightness (>= 0.5) or the background (< 0.2).
            if v > 0.35 {
                sx += (p % w) as f32;
                sy += (p / w) as f32;
                count += 1;
            }
        }
        (sx / count.max(1) as f32, sy / count.max(1) as f32, count)
    }

    #[test]
    fn objects_move_in_the_labelled_direction_and_stay_inside() {
        let data =
            MovingShapesDataset::new(MovingShapesConfig::new(40).with_noise(0.0).with_seed(3));
        for i in 0..40 {
            let item = data.get(i).unwrap();
            assert_eq!(item.label, i % 4);
            let frames = item.shape[0];
            let (x0, y0, area) = bright(&item, 0);
            let (x1, y1, _) = bright(&item, frames - 1);
            assert!(area > 0, "item {i} has an empty shape");
            for t in 0..frames {
                assert_eq!(
                    bright(&item, t).2,
                    area,
                    "item {i}, frame {t}: the shape is clipped"
                );
            }
            let (dx, dy) = Motion::ALL[item.label].direction();
            let (moved_x, moved_y) = (x1 - x0, y1 - y0);
            assert!(
                moved_x * dx as f32 >= 0.0 && moved_y * dy as f32 >= 0.0,
                "item {i} moved ({moved_x}, {moved_y})"
            );
            let (along, across) = if dx != 0 {
                (moved_x, moved_y)
            } else {
                (moved_y, moved_x)
            };
            assert!(
                along.abs() >= 8.0 && across == 0.0,
                "item {i} moved ({moved_x}, {moved_y})"
            );
        }
        assert!(data.get(40).is_none());
        assert_eq!(
            MovingShapesDataset::class_names(),
            ["right", "left", "down", "up"]
        );
    }

    #[test]
    fn batches_are_n_t_c_h_w() {
        let data = MovingShapesDataset::new(
            MovingShapesConfig::new(3)
                .with_frames(4)
                .with_image_size(16)
                .with_channels(2),
        );
        let items: Vec<_> = (0..3).map(|i| data.get(i).unwrap()).collect();
        let batch = VideoBatcher.batch(items.clone(), &Device::flex());
        assert_eq!(batch.videos.dims(), [3, 4, 2, 16, 16]);
        let values = batch.videos.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(
            values[values.len() / 3..][..items[1].frames.len()],
            items[1].frames[..]
        );
        assert_eq!(
            batch.targets.into_data().iter::<i64>().collect::<Vec<_>>(),
            [0, 1, 2]
        );
    }

    proptest! {
        #[test]
        fn deterministic_and_in_range(seed in 0u64..1000, index in 0usize..20, size in 16usize..40, frames in 2usize..6) {
            let config = MovingShapesConfig::new(20).with_seed(seed).with_image_size(size).with_frames(frames);
            let a = MovingShapesDataset::new(config.clone()).get(index).unwrap();
            prop_assert_eq!(&a, &MovingShapesDataset::new(config.clone()).get(index).unwrap());
            prop_assert_ne!(&a.frames, &MovingShapesDataset::new(config.with_seed(seed + 1)).get(index).unwrap().frames);
            prop_assert_eq!(a.shape, [frames, 1, size, size]);
            prop_assert_eq!(a.frames.len(), frames * size * size);
            prop_assert!(a.frames.iter().all(|p| (0.0..=1.0).contains(p)));
        }
    }
}
