//! Parsing of the `strass-scheme/1` and `strass-scheme/2` JSON formats into plain parts, with one
//! error kind per class of malformed file.
//!
//! The two versions share one layout; they differ only in the coefficients. In `/1` every
//! coefficient is a JSON integer. In `/2` a coefficient may also be a string holding an exact
//! rational number in lowest terms: `"p"`, `"-p"`, `"p/q"` or `"-p/q"` with decimal digits, no
//! sign but a leading `-`, no leading zeros, no spaces, `q >= 2` and `gcd(p, q) = 1` (see
//! [`Fraction::parse`]). [`parse_rational`] reads both versions into [`Fraction`]s; [`parse`]
//! reads both into integers and refuses a `/2` file with a fractional coefficient
//! ([`FieldProblem::Fractional`], pointing to `RationalScheme`).
//!
//! This file depends only on `std`, `serde` and `serde_json`: `build.rs` includes it with `#[path]` so the
//! build checks shipped schemes with exactly the loader the library uses ([`super::Scheme::load`]
//! wraps [`parse`] and adds the file name to every error).
//!
//! The parser streams: serde visitors read the document once, checking each coefficient as it
//! is read and keeping nothing but the coefficient matrices (no `serde_json::Value` of the whole
//! file, which costs about 21 times the file's size). Every problem found on the way is kept
//! until the whole object is read, so the error reported does not depend on the order of the
//! fields in the file: malformed JSON (including a duplicate key anywhere) first, then `format`,
//! unknown fields, `name`, the dimensions, `u`, `v`, `w` and the verification cost.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::cell::Cell;
use std::collections::HashSet;

/// The format tag of a scheme file with integer coefficients (what strass writes whenever every
/// coefficient is an integer, so that older readers still read it).
pub const FORMAT: &str = "strass-scheme/1";

/// The format tag of a scheme file that may hold rational coefficients (`"p/q"` strings).
pub const FORMAT_V2: &str = "strass-scheme/2";

/// An exact rational coefficient `num / den` as read from a file: in lowest terms, `den >= 1`,
/// `|num|` and `den` at most [`MAX_COEFF`] (so 8 bytes, like an `i64`, and the loader's memory
/// stays that of the integer matrices).
///
/// This is only the parser's representation (this file depends on nothing but `std` and
/// serde); arithmetic on coefficients is done by `RationalScheme` with `num-rational`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fraction {
    num: i32,
    den: u32,
}

impl Default for Fraction {
    fn default() -> Self {
        Fraction { num: 0, den: 1 }
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

impl Fraction {
    /// The integer `c` (`None` beyond [`MAX_COEFF`]).
    pub fn integer(c: i64) -> Option<Fraction> {
        (c.unsigned_abs() <= MAX_COEFF as u64).then_some(Fraction {
            num: c as i32,
            den: 1,
        })
    }

    /// `num / den` reduced to lowest terms (`None` when `den` is 0 or the reduced numerator or
    /// denominator exceeds [`MAX_COEFF`]).
    pub fn new(num: i64, den: i64) -> Option<Fraction> {
        if den == 0 {
            return None;
        }
        let g = gcd(num.unsigned_abs(), den.unsigned_abs()).max(1);
        let (n, d) = (num.unsigned_abs() / g, den.unsigned_abs() / g);
        if n > MAX_COEFF as u64 || d > MAX_COEFF as u64 {
            return None;
        }
        let negative = (num < 0) != (den < 0) && n != 0;
        Some(Fraction {
            num: if negative { -(n as i32) } else { n as i32 },
            den: d as u32,
        })
    }

    /// The numerator (its sign is the fraction's).
    pub fn num(self) -> i64 {
        i64::from(self.num)
    }

    /// The denominator, at least 1.
    pub fn den(self) -> i64 {
        i64::from(self.den)
    }

    /// The value as an integer, when the denominator is 1.
    pub fn as_integer(self) -> Option<i64> {
        (self.den == 1).then_some(i64::from(self.num))
    }

    /// Parses the canonical text of a coefficient: `"0"`, `"p"`, `"-p"`, `"p/q"`, `"-p/q"` with
    /// `p, q` decimal numbers without leading zeros, `q >= 2`, `gcd(p, q) = 1`, both at most
    /// [`MAX_COEFF`]. Anything else (spaces, `+`, `-0`, `01`, `2/4`, `3/1`, `1/0`, `1/-2`,
    /// `0.5`) is refused with the class of problem and a message.
    pub fn parse(text: &str) -> Result<Fraction, (FieldProblem, String)> {
        let malformed = |why: &str| {
            (
                FieldProblem::MalformedFraction,
                format!(
                    "coefficient {text:?} is not an exact fraction ({why}); write an integer, \
                     \"p/q\" or \"-p/q\" in lowest terms"
                ),
            )
        };
        let (negative, body) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (p, q) = match body.split_once('/') {
            Some((p, q)) => (p, Some(q)),
            None => (body, None),
        };
        // Digits only, no leading zero except "0" itself; returns the value, saturated.
        let number = |digits: &str, what: &str| -> Result<u64, (FieldProblem, String)> {
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed(&format!("the {what} is not a decimal number")));
            }
            if digits.len() > 1 && digits.starts_with('0') {
                return Err(malformed(&format!("the {what} has a leading zero")));
            }
            Ok(digits.bytes().fold(0u64, |x, b| {
                x.saturating_mul(10).saturating_add(u64::from(b - b'0'))
            }))
        };
        let p = number(p, "numerator")?;
        let q = match q {
            None => 1,
            Some(q) => number(q, "denominator")?,
        };
        if q == 0 {
            return Err((
                FieldProblem::ZeroDenominator,
                format!("coefficient {text:?} has a zero denominator"),
            ));
        }
        if p > MAX_COEFF as u64 || q > MAX_COEFF as u64 {
            return Err(too_large(text));
        }
        if p == 0 && (negative || q != 1 || body.contains('/')) {
            return Err((
                FieldProblem::NotCanonical,
                format!("coefficient {text:?}: write zero as 0"),
            ));
        }
        if body.contains('/') && q == 1 {
            return Err((
                FieldProblem::NotCanonical,
                format!("coefficient {text:?} has denominator 1; write it as an integer"),
            ));
        }
        let g = gcd(p, q);
        if g != 1 {
            return Err((
                FieldProblem::NotCanonical,
                format!(
                    "coefficient {text:?} is not in lowest terms; write {}{}/{}",
                    if negative { "-" } else { "" },
                    p / g,
                    q / g
                ),
            ));
        }
        let num = p as i32;
        Ok(Fraction {
            num: if negative { -num } else { num },
            den: q as u32,
        })
    }
}

impl std::fmt::Display for Fraction {
    /// The canonical text: `3`, `-1/2`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.den == 1 {
            write!(f, "{}", self.num)
        } else {
            write!(f, "{}/{}", self.num, self.den)
        }
    }
}

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
    /// `format` is present but is neither `"strass-scheme/1"` nor `"strass-scheme/2"`.
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
    /// A coefficient has a fractional part: a float (`0.5`; write `"1/2"` in `/2`), or a
    /// fraction (`"1/2"` in a `/2` file) where an integer scheme is being loaded.
    Fractional,
    /// A coefficient is an integral value written as a float (`1.0`, `1e3`), or not a number
    /// (including a string in a `strass-scheme/1` file).
    NotInteger,
    /// A `/2` coefficient string is not an exact fraction (`"1.5"`, `"1 / 2"`, `"+1"`, `"x"`).
    MalformedFraction,
    /// A `/2` coefficient string has a zero denominator (`"1/0"`).
    ZeroDenominator,
    /// A `/2` coefficient string is a fraction but not in canonical form (`"2/4"`, `"3/1"`, `"-0"`).
    NotCanonical,
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

/// The parts of a well-formed scheme file with integer coefficients (not yet verified).
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

/// The parts of a well-formed `strass-scheme/1` or `/2` file with exact rational coefficients
/// (not yet verified); what [`parse_rational`] returns.
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRational {
    /// The format version: 1 or 2.
    pub version: u32,
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
    pub u: Vec<Vec<Fraction>>,
    /// `rank` rows of `k*n` coefficients.
    pub v: Vec<Vec<Fraction>>,
    /// `m*n` rows of `rank` coefficients.
    pub w: Vec<Vec<Fraction>>,
    /// The `provenance` field (`null` when absent).
    pub provenance: Value,
}

impl ParsedRational {
    /// The integer parts, or [`FieldProblem::Fractional`] at the first fractional coefficient
    /// (in `u`, `v`, `w` order, row-major). Converts row by row, so memory does not double.
    pub fn into_integral(self) -> Result<Parsed, FieldError> {
        fn convert(key: &str, mat: Vec<Vec<Fraction>>) -> Result<Vec<Vec<i64>>, FieldError> {
            mat.into_iter()
                .enumerate()
                .map(|(i, row)| {
                    row.iter()
                        .enumerate()
                        .map(|(j, c)| {
                            c.as_integer().ok_or_else(|| {
                                err(
                                    format!("{key}[{i}][{j}]"),
                                    FieldProblem::Fractional,
                                    format!(
                                        "coefficient {c} is not an integer: this {FORMAT_V2} \
                                         file has rational coefficients, which only \
                                         `RationalScheme` loads (`strass verify` checks them \
                                         over Q)"
                                    ),
                                )
                            })
                        })
                        .collect()
                })
                .collect()
        }
        let u = convert("u", self.u)?;
        let v = convert("v", self.v)?;
        let w = convert("w", self.w)?;
        Ok(Parsed {
            name: self.name,
            m: self.m,
            k: self.k,
            n: self.n,
            rank: self.rank,
            u,
            v,
            w,
            provenance: self.provenance,
        })
    }
}

fn err(field: impl Into<String>, kind: FieldProblem, problem: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        kind,
        problem: problem.into(),
    }
}

fn get_dim(v: Option<&Value>, key: &str) -> Result<usize, FieldError> {
    let v = v.ok_or_else(|| err(key, FieldProblem::Missing, "missing"))?;
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

/// What is wrong with one coefficient: its class and a message (the field is added by the
/// caller, which knows the row and column).
type CoefficientProblem = (FieldProblem, String);

fn too_large(num: impl std::fmt::Display) -> CoefficientProblem {
    (
        FieldProblem::CoefficientTooLarge,
        format!("coefficient {num} is absurdly large (limit {MAX_COEFF})"),
    )
}

/// An integer coefficient, refused beyond [`MAX_COEFF`].
fn integer_coefficient(c: i64) -> Result<i64, CoefficientProblem> {
    if c.unsigned_abs() > MAX_COEFF as u64 {
        return Err(too_large(c));
    }
    Ok(c)
}

/// Why a string is not a coefficient of a `strass-scheme/1` file.
fn string_in_v1(text: &str) -> CoefficientProblem {
    (
        FieldProblem::NotInteger,
        format!(
            "expected an integer, found {}; {FORMAT} has integer coefficients (rational \
             ones need \"format\": \"{FORMAT_V2}\")",
            Value::String(text.to_owned())
        ),
    )
}

/// Why a number written as a float (`0.5`, `1.0`, `1e30`) is not a coefficient.
fn float_coefficient(num: &Number) -> CoefficientProblem {
    let f = num.as_f64().unwrap_or(f64::NAN);
    if !f.is_finite() || f.abs() > MAX_COEFF as f64 {
        too_large(num)
    } else if f.fract() != 0.0 {
        (
            FieldProblem::Fractional,
            format!(
                "fractional coefficient {num}; coefficients are integers or, in {FORMAT_V2}, \
                 exact fractions written as strings (\"1/2\"), never floats"
            ),
        )
    } else {
        (
            FieldProblem::NotInteger,
            format!("coefficient {num} is written as a float; write it as an integer"),
        )
    }
}

fn not_a_number(other: &Value) -> CoefficientProblem {
    (
        FieldProblem::NotInteger,
        format!("expected an integer, found {other}"),
    )
}

/// Converts one JSON value to a coefficient, refusing fractions, floats, non-numbers and values
/// beyond [`MAX_COEFF`].
pub fn coefficient(name: &str, x: &Value) -> Result<i64, FieldError> {
    let c = match x {
        Value::Number(num) => match num.as_i64() {
            Some(c) => integer_coefficient(c),
            None if num.is_u64() => Err(too_large(num)),
            None => Err(float_coefficient(num)),
        },
        other => Err(not_a_number(other)),
    };
    c.map_err(|(kind, problem)| err(name, kind, problem))
}

/// Parses `strass-scheme/1` JSON text, or `strass-scheme/2` text whose coefficients are all
/// integers. Checks the format tag, every field's type, the shapes of U, V, W against m, k, n,
/// rank, and every coefficient; does not check validity (see [`super::brent::check`]). A `/2`
/// file with a fractional coefficient is [`FieldProblem::Fractional`] (read it with
/// [`parse_rational`]). Memory: the coefficient matrices plus a small constant.
pub fn parse(text: &str) -> Result<Parsed, ParseError> {
    parse_rational(text)?
        .into_integral()
        .map_err(ParseError::Field)
}

/// Parses `strass-scheme/1` or `strass-scheme/2` JSON text with exact rational coefficients,
/// with the same checks as [`parse`] (a string coefficient is refused in a `/1` file).
pub fn parse_rational(text: &str) -> Result<ParsedRational, ParseError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let read = parse_rational_from(&mut de).and_then(|parsed| de.end().map(|()| parsed));
    read.map_err(|e| ParseError::Json(e.to_string()))?
        .map_err(ParseError::Field)
}

/// Reads a scheme with integer coefficients from any serde deserializer in one streaming pass
/// (what `Scheme`'s `Deserialize` uses): [`parse_rational_from`], then
/// [`ParsedRational::into_integral`].
pub fn parse_from<'de, D: Deserializer<'de>>(d: D) -> Result<Result<Parsed, FieldError>, D::Error> {
    Ok(parse_rational_from(d)?.and_then(ParsedRational::into_integral))
}

/// Reads a scheme from any serde deserializer in one streaming pass (what [`parse_rational`]
/// uses). The outer error is the deserializer's (malformed input, or a duplicate key anywhere
/// in the document); the inner one a problem with a field, decided once the whole object is
/// read, with the same precedence as [`parse`].
pub fn parse_rational_from<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Result<ParsedRational, FieldError>, D::Error> {
    d.deserialize_any(SchemeVisitor)
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

/// The number of terms the exact check evaluates (see [`MAX_VERIFY_TERMS`]), saturating. The
/// coefficients are integers or [`Fraction`]s (zero is `T::default()`).
pub fn verify_cost<T: PartialEq + Default>(
    (m, k, n): (usize, usize, usize),
    u: &[Vec<T>],
    v: &[Vec<T>],
    w: &[Vec<T>],
) -> u64 {
    let zero = T::default();
    let nnz = |row: &[T]| row.iter().filter(|&c| *c != zero).count() as u64;
    // Nonzeros per column of W, in one pass over W.
    let mut nw = vec![0u64; u.len()];
    for row in w {
        for (count, c) in nw.iter_mut().zip(row) {
            *count += u64::from(*c != zero);
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
    parse_rational_value(value).and_then(ParsedRational::into_integral)
}

/// [`parse_rational`] on an already parsed JSON value.
pub fn parse_rational_value(value: &Value) -> Result<ParsedRational, FieldError> {
    // A `Value` has no duplicate keys and any shape is accepted, so the deserializer itself
    // cannot fail; should it, that is reported as a problem with the document.
    parse_rational_from(value)
        .unwrap_or_else(|e| Err(err("<root>", FieldProblem::WrongType, e.to_string())))
}

// ---- The streaming reader ----

/// Most JSON values of a wrongly typed field that its error message shows; the rest of a larger
/// array or object is read (and checked for duplicate keys) but shown as `"..."`.
const PREVIEW_NODES: usize = 32;

/// Most rows or coefficients reserved before they are read; beyond this a matrix or row grows as
/// it is read, so a short file that declares large dimensions cannot make the reader reserve much.
const RESERVE_LIMIT: usize = 1 << 16;

const DIMS: [&str; 4] = ["m", "k", "n", "rank"];

fn duplicate_key<E: de::Error>(key: &str) -> E {
    E::custom(format!("duplicate key `{key}`"))
}

/// Generates the `Visitor` methods for every JSON value but an array: each consumes the value
/// (an object is checked for duplicate keys) and returns `$out`.
macro_rules! not_an_array {
    ($de:lifetime, $out:expr) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($out)
        }
        fn visit_map<A: MapAccess<$de>>(self, map: A) -> Result<Self::Value, A::Error> {
            SkipVisitor.visit_map(map)?;
            Ok($out)
        }
    };
}

/// Any JSON value, read and dropped; no object in it may repeat a key.
struct Skipped;

impl<'de> serde::Deserialize<'de> for Skipped {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SkipVisitor)
    }
}

struct SkipVisitor;

impl<'de> Visitor<'de> for SkipVisitor {
    type Value = Skipped;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Skipped, A::Error> {
        while seq.next_element::<Skipped>()?.is_some() {}
        Ok(Skipped)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skipped, A::Error> {
        let mut keys = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if keys.contains(&key) {
                return Err(duplicate_key(&key));
            }
            map.next_value::<Skipped>()?;
            keys.insert(key);
        }
        Ok(Skipped)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_str<E>(self, _: &str) -> Result<Skipped, E> {
        Ok(Skipped)
    }
    fn visit_unit<E>(self) -> Result<Skipped, E> {
        Ok(Skipped)
    }
}

/// A JSON value kept for an error message: at most [`PREVIEW_NODES`] values of it (see
/// [`PreviewSeed`]); a small value is kept whole.
struct Preview(Value);

impl<'de> serde::Deserialize<'de> for Preview {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let budget = Cell::new(PREVIEW_NODES);
        Ok(Preview(
            PreviewSeed(&budget).deserialize(d)?.unwrap_or_default(),
        ))
    }
}

/// One value of a [`Preview`], drawing on a shared budget of values: `None` (the value read and
/// dropped) once the budget is spent.
struct PreviewSeed<'a>(&'a Cell<usize>);

impl<'de> DeserializeSeed<'de> for PreviewSeed<'_> {
    type Value = Option<Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Value>, D::Error> {
        match self.0.get() {
            0 => d.deserialize_any(SkipVisitor).map(|_| None),
            left => {
                self.0.set(left - 1);
                d.deserialize_any(PreviewVisitor(self.0)).map(Some)
            }
        }
    }
}

struct PreviewVisitor<'a>(&'a Cell<usize>);

/// Marks where a [`Preview`] left values out.
const CUT: &str = "...";

impl<'de> Visitor<'de> for PreviewVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, x: bool) -> Result<Value, E> {
        StrictVisitor.visit_bool(x)
    }
    fn visit_i64<E: de::Error>(self, x: i64) -> Result<Value, E> {
        StrictVisitor.visit_i64(x)
    }
    fn visit_u64<E: de::Error>(self, x: u64) -> Result<Value, E> {
        StrictVisitor.visit_u64(x)
    }
    fn visit_f64<E: de::Error>(self, x: f64) -> Result<Value, E> {
        StrictVisitor.visit_f64(x)
    }
    fn visit_str<E: de::Error>(self, x: &str) -> Result<Value, E> {
        StrictVisitor.visit_str(x)
    }
    fn visit_string<E: de::Error>(self, x: String) -> Result<Value, E> {
        StrictVisitor.visit_string(x)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        StrictVisitor.visit_unit()
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let (mut out, mut cut) = (Vec::new(), false);
        while let Some(v) = seq.next_element_seed(PreviewSeed(self.0))? {
            match v {
                Some(v) => out.push(v),
                None => cut = true,
            }
        }
        if cut {
            out.push(Value::String(CUT.into()));
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let (mut out, mut dropped) = (Map::new(), HashSet::new());
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) || dropped.contains(&key) {
                return Err(duplicate_key(&key));
            }
            match map.next_value_seed(PreviewSeed(self.0))? {
                Some(v) => {
                    out.insert(key, v);
                }
                None => {
                    dropped.insert(key);
                }
            }
        }
        if !dropped.is_empty() {
            out.entry(CUT).or_insert_with(|| Value::String(CUT.into()));
        }
        Ok(Value::Object(out))
    }
}

/// One coefficient as read: the value and whether it was written as a string, or what is wrong
/// with it (and the string, if it was one). Whether a string is allowed depends on the format
/// version, which may come after the matrices in the file, so that is decided later
/// ([`get_matrix`]).
type CoefficientRead = Result<(Fraction, bool), (CoefficientProblem, Option<String>)>;

fn integral(c: Result<i64, CoefficientProblem>) -> CoefficientRead {
    match c {
        // Within MAX_COEFF, so `Fraction::integer` cannot refuse it.
        Ok(c) => Fraction::integer(c)
            .map(|f| (f, false))
            .ok_or_else(|| (too_large(c), None)),
        Err(p) => Err((p, None)),
    }
}

struct CoefficientVisitor;

impl<'de> Visitor<'de> for CoefficientVisitor {
    type Value = CoefficientRead;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an integer")
    }
    fn visit_i64<E>(self, c: i64) -> Result<Self::Value, E> {
        Ok(integral(integer_coefficient(c)))
    }
    fn visit_u64<E>(self, c: u64) -> Result<Self::Value, E> {
        Ok(integral(
            i64::try_from(c).map_or_else(|_| Err(too_large(c)), integer_coefficient),
        ))
    }
    fn visit_f64<E>(self, x: f64) -> Result<Self::Value, E> {
        // Like `Value`, a number that is not finite counts as `null`.
        Ok(Err((
            match Number::from_f64(x) {
                Some(num) => float_coefficient(&num),
                None => not_a_number(&Value::Null),
            },
            None,
        )))
    }
    fn visit_bool<E>(self, x: bool) -> Result<Self::Value, E> {
        Ok(Err((not_a_number(&Value::Bool(x)), None)))
    }
    fn visit_str<E>(self, x: &str) -> Result<Self::Value, E> {
        Ok(match Fraction::parse(x) {
            Ok(f) => Ok((f, true)),
            Err(p) => Err((p, Some(x.to_owned()))),
        })
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err((not_a_number(&Value::Null), None)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let budget = Cell::new(PREVIEW_NODES);
        Ok(Err((
            not_a_number(&PreviewVisitor(&budget).visit_seq(seq)?),
            None,
        )))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        let budget = Cell::new(PREVIEW_NODES);
        Ok(Err((
            not_a_number(&PreviewVisitor(&budget).visit_map(map)?),
            None,
        )))
    }
}

struct CoefficientSeed;

impl<'de> DeserializeSeed<'de> for CoefficientSeed {
    type Value = CoefficientRead;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(CoefficientVisitor)
    }
}

/// Why a row of a coefficient matrix cannot be used (the first such row decides a matrix's
/// error, after the row count).
enum RowFault {
    /// The row is not an array.
    NotArray,
    /// The row has this many coefficients, which is not the row length.
    Length(usize),
    /// The row has `len` elements and element `at` is not an acceptable coefficient (`text`:
    /// it is this string).
    Coefficient {
        len: usize,
        at: usize,
        problem: CoefficientProblem,
        text: Option<String>,
    },
}

/// A row as read: its coefficients or its fault, and the first coefficient written as a
/// string, before any fault (its index and text; refused later in a `/1` file).
struct RowRead {
    row: Result<Vec<Fraction>, RowFault>,
    first_string: Option<(usize, String)>,
}

/// Reads one row: its coefficients if every element is acceptable. With the row length known
/// (`cols`), nothing past it is kept; `reserve` is the length expected.
struct RowSeed {
    cols: Option<usize>,
    reserve: usize,
}

impl<'de> DeserializeSeed<'de> for RowSeed {
    type Value = RowRead;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for RowSeed {
    type Value = RowRead;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of integers")
    }
    not_an_array!(
        'de,
        RowRead {
            row: Err(RowFault::NotArray),
            first_string: None
        }
    );
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut coefs = Vec::with_capacity(self.reserve.min(RESERVE_LIMIT));
        let (mut len, mut bad, mut first_string) = (0usize, None, None);
        loop {
            let keep = bad.is_none() && self.cols.is_none_or(|cols| len < cols);
            if keep {
                match seq.next_element_seed(CoefficientSeed)? {
                    None => break,
                    Some(Ok((c, is_string))) => {
                        if is_string && first_string.is_none() {
                            first_string = Some((len, c.to_string()));
                        }
                        coefs.push(c)
                    }
                    Some(Err(problem)) => bad = Some((len, problem)),
                }
            } else if seq.next_element::<Skipped>()?.is_none() {
                break;
            }
            len += 1;
        }
        let row = match bad {
            Some((at, (problem, text))) => Err(RowFault::Coefficient {
                len,
                at,
                problem,
                text,
            }),
            None if len != coefs.len() => Err(RowFault::Length(len)),
            None => {
                coefs.shrink_to_fit();
                Ok(coefs)
            }
        };
        Ok(RowRead { row, first_string })
    }
}

/// A coefficient matrix as read: its acceptable rows up to the first faulty one, the number of
/// rows, and the first faulty row (whose error comes after a wrong row count).
struct MatrixRead {
    rows: Vec<Vec<Fraction>>,
    count: usize,
    fault: Option<(usize, RowFault)>,
    /// The first coefficient written as a string in the rows read up to the fault: row, index
    /// and text.
    first_string: Option<(usize, usize, String)>,
}

/// Reads a coefficient matrix (`None`: the value is not an array). With its shape `(rows,
/// cols)` known (the dimensions came first in the file, as they do in every file strass writes)
/// it keeps nothing beyond the shape; without, it keeps every row until the first faulty one.
struct MatrixSeed {
    shape: Option<(usize, usize)>,
}

impl<'de> DeserializeSeed<'de> for MatrixSeed {
    type Value = Option<MatrixRead>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for MatrixSeed {
    type Value = Option<MatrixRead>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of rows")
    }
    not_an_array!('de, None);
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (nrows, cols) = (self.shape.map(|s| s.0), self.shape.map(|s| s.1));
        let mut rows = Vec::with_capacity(nrows.unwrap_or(0).min(RESERVE_LIMIT));
        let (mut count, mut fault) = (0usize, None);
        let mut reserve = cols.unwrap_or(0);
        let mut first_string = None;
        loop {
            let keep = fault.is_none() && nrows.is_none_or(|n| count < n);
            if keep {
                let Some(read) = seq.next_element_seed(RowSeed { cols, reserve })? else {
                    break;
                };
                if first_string.is_none() {
                    first_string = read.first_string.map(|(at, text)| (count, at, text));
                }
                match read.row {
                    // Every row of a scheme has at least one coefficient.
                    Ok(r) if r.is_empty() || cols.is_some_and(|c| c != r.len()) => {
                        fault = Some((count, RowFault::Length(r.len())));
                    }
                    Ok(r) => {
                        reserve = r.len();
                        rows.push(r);
                    }
                    Err(f) => fault = Some((count, f)),
                }
            } else if seq.next_element::<Skipped>()?.is_none() {
                break;
            }
            count += 1;
        }
        rows.shrink_to_fit();
        Ok(Some(MatrixRead {
            rows,
            count,
            fault,
            first_string,
        }))
    }
}

fn row_length(key: &str, i: usize, cols: usize, len: usize) -> FieldError {
    err(
        format!("{key}[{i}]"),
        FieldProblem::RowLength,
        format!("expected {cols} coefficients, found {len}"),
    )
}

/// Checks a matrix as read against its shape, with the same precedence as a check of the whole
/// matrix: not an array, row count, then the first row that is not an array, has the wrong
/// length or holds an unacceptable coefficient (in a `version` 1 file, any string is one).
fn get_matrix(
    read: Option<Option<MatrixRead>>,
    key: &str,
    (nrows, cols): (usize, usize),
    version: u32,
) -> Result<Vec<Vec<Fraction>>, FieldError> {
    let read = read.ok_or_else(|| err(key, FieldProblem::Missing, "missing"))?;
    let read =
        read.ok_or_else(|| err(key, FieldProblem::WrongType, "expected an array of rows"))?;
    if read.count != nrows {
        return Err(err(
            key,
            FieldProblem::RowCount,
            format!("expected {nrows} rows, found {}", read.count),
        ));
    }
    if let Some((i, r)) = read.rows.iter().enumerate().find(|(_, r)| r.len() != cols) {
        return Err(row_length(key, i, cols, r.len()));
    }
    let mut fault = read.fault;
    if version == 1 {
        // A string is not a coefficient of a /1 file: a faulty string says so, and a valid one
        // before the first fault is the fault.
        if let Some((
            _,
            RowFault::Coefficient {
                problem,
                text: Some(t),
                ..
            },
        )) = &mut fault
        {
            *problem = string_in_v1(t);
        }
        if let Some((i, at, text)) = read.first_string {
            let problem = string_in_v1(&text);
            fault = match fault {
                Some((j, f)) if j < i => Some((j, f)),
                Some((j, RowFault::Coefficient { at: a, .. })) if j == i && a < at => fault,
                Some((j, RowFault::Coefficient { len, .. })) if j == i => Some((
                    i,
                    RowFault::Coefficient {
                        len,
                        at,
                        problem,
                        text: None,
                    },
                )),
                Some((j, RowFault::Length(len))) if j == i => Some((i, RowFault::Length(len))),
                _ => Some((
                    i,
                    RowFault::Coefficient {
                        len: cols,
                        at,
                        problem,
                        text: None,
                    },
                )),
            };
        }
    }
    match fault {
        None => Ok(read.rows),
        Some((i, RowFault::NotArray)) => Err(err(
            format!("{key}[{i}]"),
            FieldProblem::WrongType,
            "expected an array of integers",
        )),
        Some((i, RowFault::Length(len))) => Err(row_length(key, i, cols, len)),
        Some((i, RowFault::Coefficient { len, .. })) if len != cols => {
            Err(row_length(key, i, cols, len))
        }
        Some((i, RowFault::Coefficient { at, problem, .. })) => {
            Err(err(format!("{key}[{i}][{at}]"), problem.0, problem.1))
        }
    }
}

/// The top-level fields as read; which problem is reported is decided by [`Fields::check`]
/// once the whole object is read.
#[derive(Default)]
struct Fields {
    format: Option<Value>,
    name: Option<Value>,
    dims: [Option<Value>; 4],
    u: Option<Option<MatrixRead>>,
    v: Option<Option<MatrixRead>>,
    w: Option<Option<MatrixRead>>,
    provenance: Option<Value>,
    /// The first unknown key in sorted order.
    unknown: Option<String>,
}

impl Fields {
    /// `(m, k, n, rank)`, when all four are read and acceptable.
    fn dims(&self) -> Option<(usize, usize, usize, usize)> {
        let d = |i: usize| get_dim(self.dims[i].as_ref(), DIMS[i]).ok();
        let (m, k, n, rank) = (d(0)?, d(1)?, d(2)?, d(3)?);
        check_tensor(m, k, n).ok()?;
        Some((m, k, n, rank))
    }

    /// How to read matrix `key`: against its shape when the dimensions are already read.
    fn matrix_seed(&self, key: &str) -> MatrixSeed {
        let shape = self.dims().map(|(m, k, n, rank)| match key {
            "u" => (rank, m * k),
            "v" => (rank, k * n),
            _ => (m * n, rank),
        });
        MatrixSeed { shape }
    }

    fn check(self) -> Result<ParsedRational, FieldError> {
        let version = match &self.format {
            None => return Err(err("format", FieldProblem::Missing, "missing")),
            Some(Value::String(s)) if s == FORMAT => 1,
            Some(Value::String(s)) if s == FORMAT_V2 => 2,
            Some(other) => {
                return Err(err(
                    "format",
                    FieldProblem::UnknownFormat,
                    format!("unknown format {other}, expected \"{FORMAT}\" or \"{FORMAT_V2}\""),
                ))
            }
        };
        if let Some(key) = self.unknown {
            return Err(err(
                key,
                FieldProblem::UnknownField,
                format!(
                    "unknown field (the format has {}; put extra information in `provenance`)",
                    KNOWN_FIELDS.join(", ")
                ),
            ));
        }
        let name = match self.name {
            None => None,
            Some(Value::String(s)) => Some(s),
            Some(other) => {
                return Err(err(
                    "name",
                    FieldProblem::WrongType,
                    format!("expected a string, found {other}"),
                ))
            }
        };
        let [m, k, n, rank] = DIMS;
        let m = get_dim(self.dims[0].as_ref(), m)?;
        let k = get_dim(self.dims[1].as_ref(), k)?;
        let n = get_dim(self.dims[2].as_ref(), n)?;
        let rank = get_dim(self.dims[3].as_ref(), rank)?;
        check_tensor(m, k, n)?;
        let u = get_matrix(self.u, "u", (rank, m * k), version)?;
        let v = get_matrix(self.v, "v", (rank, k * n), version)?;
        let w = get_matrix(self.w, "w", (m * n, rank), version)?;
        check_cost(verify_cost((m, k, n), &u, &v, &w))?;
        Ok(ParsedRational {
            version,
            name,
            m,
            k,
            n,
            rank,
            u,
            v,
            w,
            provenance: self.provenance.unwrap_or(Value::Null),
        })
    }
}

/// The whole document: a scheme object, or [`FieldProblem::NotAnObject`].
struct SchemeVisitor;

impl<'de> Visitor<'de> for SchemeVisitor {
    type Value = Result<ParsedRational, FieldError>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a strass-scheme/1 or /2 object")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err(not_an_object()))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err(not_an_object()))
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err(not_an_object()))
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err(not_an_object()))
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err(not_an_object()))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err(not_an_object()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        SkipVisitor.visit_seq(seq)?;
        Ok(Err(not_an_object()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut f = Fields::default();
        let mut keys = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if keys.contains(&key) {
                return Err(duplicate_key(&key));
            }
            match key.as_str() {
                "format" => f.format = Some(map.next_value::<Preview>()?.0),
                "name" => f.name = Some(map.next_value::<Preview>()?.0),
                "provenance" => f.provenance = Some(map.next_value::<Strict>()?.0),
                "u" => f.u = Some(map.next_value_seed(f.matrix_seed("u"))?),
                "v" => f.v = Some(map.next_value_seed(f.matrix_seed("v"))?),
                "w" => f.w = Some(map.next_value_seed(f.matrix_seed("w"))?),
                other => match DIMS.iter().position(|d| *d == other) {
                    Some(i) => f.dims[i] = Some(map.next_value::<Preview>()?.0),
                    None => {
                        map.next_value::<Skipped>()?;
                        if f.unknown.as_ref().is_none_or(|u| key < *u) {
                            f.unknown = Some(key.clone());
                        }
                    }
                },
            }
            keys.insert(key);
        }
        Ok(f.check())
    }
}

fn not_an_object() -> FieldError {
    err(
        "<root>",
        FieldProblem::NotAnObject,
        "expected a JSON object",
    )
}

/// A coefficient of in-memory parts: an integer or a [`Fraction`].
pub trait Coefficient: PartialEq + Default + std::fmt::Display {
    /// Whether the coefficient is within [`MAX_COEFF`] (a [`Fraction`] always is).
    fn within_bound(&self) -> bool;
}

impl Coefficient for i64 {
    fn within_bound(&self) -> bool {
        self.unsigned_abs() <= MAX_COEFF as u64
    }
}

impl Coefficient for Fraction {
    fn within_bound(&self) -> bool {
        true
    }
}

/// Checks in-memory parts the way [`parse`] checks a file: positive bounded dimensions, row
/// counts and lengths, coefficient bounds.
pub fn check_parts<T: Coefficient>(
    (m, k, n, rank): (usize, usize, usize, usize),
    u: &[Vec<T>],
    v: &[Vec<T>],
    w: &[Vec<T>],
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
            if let Some((j, c)) = r.iter().enumerate().find(|(_, c)| !c.within_bound()) {
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
