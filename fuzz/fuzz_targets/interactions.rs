//! Any byte string as interaction data: an adjacency file and a rating table, each with
//! string and numeric ids. Parsing returns data or an error, never panics; parsed data keeps
//! its invariants, reads back unchanged as its own test split, and an adjacency file with a
//! small id space writes back to the same item list of every user.
#![no_main]

use convkit_data::interactions::{
    CsvOptions, IdKind, Interactions, UnknownIds, parse_adjacency, parse_adjacency_test, parse_csv,
    parse_csv_test, write_adjacency_to,
};
use libfuzzer_sys::fuzz_target;

fn check_invariants(data: &Interactions) {
    assert_eq!(data.users().len(), data.items().len());
    assert!(
        data.users()
            .iter()
            .all(|&u| (u as usize) < data.num_users())
    );
    assert!(
        data.items()
            .iter()
            .all(|&i| (i as usize) < data.num_items())
    );
    if let Some(ratings) = data.ratings() {
        assert_eq!(ratings.len(), data.len());
        assert!(ratings.iter().all(|r| r.is_finite()));
    }
    if let Some(map) = data.user_ids() {
        assert_eq!(map.len(), data.num_users());
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = parse_adjacency(data, "fuzz.txt") {
        check_invariants(&parsed);
        let again = parse_adjacency_test(data, "fuzz.txt", &parsed, UnknownIds::Error).unwrap();
        assert_eq!((again.interactions, again.skipped), (parsed.clone(), 0));
        // Writing lists every user, so only small id spaces are written.
        if parsed.num_users() <= 1 << 16 {
            let mut bytes = Vec::new();
            write_adjacency_to(&mut bytes, "fuzz.txt", &parsed).unwrap();
            // The file lists users in order: the same item lists, maybe in another user order.
            let back = parse_adjacency(&bytes[..], "fuzz.txt").unwrap();
            let (a, b) = (back.by_user(), parsed.by_user());
            assert_eq!((a.offsets(), a.all_items()), (b.offsets(), b.all_items()));
            assert_eq!(
                (back.num_users(), back.num_items()),
                (parsed.num_users(), parsed.num_items())
            );
        }
    }
    for ids in [IdKind::Strings, IdKind::Numeric] {
        let options = CsvOptions::new().with_ids(ids);
        if let Ok(parsed) = parse_csv(data, "fuzz.csv", &options) {
            check_invariants(&parsed);
            let again = parse_csv_test(data, "fuzz.csv", &options, &parsed).unwrap();
            assert_eq!((again.interactions, again.skipped), (parsed, 0));
        }
    }
});
