//! Parsing of the `strass-scheme/1` JSON format into plain parts, with one error kind per class
//! of malformed file.
//!
//! This file depends only on `std`, `serde` and `serde_json`: `build.rs` includes it with `#[path]` so the
//! build checks shipped schemes with exactly the loader the library uses ([`super::Scheme::load`]
//! wraps [`parse`] and adds the file name to every error).

use serde_json::{Map, Value};

/// The format tag every scheme file carries.
pub const FORMAT: &str = "strass-scheme/1";

/// Largest absolute coefficient a scheme may hold. Published schemes use at most a few units;
/// anything beyond this is treated as a corrupt file.
pub const MAX_COEFF: i64 = 1 << 20;

/// Largest dimension (`m`, `k`, `n`) or rank a scheme may declare.
pub const MAX_DIM: u64 = 1 << 12;

/// Largest matrix-multiplication tensor a scheme may describe: `m * k * n` at most this
/// (2^20, e.g. `<101,101,101>` or `<16,256,256>`).
pub const MAX_TENSOR: u64 = 1 << 20;

/// Largest verification cost a scheme may have: the exact check evaluates
/// `sum_r nnz(u_r) * nnz(v_r) * nnz(w column r) + m*k*n` terms, and a scheme beyond this
/// (2^24, about 17 million, a few seconds) is refused as too costly to verify.
pub const MAX_VERIFY_TERMS: u64 = 1 << 24;

/// The top-level fields of a scheme file; any other key is refused (it is most likely a typo).
pub const KNOWN_FIELDS: &[&str] = &[
    "format",
    "name",
    "m",
    "k",
    "n",
    "rank",
    "u",
    "v",
    "w",
    "provenance",
];

/// The class of a problem with one field of a scheme file or value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldProblem {
    /// The document is not a JSON object.
    NotAnObject,
    /// A required field is absent.
    Missing,
    /// `format` is present but is not `"strass-scheme/1"`.
    UnknownFormat,
    /// A top-level key that the format does not define.
    UnknownField,
    /// The field has the wrong JSON type (e.g. a string where a number belongs).
    WrongType,
    /// A dimension or the rank is zero.
    Zero,
    /// A dimension or the rank exceeds [`MAX_DIM`].
    DimensionTooLarge,
    /// A coefficient matrix has the wrong number of rows for m, k, n, rank.
    RowCount,
    /// A row has the wrong number of coefficients for m, k, n, rank.
    RowLength,
    /// A coefficient has a fractional part (`0.5`).
    Fractional,
    /// A coefficient is an integral value written as a float (`1.0`, `1e3`), or not a number.
    NotInteger,
    /// A coefficient's magnitude exceeds [`MAX_COEFF`].
    CoefficientTooLarge,
    /// `m * k * n` exceeds [`MAX_TENSOR`] or the verification cost exceeds
    /// [`MAX_VERIFY_TERMS`].
    TooCostly,
}

/// A problem with one field: which field (e.g. `u[3][1]`), its class, and a readable message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The offending field, e.g. `u[3][1]`.
    pub field: String,
    /// The class of problem.
    pub kind: FieldProblem,
    /// What is wrong, for humans.
    pub problem: String,
}

/// Why a text could not be parsed as a scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not valid JSON; the parser's message (with line and column).
    Json(String),
    /// Valid JSON, but a field is wrong.
    Field(FieldError),
}

/// The parts of a well-formed scheme file (not yet verified).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The `name` field, if present.
    pub name: Option<String>,
    /// Rows of A and C.
    pub m: usize,
    /// Columns of A, rows of B.
    pub k: usize,
    /// Columns of B and C.
    pub n: usize,
    /// Number of products.
    pub rank: usize,
    /// `rank` rows of `m*k` coefficients.
    pub u: Vec<Vec<i64>>,
    /// `rank` rows of `k*n` coefficients.
    pub v: Vec<Vec<i64>>,
    /// `m*n` rows of `rank` coefficients.
    pub w: Vec<Vec<i64>>,
    /// The `provenance` field (`null` when absent).
    pub provenance: Value,
}

fn err(field: impl Into<String>, kind: FieldProblem, problem: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        kind,
        problem: problem.into(),
    }
}

fn get_dim(obj: &Map<String, Value>, key: &str) -> Result<usize, FieldError> {
    let v = obj
        .get(key)
        .ok_or_else(|| err(key, FieldProblem::Missing, "missing"))?;
    let x = v.as_u64().ok_or_else(|| {
        err(
            key,
            FieldProblem::WrongType,
            format!("expected a positive integer, found {v}"),
        )
    })?;
    if x == 0 {
        return Err(err(key, FieldProblem::Zero, "must be at least 1"));
    }
    if x > MAX_DIM {
        return Err(err(
            key,
            FieldProblem::DimensionTooLarge,
            format!("{x} is absurdly large (limit {MAX_DIM})"),
        ));
    }
    Ok(x as usize)
}

/// Converts one JSON value to a coefficient, refusing fractions, floats, non-numbers and values
/// beyond [`MAX_COEFF`].
pub fn coefficient(name: &str, x: &Value) -> Result<i64, FieldError> {
    let num = match x {
        Value::Number(num) => num,
        other => {
            return Err(err(
                name,
                FieldProblem::NotInteger,
                format!("expected an integer, found {other}"),
            ))
        }
    };
    let c = if let Some(c) = num.as_i64() {
        c
    } else if num.is_u64() {
        return Err(err(
            name,
            FieldProblem::CoefficientTooLarge,
            format!("coefficient {num} is absurdly large (limit {MAX_COEFF})"),
        ));
    } else {
        let f = num.as_f64().unwrap_or(f64::NAN);
        return Err(if !f.is_finite() || f.abs() > MAX_COEFF as f64 {
            err(
                name,
                FieldProblem::CoefficientTooLarge,
                format!("coefficient {num} is absurdly large (limit {MAX_COEFF})"),
            )
        } else if f.fract() != 0.0 {
            err(
                name,
                FieldProblem::Fractional,
                format!("fractional coefficient {num}; schemes have integer coefficients"),
            )
        } else {
            err(
                name,
                FieldProblem::NotInteger,
                format!("coefficient {num} is written as a float; write it as an integer"),
            )
        });
    };
    if c.unsigned_abs() > MAX_COEFF as u64 {
        return Err(err(
            name,
            FieldProblem::CoefficientTooLarge,
            format!("coefficient {c} is absurdly large (limit {MAX_COEFF})"),
        ));
    }
    Ok(c)
}

fn get_matrix(
    obj: &Map<String, Value>,
    key: &str,
    rows: usize,
    cols: usize,
) -> Result<Vec<Vec<i64>>, FieldError> {
    let v = obj
        .get(key)
        .ok_or_else(|| err(key, FieldProblem::Missing, "missing"))?;
    let arr = v
        .as_array()
        .ok_or_else(|| err(key, FieldProblem::WrongType, "expected an array of rows"))?;
    if arr.len() != rows {
        return Err(err(
            key,
            FieldProblem::RowCount,
            format!("expected {rows} rows, found {}", arr.len()),
        ));
    }
    let mut out = Vec::with_capacity(rows);
    for (i, row) in arr.iter().enumerate() {
        let row = row.as_array().ok_or_else(|| {
            err(
                format!("{key}[{i}]"),
                FieldProblem::WrongType,
                "expected an array of integers",
            )
        })?;
        if row.len() != cols {
            return Err(err(
                format!("{key}[{i}]"),
                FieldProblem::RowLength,
                format!("expected {cols} coefficients, found {}", row.len()),
            ));
        }
        let r = row
            .iter()
            .enumerate()
            .map(|(j, x)| coefficient(&format!("{key}[{i}][{j}]"), x))
            .collect::<Result<Vec<i64>, _>>()?;
        out.push(r);
    }
    Ok(out)
}

/// Parses `strass-scheme/1` JSON text. Checks the format tag, every field's type, the shapes of
/// U, V, W against m, k, n, rank, and every coefficient; does not check validity (see
/// [`super::brent::check`]).
pub fn parse(text: &str) -> Result<Parsed, ParseError> {
    let value = parse_json_strict(text).map_err(ParseError::Json)?;
    parse_value(&value).map_err(ParseError::Field)
}

/// Parses JSON text like `serde_json::from_str::<Value>`, but refuses an object with a
/// duplicate key (which serde_json would silently resolve to the last value).
pub fn parse_json_strict(text: &str) -> Result<Value, String> {
    serde_json::from_str::<Strict>(text)
        .map(|s| s.0)
        .map_err(|e| e.to_string())
}

/// A JSON value whose objects have no duplicate keys.
struct Strict(Value);

impl<'de> serde::Deserialize<'de> for Strict {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> serde::de::Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, x: bool) -> Result<Value, E> {
        Ok(Value::Bool(x))
    }
    fn visit_i64<E>(self, x: i64) -> Result<Value, E> {
        Ok(Value::from(x))
    }
    fn visit_u64<E>(self, x: u64) -> Result<Value, E> {
        Ok(Value::from(x))
    }
    fn visit_f64<E>(self, x: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, x: &str) -> Result<Value, E> {
        Ok(Value::String(x.to_owned()))
    }
    fn visit_string<E>(self, x: String) -> Result<Value, E> {
        Ok(Value::String(x))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        out.shrink_to_fit();
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("duplicate key `{key}`")));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

/// Refuses dimensions whose tensor exceeds [`MAX_TENSOR`] (checked before any matrix is read).
fn check_tensor(m: usize, k: usize, n: usize) -> Result<(), FieldError> {
    let t = (m as u64).saturating_mul(k as u64).saturating_mul(n as u64);
    if t > MAX_TENSOR {
        return Err(err(
            "m",
            FieldProblem::TooCostly,
            format!("<{m},{k},{n}> has m*k*n = {t}, beyond the limit of {MAX_TENSOR}"),
        ));
    }
    Ok(())
}

/// The number of terms the exact check evaluates (see [`MAX_VERIFY_TERMS`]), saturating.
pub fn verify_cost(
    (m, k, n): (usize, usize, usize),
    u: &[Vec<i64>],
    v: &[Vec<i64>],
    w: &[Vec<i64>],
) -> u64 {
    let nnz = |row: &[i64]| row.iter().filter(|&&c| c != 0).count() as u64;
    // Nonzeros per column of W, in one pass over W.
    let mut nw = vec![0u64; u.len()];
    for row in w {
        for (count, &c) in nw.iter_mut().zip(row) {
            *count += u64::from(c != 0);
        }
    }
    let tensor = (m as u64).saturating_mul(k as u64).saturating_mul(n as u64);
    u.iter()
        .zip(v)
        .zip(&nw)
        .fold(tensor, |cost, ((ur, vr), &nw)| {
            cost.saturating_add(nnz(ur).saturating_mul(nnz(vr)).saturating_mul(nw))
        })
}

/// Refuses a scheme whose [`verify_cost`] exceeds [`MAX_VERIFY_TERMS`].
fn check_cost(cost: u64) -> Result<(), FieldError> {
    if cost > MAX_VERIFY_TERMS {
        return Err(err(
            "u",
            FieldProblem::TooCostly,
            format!(
                "exact verification would evaluate {cost} terms, beyond the limit of \
                 {MAX_VERIFY_TERMS}"
            ),
        ));
    }
    Ok(())
}

/// [`parse`] on an already parsed JSON value.
pub fn parse_value(value: &Value) -> Result<Parsed, FieldError> {
    let obj = value.as_object().ok_or_else(|| {
        err(
            "<root>",
            FieldProblem::NotAnObject,
            "expected a JSON object",
        )
    })?;
    match obj.get("format") {
        None => return Err(err("format", FieldProblem::Missing, "missing")),
        Some(Value::String(s)) if s == FORMAT => {}
        Some(other) => {
            return Err(err(
                "format",
                FieldProblem::UnknownFormat,
                format!("unknown format {other}, expected \"{FORMAT}\""),
            ))
        }
    }
    if let Some(key) = obj.keys().find(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
        return Err(err(
            key.as_str(),
            FieldProblem::UnknownField,
            format!(
                "unknown field (the format has {}; put extra information in `provenance`)",
                KNOWN_FIELDS.join(", ")
            ),
        ));
    }
    let name = match obj.get("name") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(err(
                "name",
                FieldProblem::WrongType,
                format!("expected a string, found {other}"),
            ))
        }
    };
    let m = get_dim(obj, "m")?;
    let k = get_dim(obj, "k")?;
    let n = get_dim(obj, "n")?;
    let rank = get_dim(obj, "rank")?;
    check_tensor(m, k, n)?;
    let u = get_matrix(obj, "u", rank, m * k)?;
    let v = get_matrix(obj, "v", rank, k * n)?;
    let w = get_matrix(obj, "w", m * n, rank)?;
    check_cost(verify_cost((m, k, n), &u, &v, &w))?;
    let provenance = obj.get("provenance").cloned().unwrap_or(Value::Null);
    Ok(Parsed {
        name,
        m,
        k,
        n,
        rank,
        u,
        v,
        w,
        provenance,
    })
}

/// Checks in-memory parts the way [`parse`] checks a file: positive bounded dimensions, row
/// counts and lengths, coefficient bounds.
pub fn check_parts(
    (m, k, n, rank): (usize, usize, usize, usize),
    u: &[Vec<i64>],
    v: &[Vec<i64>],
    w: &[Vec<i64>],
) -> Result<(), FieldError> {
    for (key, d) in [("m", m), ("k", k), ("n", n), ("rank", rank)] {
        if d == 0 {
            return Err(err(key, FieldProblem::Zero, "must be at least 1"));
        }
        if d as u64 > MAX_DIM {
            return Err(err(
                key,
                FieldProblem::DimensionTooLarge,
                format!("{d} is absurdly large (limit {MAX_DIM})"),
            ));
        }
    }
    check_tensor(m, k, n)?;
    let checks = [
        ("u", u, rank, m * k),
        ("v", v, rank, k * n),
        ("w", w, m * n, rank),
    ];
    for (key, mat, rows, cols) in checks {
        if mat.len() != rows {
            return Err(err(
                key,
                FieldProblem::RowCount,
                format!("expected {rows} rows, found {}", mat.len()),
            ));
        }
        for (i, r) in mat.iter().enumerate() {
            if r.len() != cols {
                return Err(err(
                    format!("{key}[{i}]"),
                    FieldProblem::RowLength,
                    format!("expected {cols} coefficients, found {}", r.len()),
                ));
            }
            if let Some((j, c)) = r
                .iter()
                .enumerate()
                .find(|(_, c)| c.unsigned_abs() > MAX_COEFF as u64)
            {
                return Err(err(
                    format!("{key}[{i}][{j}]"),
                    FieldProblem::CoefficientTooLarge,
                    format!("coefficient {c} is absurdly large (limit {MAX_COEFF})"),
                ));
            }
        }
    }
    check_cost(verify_cost((m, k, n), u, v, w))
}
