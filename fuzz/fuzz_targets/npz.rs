//! Any byte string as an `.npz` archive: arrays or an error, never a panic, and never an
//! allocation beyond what deflate can expand the input to; every array it yields writes
//! back to a `.npy` file that parses to the same bytes.
#![no_main]

use convkit_data::npy;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(npz) = npy::parse_npz(data, "fuzz.npz") {
        for (name, array) in npz.iter() {
            let bytes = array.to_bytes();
            let again = npy::parse_npy(&bytes, name).expect("a written array parses");
            assert_eq!(again.to_bytes(), bytes);
        }
    }
});
