//! Any byte string as an image file: `decode_image` returns an image or an error, never
//! panics. A decoded image has `C × H × W` bytes with `C` 1 or 3, and decoding it again
//! forced to gray or RGB succeeds with 1 or 3 channels of the same height and width.
#![no_main]

use convkit_data::image_folder::{Channels, decode_image_limited};
use libfuzzer_sys::fuzz_target;

/// Small enough that a large claimed size fails fast instead of timing out the fuzzer; the
/// limit itself is tested by the crate's unit tests.
const MAX_PIXELS: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Ok(image) = decode_image_limited(data, "fuzz.img", Channels::AsStored, MAX_PIXELS) else {
        return;
    };
    let [c, h, w] = image.shape;
    assert!(c == 1 || c == 3, "{c} channels");
    assert_eq!(image.pixels.len(), c * h * w);
    for (channels, want) in [(Channels::Gray, 1), (Channels::Rgb, 3)] {
        let forced = decode_image_limited(data, "fuzz.img", channels, MAX_PIXELS)
            .expect("decoded once already");
        assert_eq!(forced.shape, [want, h, w]);
        assert_eq!(forced.pixels.len(), want * h * w);
    }
});
