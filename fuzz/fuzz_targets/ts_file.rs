//! Any byte string: `parse_ts` returns a set or an error, never panics; a parsed set has one
//! channel count and writes back as `.ts` text that reads to the same targets and values.
#![no_main]

use convkit_data::timeseries::{TimeSeriesSet, ts_file};
use libfuzzer_sys::fuzz_target;

fn bits(set: &TimeSeriesSet) -> Vec<(usize, Vec<u32>)> {
    set.series()
        .iter()
        .map(|s| {
            (
                s.channels(),
                s.values().iter().map(|v| v.to_bits()).collect(),
            )
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(set) = ts_file::parse_ts(data, "fuzz.ts", None) else {
        return;
    };
    assert!(set.series().iter().all(|s| s.channels() == set.channels()));
    let mut text = Vec::new();
    ts_file::write_ts_to(&mut text, "fuzz.ts", &set, "Fuzz").expect("a parsed set can be written");
    let again = ts_file::parse_ts(&text[..], "fuzz.ts", None).expect("written .ts text reads back");
    assert_eq!(again.targets(), set.targets());
    assert_eq!(bits(&again), bits(&set));
});
