//! Any byte string as a categorical attribute table, with the first column or a column named
//! `id` as node ids: a table or an error, never a panic; every value indexes its field's
//! vocabulary, global indices stay below the feature count, and reordering by the table's own
//! node names changes nothing.
#![no_main]

use convkit_data::categorical::{CategoricalOptions, parse_categorical};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for id_column in [None, Some("id".to_string())] {
        let options = CategoricalOptions::new().with_id_column(id_column);
        let Ok(table) = parse_categorical(data, "fuzz.csv", &options) else {
            continue;
        };
        let fields = table.num_fields();
        assert_eq!(table.values().len(), table.num_nodes() * fields);
        for row in 0..table.num_nodes() {
            let values = table.row(row).unwrap();
            for (value, vocab) in values.iter().zip(table.vocabs()) {
                assert!(value.is_none_or(|v| (v as usize) < vocab.len()));
            }
        }
        let features = table.num_features();
        assert!(
            table
                .global_indices()
                .iter()
                .flatten()
                .all(|&g| g < features)
        );
        assert_eq!(table.reorder(table.node_ids().names()).unwrap(), table);
    }
});
