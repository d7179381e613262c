//! Seeded, stratified train / held-out splits.

use convkit_core::{Error, Result};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Splits item indices into a training part and a held-out part of about `fraction` of the
/// items, class by class, so every class keeps its share (scikit-learn's
/// `train_test_split(stratify=labels)` in spirit; the draw itself differs).
///
/// Class `c` with `n_c` items gives `round(fraction · n_c)` of them to the held-out part,
/// at least one when `n_c >= 2` and at most `n_c - 1`, so a class with a single item stays
/// in training. Items are drawn with one generator seeded by `seed`, classes in label order;
/// both parts are returned sorted. The same labels, fraction and seed give the same split.
///
/// Fails if `fraction` is not strictly between 0 and 1, or if the held-out part would be
/// empty (every class has a single item).
pub fn stratified_split(
    labels: &[usize],
    fraction: f64,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>)> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(Error::invalid(
            "held-out fraction",
            format!("{fraction} is not strictly between 0 and 1"),
        ));
    }
    let classes = labels.iter().max().map_or(0, |&m| m + 1);
    let mut by_class = vec![Vec::new(); classes];
    for (index, &label) in labels.iter().enumerate() {
        by_class[label].push(index);
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut train, mut held) = (Vec::new(), Vec::new());
    for mut members in by_class {
        let n = members.len();
        if n == 0 {
            continue;
        }
        members.shuffle(&mut rng);
        let take = if n < 2 {
            0
        } else {
            ((fraction * n as f64).round() as usize).clamp(1, n - 1)
        };
        held.extend_from_slice(&members[..take]);
        train.extend_from_slice(&members[take..]);
    }
    if held.is_empty() {
        return Err(Error::invalid(
            "held-out split",
            "every class has a single item, so nothing can be held out",
        ));
    }
    train.sort_unstable();
    held.sort_unstable();
    Ok((train, held))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_class_keeps_its_share() {
        let labels: Vec<usize> = (0..100).map(|i| usize::from(i >= 80)).collect();
        let (train, held) = stratified_split(&labels, 0.25, 3).unwrap();
        assert_eq!(held.len(), 25);
        assert_eq!(held.iter().filter(|&&i| labels[i] == 1).count(), 5);
        assert_eq!(train.len(), 75);
        assert_eq!(stratified_split(&labels, 0.25, 3).unwrap().1, held);
        assert_ne!(stratified_split(&labels, 0.25, 4).unwrap().1, held);
    }

    #[test]
    fn bad_fractions_and_singletons_are_errors() {
        assert!(stratified_split(&[0, 1], 0.0, 0).is_err());
        assert!(stratified_split(&[0, 1], 1.0, 0).is_err());
        assert!(stratified_split(&[0, 1], f64::NAN, 0).is_err());
        let err = stratified_split(&[0, 1, 2], 0.5, 0)
            .unwrap_err()
            .to_string();
        assert!(err.contains("single item"), "{err}");
    }

    proptest! {
        #[test]
        fn the_parts_partition_the_items(
            labels in proptest::collection::vec(0usize..5, 2..200),
            fraction in 0.05f64..0.95,
            seed in any::<u64>(),
        ) {
            if let Ok((train, held)) = stratified_split(&labels, fraction, seed) {
                let mut all: Vec<usize> = train.iter().chain(&held).copied().collect();
                all.sort_unstable();
                prop_assert_eq!(all, (0..labels.len()).collect::<Vec<_>>());
                for class in 0..5 {
                    let n = labels.iter().filter(|&&l| l == class).count();
                    let h = held.iter().filter(|&&i| labels[i] == class).count();
                    if n >= 2 {
                        prop_assert!(h >= 1 && h < n);
                    } else {
                        prop_assert_eq!(h, 0);
                    }
                }
            }
        }
    }
}
