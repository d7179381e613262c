//! Any byte string as a LINQS dataset: the bytes before the first 0xFF are `.content`, the
//! rest `.cites`. Parsing returns data or an error, never panics; parsed data is consistent,
//! and treating dangling citations as errors fails exactly when some were skipped.
#![no_main]

use convkit_data::graph::linqs::{OnDangling, parse_linqs};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (content, cites) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(parsed) = parse_linqs(content, cites, "fuzz", OnDangling::Skip) else {
        return;
    };
    let nodes = &parsed.nodes;
    nodes.validate().unwrap();
    assert!(nodes.graph.is_directed());
    assert_eq!(nodes.node_names.len(), nodes.num_nodes());
    assert!(nodes.labels.iter().all(Option::is_some));
    assert!(
        nodes.classes.windows(2).all(|w| w[0] < w[1]),
        "classes sorted"
    );
    assert!(nodes.features.iter().all(|x| x.is_finite()));
    assert!(parsed.dangling.iter().all(|d| d.line >= 1));
    let strict = parse_linqs(content, cites, "fuzz", OnDangling::Error);
    assert_eq!(strict.is_ok(), parsed.dangling.is_empty());
});
