//! Tests of the interaction readers, writers, splits and generator.

use super::*;
use proptest::prelude::*;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/interactions");

fn path(name: &str) -> String {
    format!("{DATA}/{name}")
}

fn adjacency(text: &str) -> Result<Interactions> {
    parse_adjacency(text.as_bytes(), "t.txt")
}

fn csv(text: &str, options: &CsvOptions) -> Result<Interactions> {
    parse_csv(text.as_bytes(), "t.csv", options)
}

fn err<T: std::fmt::Debug>(result: Result<T>) -> String {
    result.unwrap_err().to_string()
}

fn lists(data: &Interactions) -> Vec<Vec<u32>> {
    let by_user = data.by_user();
    (0..data.num_users())
        .map(|u| by_user.items(u).to_vec())
        .collect()
}

#[test]
fn gowalla_style_fixture() {
    let train = read_adjacency(path("train.txt")).unwrap();
    assert_eq!((train.num_users(), train.num_items()), (5, 6));
    assert_eq!(train.users(), [0, 0, 0, 1, 1, 2, 4, 4, 4]);
    assert_eq!(train.items(), [0, 1, 2, 2, 3, 1, 0, 3, 5]);
    assert_eq!(
        lists(&train)[3],
        Vec::<u32>::new(),
        "user 3 has a line with no items"
    );
    assert!(train.ratings().is_none() && train.user_ids().is_none());
    assert_eq!(train.user_degrees(), [3, 2, 1, 0, 3]);
    assert_eq!(train.item_degrees(), [2, 2, 2, 2, 0, 1]);
    let stats = train.stats();
    assert_eq!(
        (stats.users.min, stats.users.max, stats.users.isolated),
        (0, 3, 1)
    );
    assert_eq!(stats.users.median, 2.0);
    assert!((stats.users.mean - 1.8).abs() < 1e-12);
    assert!((stats.density - 9.0 / 30.0).abs() < 1e-12);

    let test = read_adjacency_test(path("test.txt"), &train, UnknownIds::Error).unwrap();
    assert_eq!(test.skipped, 0);
    let test = test.interactions;
    assert_eq!((test.num_users(), test.num_items()), (5, 6));
    assert_eq!(
        lists(&test),
        [vec![3], vec![0, 4], vec![2], vec![], vec![1]]
    );
}

#[test]
fn adjacency_errors_name_line_and_column() {
    let e = err(adjacency("0 1 2\n1 3 x4\n"));
    assert!(e.contains("t.txt: line 2, column 5: expected an item id (an integer from 0 to 4294967294), found `x4`"), "{e}");
    let e = err(adjacency("0 1\n-1 2\n"));
    assert!(
        e.contains("line 2, column 1: expected a user id") && e.contains("found `-1`"),
        "{e}"
    );
    let e = err(adjacency("0 1.5\n"));
    assert!(e.contains("line 1, column 3") && e.contains("`1.5`"), "{e}");
    let e = err(adjacency("0 4294967295\n"));
    assert!(
        e.contains("line 1, column 3") && e.contains("`4294967295`"),
        "{e}"
    );
    let e = err(adjacency("0 99999999999999999999\n"));
    assert!(e.contains("column 3"), "{e}");
    let e = err(adjacency("3 1\n\n1 2\n  3\t4\n"));
    assert!(
        e.contains(
            "line 4, column 3: expected each user on one line, found user 3 again (first on line 1)"
        ),
        "{e}"
    );
    let e = err(parse_adjacency(&b"0 1\n\xff 2\n"[..], "t.txt"));
    assert!(e.contains("line 2") && e.contains("UTF-8"), "{e}");
}

#[test]
fn adjacency_edge_cases() {
    let data = adjacency("").unwrap();
    assert_eq!((data.num_users(), data.num_items(), data.len()), (0, 0, 0));
    let data = adjacency("\n2\r\n\n").unwrap();
    assert_eq!((data.num_users(), data.num_items(), data.len()), (3, 0, 0));
    let data = adjacency("1\t 007  4294967294").unwrap();
    assert_eq!(data.items(), [7, MAX_ID]);
    assert_eq!(data.num_items(), MAX_COUNT);
}

#[test]
fn adjacency_test_split_checks_ids_against_training() {
    let train = adjacency("0 1 2\n1 0\n").unwrap();
    let test =
        |text: &str, unknown| parse_adjacency_test(text.as_bytes(), "test.txt", &train, unknown);
    let e = err(test("0 2\n2 1\n", UnknownIds::Error));
    assert!(e.contains("test.txt: line 2, column 1: expected a user id of the training data (2 users), found `2`"), "{e}");
    let e = err(test("0 3\n", UnknownIds::Error));
    assert!(
        e.contains(
            "line 1, column 3: expected an item id of the training data (3 items), found `3`"
        ),
        "{e}"
    );
    let split = test("0 3 1\n5 1 2\n1 0\n", UnknownIds::Skip).unwrap();
    assert_eq!(split.skipped, 3);
    assert_eq!(split.interactions.users(), [0, 1]);
    assert_eq!(split.interactions.items(), [1, 0]);
    let e = err(test("5 1 x\n", UnknownIds::Skip));
    assert!(
        e.contains("line 1, column 5"),
        "a malformed skipped line is still an error: {e}"
    );
    // Training data with string ids: adjacency ids are its indices, the maps are shared.
    let named = csv("a,x\nb,y\n", &CsvOptions::new()).unwrap();
    let split = parse_adjacency_test(&b"1 0\n"[..], "t.txt", &named, UnknownIds::Error).unwrap();
    assert_eq!(
        (split.interactions.users(), split.interactions.items()),
        (&[1][..], &[0][..])
    );
    assert_eq!(split.interactions.user_ids(), named.user_ids());
}

#[test]
fn ratings_csv_with_header_and_string_ids() {
    let train = read_csv(path("ratings.csv"), &CsvOptions::new()).unwrap();
    let users = train.user_ids().unwrap();
    let items = train.item_ids().unwrap();
    assert_eq!(users.names(), ["alice", "bob", "carol"]);
    assert_eq!(items.names(), ["matrix", "inception", "amelie"]);
    assert_eq!(train.users(), [0, 1, 0, 2, 1, 2]);
    assert_eq!(train.items(), [0, 0, 1, 2, 2, 0]);
    assert_eq!(train.ratings().unwrap(), [5.0, 3.0, 4.5, 2.0, 4.0, 1.0]);
    assert_eq!(
        train.timestamps().unwrap(),
        [1000, 1001, 1002, 1003, 1004, 1005]
    );
    assert_eq!(users.get("carol"), Some(2));
    assert_eq!(items.name(1), Some("inception"));

    let options = CsvOptions::new();
    let e = err(read_csv_test(path("ratings_test.csv"), &options, &train));
    assert!(e.contains("ratings_test.csv: line 3, column 1: expected a user id of the training data (3 users), found `dave`"), "{e}");
    let split = read_csv_test(
        path("ratings_test.csv"),
        &options.with_unknown(UnknownIds::Skip),
        &train,
    )
    .unwrap();
    assert_eq!(split.skipped, 2);
    let test = split.interactions;
    assert_eq!((test.users(), test.items()), (&[0, 2][..], &[2, 1][..]));
    assert_eq!(test.ratings().unwrap(), [3.0, 5.0]);
    assert_eq!(test.user_ids(), train.user_ids());
}

#[test]
fn movielens_double_colon_numeric_ids() {
    let options = CsvOptions::new().with_ids(IdKind::Numeric);
    let data = read_csv(path("ratings.dat"), &options).unwrap();
    assert_eq!((data.num_users(), data.num_items()), (3, 1194));
    assert_eq!(data.users(), [1, 1, 2]);
    assert_eq!(data.items(), [1193, 661, 1193]);
    assert_eq!(data.timestamps().unwrap()[2], 978298413);
    // The same file with string ids: dense indices in first-seen order.
    let data = read_csv(path("ratings.dat"), &CsvOptions::new()).unwrap();
    assert_eq!((data.num_users(), data.num_items()), (2, 2));
    assert_eq!(data.item_ids().unwrap().names(), ["1193", "661"]);
}

#[test]
fn csv_headers_and_delimiters() {
    let numeric = CsvOptions::new().with_ids(IdKind::Numeric);
    // Auto: a numeric-id header is recognised, a data first line is not.
    let data = csv("user\titem\n0\t1\n2\t0\n", &numeric).unwrap();
    assert_eq!((data.users(), data.items()), (&[0, 2][..], &[1, 0][..]));
    let data = csv("0 1\n2  0\n", &numeric).unwrap();
    assert_eq!(data.len(), 2);
    // Two string columns: Auto reads the first line as data, Present skips it.
    assert_eq!(csv("u,i\na,b\n", &CsvOptions::new()).unwrap().len(), 2);
    assert_eq!(
        csv(
            "u,i\na,b\n",
            &CsvOptions::new().with_header(Header::Present)
        )
        .unwrap()
        .len(),
        1
    );
    let e = err(csv(
        "0,1\n",
        &numeric
            .clone()
            .with_header(Header::Present)
            .with_delimiter(Delimiter::Tab),
    ));
    assert!(e.contains("line 1: expected 2 to 4 fields"), "{e}");
    assert!(csv("", &numeric).unwrap().is_empty());
}

#[test]
fn csv_errors_name_line_and_column() {
    let options = CsvOptions::new();
    let e = err(csv("a,b,5\nc,d\n", &options));
    assert!(e.contains("t.csv: line 2: expected 3 fields (user, item[, rating[, timestamp]]) as on line 1, found 2"), "{e}");
    let e = err(csv("a,b,1,2,3\n", &options));
    assert!(
        e.contains("line 1: expected 2 to 4 fields") && e.contains("found 5"),
        "{e}"
    );
    let e = err(csv("u,i,r\na,b,5\nc,d,good\n", &options));
    assert!(
        e.contains("line 3, column 5: expected a rating, found `good`"),
        "{e}"
    );
    let e = err(csv("a,b,inf\n", &options));
    assert!(
        e.contains("line 1, column 5: expected a finite rating, found `inf`"),
        "{e}"
    );
    let e = err(csv("a,b,5,12\na,c,4,1.5\n", &options));
    assert!(
        e.contains("line 2, column 7: expected an integer timestamp, found `1.5`"),
        "{e}"
    );
    let e = err(csv("a,b\n,c\n", &options));
    assert!(
        e.contains("line 2, column 1: expected a user id, found an empty field"),
        "{e}"
    );
    let e = err(csv(
        "0,1\n3,-2\n",
        &options.clone().with_ids(IdKind::Numeric),
    ));
    assert!(
        e.contains(
            "line 2, column 3: expected an item id (an integer from 0 to 4294967294), found `-2`"
        ),
        "{e}"
    );
}

#[test]
fn dedup_keeps_first_occurrence() {
    let mut data = csv("a,x,1\nb,x,2\na,x,3\na,y,4\nb,x,5\n", &CsvOptions::new()).unwrap();
    assert_eq!(data.dedup(), 2);
    assert_eq!(data.users(), [0, 1, 0]);
    assert_eq!(data.items(), [0, 0, 1]);
    assert_eq!(data.ratings().unwrap(), [1.0, 2.0, 4.0]);
    assert_eq!(data.dedup(), 0);
}

#[test]
fn splits_are_per_user_and_deterministic() {
    let data = LatentFactorConfig::new(50, 80)
        .with_seed(3)
        .generate()
        .unwrap()
        .interactions;
    let (train, test) = data.split(Split::Ratio(0.2), 9).unwrap();
    assert_eq!(train.len() + test.len(), data.len());
    assert_eq!(
        data.split(Split::Ratio(0.2), 9).unwrap(),
        (train.clone(), test.clone())
    );
    assert_ne!(data.split(Split::Ratio(0.2), 10).unwrap().1, test);
    let (degrees, train_degrees, test_degrees) = (
        data.user_degrees(),
        train.user_degrees(),
        test.user_degrees(),
    );
    for u in 0..data.num_users() {
        let d = degrees[u];
        let expected = if d < 2 {
            0
        } else {
            ((0.2 * d as f64).round() as usize).min(d - 1)
        };
        assert_eq!(test_degrees[u], expected, "user {u} of degree {d}");
        assert_eq!(train_degrees[u] + test_degrees[u], d);
    }

    let (train, test) = data.split(Split::LeaveOneOut, 1).unwrap();
    assert!(
        test.user_degrees()
            .iter()
            .zip(&degrees)
            .all(|(&t, &d)| t == usize::from(d >= 2))
    );
    assert_eq!(train.len() + test.len(), data.len());
    assert!(data.split(Split::Ratio(1.0), 0).is_err());
    assert!(data.split(Split::Ratio(f32::NAN), 0).is_err());
}

#[test]
fn leave_one_out_takes_the_latest() {
    let data = csv(
        "a,x,1,30\na,y,1,50\na,z,1,40\nb,x,1,7\nb,z,1,7\nc,y,1,1\n",
        &CsvOptions::new(),
    )
    .unwrap();
    let (train, test) = data.split(Split::LeaveOneOut, 0).unwrap();
    assert_eq!((test.users(), test.items()), (&[0, 1][..], &[1, 2][..]));
    assert_eq!(test.timestamps().unwrap(), [50, 7]);
    assert_eq!(train.items(), [0, 2, 0, 1]);
}

#[test]
fn constructor_checks_invariants() {
    assert!(Interactions::new(2, 2, vec![0, 1], vec![1, 1]).is_ok());
    let e = err(Interactions::new(2, 2, vec![0, 2], vec![1, 1]));
    assert!(
        e.contains("user 2 of interaction 1 is not below the user count 2"),
        "{e}"
    );
    assert!(Interactions::new(2, 2, vec![0], vec![1, 1]).is_err());
    let data = Interactions::new(2, 2, vec![0], vec![1]).unwrap();
    assert!(data.clone().with_ratings(vec![1.0, 2.0]).is_err());
    assert!(
        data.clone()
            .with_id_maps(IdMap::new(), IdMap::new())
            .is_err()
    );
    let names = |n: &[&str]| IdMap::from_names(n.iter().map(|s| s.to_string()).collect());
    assert!(
        data.with_id_maps(names(&["a", "b"]).unwrap(), names(&["x", "y"]).unwrap())
            .is_ok()
    );
    assert!(err(names(&["a", "b", "a"])).contains("`a` at positions 0 and 2"));
}

#[test]
fn id_map_indices_and_name_list() {
    let mut map = IdMap::new();
    assert_eq!(map.insert("b").unwrap(), 0);
    assert_eq!(map.insert("a").unwrap(), 1);
    assert_eq!(map.insert("b").unwrap(), 0);
    assert_eq!(
        (map.get("a"), map.get("c"), map.name(0), map.name(2)),
        (Some(1), None, Some("b"), None)
    );
    // Serde goes through the name list.
    let names: Vec<String> = map.clone().into();
    assert_eq!(names, ["b", "a"]);
    assert_eq!(IdMap::try_from(names).unwrap(), map);
}

#[test]
fn latent_factors_are_deterministic_and_learnable() {
    let config = LatentFactorConfig::new(300, 400).with_seed(5);
    let data = config.generate().unwrap();
    assert_eq!(data, config.generate().unwrap());
    assert_ne!(
        data.interactions,
        config.clone().with_seed(6).generate().unwrap().interactions
    );
    let interactions = &data.interactions;
    let stats = interactions.stats();
    assert!(
        (stats.users.mean - 10.0).abs() < 1.5,
        "mean degree {}",
        stats.users.mean
    );
    assert!(stats.users.min >= 1);
    let mut check = interactions.clone();
    assert_eq!(check.dedup(), 0, "items of a user are distinct");

    // Held-out items score above random items the user never interacted with.
    let (_, test) = interactions.split(Split::Ratio(0.2), 1).unwrap();
    let by_user = interactions.by_user();
    let mut rng = StdRng::seed_from_u64(0);
    let (mut wins, mut pairs) = (0.0, 0.0);
    for (&u, &i) in test.users().iter().zip(test.items()) {
        let positive = data.score(u as usize, i as usize).unwrap();
        for _ in 0..20 {
            let j = rng.random_range(0..400u32);
            if by_user.items(u as usize).contains(&j) {
                continue;
            }
            let negative = data.score(u as usize, j as usize).unwrap();
            wins += if positive > negative { 1.0 } else { 0.0 };
            pairs += 1.0;
        }
    }
    let auc = wins / pairs;
    assert!(auc > 0.8, "AUC of the true scores {auc}");
    assert!(data.score(300, 0).is_none());
}

#[test]
fn latent_factor_config_is_checked() {
    assert!(LatentFactorConfig::new(0, 5).generate().is_err());
    assert!(
        LatentFactorConfig::new(5, 5)
            .with_temperature(0.0)
            .generate()
            .is_err()
    );
    assert!(
        LatentFactorConfig::new(5, 5)
            .with_interactions_per_user(0.5)
            .generate()
            .is_err()
    );
    let tiny = LatentFactorConfig::new(3, 2)
        .with_interactions_per_user(50.0)
        .generate()
        .unwrap();
    assert_eq!(
        tiny.interactions.len(),
        6,
        "a degree is capped at the item count"
    );
}

#[test]
fn write_then_read_files() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("train.txt");
    let data = read_adjacency(path("train.txt")).unwrap();
    write_adjacency(&file, &data).unwrap();
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "0 0 1 2\n1 2 3\n2 1\n3\n4 0 3 5\n"
    );
    assert_eq!(read_adjacency(&file).unwrap(), data);
}

proptest! {
    #[test]
    fn adjacency_round_trip(lists in prop::collection::vec(prop::collection::vec(0u32..50, 0..8), 1..20)) {
        let users = lists.iter().enumerate().flat_map(|(u, l)| std::iter::repeat_n(u as u32, l.len())).collect();
        let items: Vec<u32> = lists.iter().flatten().copied().collect();
        let num_items = items.iter().max().map_or(0, |&m| m as usize + 1);
        let data = Interactions::new(lists.len(), num_items, users, items).unwrap();
        let mut bytes = Vec::new();
        write_adjacency_to(&mut bytes, "mem", &data).unwrap();
        let back = parse_adjacency(&bytes[..], "mem").unwrap();
        prop_assert_eq!(back, data);
    }
}
