//! Any byte string as a CIFAR-10 or CIFAR-100 batch: records or an error, never a panic,
//! and a parsed batch has 3072 pixels per label.
#![no_main]

use std::path::Path;

use convkit_data::cifar::{Cifar, parse_batch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for kind in [Cifar::Ten, Cifar::HundredFine, Cifar::HundredCoarse] {
        let (mut pixels, mut labels) = (Vec::new(), Vec::new());
        if parse_batch(data, Path::new("fuzz.bin"), kind, &mut pixels, &mut labels).is_ok() {
            assert_eq!(pixels.len(), labels.len() * 3072);
        }
    }
});
