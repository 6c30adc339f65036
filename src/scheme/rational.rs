//! Schemes with exact rational coefficients: the `strass-scheme/2` format, exact verification
//! over Q, and conversion to an integral [`Scheme`] by per-product rescaling.
//!
//! Published schemes are not always integral: the rank-48 `<4,4,4>` scheme of Dumas, Pernet and
//! Sedoglavic (2025), for instance, has coefficients in `{0, ±1, ±1/2}`. A [`RationalScheme`]
//! holds such a scheme, checks it exactly ([`RationalScheme::verify`]: every Brent equation
//! evaluated in exact rational arithmetic, no floating point, no sampling) and reads and writes
//! it ([`RationalScheme::load`], [`RationalScheme::save`]). Only integral schemes are compiled
//! into the kernel: [`RationalScheme::to_integral`] gives the [`Scheme`] when one exists by
//! rescaling products, and a clear error otherwise.
//!
//! # Coefficient type
//!
//! Coefficients are [`Rational`] = `num_rational::Ratio<i64>` (the `num` project's rational
//! type, always kept in lowest terms with a positive denominator), bounded like integer
//! coefficients: numerator and denominator at most [`MAX_COEFF`] in magnitude. Every sum the
//! checks form is computed in `num_rational::BigRational` (arbitrary precision, from
//! `num-bigint`), so verification is exact and can neither overflow nor round: a fixed-width
//! `Ratio<i128>` would overflow on sums of terms with large coprime denominators (two terms
//! with denominators near `2^60` already need `2^120`) and would then have to report a valid
//! scheme as failing. The cost is an allocation per term, which is small beside the
//! [`super::MAX_VERIFY_TERMS`] bound on the number of terms.
//!
//! # Which rescalings [`RationalScheme::to_integral`] finds
//!
//! Product `r` may be rescaled to `(a u_r, b v_r, w_r / (a b))` for any nonzero rationals `a`,
//! `b` without changing what the scheme computes. The rank-one tensor `u_r ⊗ v_r ⊗ w_r` does not
//! change under such a rescaling, so if one of its entries is not an integer no rescaling
//! makes product `r` integral. Conversely, if all its entries are integers, taking `a` and `b`
//! that make `u_r` and `v_r` primitive integer vectors (coprime entries) leaves `w_r / (a b)`
//! integral (by Gauss's lemma the products `u_i v_j` have gcd 1). So `to_integral` succeeds iff
//! every product's rank-one tensor is integral. For example, the classical 2x2 scheme with
//! `a11 b11` split into two products `(1/2 a11) b11` has rank-one tensors with the entry `1/2`
//! and cannot be made integral this way, although it is a correct scheme (merging the two
//! products, which is not a rescaling, would give the classical one).

use super::format::{self, Fraction, ParsedRational, FORMAT, FORMAT_V2, MAX_COEFF};
use super::io::field_error;
use super::{FieldProblem, Scheme, SchemeError};
use num_bigint::BigInt;
use num_integer::Integer;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use std::collections::HashMap;
use std::fmt;
use std::path::Path;

/// An exact rational coefficient, always in lowest terms with a positive denominator.
pub type Rational = num_rational::Ratio<i64>;

/// A bilinear scheme `<m,k,n;rank>` with exact rational coefficients.
///
/// Laid out like [`Scheme`] (`u`: `rank` rows of `m*k`, `v`: `rank` rows of `k*n`, `w`: `m*n`
/// rows of `rank`, all row-major) and well-formed in the same way, with every numerator and
/// denominator at most [`MAX_COEFF`] in magnitude. Whether it is valid is
/// [`RationalScheme::verify`], exactly over Q.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RationalScheme {
    name: String,
    m: usize,
    k: usize,
    n: usize,
    rank: usize,
    u: Vec<Vec<Rational>>,
    v: Vec<Vec<Rational>>,
    w: Vec<Vec<Rational>>,
    provenance: serde_json::Value,
}

/// One Brent equation that does not hold over Q.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RationalFailure {
    /// Index into A, `(row, col)`.
    pub a: (usize, usize),
    /// Index into B, `(row, col)`.
    pub b: (usize, usize),
    /// Index into C, `(row, col)`.
    pub c: (usize, usize),
    /// The scheme's value `sum_r u v w`, exactly, as `p` or `p/q` (it may exceed any integer
    /// type).
    pub got: String,
    /// The matrix-multiplication tensor's value (0 or 1).
    pub expected: i64,
}

impl fmt::Display for RationalFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "a{:?} b{:?} c{:?}: sum_r u*v*w = {}, expected {}",
            self.a, self.b, self.c, self.got, self.expected
        )
    }
}

/// The outcome of [`RationalScheme::verify`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RationalVerdict {
    /// Number of Brent equations, `(mk)(kn)(mn)`.
    pub total: usize,
    /// Number of failing equations.
    pub failed_count: usize,
    /// The first few failing equations (at most [`super::verify::MAX_REPORTED`]), in index
    /// order.
    pub failed: Vec<RationalFailure>,
}

impl RationalVerdict {
    /// True when every equation holds.
    pub fn is_valid(&self) -> bool {
        self.failed_count == 0
    }
}

fn to_fraction(key: &str, i: usize, j: usize, c: &Rational) -> Result<Fraction, SchemeError> {
    Fraction::new(*c.numer(), *c.denom()).ok_or_else(|| {
        field_error(
            Path::new("<memory>"),
            format::FieldError {
                field: format!("{key}[{i}][{j}]"),
                kind: FieldProblem::CoefficientTooLarge,
                problem: format!(
                    "coefficient {c} has a numerator or denominator beyond the limit of \
                     {MAX_COEFF}"
                ),
            },
        )
    })
}

fn fractions(key: &str, mat: &[Vec<Rational>]) -> Result<Vec<Vec<Fraction>>, SchemeError> {
    mat.iter()
        .enumerate()
        .map(|(i, row)| {
            row.iter()
                .enumerate()
                .map(|(j, c)| to_fraction(key, i, j, c))
                .collect()
        })
        .collect()
}

fn rationals(mat: Vec<Vec<Fraction>>) -> Vec<Vec<Rational>> {
    mat.into_iter()
        .map(|row| {
            row.into_iter()
                .map(|c| Rational::new_raw(c.num(), c.den()))
                .collect()
        })
        .collect()
}

fn big(c: &Rational) -> BigRational {
    BigRational::new_raw(BigInt::from(*c.numer()), BigInt::from(*c.denom()))
}

/// The canonical text of a rational: `3`, `-1/2`.
fn text(c: &BigRational) -> String {
    if c.is_integer() {
        c.numer().to_string()
    } else {
        format!("{}/{}", c.numer(), c.denom())
    }
}

impl RationalScheme {
    /// Builds a scheme from its parts, checking every dimension and coefficient like
    /// [`Scheme::new`] (not validity: see [`RationalScheme::verify`]); the rank is the number of
    /// rows of `u`.
    pub fn new(
        name: impl Into<String>,
        (m, k, n): (usize, usize, usize),
        u: Vec<Vec<Rational>>,
        v: Vec<Vec<Rational>>,
        w: Vec<Vec<Rational>>,
        provenance: serde_json::Value,
    ) -> Result<Self, SchemeError> {
        let (fu, fv, fw) = (
            fractions("u", &u)?,
            fractions("v", &v)?,
            fractions("w", &w)?,
        );
        format::check_parts((m, k, n, u.len()), &fu, &fv, &fw)
            .map_err(|e| field_error(Path::new("<memory>"), e))?;
        Ok(RationalScheme {
            name: name.into(),
            m,
            k,
            n,
            rank: u.len(),
            u,
            v,
            w,
            provenance,
        })
    }

    fn from_parsed(p: ParsedRational, path: &Path) -> Self {
        let name = p.name.unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "unnamed".into())
        });
        RationalScheme {
            name,
            m: p.m,
            k: p.k,
            n: p.n,
            rank: p.rank,
            u: rationals(p.u),
            v: rationals(p.v),
            w: rationals(p.w),
            provenance: p.provenance,
        }
    }

    /// Parses a `strass-scheme/1` or `strass-scheme/2` scheme from JSON text; `path` is only
    /// used in error messages and, when the file has no `name`, as the name (its stem).
    pub fn from_json_str(text: &str, path: &Path) -> Result<Self, SchemeError> {
        let p = format::parse_rational(text).map_err(|e| match e {
            format::ParseError::Json(detail) => SchemeError::Json {
                path: path.to_path_buf(),
                detail,
            },
            format::ParseError::Field(f) => field_error(path, f),
        })?;
        Ok(Self::from_parsed(p, path))
    }

    /// [`RationalScheme::from_json_str`] on an already parsed JSON value.
    pub fn from_json_value(value: &serde_json::Value, path: &Path) -> Result<Self, SchemeError> {
        let p = format::parse_rational_value(value).map_err(|f| field_error(path, f))?;
        Ok(Self::from_parsed(p, path))
    }

    /// Loads a `strass-scheme/1` or `strass-scheme/2` file (a regular file of at most
    /// [`crate::fsio::MAX_SCHEME_FILE`] bytes). The result is well-formed but not yet verified.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, SchemeError> {
        let path = path.as_ref();
        Self::from_json_str(&super::read_scheme_text(path)?, path)
    }

    /// The scheme as JSON, rows on one line each: `strass-scheme/1` (integers only, readable by
    /// older versions of strass) when every coefficient is an integer, else `strass-scheme/2`
    /// with each fraction written as a string `"p/q"` in lowest terms.
    pub fn to_json_string(&self) -> String {
        let integral = self.is_integral();
        let coef = |c: &Rational| {
            if c.is_integer() {
                c.numer().to_string()
            } else {
                format!("\"{}/{}\"", c.numer(), c.denom())
            }
        };
        let rows = |mat: &Vec<Vec<Rational>>| -> String {
            let lines: Vec<String> = mat
                .iter()
                .map(|r| {
                    let xs: Vec<String> = r.iter().map(coef).collect();
                    format!("[{}]", xs.join(", "))
                })
                .collect();
            format!("[\n    {}\n  ]", lines.join(",\n    "))
        };
        let name = serde_json::Value::String(self.name.clone());
        let provenance = serde_json::to_string_pretty(&self.provenance)
            .unwrap_or_else(|_| "null".into())
            .replace('\n', "\n  ");
        format!(
            "{{\n  \"format\": \"{}\",\n  \"name\": {name},\n  \"m\": {}, \"k\": {}, \"n\": {},\n  \"rank\": {},\n  \"u\": {},\n  \"v\": {},\n  \"w\": {},\n  \"provenance\": {provenance}\n}}\n",
            if integral { FORMAT } else { FORMAT_V2 },
            self.m,
            self.k,
            self.n,
            self.rank,
            rows(&self.u),
            rows(&self.v),
            rows(&self.w),
        )
    }

    /// Writes the scheme to `path` (as [`RationalScheme::to_json_string`]), atomically (see
    /// [`crate::fsio::write_atomic`]): on failure the old file is intact.
    pub fn save(&self, path: impl AsRef<Path>) -> crate::Result<()> {
        let path = path.as_ref();
        crate::fsio::write_atomic(path, self.to_json_string().as_bytes())
            .map_err(|e| crate::Error::io(path, e))
    }

    /// Short name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Renames the scheme.
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = name.into();
    }

    /// Rows of A and C.
    pub fn m(&self) -> usize {
        self.m
    }

    /// Columns of A, rows of B.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Columns of B and C.
    pub fn n(&self) -> usize {
        self.n
    }

    /// `(m, k, n)`.
    pub fn dims(&self) -> (usize, usize, usize) {
        (self.m, self.k, self.n)
    }

    /// Number of products.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// `rank` rows of `m*k` coefficients of A's entries (row-major).
    pub fn u(&self) -> &[Vec<Rational>] {
        &self.u
    }

    /// `rank` rows of `k*n` coefficients of B's entries (row-major).
    pub fn v(&self) -> &[Vec<Rational>] {
        &self.v
    }

    /// `m*n` rows of `rank` coefficients of the products, one row per entry of C (row-major).
    pub fn w(&self) -> &[Vec<Rational>] {
        &self.w
    }

    /// Where the scheme comes from (see [`Scheme::provenance`]).
    pub fn provenance(&self) -> &serde_json::Value {
        &self.provenance
    }

    /// Number of nonzero coefficients in U, V and W together.
    pub fn nonzeros(&self) -> usize {
        self.u
            .iter()
            .chain(&self.v)
            .chain(&self.w)
            .flatten()
            .filter(|x| !x.is_zero())
            .count()
    }

    /// True when every coefficient is an integer (no rescaling needed).
    pub fn is_integral(&self) -> bool {
        self.u
            .iter()
            .chain(&self.v)
            .chain(&self.w)
            .flatten()
            .all(|x| x.is_integer())
    }

    /// Exact verification over Q: evaluates every Brent equation
    /// `sum_r u[r][(i,p)] v[r][(q,j)] w[(s,t)][r] = [p == q] [i == s] [j == t]` in
    /// arbitrary-precision rational arithmetic (no floating point, no sampling, no overflow).
    ///
    /// Sparse like [`super::brent::check`]: only nonzero terms and the `m*k*n` equations with
    /// right-hand side 1 are visited.
    pub fn verify(&self) -> RationalVerdict {
        let (m, k, n) = (self.m, self.k, self.n);
        let total = (m * k) * (k * n) * (m * n);
        let nonzeros = |row: &[Rational]| -> Vec<(usize, BigRational)> {
            row.iter()
                .enumerate()
                .filter(|(_, c)| !c.is_zero())
                .map(|(j, c)| (j, big(c)))
                .collect()
        };
        let un: Vec<_> = self.u.iter().map(|r| nonzeros(r)).collect();
        let vn: Vec<_> = self.v.iter().map(|r| nonzeros(r)).collect();
        let mut failures: Vec<(usize, usize, usize, BigRational, i64)> = Vec::new();
        let mut failed_count = 0usize;
        let keep = super::verify::MAX_REPORTED;
        let mut acc: HashMap<(usize, usize), BigRational> = HashMap::new();
        for (ic, wrow) in self.w.iter().enumerate() {
            let (s, t) = (ic / n, ic % n);
            acc.clear();
            for (r, c) in wrow.iter().enumerate() {
                if c.is_zero() {
                    continue;
                }
                let c = big(c);
                for (ia, a) in &un[r] {
                    let ac = a * &c;
                    for (ib, b) in &vn[r] {
                        *acc.entry((*ia, *ib)).or_insert_with(BigRational::zero) += &ac * b;
                    }
                }
            }
            let mut row_failures = Vec::new();
            for p in 0..k {
                let key = (s * k + p, p * n + t);
                let got = acc.remove(&key).unwrap_or_else(BigRational::zero);
                if !got.is_one() {
                    row_failures.push((key.0, key.1, ic, got, 1));
                }
            }
            for ((ia, ib), got) in acc.drain() {
                if !got.is_zero() {
                    row_failures.push((ia, ib, ic, got, 0));
                }
            }
            failed_count += row_failures.len();
            failures.extend(row_failures);
            // Keep only the first few by index, so memory stays bounded.
            if failures.len() > 4 * keep {
                failures.sort_by_key(|f| (f.0, f.1, f.2));
                failures.truncate(keep);
            }
        }
        failures.sort_by_key(|f| (f.0, f.1, f.2));
        failures.truncate(keep);
        RationalVerdict {
            total,
            failed_count,
            failed: failures
                .into_iter()
                .map(|(ia, ib, ic, got, expected)| RationalFailure {
                    a: (ia / k, ia % k),
                    b: (ib / n, ib % n),
                    c: (ic / n, ic % n),
                    got: text(&got),
                    expected,
                })
                .collect(),
        }
    }

    /// Returns `Ok(())` if the scheme is exact over Q, else [`SchemeError::InvalidRational`].
    pub fn ensure_valid(&self) -> Result<(), SchemeError> {
        let v = self.verify();
        if v.is_valid() {
            Ok(())
        } else {
            Err(SchemeError::InvalidRational {
                name: self.name.clone(),
                m: self.m,
                k: self.k,
                n: self.n,
                failed: v.failed_count,
                total: v.total,
                first: v.failed,
            })
        }
    }

    /// The same scheme with integer coefficients, after rescaling each product `r` to
    /// `(a u_r, b v_r, w_r / (a b))` with `a`, `b` making `u_r` and `v_r` primitive integer
    /// vectors (positive `a`, `b`; `a = b = 1` for a product that is already integral). Such a
    /// rescaling computes the same product. A product with `u_r`, `v_r` or column `r` of `w`
    /// entirely zero contributes nothing and becomes all zeros.
    ///
    /// This finds an integral form whenever one exists by per-product rescaling (see the module
    /// documentation); when none does, the error ([`SchemeError::NotIntegral`]) names the first
    /// product and an entry of its rank-one tensor that is not an integer. The products rescaled
    /// are listed in the provenance's `rescaled_products` (when the provenance is an object).
    /// Validity is neither checked nor changed.
    pub fn to_integral(&self) -> Result<Scheme, SchemeError> {
        let not_integral = |problem: String| SchemeError::NotIntegral {
            name: self.name.clone(),
            problem,
        };
        let (m, k, n) = (self.m, self.k, self.n);
        let mut u = vec![vec![0i64; m * k]; self.rank];
        let mut v = vec![vec![0i64; k * n]; self.rank];
        let mut w = vec![vec![0i64; self.rank]; m * n];
        let mut rescaled = Vec::new();
        let to_i64 = |x: &BigRational, what: &str| -> Result<i64, SchemeError> {
            x.to_integer()
                .to_i64()
                .filter(|c| c.unsigned_abs() <= MAX_COEFF as u64)
                .ok_or_else(|| {
                    not_integral(format!(
                        "{what}: the rescaled coefficient {} is beyond the limit of {MAX_COEFF}",
                        text(x)
                    ))
                })
        };
        for r in 0..self.rank {
            let ur: Vec<BigRational> = self.u[r].iter().map(big).collect();
            let vr: Vec<BigRational> = self.v[r].iter().map(big).collect();
            let wr: Vec<BigRational> = self.w.iter().map(|row| big(&row[r])).collect();
            let integral = |x: &[BigRational]| x.iter().all(|c| c.is_integer());
            if integral(&ur) && integral(&vr) && integral(&wr) {
                for (j, c) in ur.iter().enumerate() {
                    u[r][j] = to_i64(c, &format!("product {r}, u"))?;
                }
                for (j, c) in vr.iter().enumerate() {
                    v[r][j] = to_i64(c, &format!("product {r}, v"))?;
                }
                for (ic, c) in wr.iter().enumerate() {
                    w[ic][r] = to_i64(c, &format!("product {r}, w"))?;
                }
                continue;
            }
            let zero = |x: &[BigRational]| x.iter().all(|c| c.is_zero());
            if zero(&ur) || zero(&vr) || zero(&wr) {
                continue;
            }
            let (a, b) = (primitive_scale(&ur), primitive_scale(&vr));
            let ab = &a * &b;
            for (j, c) in ur.iter().enumerate() {
                u[r][j] = to_i64(&(c * &a), &format!("product {r}, u"))?;
            }
            for (j, c) in vr.iter().enumerate() {
                v[r][j] = to_i64(&(c * &b), &format!("product {r}, v"))?;
            }
            for (ic, c) in wr.iter().enumerate() {
                let x = c / &ab;
                if !x.is_integer() {
                    // Some entry of the rank-one tensor u_r ⊗ v_r ⊗ w_r is not an integer (see
                    // the module documentation): find one to name.
                    let entry = ur
                        .iter()
                        .enumerate()
                        .flat_map(|(ia, p)| {
                            vr.iter().enumerate().map(move |(ib, q)| (ia, ib, p, q))
                        })
                        .map(|(ia, ib, p, q)| (ia, ib, p * q * c))
                        .find(|(_, _, e)| !e.is_integer());
                    let detail = match entry {
                        Some((ia, ib, e)) => format!(
                            "u_{r}[a{:?}] v_{r}[b{:?}] w[c{:?}][{r}] = {}",
                            (ia / k, ia % k),
                            (ib / n, ib % n),
                            (ic / n, ic % n),
                            text(&e)
                        ),
                        None => format!("w[c{:?}][{r}] / (a b) = {}", (ic / n, ic % n), text(&x)),
                    };
                    return Err(not_integral(format!(
                        "product {r} cannot be rescaled to integers: its rank-one tensor \
                         u_{r} ⊗ v_{r} ⊗ w_{r} has the non-integer entry {detail}, and no \
                         rescaling (a u_{r}, b v_{r}, w_{r} / (a b)) changes that tensor"
                    )));
                }
                w[ic][r] = to_i64(&x, &format!("product {r}, w"))?;
            }
            if !(a.is_one() && b.is_one()) {
                rescaled.push(r);
            }
        }
        let mut provenance = self.provenance.clone();
        if !rescaled.is_empty() {
            if let Some(obj) = provenance.as_object_mut() {
                obj.insert("rescaled_products".into(), serde_json::json!(rescaled));
            }
        }
        Scheme::new(self.name.clone(), (m, k, n), u, v, w, provenance)
    }
}

/// The positive `a` that makes `a x` a primitive integer vector (integer entries with gcd 1):
/// the lcm of the denominators over the gcd of the numerators. `x` is not all zero.
fn primitive_scale(x: &[BigRational]) -> BigRational {
    let mut l = BigInt::one();
    let mut g = BigInt::zero();
    for c in x.iter().filter(|c| !c.is_zero()) {
        l = l.lcm(c.denom());
        g = g.gcd(&c.numer().abs());
    }
    BigRational::new(l, g)
}

impl From<Scheme> for RationalScheme {
    /// The same scheme with its integer coefficients as rationals.
    fn from(s: Scheme) -> Self {
        let conv = |mat: Vec<Vec<i64>>| -> Vec<Vec<Rational>> {
            mat.into_iter()
                .map(|row| row.into_iter().map(Rational::from_integer).collect())
                .collect()
        };
        let (name, (m, k, n), u, v, w, provenance) = s.into_parts();
        RationalScheme {
            name,
            m,
            k,
            n,
            rank: u.len(),
            u: conv(u),
            v: conv(v),
            w: conv(w),
            provenance,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(p: i64, d: i64) -> Rational {
        Rational::new(p, d)
    }

    fn ints(mat: &[Vec<i64>]) -> Vec<Vec<Rational>> {
        mat.iter()
            .map(|r| r.iter().map(|&c| Rational::from_integer(c)).collect())
            .collect()
    }

    /// Strassen with product `r` rescaled to `(a u_r, b v_r, c w_r)`.
    fn strassen_rescaled(r: usize, a: Rational, b: Rational, c: Rational) -> RationalScheme {
        let s = Scheme::strassen();
        let (mut u, mut v, mut w) = (ints(s.u()), ints(s.v()), ints(s.w()));
        u[r].iter_mut().for_each(|x| *x *= a);
        v[r].iter_mut().for_each(|x| *x *= b);
        w.iter_mut().for_each(|row| row[r] *= c);
        RationalScheme::new("strassen-q", (2, 2, 2), u, v, w, serde_json::json!({})).unwrap()
    }

    /// The classical 2x2 scheme (one product `a(i,p) b(p,j)` into `c(i,j)` per triple) with
    /// `a11 b11` (0-based `a(0,0) b(0,0)` into `c(0,0)`) split into the two products
    /// `(x a11) b11` and `(y a11) b11`, both into `c11` with weight 1: rank 9, valid iff
    /// `x + y = 1`.
    fn classical_split(x: Rational, y: Rational) -> RationalScheme {
        let mut triples: Vec<(usize, usize, usize, Rational)> = Vec::new();
        for i in 0..2 {
            for p in 0..2 {
                for j in 0..2 {
                    if (i, p, j) == (0, 0, 0) {
                        triples.push((0, 0, 0, x));
                        triples.push((0, 0, 0, y));
                    } else {
                        triples.push((i, p, j, Rational::one()));
                    }
                }
            }
        }
        let rank = triples.len();
        let mut u = vec![vec![Rational::zero(); 4]; rank];
        let mut v = vec![vec![Rational::zero(); 4]; rank];
        let mut w = vec![vec![Rational::zero(); rank]; 4];
        for (r, &(i, p, j, c)) in triples.iter().enumerate() {
            u[r][i * 2 + p] = c;
            v[r][p * 2 + j] = Rational::one();
            w[i * 2 + j][r] = Rational::one();
        }
        RationalScheme::new("split", (2, 2, 2), u, v, w, serde_json::Value::Null).unwrap()
    }

    #[test]
    fn rescaled_strassen_verifies_over_q_and_rescales_back() {
        let s = strassen_rescaled(3, q(2, 1), q(1, 2), q(1, 1));
        assert!(!s.is_integral());
        let v = s.verify();
        assert!(v.is_valid(), "{v:?}");
        assert_eq!(v.total, 64);
        let i = s.to_integral().unwrap();
        assert!(i.verify().is_valid());
        assert_eq!(i.rank(), 7);
        assert_eq!(i.provenance()["rescaled_products"], serde_json::json!([3]));
        // Rescaled to primitive rows, product 3 is Strassen's again (up to the sign gauge,
        // which the positive scale keeps): the whole scheme is Strassen's.
        assert_eq!(i.u(), Scheme::strassen().u());
        assert_eq!(i.v(), Scheme::strassen().v());
        assert_eq!(i.w(), Scheme::strassen().w());
    }

    #[test]
    fn rescaling_that_needs_the_w_side_is_found() {
        // (1/2 u, 1/3 v, 6 w): integral tensor, fractional u and v.
        let s = strassen_rescaled(0, q(1, 2), q(1, 3), q(6, 1));
        assert!(s.verify().is_valid());
        let i = s.to_integral().unwrap();
        assert!(i.verify().is_valid());
        assert_eq!(i.u(), Scheme::strassen().u());
    }

    #[test]
    fn split_product_is_valid_over_q_but_not_integral() {
        let s = classical_split(q(1, 2), q(1, 2));
        assert_eq!(s.rank(), 9);
        assert!(s.verify().is_valid(), "{:?}", s.verify());
        let e = s.to_integral().unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, SchemeError::NotIntegral { .. }), "{msg}");
        assert!(msg.contains("product 0") && msg.contains("1/2"), "{msg}");
        // An uneven split (1/3 + 2/3) is valid too, and not integral either.
        let s = classical_split(q(1, 3), q(2, 3));
        assert!(s.verify().is_valid());
        assert!(s.to_integral().is_err());
    }

    #[test]
    fn wrong_fraction_fails_with_the_exact_value() {
        let s = classical_split(q(1, 2), q(1, 3));
        let v = s.verify();
        assert!(!v.is_valid());
        assert_eq!(v.failed_count, 1);
        let f = &v.failed[0];
        assert_eq!((f.a, f.b, f.c), ((0, 0), (0, 0), (0, 0)));
        assert_eq!(f.got, "5/6");
        assert_eq!(f.expected, 1);
        assert!(matches!(
            s.ensure_valid(),
            Err(SchemeError::InvalidRational { failed: 1, .. })
        ));
        // A product whose fraction makes the tensor wrong on a zero equation.
        let bad = strassen_rescaled(2, q(1, 2), q(1, 1), q(1, 1));
        let v = bad.verify();
        assert!(!v.is_valid());
        assert!(v.failed.iter().any(|f| f.got.contains("/2")), "{v:?}");
    }

    #[test]
    fn integral_schemes_verify_the_same_as_scheme() {
        for s in [Scheme::strassen(), Scheme::classical(2, 3, 2).unwrap()] {
            let r = RationalScheme::from(s.clone());
            assert!(r.is_integral());
            assert!(r.verify().is_valid());
            assert_eq!(r.to_integral().unwrap(), s);
            // Written as /1, byte for byte what Scheme writes.
            assert_eq!(r.to_json_string(), s.to_json_string());
        }
        let broken = Scheme::strassen().edited(|u, _, _| u[0][0] = 2).unwrap();
        let r = RationalScheme::from(broken.clone());
        let (vq, vz) = (r.verify(), broken.verify());
        assert_eq!(vq.failed_count, vz.failed_count);
        assert_eq!(vq.failed[0].got, vz.failed[0].got.unwrap().to_string());
    }

    #[test]
    fn round_trip_is_exact_and_writes_v2_only_with_fractions() {
        let s = strassen_rescaled(5, q(-3, 4), q(4, 7), q(-28, 12));
        let text = s.to_json_string();
        assert!(text.contains("\"format\": \"strass-scheme/2\""), "{text}");
        assert!(text.contains("\"-3/4\""), "{text}");
        assert!(text.contains("\"-7/3\""), "{text}");
        let back = RationalScheme::from_json_str(&text, Path::new("x.json")).unwrap();
        assert_eq!(back, s);
        assert!(back.verify().is_valid());
        // Through a file.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.json");
        s.save(&path).unwrap();
        assert_eq!(RationalScheme::load(&path).unwrap(), s);
        // The integer loader refuses it and says where to go.
        let e = Scheme::load(&path).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(
                &e,
                SchemeError::Field {
                    kind: FieldProblem::Fractional,
                    ..
                }
            ),
            "{msg}"
        );
        assert!(
            msg.contains("RationalScheme") && msg.contains("3/4"),
            "{msg}"
        );
        // An integral scheme is written as /1 and loads with both.
        let i = s.to_integral().unwrap();
        i.save(&path).unwrap();
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("strass-scheme/1"));
        let r = RationalScheme::load(&path).unwrap();
        assert!(r.is_integral());
        assert_eq!(r.to_integral().unwrap(), i);
    }

    #[test]
    fn v2_files_with_integral_coefficients_load_as_scheme() {
        let s = Scheme::strassen();
        let text = s
            .to_json_string()
            .replace("strass-scheme/1", "strass-scheme/2")
            .replacen("[1, 0, 0, 1]", "[\"1\", 0, \"0\", 1]", 1);
        assert!(text.contains("\"1\""));
        let loaded = Scheme::from_json_str(&text, Path::new("s.json")).unwrap();
        assert_eq!(loaded.u(), s.u());
        // The same strings in a /1 file are refused.
        let v1 = text.replace("strass-scheme/2", "strass-scheme/1");
        let e = RationalScheme::from_json_str(&v1, Path::new("s.json")).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(
                &e,
                SchemeError::Field {
                    kind: FieldProblem::NotInteger,
                    ..
                }
            ),
            "{msg}"
        );
        assert!(msg.contains("strass-scheme/2"), "{msg}");
    }

    #[test]
    fn malformed_fraction_strings_are_refused() {
        let base = strassen_rescaled(3, q(2, 1), q(1, 2), q(1, 1)).to_json_string();
        assert!(base.contains("\"1/2\""));
        let cases: &[(&str, FieldProblem)] = &[
            ("1/0", FieldProblem::ZeroDenominator),
            ("0/0", FieldProblem::ZeroDenominator),
            ("2/4", FieldProblem::NotCanonical),
            ("3/1", FieldProblem::NotCanonical),
            ("-0", FieldProblem::NotCanonical),
            ("0/5", FieldProblem::NotCanonical),
            ("+1/2", FieldProblem::MalformedFraction),
            ("1/-2", FieldProblem::MalformedFraction),
            ("01/2", FieldProblem::MalformedFraction),
            ("1/02", FieldProblem::MalformedFraction),
            (" 1/2", FieldProblem::MalformedFraction),
            ("1 / 2", FieldProblem::MalformedFraction),
            ("0.5", FieldProblem::MalformedFraction),
            ("1/2/3", FieldProblem::MalformedFraction),
            ("", FieldProblem::MalformedFraction),
            ("-", FieldProblem::MalformedFraction),
            ("/2", FieldProblem::MalformedFraction),
            ("x", FieldProblem::MalformedFraction),
            ("１/2", FieldProblem::MalformedFraction),
            (
                "1/99999999999999999999999",
                FieldProblem::CoefficientTooLarge,
            ),
            ("2097152", FieldProblem::CoefficientTooLarge),
        ];
        for (bad, kind) in cases {
            let text = base.replacen("\"1/2\"", &format!("\"{bad}\""), 1);
            let e = RationalScheme::from_json_str(&text, Path::new("bad.json")).unwrap_err();
            match &e {
                SchemeError::Field { kind: k, field, .. } => {
                    assert_eq!(k, kind, "{bad:?}: {e}");
                    assert!(field.starts_with("v[3]["), "{bad:?}: {e}");
                }
                other => panic!("{bad:?}: {other}"),
            }
        }
        // Accepted spellings.
        for (good, value) in [
            ("1/2", q(1, 2)),
            ("-1/2", q(-1, 2)),
            ("0", q(0, 1)),
            ("-5", q(-5, 1)),
        ] {
            assert_eq!(
                Fraction::parse(good).map(|f| q(f.num(), f.den())),
                Ok(value)
            );
        }
        // A float is still no coefficient, even in /2.
        let text = base.replacen("\"1/2\"", "0.5", 1);
        let e = RationalScheme::from_json_str(&text, Path::new("f.json")).unwrap_err();
        assert!(
            matches!(
                &e,
                SchemeError::Field {
                    kind: FieldProblem::Fractional,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn new_checks_shapes_and_bounds() {
        let s = Scheme::strassen();
        let (u, v, w) = (ints(s.u()), ints(s.v()), ints(s.w()));
        let mut big_u = u.clone();
        big_u[0][0] = q(1, MAX_COEFF + 1);
        assert!(matches!(
            RationalScheme::new(
                "x",
                (2, 2, 2),
                big_u,
                v.clone(),
                w.clone(),
                Default::default()
            ),
            Err(SchemeError::Field {
                kind: FieldProblem::CoefficientTooLarge,
                ..
            })
        ));
        let mut short = w.clone();
        short.pop();
        assert!(matches!(
            RationalScheme::new("x", (2, 2, 2), u, v, short, Default::default()),
            Err(SchemeError::Field {
                kind: FieldProblem::RowCount,
                ..
            })
        ));
    }
}
