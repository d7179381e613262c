//! Tests of the edge-list reader and writer.

use super::scan::{eight_digits, split_fields};
use super::*;
use proptest::prelude::*;

const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/graph/weighted_one_based.edges"
);

fn parse(text: &str, options: &EdgeListOptions) -> Result<Graph> {
    parse_edge_list(text.as_bytes(), "t.edges", options)
}

fn err(text: &str, options: &EdgeListOptions) -> String {
    parse(text, options).unwrap_err().to_string()
}

fn sorted(mut g: Graph) -> Graph {
    g.sort_neighbors();
    g
}

#[test]
fn fixture_with_comments_weights_and_one_based_ids() {
    let options = EdgeListOptions::new().with_index_base(IndexBase::One);
    let g = read_edge_list(FIXTURE, &options).unwrap();
    assert_eq!(g.num_nodes(), 4);
    assert!(!g.is_directed());
    assert_eq!(g.offsets(), &[0, 3, 5, 6, 7]);
    assert_eq!(g.targets(), &[1, 2, 3, 0, 1, 0, 0]);
    assert_eq!(
        g.weights().unwrap(),
        &[0.5, 2.0, -3.0, 0.5, 1.25, 2.0, -3.0]
    );
    let file = std::io::BufReader::new(File::open(FIXTURE).unwrap());
    assert_eq!(parse_edge_list(file, FIXTURE, &options).unwrap(), g);
    let auto = options.clone().with_index_base(IndexBase::Auto);
    assert_eq!(read_edge_list(FIXTURE, &auto).unwrap(), g);
    let directed = read_edge_list(FIXTURE, &options.clone().with_directed(true)).unwrap();
    assert_eq!(directed.offsets(), &[0, 2, 3, 3, 4]);
    assert_eq!(directed.targets(), &[1, 2, 1, 0]);
    let zero = read_edge_list(FIXTURE, &EdgeListOptions::new()).unwrap();
    assert_eq!(zero.num_nodes(), 5);
    assert_eq!(zero.degree(0), 0);
}

#[test]
fn csv_header_and_gzip() {
    let text = "source,target\n0,1\n 1 , 2\n";
    let g = parse(text, &EdgeListOptions::new().with_directed(true)).unwrap();
    assert_eq!(g.targets(), &[1, 2]);
    let e = err(text, &EdgeListOptions::new().with_header(Header::Absent));
    assert!(e.contains("line 1, column 1: expected a node id"), "{e}");
    let tsv = parse("a\tb\n3\t1\n", &EdgeListOptions::new()).unwrap();
    assert_eq!(tsv.num_nodes(), 4);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.edges.gz");
    let mut gz =
        flate2::write::GzEncoder::new(File::create(&path).unwrap(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap();
    assert_eq!(
        read_edge_list(&path, &EdgeListOptions::new())
            .unwrap()
            .num_entries(),
        4
    );
}

#[test]
fn wider_lines_and_empty_files() {
    let text = "0 1 2.5 1700000000\n1 2 1 1700000001\n";
    let e = err(text, &EdgeListOptions::new());
    assert!(
        e.contains("line 1: expected 2 fields") && e.contains("found 4"),
        "{e}"
    );
    let g = parse(
        text,
        &EdgeListOptions::new().with_weights(Weights::Weighted),
    )
    .unwrap();
    assert_eq!(g.weights().unwrap(), &[2.5, 2.5, 1.0, 1.0]);
    let g = parse(
        text,
        &EdgeListOptions::new().with_weights(Weights::Unweighted),
    )
    .unwrap();
    assert!(!g.is_weighted());
    let empty = parse(
        "# nothing\n",
        &EdgeListOptions::new().with_num_nodes(Some(3)),
    )
    .unwrap();
    assert_eq!((empty.num_nodes(), empty.num_entries()), (3, 0));
    assert_eq!(parse("", &EdgeListOptions::new()).unwrap().num_nodes(), 0);
}

#[test]
fn bad_lines_name_line_and_column() {
    let o = EdgeListOptions::new();
    let e = err("0 1\n1 x\n", &o);
    assert_eq!(
        e,
        "t.edges: line 2, column 3: expected a node id (a non-negative integer), found `x`"
    );
    let e = err("0 1\n-1 2\n", &o);
    assert!(e.contains("line 2, column 1: expected a node id"), "{e}");
    let e = err("0 1 1\n1 2\n", &o);
    assert!(
        e.contains("line 2: expected 3 fields (as on line 1), found 2"),
        "{e}"
    );
    let e = err("0 1 1\n1 2 inf\n", &o);
    assert!(
        e.contains("line 2, column 5: expected a weight (a finite number)"),
        "{e}"
    );
    let e = err("0 99999999999\n", &o);
    assert!(
        e.contains("column 3: expected a node id of at most 4294967295"),
        "{e}"
    );
    let e = err("0 1\n", &o.clone().with_weights(Weights::Weighted));
    assert!(e.contains("line 1: expected at least 3 fields"), "{e}");
    let e = parse_edge_list(&b"0 1\n\xff\n"[..], "t.edges", &o).unwrap_err();
    let e = e.to_string();
    assert!(e.contains("line 2"), "{e}");
}

#[test]
fn ids_out_of_range() {
    let given = EdgeListOptions::new().with_num_nodes(Some(3));
    let e = err("0 1\n# c\n2 3\n", &given);
    assert!(
        e.contains("line 3, column 3: expected a node id from 0 to 2 (3 nodes, zero-based"),
        "{e}"
    );
    let one = given.clone().with_index_base(IndexBase::One);
    assert_eq!(parse("1 3\n", &one).unwrap().targets(), &[2, 0]);
    let e = err("1 2\n0 1\n", &one);
    assert!(
        e.contains("line 2, column 1: expected a node id of at least 1"),
        "{e}"
    );
    let e = err("1 4\n", &one);
    assert!(
        e.contains("column 3: expected a node id from 1 to 3"),
        "{e}"
    );
    // Auto: 3 is in range only if ids are one-based, which a 0 rules out.
    let auto = given.clone().with_index_base(IndexBase::Auto);
    assert_eq!(parse("1 3\n", &auto).unwrap().targets(), &[2, 0]);
    let e = err("1 3\n0 1\n", &auto);
    assert!(
        e.contains("line 1, column 3: expected a node id from 0 to 2"),
        "{e}"
    );
    let capped = EdgeListOptions::new().with_max_inferred_nodes(10);
    assert_eq!(parse("0 9\n", &capped).unwrap().num_nodes(), 10);
    let e = err("0 10\n", &capped);
    assert!(
        e.contains("line 1, column 3: node id 10 would make more nodes"),
        "{e}"
    );
    let e = err("0 4000000000\n", &EdgeListOptions::new());
    assert!(e.contains("max_inferred_nodes"), "{e}");
}

#[test]
fn file_round_trip_one_based() {
    let edges = [(0, 1), (2, 2), (3, 0), (0, 1)];
    let g = Graph::from_edges(5, &edges, Some(&[0.1, 2.0, -1.5, 1e-20]), false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("g.edges");
    write_edge_list(&path, &g, true).unwrap();
    let options = EdgeListOptions::new()
        .with_index_base(IndexBase::One)
        .with_num_nodes(Some(5));
    assert_eq!(sorted(read_edge_list(&path, &options).unwrap()), sorted(g));
}

#[test]
fn split_fields_matches_line_fields() {
    let texts = [
        " ",
        "0 1",
        "  0\t 1  2.5 ",
        "a,b",
        " a , b ,",
        ",,",
        "\tx\t\ty",
        "é 1,ü\t2",
    ];
    for text in texts {
        let mut lines = LineReader::new(text.as_bytes(), "t");
        let line = lines.next_line().unwrap().unwrap();
        for separator in [
            Separator::Whitespace,
            Separator::Char(','),
            Separator::Char('\t'),
        ] {
            let expected: Vec<_> = line.fields(separator).map(|f| (f.text, f.start)).collect();
            let mut out = [Field { text: "", start: 0 }; 8];
            let count = split_fields(line.text, separator, &mut out);
            let got: Vec<_> = out[..count].iter().map(|f| (f.text, f.start)).collect();
            assert_eq!(got, expected, "{text:?} {separator:?}");
        }
    }
}

/// A reader that hands out at most 3 bytes per read, so lines straddle its reads.
struct Trickle<'a>(&'a [u8]);

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(3).min(self.0.len());
        buf[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        Ok(n)
    }
}

impl BufRead for Trickle<'_> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        Ok(&self.0[..self.0.len().min(3)])
    }
    fn consume(&mut self, n: usize) {
        self.0 = &self.0[n..];
    }
}

#[test]
fn eight_digits_matches_parse() {
    for text in [
        "0",
        "7",
        "12",
        "00000001",
        "12345678",
        "99999999",
        "1234567x",
        "1\t2",
        "x1",
        "9/",
        ":9",
        "\u{7f}",
        "10000000",
        "4294967295",
        "0999999999",
    ] {
        let mut chunk = [b'\n'; 8];
        let n = text.len().min(8);
        chunk[..n].copy_from_slice(&text.as_bytes()[..n]);
        let digits = chunk.iter().take_while(|b| b.is_ascii_digit()).count();
        let expected = std::str::from_utf8(&chunk[..digits])
            .unwrap()
            .parse()
            .unwrap_or(0);
        assert_eq!(eight_digits(&chunk), Some((expected, digits)), "{text:?}");
    }
    assert_eq!(eight_digits(b"123"), None);
}

#[test]
fn large_input_across_reads_and_line_ends() {
    // More than one buffer of the line reader, CRLF lines, comments and a last line
    // without its line end.
    let mut text = String::from("# big\r\n");
    let mut edges = Vec::new();
    for i in 0..150_000u32 {
        let (u, v) = (i % 1000, i.wrapping_mul(2_654_435_761) % 4_000);
        edges.push((u, v));
        let end = match i % 3 {
            0 => "\r\n",
            _ => "\n",
        };
        text.push_str(&format!("{u}\t{v}{end}"));
        if i % 10_000 == 0 {
            text.push_str("% note\n\n");
        }
    }
    text.push_str("5\t6");
    edges.push((5, 6));
    assert!(text.len() > 1 << 20);
    let options = EdgeListOptions::new().with_directed(true);
    let expected = Graph::from_edges(4000, &edges, None, true).unwrap();
    let g = parse_edge_list(text.as_bytes(), "t.edges", &options).unwrap();
    assert_eq!(g, expected);
    let g = parse_edge_list(Trickle(text.as_bytes()), "t.edges", &options).unwrap();
    assert_eq!(g, expected);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.edges");
    std::fs::write(&path, &text).unwrap();
    assert_eq!(read_edge_list(&path, &options).unwrap(), expected);
    // A bad line deep in the file is named by its number.
    let bad = format!("{text}x");
    std::fs::write(&path, &bad).unwrap();
    let e = read_edge_list(&path, &options).unwrap_err().to_string();
    let line = bad.lines().count();
    assert!(
        e.contains(&format!("line {line}, column 3: expected a node id")),
        "{e}"
    );
}

fn line_texts() -> impl Strategy<Value = Vec<(Vec<&'static str>, bool)>> {
    let token = prop::sample::select(vec![
        "0",
        "1",
        "3",
        "7",
        "00",
        "12",
        "4294967295",
        "4294967296",
        "99999999999",
        "x",
        "-1",
        "2.5",
        "inf",
        "",
        "1e3",
        "#",
    ]);
    let line = (proptest::collection::vec(token, 0..4), any::<bool>());
    proptest::collection::vec(line, 0..12)
}

/// The text of `lines`, fields joined by `separator`, each line ending in `\n` or `\r\n`
/// after `pad`.
fn join(lines: &[(Vec<&str>, bool)], separator: &str, pad: &str) -> String {
    let mut text = String::new();
    for (fields, crlf) in lines {
        text.push_str(&fields.join(separator));
        text.push_str(pad);
        text.push_str(if *crlf { "\r\n" } else { "\n" });
    }
    text
}

fn graphs() -> impl Strategy<Value = Graph> {
    (1usize..12, any::<bool>(), any::<bool>()).prop_flat_map(|(n, directed, weighted)| {
        let edge = (0..n as u32, 0..n as u32, -1e6f32..1e6);
        proptest::collection::vec(edge, 0..40).prop_map(move |edges| {
            let pairs: Vec<_> = edges.iter().map(|&(u, v, _)| (u, v)).collect();
            let w: Vec<_> = edges.iter().map(|&(_, _, w)| w).collect();
            Graph::from_edges(n, &pairs, weighted.then_some(&w[..]), directed).unwrap()
        })
    })
}

proptest! {
    #[test]
    fn write_then_read_is_the_same_graph(g in graphs(), one_based in any::<bool>()) {
        let mut text = Vec::new();
        format_edge_list(&mut text, &g, one_based).unwrap();
        let options = EdgeListOptions::new()
            .with_directed(g.is_directed())
            .with_num_nodes(Some(g.num_nodes()))
            .with_index_base(if one_based { IndexBase::One } else { IndexBase::Zero })
            .with_weights(if g.is_weighted() { Weights::Weighted } else { Weights::Unweighted });
        let back = parse_edge_list(&text[..], "p.edges", &options).unwrap();
        prop_assert_eq!(sorted(back), sorted(g));
    }

    #[test]
    fn fast_and_slow_paths_agree(
        lines in line_texts(),
        comma in any::<bool>(),
        directed in any::<bool>(),
        num_nodes in prop::option::of(0usize..10),
        base in prop::sample::select(vec![IndexBase::Zero, IndexBase::One, IndexBase::Auto]),
    ) {
        // A trailing blank (trimmed) keeps every line off the fast path.
        let separator = if comma { "," } else { " " };
        let fast = join(&lines, separator, "");
        let slow = join(&lines, separator, " ");
        let options = EdgeListOptions::new()
            .with_directed(directed)
            .with_num_nodes(num_nodes)
            .with_index_base(base)
            .with_max_inferred_nodes(100);
        let outcome = |text: &str| {
            parse_edge_list(text.as_bytes(), "p.edges", &options).map_err(|e| e.to_string())
        };
        let expected = outcome(&slow);
        prop_assert_eq!(&outcome(&fast), &expected);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.edges");
        std::fs::write(&path, &fast).unwrap();
        let read = read_edge_list(&path, &options).map_err(|e| e.to_string());
        match (&read, &expected) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert_eq!(
                a.replace(&path.display().to_string(), "p.edges"),
                b.clone()
            ),
            _ => prop_assert!(false, "{read:?} {expected:?}"),
        }
    }
}
