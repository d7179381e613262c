//! Synthetic skeleton sequences: a 3-D stick figure performing one of five periodic actions.
//!
//! Input for skeleton-based action recognition with graph convolutions over the joints
//! (SkateFormer: Do & Kim 2024, "SkateFormer: Skeletal-Temporal Transformer for Human Action
//! Recognition"; ST-GCN and the NTU-RGB+D data). NTU-RGB+D tensors are `[N, C, T, V, M]`
//! (batch, coordinates, frames, joints, persons); here there is one person, so `M` is dropped:
//! an item is `[C = 3, T, V]` and a batch `[N, C, T, V]`.
//!
//! The figure has [`NUM_JOINTS`] = 15 joints ([`JOINT_NAMES`]) in a tree ([`PARENTS`], root
//! the pelvis; [`bones`], [`adjacency`] for graph convolutions). Coordinates are in metres:
//! `x` to the figure's left, `y` up, `z` forward, feet on `y = 0` at rest. Poses come from
//! forward kinematics: each bone is its rest vector rotated by the product of the joint
//! rotations from the root down, so bone lengths are the same in every frame (a rigid
//! skeleton) up to the added noise.
//!
//! Item `i` of [`SkeletonDataset`] has label `i mod 5` ([`Action`]) and is drawn from its own
//! generator seeded by `(seed, i)`: a cycle of 8 to 16 frames with a random phase, an
//! amplitude of 0.8 to 1.2 times the nominal one, a body scale of 0.85 to 1.15, a facing
//! direction within ±0.5 rad and a floor position within ±0.3 m, plus Gaussian noise of
//! standard deviation `noise` on every coordinate.

use burn::config::Config;
use burn::tensor::{Device, Int, Tensor};
use rand::RngExt;

use crate::dataset::stack_labelled;
use crate::random::{gaussian, item_rng};
use crate::{Batcher, Dataset};

/// Joints of the stick figure.
pub const NUM_JOINTS: usize = 15;

/// Joint names in index order.
pub const JOINT_NAMES: [&str; NUM_JOINTS] = [
    "pelvis",
    "neck",
    "head",
    "left_shoulder",
    "left_elbow",
    "left_hand",
    "right_shoulder",
    "right_elbow",
    "right_hand",
    "left_hip",
    "left_knee",
    "left_foot",
    "right_hip",
    "right_knee",
    "right_foot",
];

/// The parent of each joint (`None` for the root, the pelvis); parents come before their
/// children.
pub const PARENTS: [Option<usize>; NUM_JOINTS] = [
    None,
    Some(PELVIS),
    Some(NECK),
    Some(NECK),
    Some(LEFT_SHOULDER),
    Some(LEFT_ELBOW),
    Some(NECK),
    Some(RIGHT_SHOULDER),
    Some(RIGHT_ELBOW),
    Some(PELVIS),
    Some(LEFT_HIP),
    Some(LEFT_KNEE),
    Some(PELVIS),
    Some(RIGHT_HIP),
    Some(RIGHT_KNEE),
];

const PELVIS: usize = 0;
const NECK: usize = 1;
const LEFT_SHOULDER: usize = 3;
const LEFT_ELBOW: usize = 4;
const LEFT_HAND: usize = 5;
const RIGHT_SHOULDER: usize = 6;
const RIGHT_ELBOW: usize = 7;
const RIGHT_HAND: usize = 8;
const LEFT_HIP: usize = 9;
const LEFT_KNEE: usize = 10;
const LEFT_FOOT: usize = 11;
const RIGHT_HIP: usize = 12;
const RIGHT_KNEE: usize = 13;
const RIGHT_FOOT: usize = 14;

/// Rest pose: each joint's offset from its parent (the pelvis: its position), at scale 1.
const REST: [[f32; 3]; NUM_JOINTS] = [
    [0.0, PELVIS_HEIGHT, 0.0],
    [0.0, 0.55, 0.0],
    [0.0, 0.2, 0.0],
    [0.18, 0.0, 0.0],
    [0.0, -0.3, 0.0],
    [0.0, -0.28, 0.0],
    [-0.18, 0.0, 0.0],
    [0.0, -0.3, 0.0],
    [0.0, -0.28, 0.0],
    [0.1, -0.05, 0.0],
    [0.0, -LEG, 0.0],
    [0.0, -LEG, 0.0],
    [-0.1, -0.05, 0.0],
    [0.0, -LEG, 0.0],
    [0.0, -LEG, 0.0],
];

/// Thigh and shin length.
const LEG: f32 = 0.45;
/// Pelvis height at rest: hips 0.05 below it, two leg segments down to the floor.
const PELVIS_HEIGHT: f32 = 0.05 + 2.0 * LEG;

/// The bones as `(child, parent)` pairs, in child order (14 for 15 joints).
pub fn bones() -> Vec<(usize, usize)> {
    PARENTS
        .iter()
        .enumerate()
        .filter_map(|(child, parent)| Some((child, (*parent)?)))
        .collect()
}

/// The joint adjacency matrix `[V, V]` row-major: 1 between the two ends of a bone (both
/// directions), and on the diagonal when `self_loops`.
pub fn adjacency(self_loops: bool) -> Vec<f32> {
    let mut a = vec![0.0; NUM_JOINTS * NUM_JOINTS];
    for (child, parent) in bones() {
        a[child * NUM_JOINTS + parent] = 1.0;
        a[parent * NUM_JOINTS + child] = 1.0;
    }
    if self_loops {
        for v in 0..NUM_JOINTS {
            a[v * NUM_JOINTS + v] = 1.0;
        }
    }
    a
}

/// The classes of [`SkeletonDataset`], in label order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Label 0: right arm raised, forearm swinging side to side.
    WaveRight,
    /// Label 1: the mirror image.
    WaveLeft,
    /// Label 2: crouch, jump with the arms up, land.
    Jump,
    /// Label 3: knees bend and straighten with the arms forward; feet stay on the floor.
    Squat,
    /// Label 4: knees lifted in turn, arms swinging against the legs.
    WalkInPlace,
}

impl Action {
    /// All classes in label order.
    pub const ALL: [Action; 5] = [
        Action::WaveRight,
        Action::WaveLeft,
        Action::Jump,
        Action::Squat,
        Action::WalkInPlace,
    ];

    /// The class name.
    pub fn name(self) -> &'static str {
        match self {
            Action::WaveRight => "wave right hand",
            Action::WaveLeft => "wave left hand",
            Action::Jump => "jump",
            Action::Squat => "squat",
            Action::WalkInPlace => "walk in place",
        }
    }
}

/// Configuration of [`SkeletonDataset`].
#[derive(Config, Debug)]
pub struct SkeletonConfig {
    /// Number of sequences.
    pub len: usize,
    /// Frames per sequence (at least 2).
    #[config(default = 32)]
    pub frames: usize,
    /// Standard deviation of the Gaussian noise on each coordinate, in metres.
    #[config(default = 0.01)]
    pub noise: f32,
    /// Seed: the same seed gives the same sequences.
    #[config(default = 0)]
    pub seed: u64,
}

/// One skeleton sequence with its class label.
#[derive(Debug, Clone, PartialEq)]
pub struct SkeletonItem {
    /// Coordinates in `[C = 3, T, V]` order (row-major): `coords[(c * T + t) * V + v]` is
    /// coordinate `c` (x, y, z) of joint `v` in frame `t`.
    pub coords: Vec<f32>,
    /// `[3, T, V]`.
    pub shape: [usize; 3],
    /// Class index ([`Action`] for [`SkeletonDataset`]).
    pub label: usize,
}

/// Deterministic synthetic skeleton sequences of five actions (see the module documentation).
#[derive(Debug, Clone)]
pub struct SkeletonDataset {
    config: SkeletonConfig,
}

type Mat3 = [[f32; 3]; 3];

fn matmul(a: &Mat3, b: &Mat3) -> Mat3 {
    std::array::from_fn(|i| std::array::from_fn(|j| (0..3).map(|k| a[i][k] * b[k][j]).sum()))
}

fn apply(m: &Mat3, v: [f32; 3]) -> [f32; 3] {
    std::array::from_fn(|i| (0..3).map(|k| m[i][k] * v[k]).sum())
}

fn rot_x(a: f32) -> Mat3 {
    let (s, c) = a.sin_cos();
    [[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]]
}

fn rot_y(a: f32) -> Mat3 {
    let (s, c) = a.sin_cos();
    [[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]]
}

fn rot_z(a: f32) -> Mat3 {
    let (s, c) = a.sin_cos();
    [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
}

/// Joint angles of one frame. The bone ending at joint `j` (and all below it) is flexed
/// forward by `flex[j]` (negative: backwards, as a knee) and then raised sideways away from
/// the body by `raise[j]`; `lift` moves the pelvis up (negative: down).
struct Pose {
    flex: [f32; NUM_JOINTS],
    raise: [f32; NUM_JOINTS],
    lift: f32,
}

/// How far the pelvis drops when the thigh flexes by `a` and the shin by `-2a` (the foot
/// stays under the hip).
fn crouch_drop(a: f32) -> f32 {
    2.0 * LEG * (1.0 - a.cos())
}

impl Pose {
    fn new(action: Action, phase: f32, amplitude: f32) -> Pose {
        let mut flex = [0.0; NUM_JOINTS];
        let mut raise = [0.0; NUM_JOINTS];
        let mut lift = 0.0;
        // Arms hang slightly away from the body with the elbows a little bent.
        raise[LEFT_ELBOW] = 0.15;
        raise[RIGHT_ELBOW] = 0.15;
        flex[LEFT_HAND] = 0.2;
        flex[RIGHT_HAND] = 0.2;
        let s = phase.sin();
        match action {
            Action::WaveRight | Action::WaveLeft => {
                let (elbow, hand) = if action == Action::WaveRight {
                    (RIGHT_ELBOW, RIGHT_HAND)
                } else {
                    (LEFT_ELBOW, LEFT_HAND)
                };
                raise[elbow] = 2.6;
                flex[hand] = 0.0;
                raise[hand] = 0.3 + 0.7 * amplitude * s;
            }
            Action::Jump => {
                let air = s.max(0.0);
                let crouch = 0.7 * (-s).max(0.0);
                for (hip, knee) in [(LEFT_KNEE, LEFT_FOOT), (RIGHT_KNEE, RIGHT_FOOT)] {
                    flex[hip] = crouch;
                    flex[knee] = -2.0 * crouch;
                }
                flex[LEFT_ELBOW] = 2.8 * air;
                flex[RIGHT_ELBOW] = 2.8 * air;
                lift = 0.3 * amplitude * air - crouch_drop(crouch);
            }
            Action::Squat => {
                let bend = 1.1 * amplitude * (1.0 - phase.cos()) / 2.0;
                for (hip, knee) in [(LEFT_KNEE, LEFT_FOOT), (RIGHT_KNEE, RIGHT_FOOT)] {
                    flex[hip] = bend;
                    flex[knee] = -2.0 * bend;
                }
                flex[LEFT_ELBOW] = 1.3 * bend;
                flex[RIGHT_ELBOW] = 1.3 * bend;
                lift = -crouch_drop(bend);
            }
            Action::WalkInPlace => {
                for (hip, knee, up) in [
                    (LEFT_KNEE, LEFT_FOOT, s.max(0.0)),
                    (RIGHT_KNEE, RIGHT_FOOT, (-s).max(0.0)),
                ] {
                    flex[hip] = 0.9 * amplitude * up;
                    flex[knee] = -1.6 * amplitude * up;
                }
                flex[LEFT_ELBOW] = -0.5 * amplitude * s;
                flex[RIGHT_ELBOW] = 0.5 * amplitude * s;
            }
        }
        Pose { flex, raise, lift }
    }

    /// Joint positions by forward kinematics.
    fn positions(&self, scale: f32, facing: &Mat3, origin: [f32; 2]) -> [[f32; 3]; NUM_JOINTS] {
        let mut position = [[0.0; 3]; NUM_JOINTS];
        let mut rotation = [*facing; NUM_JOINTS];
        position[PELVIS] = [origin[0], scale * (PELVIS_HEIGHT + self.lift), origin[1]];
        for joint in 1..NUM_JOINTS {
            let Some(parent) = PARENTS[joint] else {
                continue;
            };
            // Left limbs hang at +x: raising them away from the body is a positive turn about
            // z, for right limbs a negative one.
            let away = if JOINT_NAMES[joint].starts_with("right") {
                -1.0
            } else {
                1.0
            };
            let local = matmul(&rot_z(away * self.raise[joint]), &rot_x(-self.flex[joint]));
            rotation[joint] = matmul(&rotation[parent], &local);
            let bone = apply(&rotation[joint], REST[joint].map(|c| scale * c));
            position[joint] = std::array::from_fn(|c| position[parent][c] + bone[c]);
        }
        position
    }
}

impl SkeletonDataset {
    /// Creates the dataset; `frames` is raised to at least 2.
    pub fn new(mut config: SkeletonConfig) -> Self {
        config.frames = config.frames.max(2);
        SkeletonDataset { config }
    }

    /// Class names in label order.
    pub fn class_names() -> Vec<String> {
        Action::ALL.iter().map(|a| a.name().to_string()).collect()
    }
}

impl Dataset for SkeletonDataset {
    type Item = SkeletonItem;

    fn len(&self) -> usize {
        self.config.len
    }

    fn get(&self, index: usize) -> Option<SkeletonItem> {
        if index >= self.config.len {
            return None;
        }
        let mut rng = item_rng(self.config.seed, index);
        let label = index % Action::ALL.len();
        let period: f32 = rng.random_range(8.0..16.0);
        let phase0 = rng.random_range(0.0..std::f32::consts::TAU);
        let amplitude = rng.random_range(0.8..1.2);
        let scale = rng.random_range(0.85..1.15);
        let facing = rot_y(rng.random_range(-0.5..0.5));
        let origin = [rng.random_range(-0.3..0.3), rng.random_range(-0.3..0.3)];
        let t_len = self.config.frames;
        let mut coords = vec![0.0; 3 * t_len * NUM_JOINTS];
        for t in 0..t_len {
            let phase = phase0 + std::f32::consts::TAU * t as f32 / period;
            let joints =
                Pose::new(Action::ALL[label], phase, amplitude).positions(scale, &facing, origin);
            for (v, joint) in joints.iter().enumerate() {
                for (c, &value) in joint.iter().enumerate() {
                    coords[(c * t_len + t) * NUM_JOINTS + v] =
                        value + self.config.noise * gaussian(&mut rng);
                }
            }
        }
        Some(SkeletonItem {
            coords,
            shape: [3, t_len, NUM_JOINTS],
            label,
        })
    }
}

/// A batch of skeleton sequences and labels.
#[derive(Debug, Clone)]
pub struct SkeletonBatch {
    /// `[N, C, T, V]`.
    pub coords: Tensor<4>,
    /// `[N]` class indices.
    pub targets: Tensor<1, Int>,
}

/// Stacks [`SkeletonItem`]s of one shape into a [`SkeletonBatch`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SkeletonBatcher;

impl Batcher<SkeletonItem> for SkeletonBatcher {
    type Batch = SkeletonBatch;

    /// # Panics
    /// If the items have different shapes: datasets make items of one shape, so this is a
    /// programming error.
    fn batch(&self, items: Vec<SkeletonItem>, device: &Device) -> SkeletonBatch {
        let (coords, targets) = stack_labelled(
            &items,
            "sequences",
            |item| (item.shape, item.label),
            |item, out| out.extend_from_slice(&item.coords),
            device,
        );
        SkeletonBatch { coords, targets }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Joint `v` of frame `t`.
    fn joint(item: &SkeletonItem, t: usize, v: usize) -> [f32; 3] {
        let [_, frames, joints] = item.shape;
        std::array::from_fn(|c| item.coords[(c * frames + t) * joints + v])
    }

    fn clean(len: usize) -> SkeletonDataset {
        SkeletonDataset::new(SkeletonConfig::new(len).with_noise(0.0).with_seed(11))
    }

    #[test]
    fn skeleton_graph() {
        let bones = bones();
        assert_eq!(bones.len(), NUM_JOINTS - 1);
        assert!(bones.iter().all(|&(child, parent)| parent < child));
        let a = adjacency(true);
        assert_eq!(a.iter().sum::<f32>(), (2 * bones.len() + NUM_JOINTS) as f32);
        assert_eq!(a[RIGHT_HAND * NUM_JOINTS + RIGHT_ELBOW], 1.0);
        assert_eq!(adjacency(false)[0], 0.0);
    }

    #[test]
    fn deterministic_with_the_documented_layout() {
        let config = SkeletonConfig::new(10).with_seed(4).with_frames(12);
        let a = SkeletonDataset::new(config.clone()).get(7).unwrap();
        assert_eq!(a, SkeletonDataset::new(config.clone()).get(7).unwrap());
        assert_ne!(
            a.coords,
            SkeletonDataset::new(config.with_seed(5))
                .get(7)
                .unwrap()
                .coords
        );
        assert_eq!(a.shape, [3, 12, NUM_JOINTS]);
        assert_eq!(a.label, 2);
        assert!(
            SkeletonDataset::new(SkeletonConfig::new(10))
                .get(10)
                .is_none()
        );
    }

    #[test]
    fn bones_keep_their_length() {
        let data = clean(10);
        for i in 0..10 {
            let item = data.get(i).unwrap();
            for (child, parent) in bones() {
                let length = |t| {
                    let (a, b) = (joint(&item, t, child), joint(&item, t, parent));
                    (0..3).map(|c| (a[c] - b[c]).powi(2)).sum::<f32>().sqrt()
                };
                let first = length(0);
                assert!(first > 0.05, "item {i}, bone {child}: length {first}");
                for t in 1..item.shape[1] {
                    assert!(
                        (length(t) - first).abs() < 1e-4,
                        "item {i}, bone {child}, frame {t}"
                    );
                }
            }
        }
    }

    #[test]
    fn actions_move_different_joints() {
        let data = clean(25);
        for i in 0..25 {
            let item = data.get(i).unwrap();
            let frames = item.shape[1];
            let series = |v: usize, c: usize| {
                (0..frames)
                    .map(|t| joint(&item, t, v)[c])
                    .collect::<Vec<_>>()
            };
            let spread = |v: usize| {
                (0..3)
                    .map(|c| {
                        let s = series(v, c);
                        let mean = s.iter().sum::<f32>() / frames as f32;
                        s.iter().map(|x| (x - mean).powi(2)).sum::<f32>()
                    })
                    .sum::<f32>()
            };
            let most_moving = (0..NUM_JOINTS)
                .max_by(|&a, &b| spread(a).total_cmp(&spread(b)))
                .unwrap();
            let pelvis_y = series(PELVIS, 1);
            let (low, high) = pelvis_y
                .iter()
                .fold((f32::MAX, f32::MIN), |(l, h), &y| (l.min(y), h.max(y)));
            let rest = pelvis_y.iter().copied().fold(f32::MIN, f32::max);
            match Action::ALL[item.label] {
                Action::WaveRight => assert_eq!(most_moving, RIGHT_HAND, "item {i}"),
                Action::WaveLeft => assert_eq!(most_moving, LEFT_HAND, "item {i}"),
                Action::Jump => {
                    assert!(
                        high - low > 0.2,
                        "item {i}: the pelvis moves {}",
                        high - low
                    );
                    let airborne = (0..frames).any(|t| {
                        joint(&item, t, LEFT_FOOT)[1] > 0.1 && joint(&item, t, RIGHT_FOOT)[1] > 0.1
                    });
                    assert!(airborne, "item {i}: both feet never leave the floor");
                }
                Action::Squat => {
                    assert!(
                        rest - low > 0.2,
                        "item {i}: the pelvis drops {}",
                        rest - low
                    );
                    for t in 0..frames {
                        for foot in [LEFT_FOOT, RIGHT_FOOT] {
                            assert!(
                                joint(&item, t, foot)[1].abs() < 1e-4,
                                "item {i}: feet stay on the floor"
                            );
                        }
                    }
                }
                Action::WalkInPlace => {
                    let (l, r) = (series(LEFT_FOOT, 1), series(RIGHT_FOOT, 1));
                    let mean = |s: &[f32]| s.iter().sum::<f32>() / frames as f32;
                    let (ml, mr) = (mean(&l), mean(&r));
                    let covariance: f32 = l.iter().zip(&r).map(|(a, b)| (a - ml) * (b - mr)).sum();
                    assert!(covariance < 0.0, "item {i}: the feet should lift in turn");
                    assert!(high - low < 1e-4, "item {i}: the pelvis stays level");
                }
            }
        }
    }

    #[test]
    fn batches_are_n_c_t_v() {
        let data = SkeletonDataset::new(SkeletonConfig::new(4).with_frames(6));
        let items: Vec<_> = (0..4).map(|i| data.get(i).unwrap()).collect();
        let batch = SkeletonBatcher.batch(items.clone(), &Device::flex());
        assert_eq!(batch.coords.dims(), [4, 3, 6, NUM_JOINTS]);
        let values = batch.coords.into_data().try_to_vec::<f32>().unwrap();
        assert_eq!(values[3 * items[3].coords.len()..], items[3].coords[..]);
        assert_eq!(
            batch.targets.into_data().iter::<i64>().collect::<Vec<_>>(),
            [0, 1, 2, 3]
        );
        assert_eq!(SkeletonDataset::class_names()[4], "walk in place");
    }
}
