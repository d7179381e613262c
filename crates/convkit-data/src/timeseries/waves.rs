//! Synthetic wave classes: sine, chirp and square waves with noise, missing values and
//! optional irregular sampling, deterministic by seed.
//!
//! For tests, demos and benchmarks of temporal models (TCNs, DTW, GP interpolation of
//! irregular series) without downloads. Item `i` has class `i mod 3` ([`WaveClass`]) and is drawn
//! from its own generator seeded by `(seed, i)`, so any item can be made alone, in any order.
//! Each channel gets its own random amplitude (0.5–1.5), phase and frequency, over the series
//! position `u = t / length` in `[0, 1)`:
//!
//! - sine: `a·sin(2π f u + φ)`, `f` 2–5 cycles per series;
//! - chirp: `a·sin(2π (f₀ u + (f₁ − f₀) u² / 2) + φ)`, frequency rising from `f₀` (1–2) to
//!   `f₁` (8–12): crossings grow denser along the series;
//! - square: `a·sign(sin(2π f u + φ))`, `f` 2–5: the sine's frequencies, flat tops.
//!
//! plus Gaussian noise of standard deviation `noise`. [`Dataset::get`] samples the regular grid
//! `t = 0, 1, …, length − 1`, keeping each step with probability `keep_fraction` (a dropped
//! step is `NaN` in every channel: irregular sampling on a grid) and each kept value with
//! probability `1 − missing_fraction`. [`WavesDataset::irregular`] samples the same waves at
//! `round(keep_fraction · length)` (at least 1) uniformly random times in `[0, length)`, each
//! channel's value dropped with probability `missing_fraction`.

use burn::config::Config;
use rand::RngExt;
use rand::rngs::StdRng;

use super::{
    IrregularSeries, IrregularSet, Series, Target, Targets, TimeSeriesItem, TimeSeriesSet,
};
use crate::Dataset;
use crate::random::{gaussian, item_rng};

/// The classes of [`WavesDataset`], in label order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaveClass {
    /// Label 0: a sine of constant frequency.
    Sine,
    /// Label 1: a linear chirp, frequency rising along the series.
    Chirp,
    /// Label 2: a square wave.
    Square,
}

impl WaveClass {
    /// All classes in label order.
    pub const ALL: [WaveClass; 3] = [WaveClass::Sine, WaveClass::Chirp, WaveClass::Square];

    /// The class name.
    pub fn name(self) -> &'static str {
        match self {
            WaveClass::Sine => "sine",
            WaveClass::Chirp => "chirp",
            WaveClass::Square => "square",
        }
    }
}

/// Configuration of [`WavesDataset`].
#[derive(Config, Debug)]
pub struct WavesConfig {
    /// Number of series.
    pub len: usize,
    /// Time steps of the regular grid (at least 4).
    #[config(default = 128)]
    pub length: usize,
    /// Channels (at least 1); each has its own wave of the item's class.
    #[config(default = 1)]
    pub channels: usize,
    /// Standard deviation of the additive Gaussian noise.
    #[config(default = 0.1)]
    pub noise: f32,
    /// Seed: the same seed gives the same series.
    #[config(default = 0)]
    pub seed: u64,
    /// Fraction of time steps observed, in `[0, 1]`: the probability that a grid step is kept
    /// by [`Dataset::get`], and the number of random times of [`WavesDataset::irregular`] as a
    /// fraction of `length`. 1 samples the full regular grid.
    #[config(default = 1.0)]
    pub keep_fraction: f32,
    /// Probability in `[0, 1]` that an observed value is missing.
    #[config(default = 0.0)]
    pub missing_fraction: f32,
}

/// Deterministic synthetic series of three wave classes, balanced (label = index mod 3); items
/// are generated on access. See the [module docs](self).
#[derive(Debug, Clone)]
pub struct WavesDataset {
    config: WavesConfig,
}

/// The wave of one channel.
struct Wave {
    class: WaveClass,
    amplitude: f64,
    phase: f64,
    start_frequency: f64,
    end_frequency: f64,
}

impl Wave {
    fn draw(class: WaveClass, rng: &mut StdRng) -> Self {
        let amplitude = rng.random_range(0.5..1.5);
        let phase = rng.random_range(0.0..std::f64::consts::TAU);
        let (start_frequency, end_frequency) = match class {
            WaveClass::Chirp => (rng.random_range(1.0..2.0), rng.random_range(8.0..12.0)),
            WaveClass::Sine | WaveClass::Square => {
                let f = rng.random_range(2.0..5.0);
                (f, f)
            }
        };
        Wave {
            class,
            amplitude,
            phase,
            start_frequency,
            end_frequency,
        }
    }

    /// The noiseless value at position `u` in `[0, 1)`.
    fn at(&self, u: f64) -> f64 {
        let cycles =
            self.start_frequency * u + (self.end_frequency - self.start_frequency) * u * u / 2.0;
        let s = (std::f64::consts::TAU * cycles + self.phase).sin();
        let shape = match self.class {
            WaveClass::Sine | WaveClass::Chirp => s,
            WaveClass::Square => {
                if s >= 0.0 {
                    1.0
                } else {
                    -1.0
                }
            }
        };
        self.amplitude * shape
    }
}

impl WavesDataset {
    /// Creates the dataset; `length` is raised to at least 4, `channels` to 1, and the
    /// fractions are clamped to `[0, 1]` (`NaN` reads as 1 for `keep_fraction`, 0 for
    /// `missing_fraction`).
    pub fn new(mut config: WavesConfig) -> Self {
        config.length = config.length.max(4);
        config.channels = config.channels.max(1);
        config.keep_fraction = if config.keep_fraction.is_nan() {
            1.0
        } else {
            config.keep_fraction.clamp(0.0, 1.0)
        };
        config.missing_fraction = if config.missing_fraction.is_nan() {
            0.0
        } else {
            config.missing_fraction.clamp(0.0, 1.0)
        };
        WavesDataset { config }
    }

    /// The configuration in use (after [`WavesDataset::new`]'s adjustments).
    pub fn config(&self) -> &WavesConfig {
        &self.config
    }

    /// Class names in label order.
    pub fn class_names() -> Vec<String> {
        WaveClass::ALL
            .iter()
            .map(|c| c.name().to_string())
            .collect()
    }

    /// Channel names of [`WavesDataset::irregular_set`]: `x0`, `x1`, ...
    pub fn channel_names(&self) -> Vec<String> {
        (0..self.config.channels).map(|c| format!("x{c}")).collect()
    }

    fn rng(&self, index: usize) -> StdRng {
        item_rng(self.config.seed, index)
    }

    /// The generator of item `index` and its waves, one per channel.
    fn waves(&self, index: usize) -> (StdRng, Vec<Wave>) {
        let mut rng = self.rng(index);
        let class = WaveClass::ALL[index % 3];
        let waves = (0..self.config.channels)
            .map(|_| Wave::draw(class, &mut rng))
            .collect();
        (rng, waves)
    }

    fn noisy(&self, wave: &Wave, t: f64, rng: &mut StdRng) -> f32 {
        wave.at(t / self.config.length as f64) as f32 + self.config.noise * gaussian(rng)
    }

    /// Item `index` sampled at random times (see the [module docs](self)); `None` when out of
    /// range. The id is the index.
    pub fn irregular(&self, index: usize) -> Option<IrregularSeries> {
        if index >= self.config.len {
            return None;
        }
        let (mut rng, waves) = self.waves(index);
        let length = self.config.length as f64;
        let count =
            ((self.config.length as f32 * self.config.keep_fraction).round() as usize).max(1);
        let mut times: Vec<f64> = (0..count).map(|_| rng.random::<f64>() * length).collect();
        times.sort_by(f64::total_cmp);
        let mut series = IrregularSeries {
            id: index.to_string(),
            times: Vec::new(),
            channel: Vec::new(),
            values: Vec::new(),
        };
        for &t in &times {
            for (c, wave) in waves.iter().enumerate() {
                if rng.random::<f32>() < self.config.missing_fraction {
                    continue;
                }
                series.times.push(t);
                series.channel.push(c);
                series.values.push(self.noisy(wave, t, &mut rng));
            }
        }
        Some(series)
    }

    /// All items sampled at random times, labelled.
    pub fn irregular_set(&self) -> IrregularSet {
        let series = (0..self.config.len)
            .filter_map(|i| self.irregular(i))
            .collect();
        IrregularSet::new(series, self.channel_names(), self.targets())
            .expect("generated series are sorted, finite and within the channel count")
    }

    /// All items on the regular grid, in memory (e.g. to write them as a UCR or `.ts` file).
    pub fn to_set(&self) -> TimeSeriesSet {
        let series = (0..self.config.len)
            .filter_map(|i| self.get(i))
            .map(|item| item.series)
            .collect();
        TimeSeriesSet::new(series, self.targets())
            .expect("generated series share one channel count")
    }

    fn targets(&self) -> Targets {
        Targets::Classes {
            labels: (0..self.config.len).map(|i| i % 3).collect(),
            classes: Self::class_names(),
        }
    }
}

impl Dataset for WavesDataset {
    type Item = TimeSeriesItem;

    fn len(&self) -> usize {
        self.config.len
    }

    fn get(&self, index: usize) -> Option<TimeSeriesItem> {
        if index >= self.config.len {
            return None;
        }
        let (mut rng, waves) = self.waves(index);
        let n = self.config.length;
        let kept: Vec<bool> = (0..n)
            .map(|_| rng.random::<f32>() < self.config.keep_fraction)
            .collect();
        let mut values = Vec::with_capacity(self.config.channels * n);
        for wave in &waves {
            for (t, &keep) in kept.iter().enumerate() {
                let missing = !keep || rng.random::<f32>() < self.config.missing_fraction;
                values.push(if missing {
                    f32::NAN
                } else {
                    self.noisy(wave, t as f64, &mut rng)
                });
            }
        }
        Some(TimeSeriesItem {
            series: Series::new(self.config.channels, values)?,
            target: Target::Class(index % 3),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bits(item: &TimeSeriesItem) -> Vec<u32> {
        item.series.values().iter().map(|v| v.to_bits()).collect()
    }

    /// Kurtosis `E[(x-μ)⁴] / σ⁴`: 1.5 for a sine, 1 for a square wave (at noise 0.1: at least
    /// 1.46 for sines and chirps, at most 1.26 for squares over seeds 0-5).
    fn kurtosis(x: &[f32]) -> f64 {
        let n = x.len() as f64;
        let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let m2 = x
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        let m4 = x
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(4))
            .sum::<f64>()
            / n;
        m4 / (m2 * m2)
    }

    /// Sign changes of the 5-step moving average in the second half minus those in the first:
    /// -1 to 1 for a sine, 2 to 6 for a chirp (at noise 0.1, seeds 0-5, 300 items each).
    fn crossing_growth(x: &[f32]) -> i64 {
        let smooth: Vec<f32> = x.windows(5).map(|w| w.iter().sum::<f32>() / 5.0).collect();
        let half = smooth.len() / 2;
        let crossings = |s: &[f32]| {
            s.windows(2)
                .filter(|w| (w[0] >= 0.0) != (w[1] >= 0.0))
                .count() as i64
        };
        crossings(&smooth[half..]) - crossings(&smooth[..half])
    }

    #[test]
    fn classes_balance_and_have_the_configured_shape() {
        let data = WavesDataset::new(WavesConfig::new(30).with_channels(2).with_length(50));
        let mut counts = [0; 3];
        for i in 0..30 {
            let item = data.get(i).unwrap();
            assert_eq!((item.series.channels(), item.series.length()), (2, 50));
            assert_eq!(item.series.missing(), 0, "no missing values by default");
            let Target::Class(label) = item.target else {
                panic!("labelled")
            };
            counts[label] += 1;
        }
        assert_eq!(counts, [10, 10, 10]);
        assert!(data.get(30).is_none() && data.irregular(30).is_none());
        assert_eq!(data.to_set().classes(), ["sine", "chirp", "square"]);
    }

    #[test]
    fn a_trivial_feature_separates_the_classes() {
        let data = WavesDataset::new(WavesConfig::new(300).with_seed(3));
        let mut correct = 0;
        for i in 0..300 {
            let item = data.get(i).unwrap();
            let x = item.series.values();
            let predicted = if kurtosis(x) < 1.35 {
                WaveClass::Square
            } else if crossing_growth(x) >= 2 {
                WaveClass::Chirp
            } else {
                WaveClass::Sine
            };
            correct += usize::from(predicted == WaveClass::ALL[i % 3]);
        }
        assert!(
            correct >= 294,
            "kurtosis + crossing growth classify only {correct}/300"
        );
    }

    #[test]
    fn missing_and_keep_fractions_are_honoured() {
        let count_missing = |config: WavesConfig| {
            let data = WavesDataset::new(config.with_length(100));
            let missing: usize = (0..60).map(|i| data.get(i).unwrap().series.missing()).sum();
            missing as f64 / (60.0 * 100.0 * data.config().channels as f64)
        };
        let m = count_missing(WavesConfig::new(60).with_missing_fraction(0.3));
        assert!((m - 0.3).abs() < 0.03, "missing fraction {m}");
        let k = count_missing(
            WavesConfig::new(60)
                .with_keep_fraction(0.4)
                .with_channels(2),
        );
        assert!((k - 0.6).abs() < 0.03, "dropped fraction {k}");
        let data = WavesDataset::new(
            WavesConfig::new(60)
                .with_length(100)
                .with_channels(2)
                .with_keep_fraction(0.5)
                .with_missing_fraction(0.2),
        );
        let observations: usize = (0..60).map(|i| data.irregular(i).unwrap().len()).sum();
        let expected = 60.0 * 50.0 * 2.0 * 0.8;
        assert!(
            (observations as f64 / expected - 1.0).abs() < 0.05,
            "{observations} observations"
        );
    }

    #[test]
    fn irregular_series_follow_the_same_waves() {
        let config = WavesConfig::new(9)
            .with_length(64)
            .with_noise(0.0)
            .with_keep_fraction(0.5);
        let data = WavesDataset::new(config);
        let set = data.irregular_set();
        assert_eq!(set.series().len(), 9);
        assert_eq!(set.channel_names(), ["x0"]);
        for (i, s) in set.series().iter().enumerate() {
            assert_eq!(s.len(), 32);
            assert!(s.times.windows(2).all(|w| w[0] <= w[1]));
            assert!(s.times.iter().all(|&t| (0.0..64.0).contains(&t)));
            let amplitude = s.values.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(
                (0.3..=1.5).contains(&amplitude),
                "item {i}: amplitude {amplitude}"
            );
            if i % 3 == 2 {
                let first = s.values[0].abs();
                assert!(
                    s.values.iter().all(|v| (v.abs() - first).abs() < 1e-6),
                    "square waves have one level"
                );
            }
        }
        let dense = set.to_dense(1.0).unwrap();
        assert_eq!(dense.labels().unwrap()[..3], [0, 1, 2]);
    }

    proptest! {
        #[test]
        fn deterministic_per_seed_and_index(seed in 0u64..1000, index in 0usize..20, channels in 1usize..4) {
            let config = WavesConfig::new(20).with_seed(seed).with_channels(channels)
                .with_length(40).with_missing_fraction(0.1).with_keep_fraction(0.7);
            let a = WavesDataset::new(config.clone());
            let b = WavesDataset::new(config.clone());
            prop_assert_eq!(bits(&a.get(index).unwrap()), bits(&b.get(index).unwrap()));
            let (x, y) = (a.irregular(index).unwrap(), b.irregular(index).unwrap());
            prop_assert_eq!(&x.times, &y.times);
            prop_assert_eq!(
                x.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
                y.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            );
            let other = WavesDataset::new(config.with_seed(seed + 1));
            prop_assert_ne!(bits(&a.get(index).unwrap()), bits(&other.get(index).unwrap()));
        }
    }
}
