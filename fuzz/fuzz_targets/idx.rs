//! Any byte string: `parse_idx` returns an array or an error, never panics, and a parsed
//! array writes back to the same bytes.
#![no_main]

use convkit_data::idx;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(array) = idx::parse_idx(data, "fuzz.idx") {
        assert_eq!(array.to_bytes(), data);
    }
});
