//! Loading `strass-scheme/1` files: every class of malformed file gets its own error, naming the
//! file and the field; nothing half-loaded, no panic.

use strass::scheme::{FieldProblem, SchemeError, MAX_COEFF};
use strass::Scheme;

const STRASSEN: &str = include_str!("../kernels/strassen.json");

/// Parses `text` as if it were the file `bad.json`.
fn load(text: &str) -> Result<Scheme, SchemeError> {
    Scheme::from_json_str(text, std::path::Path::new("dir/bad.json"))
}

/// Strassen's file with the JSON value edited by `f`.
fn edited(f: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(STRASSEN).unwrap();
    f(&mut v);
    serde_json::to_string(&v).unwrap()
}

/// Asserts a field error of the given kind on the given field, and that the message names the
/// file and the field.
fn assert_field(text: &str, kind: FieldProblem, field: &str) -> String {
    match load(text) {
        Err(e @ SchemeError::Field { .. }) => {
            let msg = e.to_string();
            let SchemeError::Field {
                kind: k, field: f, ..
            } = &e
            else {
                unreachable!()
            };
            assert_eq!((*k, f.as_str()), (kind, field), "{msg}");
            assert!(msg.contains("dir/bad.json"), "{msg}");
            assert!(msg.contains(field), "{msg}");
            msg
        }
        other => panic!("expected {kind:?} on {field}, got {other:?}"),
    }
}

#[test]
fn the_unedited_file_loads() {
    let s = load(&edited(|_| {})).unwrap();
    assert!(s.verify().is_valid());
    // Round trip through our writer.
    let again = load(&s.to_json_string()).unwrap();
    assert_eq!(s, again);
}

#[test]
fn malformed_json() {
    for text in [
        "",
        "{",
        "{\"format\": \"strass-scheme/1\",}",
        "not json",
        "[1, 2",
    ] {
        match load(text) {
            Err(e @ SchemeError::Json { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.contains("dir/bad.json") && msg.contains("malformed JSON"),
                    "{msg}"
                );
            }
            other => panic!("{text:?}: {other:?}"),
        }
    }
}

#[test]
fn not_an_object() {
    assert_field("[1, 2, 3]", FieldProblem::NotAnObject, "<root>");
    assert_field("42", FieldProblem::NotAnObject, "<root>");
}

#[test]
fn missing_format() {
    let t = edited(|v| {
        v.as_object_mut().unwrap().remove("format");
    });
    assert_field(&t, FieldProblem::Missing, "format");
}

#[test]
fn unknown_format() {
    for f in [
        serde_json::json!("strass-scheme/3"),
        serde_json::json!("fast-matmul"),
        serde_json::json!(1),
        serde_json::json!(null),
    ] {
        let t = edited(|v| v["format"] = f.clone());
        let msg = assert_field(&t, FieldProblem::UnknownFormat, "format");
        assert!(msg.contains("strass-scheme/1"), "{msg}");
    }
}

#[test]
fn unknown_top_level_field() {
    let t = edited(|v| v["provenence"] = serde_json::json!({"source": "typo"}));
    assert_field(&t, FieldProblem::UnknownField, "provenence");
}

#[test]
fn missing_fields() {
    for key in ["m", "k", "n", "rank", "u", "v", "w"] {
        let t = edited(|v| {
            v.as_object_mut().unwrap().remove(key);
        });
        assert_field(&t, FieldProblem::Missing, key);
    }
    // name and provenance are optional; the name then comes from the file stem.
    let t = edited(|v| {
        let o = v.as_object_mut().unwrap();
        o.remove("name");
        o.remove("provenance");
    });
    let s = load(&t).unwrap();
    assert_eq!(s.name(), "bad");
    assert!(s.provenance().is_null());
}

#[test]
fn wrong_types() {
    assert_field(
        &edited(|v| v["m"] = "2".into()),
        FieldProblem::WrongType,
        "m",
    );
    assert_field(
        &edited(|v| v["k"] = (-2).into()),
        FieldProblem::WrongType,
        "k",
    );
    assert_field(
        &edited(|v| v["n"] = 2.5.into()),
        FieldProblem::WrongType,
        "n",
    );
    assert_field(
        &edited(|v| v["name"] = 7.into()),
        FieldProblem::WrongType,
        "name",
    );
    assert_field(
        &edited(|v| v["u"] = "rows".into()),
        FieldProblem::WrongType,
        "u",
    );
    assert_field(
        &edited(|v| v["v"][2] = 5.into()),
        FieldProblem::WrongType,
        "v[2]",
    );
}

#[test]
fn zero_dimensions_or_rank() {
    for key in ["m", "k", "n", "rank"] {
        assert_field(&edited(|v| v[key] = 0.into()), FieldProblem::Zero, key);
    }
    // In memory as well.
    assert!(matches!(
        Scheme::new(
            "empty",
            (2, 2, 2),
            vec![],
            vec![],
            vec![vec![]; 4],
            serde_json::Value::Null
        ),
        Err(SchemeError::Field {
            kind: FieldProblem::Zero,
            ..
        })
    ));
    assert!(Scheme::classical(0, 2, 2).is_err());
}

#[test]
fn absurd_dimensions() {
    assert_field(
        &edited(|v| v["m"] = 1_000_000.into()),
        FieldProblem::DimensionTooLarge,
        "m",
    );
    assert_field(
        &edited(|v| v["rank"] = u64::MAX.into()),
        FieldProblem::DimensionTooLarge,
        "rank",
    );
}

#[test]
fn row_counts_that_do_not_match() {
    // rank says 8 but U has 7 rows.
    assert_field(
        &edited(|v| v["rank"] = 8.into()),
        FieldProblem::RowCount,
        "u",
    );
    // m = 3 needs 6 rows in W (m*n) - U is checked first and its rows are too short.
    assert_field(
        &edited(|v| v["m"] = 3.into()),
        FieldProblem::RowLength,
        "u[0]",
    );
    assert_field(
        &edited(|v| {
            v["v"].as_array_mut().unwrap().pop();
        }),
        FieldProblem::RowCount,
        "v",
    );
    assert_field(
        &edited(|v| {
            v["w"]
                .as_array_mut()
                .unwrap()
                .push(serde_json::json!([0, 0, 0, 0, 0, 0, 0]));
        }),
        FieldProblem::RowCount,
        "w",
    );
}

#[test]
fn row_lengths_that_do_not_match() {
    assert_field(
        &edited(|v| v["u"][3] = serde_json::json!([0, 0, 1])),
        FieldProblem::RowLength,
        "u[3]",
    );
    assert_field(
        &edited(|v| v["w"][1] = serde_json::json!([0, 0, 1, 0, 1, 0, 0, 0])),
        FieldProblem::RowLength,
        "w[1]",
    );
}

#[test]
fn fractional_coefficients() {
    let msg = assert_field(
        &edited(|v| v["u"][2][1] = 0.5.into()),
        FieldProblem::Fractional,
        "u[2][1]",
    );
    assert!(msg.contains("0.5"), "{msg}");
    assert_field(
        &edited(|v| v["w"][0][6] = (-1.25).into()),
        FieldProblem::Fractional,
        "w[0][6]",
    );
}

#[test]
fn non_integer_coefficients() {
    assert_field(
        &edited(|v| v["v"][0][0] = "1".into()),
        FieldProblem::NotInteger,
        "v[0][0]",
    );
    assert_field(
        &edited(|v| v["v"][0][0] = true.into()),
        FieldProblem::NotInteger,
        "v[0][0]",
    );
    assert_field(
        &edited(|v| v["v"][0][0] = serde_json::Value::Null),
        FieldProblem::NotInteger,
        "v[0][0]",
    );
    // An integral value written as a float is refused too: files hold integers.
    let t = STRASSEN.replacen("[1, 0, 0, 1]", "[1.0, 0, 0, 1]", 1);
    assert_field(&t, FieldProblem::NotInteger, "u[0][0]");
}

#[test]
fn absurdly_large_coefficients() {
    let big = MAX_COEFF + 1;
    assert_field(
        &edited(|v| v["u"][0][0] = big.into()),
        FieldProblem::CoefficientTooLarge,
        "u[0][0]",
    );
    assert_field(
        &edited(|v| v["w"][3][0] = (-big).into()),
        FieldProblem::CoefficientTooLarge,
        "w[3][0]",
    );
    // Beyond i64 and written as a huge float.
    let t = STRASSEN.replacen("[1, 0, 0, 1]", "[99999999999999999999, 0, 0, 1]", 1);
    assert_field(&t, FieldProblem::CoefficientTooLarge, "u[0][0]");
    let t = STRASSEN.replacen("[1, 0, 0, 1]", "[1e300, 0, 0, 1]", 1);
    assert_field(&t, FieldProblem::CoefficientTooLarge, "u[0][0]");
    // The limit itself is fine to load (and the scheme then fails verification, not loading).
    let s = load(&edited(|v| v["u"][0][0] = MAX_COEFF.into())).unwrap();
    assert!(!s.verify().is_valid());
}

#[test]
fn unreadable_file() {
    match Scheme::load("tests/scheme_data/no-such-file.json") {
        Err(e @ SchemeError::Read { .. }) => assert!(e.to_string().contains("no-such-file")),
        other => panic!("{other:?}"),
    }
}

/// Strassen's file edited by `f`, written with its fields in reverse sorted order: `w`, `v`,
/// `u` and `rank` before `n`, `m` and `k` (strass writes the dimensions first, and the
/// streaming reader checks rows against them as it reads when it can).
fn reversed(f: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value = serde_json::from_str(STRASSEN).unwrap();
    f(&mut v);
    let fields: Vec<String> = v
        .as_object()
        .unwrap()
        .iter()
        .rev()
        .map(|(k, x)| format!("{}: {x}", serde_json::Value::String(k.clone())))
        .collect();
    assert!(fields[0].starts_with("\"w\""), "{}", fields[0]);
    format!("{{{}}}", fields.join(", "))
}

#[test]
fn the_order_of_the_fields_changes_neither_the_scheme_nor_the_error() {
    assert_eq!(load(&reversed(|_| {})).unwrap(), load(STRASSEN).unwrap());
    type Edit = fn(&mut serde_json::Value);
    let cases: [(Edit, FieldProblem, &str); 6] = [
        (
            |v| v["u"][3] = serde_json::json!([0, 0, 1]),
            FieldProblem::RowLength,
            "u[3]",
        ),
        (
            |v| v["w"][1][2] = serde_json::json!(0.5),
            FieldProblem::Fractional,
            "w[1][2]",
        ),
        // The row count is checked before the rows, the row length before the coefficients.
        (
            |v| {
                v["v"][2][0] = serde_json::json!("x");
                v["v"].as_array_mut().unwrap().pop();
            },
            FieldProblem::RowCount,
            "v",
        ),
        (
            |v| v["u"][1] = serde_json::json!([0.5, 0, 0]),
            FieldProblem::RowLength,
            "u[1]",
        ),
        // A problem with a dimension comes before any problem with a matrix.
        (
            |v| {
                v["u"][0] = serde_json::json!(7);
                v["m"] = serde_json::json!(0);
            },
            FieldProblem::Zero,
            "m",
        ),
        (
            |v| {
                v["u"][0][0] = serde_json::json!(1.5);
                v["format"] = serde_json::json!("strass-scheme/3");
            },
            FieldProblem::UnknownFormat,
            "format",
        ),
    ];
    for (edit, kind, field) in cases {
        let a = assert_field(&edited(edit), kind, field);
        let b = assert_field(&reversed(edit), kind, field);
        assert_eq!(a, b);
    }
}
