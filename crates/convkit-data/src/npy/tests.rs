//! Tests of the `.npy` reader and writer and of `.npz` archives.

use super::*;
use proptest::prelude::*;
use rand::{RngExt, SeedableRng};

fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/npy")).join(name)
}

fn err(bytes: &[u8]) -> String {
    parse_npy(bytes, "x.npy").unwrap_err().to_string()
}

/// A file with `dict` as its header (padded like numpy) and `data` after it.
fn npy_with_header(dict: &str, data: &[u8]) -> Vec<u8> {
    let mut header = dict.to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend((header.len() as u16).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    out
}

#[test]
fn numpy_fixtures_have_the_values_numpy_wrote() {
    let read = |name: &str| {
        let a = read_npy(fixture(name)).unwrap();
        assert_eq!(
            parse_npy(&std::fs::read(fixture(name)).unwrap(), name).unwrap(),
            a
        );
        a
    };
    let a = read("f32.npy");
    assert_eq!(a.shape(), &[2, 3, 4]);
    let f32s: Vec<f32> = (0..24).map(|i| i as f32 / 7.0).collect();
    assert_eq!(a.as_slice::<f32>().unwrap(), f32s);
    let a = read("f64.npy");
    assert_eq!(a.shape(), &[10]);
    let f64s: Vec<f64> = (0..10).map(|i| i as f64 / 3.0 - 1.0).collect();
    assert_eq!(a.as_slice::<f64>().unwrap(), f64s);
    let mut i64s: Vec<i64> = (0..12).map(|i| (i - 6) * 1_000_000_007).collect();
    (i64s[0], i64s[11]) = (i64::MIN, i64::MAX);
    let a = read("i64.npy");
    assert_eq!(
        (a.shape(), a.as_slice::<i64>().unwrap()),
        (&[4, 3][..], &i64s[..])
    );
    let a = read("i32.npy");
    let i32s: Vec<i32> = (0..20).map(|i| (i - 10) * 123457).collect();
    assert_eq!(
        (a.shape(), a.as_slice::<i32>().unwrap()),
        (&[5, 4][..], &i32s[..])
    );
    let a = read("u8.npy");
    let u8s: Vec<u8> = (0..=255).collect();
    assert_eq!(
        (a.shape(), a.as_slice::<u8>().unwrap()),
        (&[16, 16][..], &u8s[..])
    );
    let a = read("bool.npy");
    let bools: Vec<bool> = (0..10).map(|i| i % 3 == 0).collect();
    assert_eq!(
        (a.shape(), a.as_slice::<bool>().unwrap()),
        (&[2, 5][..], &bools[..])
    );
    assert_eq!(
        a.to_f32(),
        bools
            .iter()
            .map(|&b| if b { 1.0 } else { 0.0 })
            .collect::<Vec<_>>()
    );
    let a = read("scalar_f64.npy");
    assert_eq!(
        (a.shape(), a.as_slice::<f64>().unwrap()),
        (&[][..], &[3.25][..])
    );
    let a = read("empty_f32.npy");
    assert_eq!((a.shape(), a.len()), (&[0, 3][..], 0));
    let a = read("v2_f32.npy");
    let quarters: Vec<f32> = (0..6).map(|i| i as f32 / 4.0).collect();
    assert_eq!(
        (a.shape(), a.as_slice::<f32>().unwrap()),
        (&[2, 3][..], &quarters[..])
    );
    let a = read("v3_i64.npy");
    assert_eq!(a.as_slice::<i64>().unwrap(), &[-1, 0, 1]);
}

#[test]
fn fortran_order_and_big_endian_come_back_in_c_order_native() {
    let a = read_npy(fixture("fortran_f32.npy")).unwrap();
    assert_eq!(a.shape(), &[2, 3]);
    assert_eq!(
        a.as_slice::<f32>().unwrap(),
        &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    );
    let a = read_npy(fixture("fortran_i32.npy")).unwrap();
    assert_eq!(a.shape(), &[2, 3, 4]);
    assert_eq!(
        a.as_slice::<i32>().unwrap(),
        (0..24).map(|i| i - 5).collect::<Vec<_>>()
    );
    let a = read_npy(fixture("big_endian_f64.npy")).unwrap();
    assert_eq!(a.shape(), &[3, 2]);
    let expected: Vec<f64> = (0..6).map(|i| i as f64 * 0.25 - 1.0).collect();
    assert_eq!(a.as_slice::<f64>().unwrap(), expected);
    let a = read_npy(fixture("big_endian_i32.npy")).unwrap();
    assert_eq!(a.as_slice::<i32>().unwrap(), &[-140000, -70000, 0, 70000]);
}

#[test]
fn writer_matches_numpy_save_byte_for_byte() {
    for name in [
        "f32.npy",
        "f64.npy",
        "i64.npy",
        "i32.npy",
        "u8.npy",
        "bool.npy",
        "scalar_f64.npy",
        "empty_f32.npy",
    ] {
        let bytes = std::fs::read(fixture(name)).unwrap();
        assert_eq!(parse_npy(&bytes, name).unwrap().to_bytes(), bytes, "{name}");
    }
    // Fortran order and big-endian files are written back little-endian in C order.
    let a = read_npy(fixture("big_endian_f64.npy")).unwrap();
    let c_order = a.to_bytes();
    assert!(
        std::str::from_utf8(&c_order[10..64])
            .unwrap()
            .contains("'descr': '<f8'")
    );
    assert_eq!(parse_npy(&c_order, "rt").unwrap(), a);
}

#[test]
fn unsupported_dtypes_are_named() {
    let e = read_npy(fixture("unsupported_f2.npy"))
        .unwrap_err()
        .to_string();
    assert!(e.ends_with("unsupported_f2.npy: byte 20: header: unsupported dtype descr '<f2'; supported: '<f4' float32, '<f8' float64, '<i8' int64, '<i4' int32, '|u1' uint8, '|b1' bool (any byte order)"), "{e}");
    let e = read_npy(fixture("structured.npy")).unwrap_err().to_string();
    assert!(
        e.contains(
            "byte 20: header: structured dtypes (a list of fields as 'descr') are not supported"
        ),
        "{e}"
    );
    for descr in ["|O", "<U3", "<i2", "<u4", "|S5", "<c8"] {
        let dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': (1,), }}");
        let e = err(&npy_with_header(&dict, &[0; 16]));
        assert!(
            e.contains(&format!("unsupported dtype descr '{descr}'")),
            "{e}"
        );
    }
}

#[test]
fn npz_fixtures_stored_and_deflated() {
    for name in ["arrays.npz", "arrays_compressed.npz"] {
        let npz = read_npz(fixture(name)).unwrap();
        assert_eq!(
            parse_npz(&std::fs::read(fixture(name)).unwrap(), name).unwrap(),
            npz
        );
        assert_eq!(npz.names().collect::<Vec<_>>(), ["a", "b", "c"], "{name}");
        let a = npz.get("a").unwrap();
        let sevenths: Vec<f32> = (0..6).map(|i| i as f32 / 7.0).collect();
        assert_eq!(
            (a.shape(), a.as_slice::<f32>().unwrap()),
            (&[2, 3][..], &sevenths[..])
        );
        assert_eq!(
            npz.get("b").unwrap().as_slice::<i64>().unwrap(),
            &[-2, -1, 0, 1, 2]
        );
        assert_eq!(
            npz.get("c").unwrap().as_slice::<bool>().unwrap(),
            &[false, true, false, true]
        );
        assert!(npz.get("d").is_none());
    }
}

#[test]
fn bad_headers_name_offset_and_expectation() {
    assert_eq!(
        err(b""),
        "x.npy: byte 0: truncated: a .npy file starts with 6 magic bytes and 2 version bytes, the file has 0 bytes"
    );
    assert_eq!(
        err(b"PK\x03\x04 not npy"),
        "x.npy: byte 0: bad magic number \"PK\\u{3}\\u{4} n\": a .npy file starts with \\x93NUMPY"
    );
    assert!(
        err(b"\x93NUMPY\x04\x00\x10\x00")
            .contains("byte 6: unsupported format version 4.0 (supported: 1.0, 2.0, 3.0)")
    );
    assert!(err(b"\x93NUMPY\x01\x01\x10\x00").contains("unsupported format version 1.1"));
    assert_eq!(
        err(b"\x93NUMPY\x01\x00\xe8\x03{'descr'"),
        "x.npy: byte 8: header length 1000 runs past the end of the file (18 bytes)"
    );
    assert!(
        err(b"\x93NUMPY\x02\x00\x10")
            .contains("byte 9: truncated: expected 3 more bytes, the file ends here")
    );
    let bad = |dict: &str| err(&npy_with_header(dict, &[0; 12]));
    let e = bad("{'descr': '<f4', 'fortran_order': False, }");
    assert_eq!(
        e,
        "x.npy: byte 10: the header dict has no 'shape' key (it needs 'descr', 'fortran_order' and 'shape')"
    );
    let e = bad("{'descr': '<f4', 'fortran_order': False, 'shape': (3, x), }");
    assert!(
        e.contains("byte 64: header: expected a non-negative integer dimension, found \"x), }"),
        "{e}"
    );
    let e = bad("{'descr': '<f4', 'fortran_order': False, 'shape': (3), }");
    assert!(
        e.contains("byte 62: header: a one-dimensional shape needs a trailing comma, (3,)"),
        "{e}"
    );
    let e = bad("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }");
    assert!(
        e.contains("expected a non-negative integer dimension, found \"-3,)"),
        "{e}"
    );
    let e = bad("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }");
    assert!(
        e.contains(
            "byte 44: header: expected True or False as 'fortran_order', found \"0, 'shape'"
        ),
        "{e}"
    );
    let e = bad("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}");
    assert!(
        e.contains("byte 27: header: key 'descr' appears twice"),
        "{e}"
    );
    let e = bad("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'extra': 1}");
    assert!(e.contains("unexpected key 'extra'"), "{e}");
    let e = bad("{'descr': '<f4', 'fortran_order': False, 'shape': (3,) 'x'}");
    assert!(
        e.contains("expected ',' or '}' after a value, found \"'x'}"),
        "{e}"
    );
    let e = bad("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } junk");
    assert!(
        e.contains("expected only spaces and a newline after the header dict, found \"junk"),
        "{e}"
    );
    let e = bad("{'descr: '<f4'}");
    assert!(e.contains("expected ':' after a key"), "{e}");
    let e = bad("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999999,), }");
    assert!(
        e.contains("dimension 99999999999999999999999 does not fit in 64 bits"),
        "{e}"
    );
    // Flexible syntax numpy's literal_eval accepts: double quotes, any key order, no
    // trailing comma, Python 2 long suffixes.
    let ok = npy_with_header(
        "{\"shape\": (3L,), \"fortran_order\": False, \"descr\": \"<f4\"}",
        &[0; 12],
    );
    assert_eq!(parse_npy(&ok, "ok").unwrap().shape(), &[3]);
}

#[test]
fn absurd_shapes_and_bad_data_are_refused_before_allocating() {
    let dict =
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776, 1099511627776), }";
    let e = err(&npy_with_header(dict, &[1, 2, 3]));
    assert!(e.contains("byte 10: shape (1099511627776, 1099511627776) of 4-byte items overflows the address space"), "{e}");
    // 2^62 bytes fit in isize but not in the file: refused by the length check.
    let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1073741824, 1073741824), }";
    let e = err(&npy_with_header(dict, &[1, 2, 3]));
    assert!(e.contains("byte 128: the header declares shape (1073741824, 1073741824) of float32 = 4611686018427387904 data bytes, the file has 3 (truncated)"), "{e}");
    // A zero-sized axis does not excuse absurd other axes.
    let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 4611686018427387904, 4), }";
    assert!(err(&npy_with_header(dict, &[])).contains("overflows the address space"));
    let rank = vec!["1"; 65].join(", ");
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({rank}), }}");
    assert!(
        err(&npy_with_header(&dict, &[0; 4]))
            .contains("65 dimensions, more than numpy's maximum of 64")
    );

    let good = std::fs::read(fixture("f32.npy")).unwrap();
    let e = err(&good[..good.len() - 3]);
    assert_eq!(
        e,
        "x.npy: byte 128: the header declares shape (2, 3, 4) of float32 = 96 data bytes, the file has 93 (truncated)"
    );
    let mut long = good.clone();
    long.push(0);
    assert!(err(&long).ends_with("the file has 97 (trailing bytes)"));
    let mut bools = std::fs::read(fixture("bool.npy")).unwrap();
    let data_start = bools.len() - 10;
    bools[data_start + 7] = 2;
    assert_eq!(
        err(&bools),
        format!(
            "x.npy: byte {}: bool byte 2: a bool must be 0 or 1",
            data_start + 7
        )
    );
}

/// A zip file with the given members, stored.
fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for (name, bytes) in members {
        zip.start_file(
            *name,
            zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored),
        )
        .unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

#[test]
fn bad_npz_archives_name_the_member() {
    assert!(
        parse_npz(b"hello", "x.npz")
            .unwrap_err()
            .to_string()
            .starts_with("x.npz: not a readable zip archive")
    );
    let npy = NpyArray::from_vec(vec![2], vec![1.5f32, 2.5])
        .unwrap()
        .to_bytes();
    let e = parse_npz(&zip_of(&[("a.npy", &npy), ("readme.txt", b"hi")]), "x.npz")
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "x.npz: member readme.txt: not a .npy array (an .npz archive holds only NAME.npy members)"
    );
    let e = parse_npz(&zip_of(&[("a.npy", &npy[..npy.len() - 1])]), "x.npz")
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("x.npz: member a.npy: byte 128: the header declares shape (2,) of float32 = 8 data bytes, the member has 7 (truncated)"), "{e}");
    // The zip writer refuses a repeated name, so rename b.npy to a.npy in the bytes.
    let mut twice = zip_of(&[("a.npy", &npy), ("b.npy", &npy)]);
    while let Some(at) = twice.windows(5).position(|w| w == b"b.npy") {
        twice[at] = b'a';
    }
    let e = parse_npz(&twice, "x.npz").unwrap_err().to_string();
    assert_eq!(
        e,
        "x.npz: the archive repeats a member name, so an array name is ambiguous"
    );

    // A flipped byte in a stored member's data fails its CRC; in a deflated member the
    // stream or the CRC.
    for name in ["arrays.npz", "arrays_compressed.npz"] {
        let mut bytes = std::fs::read(fixture(name)).unwrap();
        let data = 30
            + u16::from_le_bytes([bytes[26], bytes[27]]) as usize
            + u16::from_le_bytes([bytes[28], bytes[29]]) as usize;
        bytes[data + 70] ^= 0x55;
        let e = parse_npz(&bytes, name).unwrap_err().to_string();
        assert!(e.starts_with(&format!("{name}: member a.npy: ")), "{e}");
    }

    // A declared size beyond what deflate can produce from the compressed bytes.
    let mut bomb = zip_of(&[("a.npy", &npy)]);
    let central = bomb.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    bomb[central + 24..central + 28].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let e = parse_npz(&bomb, "bomb.npz").unwrap_err().to_string();
    assert!(
        e.starts_with(
            "bomb.npz: member a.npy: declares 2147483647 uncompressed bytes from 136 compressed"
        ),
        "{e}"
    );
}

/// Bits of `n` values of `dtype` from a seeded generator (every bit pattern, NaNs too).
fn random_array(shape: Vec<usize>, dtype: NpyDtype, seed: u64) -> NpyArray {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let n: usize = shape.iter().product();
    let data = match dtype {
        NpyDtype::F32 => NpyData::F32((0..n).map(|_| f32::from_bits(rng.random())).collect()),
        NpyDtype::F64 => NpyData::F64((0..n).map(|_| f64::from_bits(rng.random())).collect()),
        NpyDtype::I64 => NpyData::I64((0..n).map(|_| rng.random()).collect()),
        NpyDtype::I32 => NpyData::I32((0..n).map(|_| rng.random()).collect()),
        NpyDtype::U8 => NpyData::U8((0..n).map(|_| rng.random()).collect()),
        NpyDtype::Bool => NpyData::Bool((0..n).map(|_| rng.random()).collect()),
    };
    NpyArray::new(shape, data).unwrap()
}

const DTYPES: [NpyDtype; 6] = [
    NpyDtype::F32,
    NpyDtype::F64,
    NpyDtype::I64,
    NpyDtype::I32,
    NpyDtype::U8,
    NpyDtype::Bool,
];

fn array_strategy() -> impl Strategy<Value = NpyArray> {
    (
        proptest::collection::vec(0usize..5, 0..=4),
        0..DTYPES.len(),
        any::<u64>(),
    )
        .prop_map(|(shape, dtype, seed)| random_array(shape, DTYPES[dtype], seed))
}

proptest! {
    #[test]
    fn npy_write_read_round_trip(array in array_strategy()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        write_npy(&path, &array).unwrap();
        let back = read_npy(&path).unwrap();
        // Compared as bytes: NaN payloads must survive too, and NaN != NaN.
        prop_assert_eq!(back.to_bytes(), array.to_bytes());
        prop_assert_eq!(back.shape(), array.shape());
        prop_assert_eq!(back.dtype(), array.dtype());
        prop_assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temporary file left");
        let bytes = array.to_bytes();
        prop_assert_eq!(bytes.len() % 64, (array.len() * array.dtype().size()) % 64, "data starts 64-byte aligned");
        prop_assert_eq!(parse_npy(&bytes, "m").unwrap().to_bytes(), bytes);
    }

    #[test]
    fn fortran_order_files_read_in_c_order(shape in proptest::collection::vec(1usize..5, 0..=4)) {
        let n: usize = shape.iter().product();
        let c_order: Vec<i32> = (0..n as i32).collect();
        // Position in Fortran order of each C-order element.
        let mut fortran = vec![0i32; n];
        for (c_index, &value) in c_order.iter().enumerate() {
            let (mut rest, mut f_index, mut stride) = (c_index, 0, 1);
            let mut c_strides: Vec<usize> = shape.iter().rev().scan(1, |s, &d| { let v = *s; *s *= d; Some(v) }).collect();
            c_strides.reverse();
            for (axis, &d) in shape.iter().enumerate() {
                let i = rest / c_strides[axis];
                rest %= c_strides[axis];
                f_index += i * stride;
                stride *= d;
            }
            fortran[f_index] = value;
        }
        let data: Vec<u8> = fortran.iter().flat_map(|v| v.to_le_bytes()).collect();
        let dict = format!("{{'descr': '<i4', 'fortran_order': True, 'shape': {}, }}", shape_text(&shape));
        let back = parse_npy(&npy_with_header(&dict, &data), "f.npy").unwrap();
        prop_assert_eq!(back.shape(), &shape[..]);
        prop_assert_eq!(back.as_slice::<i32>().unwrap(), &c_order[..]);
    }

    #[test]
    fn npz_write_read_round_trip(arrays in proptest::collection::vec(array_strategy(), 0..4), compressed in any::<bool>()) {
        let names: Vec<String> = (0..arrays.len()).map(|i| format!("array_{i}")).collect();
        let members: Vec<(&str, &NpyArray)> = names.iter().map(String::as_str).zip(&arrays).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npz");
        write_npz(&path, &members, compressed).unwrap();
        let back = read_npz(&path).unwrap();
        prop_assert_eq!(back.names().collect::<Vec<_>>(), names.iter().map(String::as_str).collect::<Vec<_>>());
        for ((_, a), (_, b)) in back.iter().zip(&members) {
            prop_assert_eq!(a.to_bytes(), b.to_bytes());
        }
        let bytes = std::fs::read(&path).unwrap();
        prop_assert_eq!(parse_npz(&bytes, "m").unwrap().len(), arrays.len());
    }
}

#[test]
fn constructors_and_writers_check_their_inputs() {
    let e = NpyArray::new(vec![2, 3], NpyData::F32(vec![0.0; 5]))
        .unwrap_err()
        .to_string();
    assert_eq!(
        e,
        "invalid npy values: 5 float32 values for shape (2, 3) (6 values)"
    );
    let a = NpyArray::from_vec(vec![], vec![7u8]).unwrap();
    assert_eq!((a.len(), a.to_f32()), (1, vec![7.0]));
    let dir = tempfile::tempdir().unwrap();
    let e = write_npz(dir.path().join("x.npz"), &[("a", &a), ("a", &a)], false).unwrap_err();
    assert!(e.to_string().contains("'a' is empty or repeated"), "{e}");
    assert!(write_npz(dir.path().join("x.npz"), &[("", &a)], true).is_err());
    let e = write_npy(dir.path().join("missing/x.npy"), &a)
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing/.x.npy."), "{e}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}
