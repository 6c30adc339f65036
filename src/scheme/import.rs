//! Import of schemes published in other formats.
//!
//! * **fast-matmul** text files (Benson and Ballard's `codegen/algorithms/`): three blocks of
//!   whitespace-separated numbers for U, V and W, separated by lines starting with `#` (a `#`
//!   line may also open the file as a comment). In each block a row is one entry of A, B or C
//!   (row-major) and a column is one product. The dimensions follow from the row counts
//!   (`mk`, `kn`, `mn`). Fractions are accepted only if a per-product rescaling
//!   (`u_r * a`, `v_r * b`, `w_r / (a b)`) makes every coefficient an integer; otherwise the file
//!   is refused, and symbolic coefficients (approximate, border-rank schemes) are always refused.
//! * **AlphaTensor** `factorizations_r.npz`: a NumPy archive with one array per `"m,k,n"` key,
//!   holding U (mk x R), V (kn x R) and W (mn x R); W is for `(A B)^T`, so its `m x n` index is
//!   transposed on import. Only plain numeric arrays can be read: the archive stores its
//!   non-square keys as pickled object arrays, which are refused with a clear error. Float arrays
//!   are accepted when their fractions are exact binary fractions that the same per-product
//!   rescaling removes. Of the 93 keys of `factorizations_r.npz` (commit 1949163), 2,2,2, 3,3,3,
//!   4,4,4, 5,5,5 and 10,10,10 import and verify; 9,9,9 and 11,11,11 are exact over the
//!   rationals but not integral and are refused; the 86 others are pickled.
//!
//! * **FastMatrixMultiplication** JSON files (Perminov's catalogue,
//!   github.com/dronperminov/FastMatrixMultiplication, `schemes/`): an object with `"n": [m, k, n]`,
//!   `"m"`: the rank, and `"u"`, `"v"`, `"w"`: one row per product, of `m*k`, `k*n` and `m*n`
//!   coefficients. U and V are row-major over A and B; W is row-major over C^T, i.e.
//!   `w[r][j*m + i]` is the coefficient of product r in `c_ij`, so it is transposed on import.
//!   Coefficients are JSON integers or strings such as `"-1/2"` (rescaled per product as above).
//!   A file marked `"z2": true` (valid only modulo 2) and the addition-reduced files
//!   (`*_reduced.json`, with `u_fresh`, ... and sparse rows over fresh variables) are refused;
//!   the other fields (`"multiplications"`, `"elements"`, `"complexity"`, ...) are ignored.
//! * **flips** `.exp` files (Kauers and Moosbauer's flip-graph schemes,
//!   github.com/jakobmoosbauer/flips, `solutions/`, also copied into Perminov's catalogue): one
//!   product per line, `(lin. form in a)*(lin. form in b)*(lin. form in c)`, e.g.
//!   `(a11+a12)*(-b21+2*b22)*c12`, where a bare factor is a single (signed, scaled) variable,
//!   spaces are allowed and a whole product may be negated or scaled (`-(a25*(b11-b12)*c12)`).
//!   Variable `aij` is `A[i][j]`, `bjk` is `B[j][k]` and `cki` is `C[i][k]`: the c-index is
//!   transposed (the files write the tensor as `sum a_ij b_jk c_ki`). Indices are two single
//!   digits, 1-based; the dimensions are the largest indices that occur. Coefficients are
//!   integers or fractions `p/q` written as `c*x` (rescaled per product as above). Files named
//!   `...-mod2.exp` hold schemes valid modulo 2; they parse, and the exact check refuses those
//!   that are not also exact over the integers (all but the classical `333-27-mod2.exp`).
//! * **PLinOpt** `.sms` triplets (Dumas, Pernet and Sedoglavic's github.com/jgdumas/plinopt,
//!   `data/`): a scheme is three sparse matrices `PREFIX_L.sms` (products x A's entries),
//!   `PREFIX_R.sms` (products x B's entries) and `PREFIX_P.sms` (C's entries x products), all
//!   row-major, with rational values kept exactly ([`plinopt_sms`] returns a
//!   [`super::RationalScheme`]), e.g. the rank-48 `<4,4,4>` scheme over Q, `4x4x4_48_rational`.
//!
//! Imported schemes are not verified here: callers (e.g. `strass import`) verify them exactly.

use super::read_scheme_text as read_text;
use super::{Scheme, SchemeError};
use serde_json::json;
use std::path::Path;

fn import_err(path: &Path, problem: impl Into<String>) -> SchemeError {
    SchemeError::Import {
        path: path.to_path_buf(),
        problem: problem.into(),
    }
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a.abs()
    } else {
        gcd(b, a % b)
    }
}

/// A reduced fraction with positive denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Frac {
    num: i128,
    den: i128,
}

impl Frac {
    fn new(num: i128, den: i128) -> Option<Frac> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den).max(1);
        let s = if den < 0 { -1 } else { 1 };
        Some(Frac {
            num: s * num / g,
            den: s * den / g,
        })
    }

    fn mul(self, num: i128, den: i128) -> Option<Frac> {
        Frac::new(self.num.checked_mul(num)?, self.den.checked_mul(den)?)
    }
}

/// Parses one token of a fast-matmul file: an integer or a fraction `p/q`.
fn parse_token(tok: &str) -> Result<Frac, String> {
    let bounded = |x: i128| x.unsigned_abs() <= super::MAX_COEFF as u128;
    if let Ok(x) = tok.parse::<i64>() {
        if !bounded(x as i128) {
            return Err(format!("coefficient {tok} is absurdly large"));
        }
        return Ok(Frac {
            num: x as i128,
            den: 1,
        });
    }
    if let Some((p, q)) = tok.split_once('/') {
        if let (Ok(p), Ok(q)) = (p.parse::<i64>(), q.parse::<i64>()) {
            if q != 0 && bounded(p as i128) && bounded(q as i128) {
                return Frac::new(p as i128, q as i128).ok_or_else(|| "bad fraction".into());
            }
        }
        return Err(format!("malformed fraction `{tok}`"));
    }
    if tok.chars().any(|c| c.is_ascii_alphabetic()) {
        return Err(format!(
            "symbolic coefficient `{tok}`: this is a parametrised (approximate, border-rank) \
             scheme, not an exact one, and cannot be imported"
        ));
    }
    Err(format!("`{tok}` is not an integer or a fraction"))
}

/// `mk`, `kn`, `mn` -> `(m, k, n)`, if consistent.
fn dims_from_counts(mk: usize, kn: usize, mn: usize) -> Option<(usize, usize, usize)> {
    let m2 = (mk * mn).checked_div(kn)?;
    let m = (1..=m2).find(|&m| m * m >= m2)?;
    if m == 0 || m * m != m2 || !mk.is_multiple_of(m) || !mn.is_multiple_of(m) {
        return None;
    }
    let (k, n) = (mk / m, mn / m);
    (k * n == kn).then_some((m, k, n))
}

/// Scales product `r`'s rational factors to integers: `u_r` and `v_r` to primitive integer
/// vectors, `w_r` by the inverse. Returns `None` if `w_r` is then not integral (no per-product
/// rescaling can make it so, since u_r, v_r are primitive), else whether anything changed.
fn integralize(u: &mut [Frac], v: &mut [Frac], w: &mut [Frac]) -> Option<bool> {
    // Factor making a vector primitive integral: lcm(denominators) / gcd(numerators).
    fn primitive_factor(x: &[Frac]) -> Option<(i128, i128)> {
        let mut l: i128 = 1;
        let mut g: i128 = 0;
        for f in x {
            l = (l / gcd(l, f.den)).checked_mul(f.den)?;
            g = gcd(g, f.num);
        }
        Some((l, g.max(1)))
    }
    let (lu, gu) = primitive_factor(u)?;
    let (lv, gv) = primitive_factor(v)?;
    let changed = (lu, gu, lv, gv) != (1, 1, 1, 1);
    for f in u.iter_mut() {
        *f = f.mul(lu, gu)?;
    }
    for f in v.iter_mut() {
        *f = f.mul(lv, gv)?;
    }
    for f in w.iter_mut() {
        *f = f.mul(gu.checked_mul(gv)?, lu.checked_mul(lv)?)?;
        if f.den != 1 {
            return None;
        }
    }
    Some(changed)
}

/// U, V, W with rational coefficients as in the published files: one row per entry of A, B, C
/// (row-major, C already in our orientation), one column per product.
type Blocks = [Vec<Vec<Frac>>; 3];

/// Checks the Brent equations with rational coefficients: each block is scaled by the lcm `L` of
/// its denominators, so the equations become `sum_r U' V' W' = L_u L_v L_w [delta]` in `i128`.
/// `None` on overflow.
fn exact_over_rationals(blocks: &Blocks, (k, n): (usize, usize)) -> Option<bool> {
    let scaled = |b: &Vec<Vec<Frac>>| -> Option<(i128, Vec<Vec<i128>>)> {
        let mut l: i128 = 1;
        for f in b.iter().flatten() {
            l = (l / gcd(l, f.den)).checked_mul(f.den)?;
        }
        let rows = b
            .iter()
            .map(|row| row.iter().map(|f| f.num.checked_mul(l / f.den)).collect())
            .collect::<Option<Vec<Vec<i128>>>>()?;
        Some((l, rows))
    };
    let (lu, u) = scaled(&blocks[0])?;
    let (lv, v) = scaled(&blocks[1])?;
    let (lw, w) = scaled(&blocks[2])?;
    let scale = lu.checked_mul(lv)?.checked_mul(lw)?;
    for (ia, ua) in u.iter().enumerate() {
        for (ib, vb) in v.iter().enumerate() {
            for (ic, wc) in w.iter().enumerate() {
                let mut acc: i128 = 0;
                for ((&x, &y), &z) in ua.iter().zip(vb).zip(wc) {
                    acc = acc.checked_add(x.checked_mul(y)?.checked_mul(z)?)?;
                }
                let (i, p, q, j, s, t) = (ia / k, ia % k, ib / n, ib % n, ic / n, ic % n);
                let delta = i128::from(p == q && i == s && j == t);
                if acc != scale * delta {
                    return Some(false);
                }
            }
        }
    }
    Some(true)
}

/// Turns rational blocks into a [`Scheme`]: each product is rescaled to integers if it has
/// fractions (recorded in the provenance as `rescaled_products`), or the import is refused with
/// a message saying whether the scheme is at least exact over the rationals.
fn finish(
    path: &Path,
    name: String,
    (m, k, n): (usize, usize, usize),
    blocks: Blocks,
    mut provenance: serde_json::Value,
) -> Result<Scheme, SchemeError> {
    let rank = blocks[0].first().map_or(0, |r| r.len());
    let limit = super::MAX_COEFF as u128;
    if let Some(f) = blocks
        .iter()
        .flatten()
        .flatten()
        .find(|f| f.num.unsigned_abs() > limit || f.den.unsigned_abs() > limit)
    {
        return Err(import_err(
            path,
            format!("coefficient {}/{} is absurdly large", f.num, f.den),
        ));
    }
    let column =
        |b: &Vec<Vec<Frac>>, r: usize| -> Vec<Frac> { b.iter().map(|row| row[r]).collect() };
    let (mut u, mut v, mut wcols) = (Vec::new(), Vec::new(), Vec::new());
    let mut rescaled = Vec::new();
    for r in 0..rank {
        let (mut ur, mut vr, mut wr) = (
            column(&blocks[0], r),
            column(&blocks[1], r),
            column(&blocks[2], r),
        );
        match integralize(&mut ur, &mut vr, &mut wr) {
            Some(true) => rescaled.push(r),
            Some(false) => {}
            None => {
                let over_q = match exact_over_rationals(&blocks, (k, n)) {
                    Some(true) => "it is an exact scheme over the rationals",
                    Some(false) => "it is not an exact scheme even over the rationals",
                    None => "its exactness over the rationals could not be checked (overflow)",
                };
                return Err(import_err(
                    path,
                    format!(
                        "product {r} has non-integer coefficients that no rescaling of the \
                         product (u_r * a, v_r * b, w_r / (a b)) makes integral; {over_q}, but \
                         strass schemes have integer coefficients"
                    ),
                ));
            }
        }
        let ints = |x: Vec<Frac>| -> Result<Vec<i64>, SchemeError> {
            x.iter()
                .map(|f| {
                    i64::try_from(f.num)
                        .ok()
                        .filter(|c| c.unsigned_abs() <= super::MAX_COEFF as u64)
                        .ok_or_else(|| {
                            import_err(path, format!("product {r}: coefficient too large"))
                        })
                })
                .collect()
        };
        u.push(ints(ur)?);
        v.push(ints(vr)?);
        wcols.push(ints(wr)?);
    }
    let w = (0..m * n)
        .map(|i| wcols.iter().map(|c| c[i]).collect())
        .collect();
    if !rescaled.is_empty() {
        provenance["rescaled_products"] = json!(rescaled);
        provenance["rescaling"] =
            json!("fractions removed per product: u_r * a, v_r * b, w_r / (a b)");
    }
    Scheme::new(name, (m, k, n), u, v, w, provenance).map_err(|e| import_err(path, e.to_string()))
}

/// Parses a fast-matmul text file (see the module docs). `path` names the file in errors and
/// in the provenance.
pub fn fast_matmul_from_str(text: &str, path: &Path) -> Result<Scheme, SchemeError> {
    let mut blocks: Vec<Vec<(usize, Vec<Frac>)>> = vec![Vec::new()];
    let mut comments = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(c) = line.strip_prefix('#') {
            let c = c.trim();
            if !c.is_empty() {
                comments.push(c.to_string());
            }
            if !blocks.last().is_some_and(|b| b.is_empty()) {
                blocks.push(Vec::new());
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let row = line
            .split_whitespace()
            .map(parse_token)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| import_err(path, format!("line {}: {e}", lineno + 1)))?;
        if let Some(b) = blocks.last_mut() {
            b.push((lineno + 1, row));
        }
    }
    blocks.retain(|b| !b.is_empty());
    if blocks.len() != 3 {
        let hint = if blocks.len() > 3 {
            " (extra blocks such as substitution information for eliminated variables are not \
             supported: import the plain version of the scheme)"
        } else {
            ""
        };
        return Err(import_err(
            path,
            format!(
                "expected 3 blocks of numbers (U, V, W) separated by `#` lines, found {}{hint}",
                blocks.len()
            ),
        ));
    }
    let rank = blocks[0][0].1.len();
    for (b, name) in blocks.iter().zip(["U", "V", "W"]) {
        if let Some((line, row)) = b.iter().find(|(_, r)| r.len() != rank) {
            return Err(import_err(
                path,
                format!(
                    "line {line}: {name} row has {} columns, expected {rank} (one per product)",
                    row.len()
                ),
            ));
        }
    }
    let (mk, kn, mn) = (blocks[0].len(), blocks[1].len(), blocks[2].len());
    let dims = dims_from_counts(mk, kn, mn).ok_or_else(|| {
        import_err(
            path,
            format!(
                "row counts {mk} (U), {kn} (V), {mn} (W) are not m*k, k*n, m*n for any m, k, n"
            ),
        )
    })?;
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "imported".into());
    let mut provenance = json!({
        "source": "import",
        "format": "fast-matmul",
        "file": name,
    });
    if let Some(c) = comments.first() {
        provenance["comment"] = json!(c);
    }
    let strip = |b: &Vec<(usize, Vec<Frac>)>| b.iter().map(|(_, r)| r.clone()).collect();
    let blocks = [strip(&blocks[0]), strip(&blocks[1]), strip(&blocks[2])];
    finish(path, name, dims, blocks, provenance)
}

/// Reads a fast-matmul text file (see [`fast_matmul_from_str`]).
pub fn fast_matmul(path: impl AsRef<Path>) -> Result<Scheme, SchemeError> {
    let path = path.as_ref();
    fast_matmul_from_str(&read_text(path)?, path)
}

/// The file's name, for the scheme name and the provenance.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "imported".into())
}

/// The file's name without its extension, as the default scheme name.
fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "imported".into())
}

/// Refuses dimensions that are zero or whose tensor exceeds [`super::MAX_TENSOR`], before
/// anything of that size is allocated.
fn check_dims(path: &Path, (m, k, n): (usize, usize, usize)) -> Result<(), SchemeError> {
    let tensor = (m as u64).saturating_mul(k as u64).saturating_mul(n as u64);
    if m == 0 || k == 0 || n == 0 || tensor > super::MAX_TENSOR {
        return Err(import_err(
            path,
            format!(
                "dimensions <{m},{k},{n}>: they must be positive with m*k*n at most {}",
                super::MAX_TENSOR
            ),
        ));
    }
    Ok(())
}

/// One coefficient of a FastMatrixMultiplication JSON file: an integer, an integral float, or a
/// string holding an integer or a fraction `p/q`.
fn json_coeff(x: &serde_json::Value) -> Result<Frac, String> {
    match x {
        serde_json::Value::Number(num) => {
            if let Some(i) = num.as_i64() {
                parse_token(&i.to_string())
            } else if let Some(f) = num.as_f64().filter(|f| f.fract() == 0.0) {
                if f.abs() > super::MAX_COEFF as f64 {
                    Err(format!("coefficient {f} is absurdly large"))
                } else {
                    Ok(Frac {
                        num: f as i128,
                        den: 1,
                    })
                }
            } else {
                Err(format!(
                    "coefficient {num} is not an integer (write fractions as strings \"p/q\")"
                ))
            }
        }
        serde_json::Value::String(t) => parse_token(t.trim()),
        other => Err(format!("coefficient {other} is not a number")),
    }
}

/// Parses a FastMatrixMultiplication (Perminov) JSON scheme (see the module docs; W's index is
/// transposed). `path` names the file in errors and in the provenance.
pub fn perminov_from_str(text: &str, path: &Path) -> Result<Scheme, SchemeError> {
    let doc: serde_json::Value =
        serde_json::from_str(text).map_err(|e| import_err(path, format!("not valid JSON: {e}")))?;
    let obj = doc
        .as_object()
        .ok_or_else(|| import_err(path, "expected a JSON object with fields n, m, u, v, w"))?;
    if obj.get("format").and_then(|f| f.as_str()) == Some(super::FORMAT) {
        return Err(import_err(
            path,
            format!(
                "this is already a {} file: load it directly (e.g. strass verify)",
                super::FORMAT
            ),
        ));
    }
    if obj.get("z2").and_then(|z| z.as_bool()) == Some(true) {
        return Err(import_err(
            path,
            "the scheme is marked \"z2\": true (valid only modulo 2), not an exact scheme over \
             the integers",
        ));
    }
    if ["u_fresh", "v_fresh", "w_fresh"]
        .iter()
        .any(|f| obj.contains_key(*f))
    {
        return Err(import_err(
            path,
            "the scheme is stored in addition-reduced form (fields u_fresh, v_fresh, w_fresh \
             with sparse rows over fresh variables), which is not supported: import the plain \
             version of the scheme",
        ));
    }
    let dims_err = || {
        import_err(
            path,
            "field `n`: expected the dimensions as an array [m, k, n] of positive integers",
        )
    };
    let dims: Vec<usize> = obj
        .get("n")
        .and_then(|d| d.as_array())
        .ok_or_else(dims_err)?
        .iter()
        .map(|x| x.as_u64().and_then(|x| usize::try_from(x).ok()))
        .collect::<Option<_>>()
        .ok_or_else(dims_err)?;
    let [m, k, n] = dims[..] else {
        return Err(dims_err());
    };
    check_dims(path, (m, k, n))?;
    let rank = obj
        .get("m")
        .and_then(|r| r.as_u64())
        .filter(|&r| r > 0 && r <= super::MAX_DIM)
        .ok_or_else(|| {
            import_err(
                path,
                format!(
                    "field `m`: expected the rank, a positive integer at most {}",
                    super::MAX_DIM
                ),
            )
        })? as usize;
    // Each factor as given: one row per product.
    let mut factors: Vec<Vec<Vec<Frac>>> = Vec::with_capacity(3);
    for (field, len) in [("u", m * k), ("v", k * n), ("w", m * n)] {
        let rows = obj
            .get(field)
            .and_then(|x| x.as_array())
            .ok_or_else(|| import_err(path, format!("field `{field}`: missing or not an array")))?;
        if rows.len() != rank {
            return Err(import_err(
                path,
                format!(
                    "field `{field}`: {} rows, expected one per product (m = {rank})",
                    rows.len()
                ),
            ));
        }
        let mut parsed = Vec::with_capacity(rank);
        for (r, row) in rows.iter().enumerate() {
            let row = row
                .as_array()
                .ok_or_else(|| import_err(path, format!("field `{field}[{r}]`: not an array")))?;
            if row.len() != len {
                return Err(import_err(
                    path,
                    format!(
                        "field `{field}[{r}]`: {} coefficients, expected {len} for <{m},{k},{n}>",
                        row.len()
                    ),
                ));
            }
            parsed.push(
                row.iter()
                    .enumerate()
                    .map(|(e, x)| {
                        json_coeff(x)
                            .map_err(|p| import_err(path, format!("`{field}[{r}][{e}]`: {p}")))
                    })
                    .collect::<Result<Vec<Frac>, _>>()?,
            );
        }
        factors.push(parsed);
    }
    // Blocks with one row per entry, one column per product; C's entry (i, j) is their w index
    // j*m + i.
    let block = |f: usize, entries: Vec<usize>| -> Vec<Vec<Frac>> {
        entries
            .into_iter()
            .map(|e| (0..rank).map(|r| factors[f][r][e]).collect())
            .collect()
    };
    let c_entries = (0..m * n).map(|c| (c % n) * m + c / n).collect();
    let blocks = [
        block(0, (0..m * k).collect()),
        block(1, (0..k * n).collect()),
        block(2, c_entries),
    ];
    let provenance = json!({
        "source": "import",
        "format": "fastmatrixmultiplication-json",
        "file": file_name(path),
        "note": "third factor transposed (the file's w is indexed by C^T)",
    });
    finish(path, file_stem(path), (m, k, n), blocks, provenance)
}

/// Reads a FastMatrixMultiplication (Perminov) JSON scheme (see [`perminov_from_str`]).
pub fn perminov(path: impl AsRef<Path>) -> Result<Scheme, SchemeError> {
    let path = path.as_ref();
    perminov_from_str(&read_text(path)?, path)
}

/// A token of a flips `.exp` line.
#[derive(Debug, Clone, PartialEq)]
enum ExpToken {
    Open,
    Close,
    Plus,
    Minus,
    Times,
    /// An integer or a fraction `p/q`.
    Number(Frac),
    /// A variable: its letter and 0-based (row, column).
    Var(char, usize, usize),
}

fn exp_tokens(line: &str) -> Result<Vec<ExpToken>, String> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let start = i;
        i += 1;
        match c {
            ' ' | '\t' | '\r' => {}
            '(' => out.push(ExpToken::Open),
            ')' => out.push(ExpToken::Close),
            '+' => out.push(ExpToken::Plus),
            '-' => out.push(ExpToken::Minus),
            '*' => out.push(ExpToken::Times),
            '0'..='9' => {
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '/') {
                    i += 1;
                }
                let tok: String = chars[start..i].iter().collect();
                out.push(ExpToken::Number(parse_token(&tok)?));
            }
            c if c.is_alphabetic() => {
                while i < chars.len() && chars[i].is_alphanumeric() {
                    i += 1;
                }
                let name: String = chars[start..i].iter().collect();
                let digits: Vec<u32> = chars[start + 1..i]
                    .iter()
                    .map(|d| d.to_digit(10))
                    .collect::<Option<_>>()
                    .unwrap_or_default();
                if !matches!(c, 'a' | 'b' | 'c') || digits.len() != chars[start + 1..i].len() {
                    return Err(format!(
                        "unknown variable `{name}` (expected aij, bjk or cki with digits i, j, k)"
                    ));
                }
                match digits[..] {
                    [r, s] if r >= 1 && s >= 1 => {
                        out.push(ExpToken::Var(c, r as usize - 1, s as usize - 1))
                    }
                    [_, _] => {
                        return Err(format!(
                            "variable `{name}`: indices start at 1 (0 is out of range)"
                        ))
                    }
                    _ => {
                        return Err(format!(
                            "variable `{name}`: expected two single-digit indices (the format \
                             cannot write dimensions beyond 9)"
                        ))
                    }
                }
            }
            other => return Err(format!("unexpected character `{other}`")),
        }
    }
    Ok(out)
}

/// One factor of a product: its letter and its terms `(row, column, coefficient)`.
type ExpFactor = (char, Vec<(usize, usize, Frac)>);

/// The value of a piece of an `.exp` line: a number, a linear form in one letter, or a product
/// of linear forms (with a scalar).
#[derive(Debug, Clone)]
enum ExpValue {
    Scalar(Frac),
    Linear(ExpFactor),
    Product(Frac, Vec<ExpFactor>),
}

fn frac_mul(x: Frac, y: Frac) -> Result<Frac, String> {
    x.mul(y.num, y.den)
        .filter(|f| {
            let limit = super::MAX_COEFF as u128;
            f.num.unsigned_abs() <= limit && f.den.unsigned_abs() <= limit
        })
        .ok_or_else(|| "coefficient is absurdly large".to_string())
}

fn scale_terms(f: &mut ExpFactor, c: Frac) -> Result<(), String> {
    for t in f.1.iter_mut() {
        t.2 = frac_mul(t.2, c)?;
    }
    Ok(())
}

impl ExpValue {
    fn scale(self, c: Frac) -> Result<ExpValue, String> {
        Ok(match self {
            ExpValue::Scalar(x) => ExpValue::Scalar(frac_mul(x, c)?),
            ExpValue::Linear(mut f) => {
                scale_terms(&mut f, c)?;
                ExpValue::Linear(f)
            }
            ExpValue::Product(x, fs) => ExpValue::Product(frac_mul(x, c)?, fs),
        })
    }

    fn times(self, other: ExpValue) -> Result<ExpValue, String> {
        use ExpValue::*;
        let (scalar, mut factors) = match self {
            Scalar(x) => return other.scale(x),
            Linear(f) => (Frac { num: 1, den: 1 }, vec![f]),
            Product(x, fs) => (x, fs),
        };
        let scalar = match other {
            Scalar(y) => frac_mul(scalar, y)?,
            Linear(f) => {
                factors.push(f);
                scalar
            }
            Product(y, fs) => {
                factors.extend(fs);
                frac_mul(scalar, y)?
            }
        };
        Ok(Product(scalar, factors))
    }

    fn plus(self, other: ExpValue) -> Result<ExpValue, String> {
        match (self, other) {
            (ExpValue::Linear((x, mut s)), ExpValue::Linear((y, t))) if x == y => {
                s.extend(t);
                Ok(ExpValue::Linear((x, s)))
            }
            (ExpValue::Linear((x, _)), ExpValue::Linear((y, _))) => Err(format!(
                "a sum mixes variables of `{x}` and `{y}` (each factor is a linear form in one \
                 of a, b, c)"
            )),
            (ExpValue::Scalar(_), _) | (_, ExpValue::Scalar(_)) => {
                Err("a constant term in a sum".into())
            }
            _ => Err(
                "a sum of products (each line must be a single product of three \
                      factors)"
                    .into(),
            ),
        }
    }
}

/// Recursive-descent parser of one `.exp` line:
/// `product := unary ('*' unary)*`, `unary := ('+'|'-') unary | number | var | '(' sum ')'`,
/// `sum := product (('+'|'-') product)*`.
struct ExpParser {
    toks: Vec<ExpToken>,
    pos: usize,
    depth: usize,
}

impl ExpParser {
    fn peek(&self) -> Option<&ExpToken> {
        self.toks.get(self.pos)
    }

    fn product(&mut self) -> Result<ExpValue, String> {
        let mut v = self.unary()?;
        while self.peek() == Some(&ExpToken::Times) {
            self.pos += 1;
            v = v.times(self.unary()?)?;
        }
        Ok(v)
    }

    fn unary(&mut self) -> Result<ExpValue, String> {
        let minus_one = Frac { num: -1, den: 1 };
        match self.peek().cloned() {
            Some(ExpToken::Plus) => {
                self.pos += 1;
                self.unary()
            }
            Some(ExpToken::Minus) => {
                self.pos += 1;
                self.unary()?.scale(minus_one)
            }
            Some(ExpToken::Number(f)) => {
                self.pos += 1;
                Ok(ExpValue::Scalar(f))
            }
            Some(ExpToken::Var(c, r, s)) => {
                self.pos += 1;
                Ok(ExpValue::Linear((c, vec![(r, s, Frac { num: 1, den: 1 })])))
            }
            Some(ExpToken::Open) => {
                self.pos += 1;
                self.depth += 1;
                if self.depth > 8 {
                    return Err("parentheses nested too deeply".into());
                }
                let v = self.sum()?;
                if self.peek() != Some(&ExpToken::Close) {
                    return Err("unbalanced `(`".into());
                }
                self.pos += 1;
                self.depth -= 1;
                Ok(v)
            }
            Some(ExpToken::Close) => Err("unexpected `)`".into()),
            Some(ExpToken::Times) => Err("unexpected `*`".into()),
            None => Err("unexpected end of line".into()),
        }
    }

    fn sum(&mut self) -> Result<ExpValue, String> {
        let mut v = self.product()?;
        loop {
            let sign = match self.peek() {
                Some(ExpToken::Plus) => Frac { num: 1, den: 1 },
                Some(ExpToken::Minus) => Frac { num: -1, den: 1 },
                _ => return Ok(v),
            };
            self.pos += 1;
            v = v.plus(self.product()?.scale(sign)?)?;
        }
    }
}

/// Parses one `.exp` line into its factors, in the order written (any overall scalar folded
/// into the first).
fn exp_line(line: &str) -> Result<Vec<ExpFactor>, String> {
    let mut p = ExpParser {
        toks: exp_tokens(line)?,
        pos: 0,
        depth: 0,
    };
    let v = p.product()?;
    match p.peek() {
        None => {}
        Some(ExpToken::Close) => return Err("unbalanced `)`".into()),
        Some(_) => {
            return Err(
                "a sum of products (each line must be a single product of three \
                        factors)"
                    .into(),
            )
        }
    }
    match v {
        ExpValue::Product(c, mut fs) => {
            scale_terms(&mut fs[0], c)?;
            Ok(fs)
        }
        _ => Err("expected a product of three factors, one in each of a, b and c".into()),
    }
}

/// Parses a flips `.exp` file (see the module docs; the c-index is transposed). `path` names
/// the file in errors and in the provenance.
pub fn flips_exp_from_str(text: &str, path: &Path) -> Result<Scheme, SchemeError> {
    // Per product: the a-, b- and c-terms, each (row, column, coefficient) as written.
    let mut products: Vec<[Vec<(usize, usize, Frac)>; 3]> = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let at = |e: String| import_err(path, format!("line {}: {e}", lineno + 1));
        if products.len() as u64 >= super::MAX_DIM {
            return Err(at(format!(
                "more than {} products (the rank limit)",
                super::MAX_DIM
            )));
        }
        let factors = exp_line(line).map_err(at)?;
        let mut slots: [Option<Vec<(usize, usize, Frac)>>; 3] = [None, None, None];
        for (letter, terms) in factors {
            let f = match letter {
                'a' => 0,
                'b' => 1,
                _ => 2,
            };
            if slots[f].replace(terms).is_some() {
                return Err(at(format!("two factors in `{letter}`")));
            }
        }
        match slots {
            [Some(a), Some(b), Some(c)] => products.push([a, b, c]),
            _ => {
                return Err(at(
                    "expected three factors, one in each of a, b and c".into()
                ))
            }
        }
    }
    if products.is_empty() {
        return Err(import_err(path, "no products (empty file)"));
    }
    // aij: A[i][j]; bjk: B[j][k]; cki: C[i][k].
    let (mut m, mut k, mut n) = (0, 0, 0);
    for [a, b, c] in &products {
        for &(i, j, _) in a {
            (m, k) = (m.max(i + 1), k.max(j + 1));
        }
        for &(j, l, _) in b {
            (k, n) = (k.max(j + 1), n.max(l + 1));
        }
        for &(l, i, _) in c {
            (n, m) = (n.max(l + 1), m.max(i + 1));
        }
    }
    check_dims(path, (m, k, n))?;
    let rank = products.len();
    let zero = Frac { num: 0, den: 1 };
    let mut blocks: Blocks = [
        vec![vec![zero; rank]; m * k],
        vec![vec![zero; rank]; k * n],
        vec![vec![zero; rank]; m * n],
    ];
    for (r, factors) in products.iter().enumerate() {
        for (f, terms) in factors.iter().enumerate() {
            for &(x, y, coeff) in terms {
                let entry = match f {
                    0 => x * k + y,
                    1 => x * n + y,
                    _ => y * n + x,
                };
                let cell = &mut blocks[f][entry][r];
                let sum = cell
                    .num
                    .checked_mul(coeff.den)
                    .zip(coeff.num.checked_mul(cell.den))
                    .and_then(|(x, y)| x.checked_add(y))
                    .zip(cell.den.checked_mul(coeff.den))
                    .and_then(|(num, den)| Frac::new(num, den));
                let limit = super::MAX_COEFF as u128;
                *cell = sum
                    .filter(|f| f.num.unsigned_abs() <= limit && f.den.unsigned_abs() <= limit)
                    .ok_or_else(|| {
                        import_err(path, format!("product {r}: coefficient is absurdly large"))
                    })?;
            }
        }
    }
    let name = file_name(path);
    let mut provenance = json!({
        "source": "import",
        "format": "flips-exp",
        "file": name,
        "note": "c-index transposed (the file's cki is C[i][k])",
    });
    if name.contains("mod2") {
        provenance["warning"] = json!(
            "the file name says mod2, which flips uses for schemes valid modulo 2: they fail \
             exact verification unless they are also exact over the integers"
        );
    }
    finish(path, file_stem(path), (m, k, n), blocks, provenance)
}

/// One matrix of a PLinOpt `.sms` file: `(rows, cols, dense rows)`.
fn sms_matrix(text: &str, path: &Path) -> Result<(usize, usize, Vec<Vec<Frac>>), SchemeError> {
    let err = |line: usize, problem: String| import_err(path, format!("line {line}: {problem}"));
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.split('#').next().unwrap_or("").trim()))
        .filter(|(_, l)| !l.is_empty());
    let (hl, header) = lines
        .next()
        .ok_or_else(|| import_err(path, "empty file: expected a `rows cols type` header"))?;
    let h: Vec<&str> = header.split_whitespace().collect();
    let (rows, cols) = match h.as_slice() {
        [r, c, t] if t.chars().all(|c| c.is_ascii_alphabetic()) => {
            match (r.parse::<usize>(), c.parse::<usize>()) {
                (Ok(r), Ok(c)) => (r, c),
                _ => {
                    return Err(err(
                        hl,
                        format!("header `{header}`: rows and columns must be integers"),
                    ))
                }
            }
        }
        _ => {
            return Err(err(
                hl,
                format!("header `{header}` is not `rows cols type`"),
            ))
        }
    };
    let limit = super::MAX_DIM as usize;
    if rows == 0 || cols == 0 || rows > limit || cols > limit || rows * cols > 1 << 22 {
        return Err(err(
            hl,
            format!("a {rows} x {cols} matrix is empty or too large"),
        ));
    }
    let zero = Frac { num: 0, den: 1 };
    let mut dense = vec![vec![zero; cols]; rows];
    let mut seen = std::collections::HashSet::new();
    let mut ended = false;
    for (ln, line) in lines {
        if ended {
            return Err(err(ln, "text after the `0 0 0` end marker".into()));
        }
        let t: Vec<&str> = line.split_whitespace().collect();
        let [i, j, v] = t.as_slice() else {
            return Err(err(ln, format!("`{line}` is not `row col value`")));
        };
        let (Ok(i), Ok(j)) = (i.parse::<usize>(), j.parse::<usize>()) else {
            return Err(err(
                ln,
                format!("`{line}`: row and column must be integers"),
            ));
        };
        if i == 0 && j == 0 {
            ended = true;
            continue;
        }
        if i == 0 || j == 0 || i > rows || j > cols {
            return Err(err(
                ln,
                format!(
                    "entry ({i}, {j}) is outside the {rows} x {cols} matrix (indices are 1-based)"
                ),
            ));
        }
        if !seen.insert((i, j)) {
            return Err(err(ln, format!("entry ({i}, {j}) is given twice")));
        }
        dense[i - 1][j - 1] = parse_token(v).map_err(|e| err(ln, e))?;
    }
    Ok((rows, cols, dense))
}

/// The three file names of a PLinOpt scheme from the name of its `_L.sms` file.
fn sms_siblings(l_path: &Path) -> Result<[std::path::PathBuf; 3], SchemeError> {
    let name = file_name(l_path);
    let Some(stem) = name.strip_suffix("_L.sms") else {
        return Err(import_err(
            l_path,
            "a PLinOpt scheme is three files PREFIX_L.sms, PREFIX_R.sms and PREFIX_P.sms: give the _L.sms one",
        ));
    };
    let sib = |x: &str| l_path.with_file_name(format!("{stem}_{x}.sms"));
    Ok([l_path.to_path_buf(), sib("R"), sib("P")])
}

/// A scheme from the text of the three PLinOpt `.sms` matrices (L, R and P, in this order;
/// `path` names the scheme in messages and, without its `_L.sms` suffix, gives its name).
/// Coefficients stay rational: the result is a [`super::RationalScheme`], not verified here.
pub fn plinopt_sms_from_strs(
    l: &str,
    r: &str,
    p: &str,
    path: &Path,
) -> Result<super::RationalScheme, SchemeError> {
    let (lr, mk, lu) = sms_matrix(l, path)?;
    let (rr, kn, rv) = sms_matrix(r, path)?;
    let (mn, pr, pw) = sms_matrix(p, path)?;
    if lr != rr || lr != pr {
        return Err(import_err(
            path,
            format!("the ranks disagree: L has {lr} rows, R {rr} rows, P {pr} columns"),
        ));
    }
    let dims = dims_from_counts(mk, kn, mn).ok_or_else(|| {
        import_err(
            path,
            format!("L's {mk}, R's {kn} and P's {mn} entries are not m*k, k*n, m*n of any <m,k,n>"),
        )
    })?;
    check_dims(path, dims)?;
    let q = |rows: Vec<Vec<Frac>>| -> Vec<Vec<super::Rational>> {
        rows.into_iter()
            .map(|row| {
                row.into_iter()
                    // parse_token bounds numerator and denominator by MAX_COEFF, so both fit.
                    .map(|f| super::Rational::new(f.num as i64, f.den as i64))
                    .collect()
            })
            .collect()
    };
    let name = file_name(path);
    let name = name.strip_suffix("_L.sms").unwrap_or(&name).to_string();
    super::RationalScheme::new(
        name,
        dims,
        q(lu),
        q(rv),
        q(pw),
        json!({ "imported_from": file_name(path), "format": "PLinOpt .sms (L, R, P)" }),
    )
}

/// Imports a PLinOpt scheme (github.com/jgdumas/plinopt, `data/`): three sparse-matrix files
/// `PREFIX_L.sms`, `PREFIX_R.sms`, `PREFIX_P.sms`, each a header `rows cols type` then 1-based
/// `row col value` triplets and an optional `0 0 0` end marker (`#` starts a comment). L has one
/// row per product over A's entries, R one per product over B's, P one row per entry of C with
/// one column per product, all row-major (checked against `4x4x4_48_rational`, whose 4,096
/// Brent equations hold over Q with exactly this reading and fail with any transposition).
/// Values are integers or fractions `p/q`; they are kept exactly. `l_path` is the `_L.sms` file.
pub fn plinopt_sms(l_path: impl AsRef<Path>) -> Result<super::RationalScheme, SchemeError> {
    let l_path = l_path.as_ref();
    let [l, r, p] = sms_siblings(l_path)?;
    plinopt_sms_from_strs(&read_text(&l)?, &read_text(&r)?, &read_text(&p)?, l_path)
}

/// Reads a flips `.exp` file (see [`flips_exp_from_str`]).
pub fn flips_exp(path: impl AsRef<Path>) -> Result<Scheme, SchemeError> {
    let path = path.as_ref();
    flips_exp_from_str(&read_text(path)?, path)
}

/// The keys (`"m,k,n"`) of an AlphaTensor archive, sorted by dimensions.
#[cfg(feature = "cli")]
pub fn alphatensor_keys(path: impl AsRef<Path>) -> Result<Vec<String>, SchemeError> {
    let path = path.as_ref();
    let npz = npyz::npz::NpzArchive::open(path)
        .map_err(|e| import_err(path, format!("not a readable .npz archive: {e}")))?;
    let mut keys: Vec<String> = npz.array_names().map(str::to_string).collect();
    let dims = |k: &String| -> Vec<usize> { k.split(',').filter_map(|x| x.parse().ok()).collect() };
    keys.sort_by_key(dims);
    Ok(keys)
}

/// Reads the scheme stored under `key` (`"m,k,n"`) in an AlphaTensor `factorizations_r.npz`
/// archive (see the module docs; C's index is transposed).
#[cfg(feature = "cli")]
pub fn alphatensor(path: impl AsRef<Path>, key: &str) -> Result<Scheme, SchemeError> {
    let path = path.as_ref();
    let (m, k, n) = parse_key(path, key)?;
    let file = std::fs::File::open(path).map_err(|e| SchemeError::Read {
        path: path.to_path_buf(),
        source: e,
    })?;
    alphatensor_from_reader(std::io::BufReader::new(file), path, (m, k, n))
}

/// [`alphatensor`] on an archive held in memory (`path` only names it in messages).
#[cfg(feature = "cli")]
pub fn alphatensor_from_bytes(bytes: &[u8], path: &Path, key: &str) -> Result<Scheme, SchemeError> {
    let dims = parse_key(path, key)?;
    alphatensor_from_reader(std::io::Cursor::new(bytes), path, dims)
}

#[cfg(feature = "cli")]
fn parse_key(path: &Path, key: &str) -> Result<(usize, usize, usize), SchemeError> {
    let dims: Vec<usize> = key
        .split(',')
        .map(|x| x.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| import_err(path, format!("key `{key}` is not of the form m,k,n")))?;
    let [m, k, n] = dims[..] else {
        return Err(import_err(
            path,
            format!("key `{key}` is not of the form m,k,n"),
        ));
    };
    Ok((m, k, n))
}

#[cfg(feature = "cli")]
fn alphatensor_from_reader(
    reader: impl std::io::Read + std::io::Seek,
    path: &Path,
    (m, k, n): (usize, usize, usize),
) -> Result<Scheme, SchemeError> {
    let key = format!("{m},{k},{n}");
    let mut zip = npyz::zip::ZipArchive::new(reader)
        .map_err(|e| import_err(path, format!("not a readable .npz archive: {e}")))?;
    let mut entry = match zip.by_name(&npyz::npz::file_name_from_array_name(&key)) {
        Ok(f) => f,
        Err(npyz::zip::result::ZipError::FileNotFound) => {
            return Err(import_err(path, format!("no key {key} in the archive")))
        }
        Err(e) => return Err(import_err(path, format!("key {key}: {e}"))),
    };
    // The header is read and its shape checked before anything is decoded, so a forged shape
    // or a compressed bomb costs nothing: the data reader is limited to the size the checked
    // shape implies.
    let (header_bytes, shape) =
        read_npy_header(&mut entry).map_err(|e| import_err(path, format!("key {key}: {e}")))?;
    let header = npyz::NpyHeader::from_reader(&header_bytes[..]).map_err(|e| {
        let pickled = if e.to_string().contains("type string") {
            " (most likely a pickled object array, which strass cannot read; the plain \
             integer arrays, e.g. the square keys 2,2,2 to 5,5,5, can be read)"
        } else {
            ""
        };
        import_err(path, format!("key {key}: {e}{pickled}"))
    })?;
    let tensor = (m as u64).saturating_mul(k as u64).saturating_mul(n as u64);
    if m == 0 || k == 0 || n == 0 || tensor > super::MAX_TENSOR {
        return Err(import_err(
            path,
            format!(
                "key {key}: dimensions must be positive with m*k*n at most {}",
                super::MAX_TENSOR
            ),
        ));
    }
    let bad_shape = || {
        import_err(
            path,
            format!(
                "key {key}: shape {shape:?}; only arrays of shape (3, d, R) with \
                 d = m*k = k*n = m*n, R at most {} and at most {MAX_NPZ_ELEMENTS} elements \
                 can be read",
                super::MAX_DIM
            ),
        )
    };
    if shape.len() != 3
        || shape[0] != 3
        || m * k != k * n
        || m * k != m * n
        || shape[1] != (m * k) as u64
        || shape[2] == 0
        || shape[2] > super::MAX_DIM
        || 3 * shape[1] * shape[2] > MAX_NPZ_ELEMENTS
    {
        return Err(bad_shape());
    }
    let records = 3 * shape[1] * shape[2];
    // Plain numeric items are at most 8 bytes.
    let npy = npyz::NpyFile::with_header(header, std::io::Read::take(entry, records * 8));
    let fortran = npy.order() == npyz::Order::Fortran;
    let dtype = match npy.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => format!("{other:?}"),
    };
    let unreadable = || {
        import_err(
            path,
            format!(
                "key {key}: stored with dtype {dtype} and shape {shape:?}; only plain numeric \
                 arrays of shape (3, d, R) with d = m*k = k*n = m*n can be read"
            ),
        )
    };
    // Integers stay integers; floats must be exact dyadic rationals (0.5, 0.125, ...).
    let to_frac = |x: f64| -> Result<Frac, SchemeError> {
        let bad = || {
            import_err(
                path,
                format!("key {key}: coefficient {x} is not a bounded rational"),
            )
        };
        if !x.is_finite() || x.abs() > super::MAX_COEFF as f64 {
            return Err(bad());
        }
        let mut den: i128 = 1;
        let mut y = x;
        while y.fract() != 0.0 {
            if den > 1 << 20 {
                return Err(bad());
            }
            y *= 2.0;
            den *= 2;
        }
        Frac::new(y as i128, den).ok_or_else(bad)
    };
    let floats = |v: Vec<f64>| v.into_iter().map(to_frac).collect::<Result<Vec<Frac>, _>>();
    let ints = |v: Vec<i64>| -> Vec<Frac> {
        v.into_iter()
            .map(|c| Frac {
                num: c as i128,
                den: 1,
            })
            .collect()
    };
    let read_err = |e: std::io::Error| import_err(path, format!("key {key}: {e}"));
    let data: Vec<Frac> = match dtype.get(1..) {
        Some("i1") => ints(
            npy.into_vec::<i8>()
                .map_err(read_err)?
                .into_iter()
                .map(i64::from)
                .collect(),
        ),
        Some("i2") => ints(
            npy.into_vec::<i16>()
                .map_err(read_err)?
                .into_iter()
                .map(i64::from)
                .collect(),
        ),
        Some("i4") => ints(
            npy.into_vec::<i32>()
                .map_err(read_err)?
                .into_iter()
                .map(i64::from)
                .collect(),
        ),
        Some("i8") => ints(npy.into_vec::<i64>().map_err(read_err)?),
        Some("f4") => floats(
            npy.into_vec::<f32>()
                .map_err(read_err)?
                .into_iter()
                .map(f64::from)
                .collect(),
        )?,
        Some("f8") => floats(npy.into_vec::<f64>().map_err(read_err)?)?,
        _ => return Err(unreadable()),
    };
    let (d, rank) = (shape[1] as usize, shape[2] as usize);
    if data.len() != 3 * d * rank {
        return Err(unreadable());
    }
    // A Fortran-ordered array stores element (f, row, r) at f + 3 (row + d r).
    let data = if fortran {
        let mut c = Vec::with_capacity(data.len());
        for f in 0..3 {
            for row in 0..d {
                for r in 0..rank {
                    c.push(data[f + 3 * (row + d * r)]);
                }
            }
        }
        c
    } else {
        data
    };
    // Blocks with one row per entry (row-major), one column per product.
    let block = |f: usize, rows: Vec<usize>| -> Vec<Vec<Frac>> {
        rows.into_iter()
            .map(|row| data[(f * d + row) * rank..][..rank].to_vec())
            .collect()
    };
    // Their third factor indexes (A B)^T: entry (s, t) of C is their row t*m + s.
    let c_rows = (0..m * n).map(|c| (c % n) * m + c / n).collect();
    let blocks = [
        block(0, (0..m * k).collect()),
        block(1, (0..k * n).collect()),
        block(2, c_rows),
    ];
    let provenance = json!({
        "source": "import",
        "format": "alphatensor",
        "file": path.file_name().map(|s| s.to_string_lossy().into_owned()),
        "key": key,
        "note": "third factor transposed (AlphaTensor's W is for (A B)^T)",
    });
    let name = format!("alphatensor-{m}{k}{n}-{rank}");
    finish(path, name, (m, k, n), blocks, provenance)
}

/// Largest array (elements) strass imports from an `.npz` archive.
#[cfg(feature = "cli")]
const MAX_NPZ_ELEMENTS: u64 = 1 << 22;

/// Largest `.npy` header strass reads (bytes); numpy writes headers of about 100 bytes.
#[cfg(feature = "cli")]
const MAX_NPY_HEADER: usize = 1 << 16;

/// Reads the `.npy` preamble and header of `r` with a bounded header length and extracts the
/// `shape` tuple (checked so that its product fits in a `u64`). Returns the raw bytes read
/// (for `npyz` to interpret) and the shape.
#[cfg(feature = "cli")]
fn read_npy_header(r: &mut impl std::io::Read) -> Result<(Vec<u8>, Vec<u64>), String> {
    let mut pre = [0u8; 8];
    r.read_exact(&mut pre)
        .map_err(|e| format!("not an .npy array: {e}"))?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err("not an .npy array (no magic number)".into());
    }
    let mut bytes = pre.to_vec();
    let len = match pre[6] {
        1 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b).map_err(|e| e.to_string())?;
            bytes.extend_from_slice(&b);
            u16::from_le_bytes(b) as usize
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            r.read_exact(&mut b).map_err(|e| e.to_string())?;
            bytes.extend_from_slice(&b);
            u32::from_le_bytes(b) as usize
        }
        v => return Err(format!("unsupported .npy version {v}")),
    };
    if len > MAX_NPY_HEADER {
        return Err(format!(
            "header of {len} bytes, beyond the limit of {MAX_NPY_HEADER}"
        ));
    }
    let start = bytes.len();
    bytes.resize(start + len, 0);
    r.read_exact(&mut bytes[start..])
        .map_err(|e| format!("truncated header: {e}"))?;
    let text = String::from_utf8_lossy(&bytes[start..]);
    let shape = npy_shape(&text).ok_or_else(|| format!("no readable shape in header {text:?}"))?;
    Ok((bytes, shape))
}

/// The `shape` tuple of an `.npy` header dictionary, e.g. `(3, 4, 7)`; `None` when absent,
/// malformed, or when the number of elements overflows a `u64`.
#[cfg(feature = "cli")]
fn npy_shape(header: &str) -> Option<Vec<u64>> {
    let at = header.find("'shape'")?;
    let rest = header[at + 7..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let inner = rest.strip_prefix('(')?;
    let inner = &inner[..inner.find(')')?];
    let dims = inner
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| x.strip_suffix('L').unwrap_or(x).parse::<u64>().ok())
        .collect::<Option<Vec<u64>>>()?;
    dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d))?;
    Some(dims)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scheme's U, V and W as PLinOpt's three `.sms` texts (L = U, R = V, P = W), with
    /// product `scaled` multiplied by (2, 1/2, 1) in L and R so that fractions appear.
    fn sms_texts(s: &Scheme, scaled: Option<usize>) -> [String; 3] {
        let f = |rows: &[Vec<i64>], num: i64, den: i64, only: Option<usize>| {
            let mut t = format!("# test\n{} {} R\n", rows.len(), rows[0].len());
            for (i, row) in rows.iter().enumerate() {
                for (j, &c) in row.iter().enumerate() {
                    if c != 0 {
                        let (p, q) = if only.is_none_or(|o| o == i) {
                            (c * num, den)
                        } else {
                            (c, 1)
                        };
                        let g = gcd(p as i128, q as i128) as i64;
                        let (p, q) = (p / g, q / g);
                        if q == 1 {
                            t += &format!("{} {} {p}\n", i + 1, j + 1);
                        } else {
                            t += &format!("{} {} {p}/{q}  # a comment\n", i + 1, j + 1);
                        }
                    }
                }
            }
            t + "0 0 0\n"
        };
        match scaled {
            Some(r) => [
                f(s.u(), 2, 1, Some(r)),
                f(s.v(), 1, 2, Some(r)),
                f(s.w(), 1, 1, None),
            ],
            None => [
                f(s.u(), 1, 1, None),
                f(s.v(), 1, 1, None),
                f(s.w(), 1, 1, None),
            ],
        }
    }

    #[test]
    fn plinopt_sms_reads_row_major_l_r_p_exactly() {
        let st = Scheme::strassen();
        let path = Path::new("dir/strassen_L.sms");
        let [l, r, p] = sms_texts(&st, None);
        let q = plinopt_sms_from_strs(&l, &r, &p, path).unwrap();
        assert_eq!((q.dims(), q.rank(), q.name()), ((2, 2, 2), 7, "strassen"));
        assert!(q.verify().is_valid());
        assert_eq!(q.to_integral().unwrap().u(), st.u());
        // Fractions are kept exactly and still verify; the rescaling recovers Strassen.
        let [l, r, p] = sms_texts(&st, Some(2));
        assert!(l.contains(" 2\n") && r.contains("/2"), "{l}{r}");
        let q = plinopt_sms_from_strs(&l, &r, &p, path).unwrap();
        assert!(!q.is_integral() && q.verify().is_valid());
        assert!(q.to_integral().unwrap().verify().is_valid());
        // Swapping L and R (B's entries read as A's) is the transposed product: not exact.
        let [l, r, p] = sms_texts(&st, None);
        let swapped = plinopt_sms_from_strs(&r, &l, &p, path).unwrap();
        assert!(!swapped.verify().is_valid());
        // A wrong value fails the exact check.
        let bad = l.replacen("1 1 1\n", "1 1 1/3\n", 1);
        assert_ne!(bad, l);
        assert!(!plinopt_sms_from_strs(&bad, &r, &p, path)
            .unwrap()
            .verify()
            .is_valid());
    }

    #[test]
    fn plinopt_sms_refuses_malformed_files() {
        let st = Scheme::strassen();
        let [l, r, p] = sms_texts(&st, None);
        let path = Path::new("s_L.sms");
        let cases: Vec<(String, &str, &str)> = vec![
            (String::new(), "empty file", "L"),
            ("7 4\n".into(), "is not `rows cols type`", "L"),
            ("x 4 M\n".into(), "must be integers", "L"),
            ("0 4 M\n".into(), "empty or too large", "L"),
            ("99999 99999 M\n".into(), "empty or too large", "L"),
            (l.replace("0 0 0\n", "8 1 1\n"), "outside the 7 x 4", "L"),
            (l.replace("0 0 0\n", "1 0 1\n"), "1-based", "L"),
            (l.replace("0 0 0\n", "1 1 1\n"), "given twice", "L"),
            (
                l.replace("0 0 0\n", "0 0 0\n1 2 1\n"),
                "after the `0 0 0`",
                "L",
            ),
            (l.replace("0 0 0\n", "2 2 x\n"), "symbolic coefficient", "L"),
            (l.replace("0 0 0\n", "2 2 1/0\n"), "malformed fraction", "L"),
            (
                l.replace("0 0 0\n", "2 2 1 1\n"),
                "is not `row col value`",
                "L",
            ),
            (l.replace("7 4 R", "6 4 R"), "outside the 6 x 4", "L"),
            (r.replace("7 4 R", "8 4 R"), "ranks disagree", "R"),
            (r.replace("7 4 R", "7 6 R"), "not m*k, k*n, m*n", "R"),
        ];
        for (text, want, which) in cases {
            let got = match which {
                "L" => plinopt_sms_from_strs(&text, &r, &p, path),
                _ => plinopt_sms_from_strs(&l, &text, &p, path),
            };
            let e = got.expect_err(want).to_string();
            assert!(e.contains(want), "{want}: {e}");
        }
        let e = plinopt_sms("dir/strassen.sms").unwrap_err().to_string();
        assert!(e.contains("_L.sms"), "{e}");
    }

    /// Strassen's scheme in the FastMatrixMultiplication layout, written by hand: `w` is indexed
    /// by C^T, i.e. its columns are c11, c21, c12, c22.
    const STRASSEN_JSON: &str = r#"{
        "n": [2, 2, 2], "m": 7, "z2": false,
        "multiplications": ["ignored"],
        "u": [[1,0,0,1],[0,0,1,1],[1,0,0,0],[0,0,0,1],[1,1,0,0],[-1,0,1,0],[0,1,0,-1]],
        "v": [[1,0,0,1],[1,0,0,0],[0,1,0,-1],[-1,0,1,0],[0,0,0,1],[1,1,0,0],[0,0,1,1]],
        "w": [[1,0,0,1],[0,1,0,-1],[0,0,1,1],[1,1,0,0],[-1,0,1,0],[0,0,0,1],[1,0,0,0]]
    }"#;

    /// Strassen's scheme as a flips `.exp` file, written by hand: `cki` is C[i][k], so c12 is
    /// C's entry (2, 1).
    const STRASSEN_EXP: &str = "(a11+a22)*(b11+b22)*(c11+c22)\n\
        (a21+a22)*b11*(c12-c22)\n\
        a11*(b12-b22)*(c21+c22)\n\
        a22*(-b11+b21)*(c11+c12)\n\
        (a11+a12)*b22*(-c11+c21)\n\
        (-a11+a21)*(b11+b12)*c22\n\
        (a12-a22)*(b21+b22)*c11\n";

    fn p() -> &'static Path {
        Path::new("t")
    }

    fn import_error(r: Result<Scheme, SchemeError>) -> String {
        match r {
            Err(e @ SchemeError::Import { .. }) => e.to_string(),
            other => panic!("expected an import error, got {other:?}"),
        }
    }

    /// `s` in the FastMatrixMultiplication layout (an independent writer for round trips).
    fn to_perminov(s: &Scheme) -> String {
        let (m, n) = (s.m(), s.n());
        let w: Vec<Vec<i64>> = (0..s.rank())
            .map(|r| (0..m * n).map(|t| s.w()[(t % m) * n + t / m][r]).collect())
            .collect();
        json!({"n": [s.m(), s.k(), s.n()], "m": s.rank(), "z2": false,
               "u": s.u(), "v": s.v(), "w": w})
        .to_string()
    }

    /// `s` as a flips `.exp` file (an independent writer for round trips).
    fn to_exp(s: &Scheme) -> String {
        let (k, n) = (s.k(), s.n());
        let form = |terms: Vec<(i64, String)>| -> String {
            let body: Vec<String> = terms
                .into_iter()
                .filter(|(c, _)| *c != 0)
                .map(|(c, x)| format!("{c:+}*{x}"))
                .collect();
            format!("({})", body.join(""))
        };
        (0..s.rank())
            .map(|r| {
                let a = form(
                    (0..s.m() * k)
                        .map(|e| (s.u()[r][e], format!("a{}{}", e / k + 1, e % k + 1)))
                        .collect(),
                );
                let b = form(
                    (0..k * n)
                        .map(|e| (s.v()[r][e], format!("b{}{}", e / n + 1, e % n + 1)))
                        .collect(),
                );
                let c = form(
                    (0..s.m() * n)
                        .map(|e| (s.w()[e][r], format!("c{}{}", e % n + 1, e / n + 1)))
                        .collect(),
                );
                format!("{a}*{b}*{c}\n")
            })
            .collect()
    }

    #[test]
    fn perminov_strassen_imports_and_verifies() {
        let s = perminov_from_str(STRASSEN_JSON, Path::new("strassen.json")).unwrap();
        assert_eq!((s.dims(), s.rank(), s.name()), ((2, 2, 2), 7, "strassen"));
        assert!(s.verify().is_valid());
        assert!(crate::scheme::match_strassen(&s).is_some());
        assert_eq!(s.provenance()["format"], "fastmatrixmultiplication-json");
        // w read as indexed by C (not C^T) swaps c12 and c21: not a valid scheme.
        let mut w = s.w().to_vec();
        w.swap(1, 2);
        let raw = Scheme::new(
            "raw",
            (2, 2, 2),
            s.u().to_vec(),
            s.v().to_vec(),
            w,
            json!({}),
        )
        .unwrap();
        assert!(!raw.verify().is_valid());
    }

    #[test]
    fn perminov_wrong_coefficient_fails_verification() {
        // Product 6's u changed from a12 - a22 to a12 + a22.
        let bad = STRASSEN_JSON.replacen("[0,1,0,-1]]", "[0,1,0,1]]", 1);
        assert_ne!(bad, STRASSEN_JSON);
        let s = perminov_from_str(&bad, p()).unwrap();
        assert!(!s.verify().is_valid());
    }

    #[test]
    fn perminov_rectangular_round_trip_and_fractions() {
        for dims in [(2, 3, 4), (3, 2, 1), (1, 4, 2)] {
            let c = Scheme::classical(dims.0, dims.1, dims.2).unwrap();
            let s = perminov_from_str(&to_perminov(&c), p()).unwrap();
            assert_eq!(s.dims(), dims);
            assert_eq!((s.u(), s.v(), s.w()), (c.u(), c.v(), c.w()));
            assert!(s.verify().is_valid());
        }
        // Product 0 written as (u/2)(2v)w with string fractions: rescaled back.
        let text = STRASSEN_JSON
            .replacen("[[1,0,0,1],[0,0,1,1]", r#"[["1/2",0,0,"1/2"],[0,0,1,1]"#, 1)
            .replacen("[[1,0,0,1],[1,0,0,0]", r#"[[2,0,0,"2"],[1,0,0,0]"#, 1);
        let s = perminov_from_str(&text, p()).unwrap();
        assert!(s.verify().is_valid());
        assert_eq!(s.provenance()["rescaled_products"], json!([0]));
        // Halving u only is refused, and said not to be exact over Q.
        let text =
            STRASSEN_JSON.replacen("[[1,0,0,1],[0,0,1,1]", r#"[["1/2",0,0,"1/2"],[0,0,1,1]"#, 1);
        let msg = import_error(perminov_from_str(&text, p()));
        assert!(
            msg.contains("not an exact scheme even over the rationals"),
            "{msg}"
        );
    }

    #[test]
    fn perminov_malformed_inputs_are_refused() {
        let ok = STRASSEN_JSON;
        for (text, want) in [
            (String::new(), "not valid JSON"),
            ("{\"n\": [2,2".to_string(), "not valid JSON"),
            ("[1, 2]".to_string(), "JSON object"),
            (
                ok.replacen("\"n\": [2, 2, 2]", "\"n\": [2, 2]", 1),
                "field `n`",
            ),
            (
                ok.replacen("\"n\": [2, 2, 2]", "\"n\": [2, -2, 2]", 1),
                "field `n`",
            ),
            (
                ok.replacen("\"n\": [2, 2, 2]", "\"n\": [2, 0, 2]", 1),
                "must be positive",
            ),
            (
                ok.replacen("\"n\": [2, 2, 2]", "\"n\": [4000, 4000, 4000]", 1),
                "at most",
            ),
            (
                ok.replacen("\"n\": [2, 2, 2]", "\"n\": [99999999999999999999, 1, 1]", 1),
                "field `n`",
            ),
            (
                ok.replacen("\"m\": 7", "\"m\": 6", 1),
                "expected one per product",
            ),
            (ok.replacen("\"m\": 7", "\"m\": 0", 1), "field `m`"),
            (ok.replacen("\"m\": 7", "\"m\": 1000000", 1), "field `m`"),
            (
                ok.replacen("\"n\": [2, 2, 2]", "\"n\": [2, 2, 3]", 1),
                "coefficients, expected 6",
            ),
            (
                ok.replacen("[0,0,1,1]", "[0,0,1]", 1),
                "field `u[1]`: 3 coefficients",
            ),
            (ok.replacen("[0,0,1,1]", "[0,0,1,\"x\"]", 1), "symbolic"),
            (ok.replacen("[0,0,1,1]", "[0,0,1,0.5]", 1), "not an integer"),
            (ok.replacen("[0,0,1,1]", "[0,0,1,null]", 1), "not a number"),
            (
                ok.replacen("[0,0,1,1]", "[0,0,1,\"1/0\"]", 1),
                "malformed fraction",
            ),
            (
                ok.replacen("[0,0,1,1]", "[0,0,1,99999999999]", 1),
                "absurdly large",
            ),
            (ok.replacen("[0,0,1,1]", "7", 1), "not an array"),
            (ok.replacen("\"w\"", "\"x\"", 1), "field `w`: missing"),
            (ok.replacen("\"z2\": false", "\"z2\": true", 1), "modulo 2"),
            (
                ok.replacen("\"z2\": false", "\"format\": \"strass-scheme/1\"", 1),
                "already a strass-scheme/1 file",
            ),
            (
                ok.replacen("\"z2\": false", "\"u_fresh\": []", 1),
                "addition-reduced",
            ),
        ] {
            let msg = import_error(perminov_from_str(&text, p()));
            assert!(msg.contains(want), "{text:?}: {msg}");
        }
    }

    #[test]
    fn flips_strassen_imports_and_verifies() {
        let s = flips_exp_from_str(STRASSEN_EXP, Path::new("222-7.exp")).unwrap();
        assert_eq!((s.dims(), s.rank(), s.name()), ((2, 2, 2), 7, "222-7"));
        assert!(s.verify().is_valid());
        let m = crate::scheme::match_strassen(&s).unwrap();
        assert_eq!(m.perm, (0..7).collect::<Vec<_>>());
        // Reading cij as C[i][j] (no transpose) is wrong: c12 and c21 swap.
        let swapped: String = STRASSEN_EXP
            .replace("c12", "cXX")
            .replace("c21", "c12")
            .replace("cXX", "c21");
        let s = flips_exp_from_str(&swapped, p()).unwrap();
        assert!(!s.verify().is_valid());
        // Spaces, explicit coefficients, a negated product and fractions are read.
        let text = STRASSEN_EXP
            .replacen(
                "(a11+a22)*(b11+b22)*(c11+c22)",
                "(1/2*a11 + 1/2*a22) * (2*b11 + 2*b22) * (c11 + c22)",
                1,
            )
            .replacen("a22*(-b11+b21)*(c11+c12)", "-(a22*(b11-b21)*(c11+c12))", 1)
            .replacen(
                "(a12-a22)*(b21+b22)*c11",
                "2*(a12-a22)*(b21+b22)*(1/2*c11)",
                1,
            );
        let s = flips_exp_from_str(&text, p()).unwrap();
        assert!(s.verify().is_valid());
        assert_eq!(s.provenance()["rescaled_products"], json!([0, 6]));
        assert!(crate::scheme::match_strassen(&s).is_some());
    }

    #[test]
    fn flips_wrong_coefficient_fails_verification() {
        let bad = STRASSEN_EXP.replacen("(a12-a22)", "(a12+a22)", 1);
        assert_ne!(bad, STRASSEN_EXP);
        let s = flips_exp_from_str(&bad, p()).unwrap();
        assert!(!s.verify().is_valid());
        // A file named mod2 carries a warning in its provenance.
        let s = flips_exp_from_str(&bad, Path::new("222-7-mod2.exp")).unwrap();
        assert!(s.provenance()["warning"]
            .as_str()
            .unwrap()
            .contains("modulo 2"));
    }

    #[test]
    fn flips_rectangular_round_trip() {
        for dims in [(2, 3, 4), (3, 2, 1), (1, 4, 2), (4, 1, 3)] {
            let c = Scheme::classical(dims.0, dims.1, dims.2).unwrap();
            let s = flips_exp_from_str(&to_exp(&c), p()).unwrap();
            assert_eq!(s.dims(), dims);
            assert_eq!((s.u(), s.v(), s.w()), (c.u(), c.v(), c.w()));
            assert!(s.verify().is_valid());
        }
        // Strassen squared: <4,4,4;49> with coefficients up to 1 in magnitude.
        let s49 = crate::scheme::kron(&Scheme::strassen(), &Scheme::strassen()).unwrap();
        let s = flips_exp_from_str(&to_exp(&s49), p()).unwrap();
        assert_eq!((s.dims(), s.rank()), ((4, 4, 4), 49));
        assert!(s.verify().is_valid());
        let s = perminov_from_str(&to_perminov(&s49), p()).unwrap();
        assert!(s.verify().is_valid());
    }

    #[test]
    fn flips_malformed_inputs_are_refused() {
        for (text, want) in [
            ("", "empty file"),
            ("\n  \n", "empty file"),
            ("a11*b11*d11\n", "unknown variable `d11`"),
            ("a11*b11*cc11\n", "unknown variable `cc11`"),
            ("a11*b11*c1\n", "two single-digit indices"),
            ("a111*b11*c11\n", "two single-digit indices"),
            ("a01*b11*c11\n", "indices start at 1"),
            ("a11*b11\n", "three factors"),
            ("a11*b11*c11*a11\n", "two factors in `a`"),
            ("a11\n", "product of three factors"),
            ("(a11+b11)*b11*c11\n", "mixes variables"),
            ("(a11*b11*c11\n", "unbalanced `(`"),
            ("a11*b11*c11)\n", "unbalanced `)`"),
            ("a11*b11*c11+a12*b21*c11\n", "sum of products"),
            ("(a11+1)*b11*c11\n", "constant term"),
            ("a11*b11*c11 % x\n", "unexpected character"),
            ("a11**b11*c11\n", "unexpected `*`"),
            ("()*b11*c11\n", "unexpected `)`"),
            ("a11*b11*\n", "unexpected end of line"),
            ("1/0*a11*b11*c11\n", "malformed fraction"),
            ("99999999999*a11*b11*c11\n", "absurdly large"),
            ("1048576*1048576*a11*b11*c11\n", "absurdly large"),
            ("((((((((((a11))))))))))*b11*c11\n", "nested too deeply"),
        ] {
            let msg = import_error(flips_exp_from_str(text, p()));
            assert!(msg.contains(want), "{text:?}: {msg}");
        }
        // The line is named.
        let msg = import_error(flips_exp_from_str("a11*b11*c11\nx\n", p()));
        assert!(msg.contains("line 2"), "{msg}");
        // Too many products for the rank limit.
        let many = "a11*b11*c11\n".repeat(super::super::MAX_DIM as usize + 1);
        let msg = import_error(flips_exp_from_str(&many, p()));
        assert!(msg.contains("rank limit"), "{msg}");
    }
}
