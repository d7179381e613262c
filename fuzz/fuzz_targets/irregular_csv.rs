//! Any byte string, split at its first NUL byte into a data CSV and a labels CSV:
//! `parse_irregular` and `parse_irregular_labels` return a set or an error, never panic, and a
//! parsed set is sorted by time with valid channels; binning it onto a grid never panics.
#![no_main]

use convkit_data::timeseries::irregular;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (table, labels) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let Ok(set) = irregular::parse_irregular(table, "fuzz.csv", None) else {
        return;
    };
    for s in set.series() {
        assert!(s.times.windows(2).all(|w| w[0] <= w[1]));
        assert!(s.times.iter().all(|t| t.is_finite()));
        assert!(s.channel.iter().all(|&c| c < set.channel_names().len()));
        assert_eq!(
            (s.channel.len(), s.values.len()),
            (s.times.len(), s.times.len())
        );
    }
    let _ = set.to_dense(1.0);
    if let Some(labels) = labels
        && let Ok(labelled) =
            irregular::parse_irregular_labels(labels, "fuzz_labels.csv", set, None)
    {
        assert_eq!(labelled.classes().is_empty(), labelled.series().is_empty());
    }
});
