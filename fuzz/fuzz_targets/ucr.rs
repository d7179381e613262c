//! Any byte string: `parse_ucr` returns a set or an error, never panics, and a parsed set
//! writes back as UCR text that reads to the same labels and bit-identical values.
#![no_main]

use convkit_data::timeseries::{TimeSeriesSet, ucr};
use libfuzzer_sys::fuzz_target;

fn bits(set: &TimeSeriesSet) -> Vec<Vec<u32>> {
    set.series()
        .iter()
        .map(|s| s.values().iter().map(|v| v.to_bits()).collect())
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let Ok(set) = ucr::parse_ucr(data, "fuzz.tsv", None) else {
        return;
    };
    let mut text = Vec::new();
    ucr::write_ucr_to(&mut text, "fuzz.tsv", &set).expect("a parsed set can be written");
    let again = ucr::parse_ucr(&text[..], "fuzz.tsv", Some(set.classes()))
        .expect("written UCR text reads back");
    assert_eq!(again.targets(), set.targets());
    assert_eq!(bits(&again), bits(&set));
});
