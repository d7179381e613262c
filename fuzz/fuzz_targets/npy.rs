//! Any byte string as a `.npy` file: an array or an error, never a panic; a parsed array has
//! as many values as its shape says, and writing it and parsing the result gives the same
//! array, bit for bit.
#![no_main]

use convkit_data::npy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(array) = npy::parse_npy(data, "fuzz.npy") {
        assert_eq!(array.len(), array.shape().iter().product::<usize>());
        let bytes = array.to_bytes();
        let again = npy::parse_npy(&bytes, "rewritten.npy").expect("a written array parses");
        assert_eq!(again.shape(), array.shape());
        assert_eq!(again.dtype(), array.dtype());
        // Bytes, not values: NaN != NaN, and the payload must survive too.
        assert_eq!(again.to_bytes(), bytes);
    }
});
