//! Any byte string as the Elliptic dataset: split at the first two 0xFF bytes into the
//! features, edge list and classes files. Parsing returns data or an error, never panics;
//! parsed data is consistent and the temporal split holds labelled nodes of its steps only.
#![no_main]

use convkit_data::graph::elliptic::{TEST_STEPS, TRAIN_STEPS, parse_elliptic};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == 0xFF);
    let features = parts.next().unwrap_or_default();
    let edges = parts.next().unwrap_or_default();
    let classes = parts.next().unwrap_or_default();
    let Ok(parsed) = parse_elliptic(features, edges, classes, "fuzz") else {
        return;
    };
    let nodes = &parsed.nodes;
    nodes.validate().unwrap();
    assert!(nodes.graph.is_directed());
    assert_eq!(parsed.time_steps.len(), nodes.num_nodes());
    assert!(parsed.time_steps.iter().all(|&t| t >= 1));
    assert!(nodes.features.iter().all(|x| x.is_finite()));
    let (train, test) = parsed.temporal_split();
    for (split, steps) in [(train, TRAIN_STEPS), (test, TEST_STEPS)] {
        for node in split {
            assert!(steps.contains(&parsed.time_steps[node]));
            assert!(nodes.labels[node].is_some());
        }
    }
});
