//! Equivalence of schemes under the symmetries that keep a scheme valid.
//!
//! * **Slot permutation**: reordering the products.
//! * **Sign gauge**: multiplying `u_r`, `v_r` and column `r` of W by signs `(su, sv, sw)` with
//!   `su * sv * sw = +1`.
//! * **Basis change** ([`basis_change`]): for integer unimodular X (m x m), Y (k x k), Z (n x n),
//!   `U_r -> X^-T U_r Y^T`, `V_r -> Y^-T V_r Z^T`, `W_r -> X W_r Z^-1` (U_r, V_r, W_r read as
//!   m x k, k x n, m x n matrices). This is the rest of the symmetry group of the matrix
//!   multiplication tensor (up to transposition); it maps valid integer schemes to valid integer
//!   schemes of the same rank but, unlike the first two, changes the coefficients.
//!
//! [`canonical_form`] is a normal form under the first two: two schemes that differ only by slot
//! order and sign gauge have the same canonical form. [`match_strassen`] says which slot
//! permutation and signs map a scheme onto the shipped Strassen scheme.

use super::{Scheme, SchemeError};

/// A slot permutation and per-slot signs mapping one scheme onto another: slot `t` of the target
/// is slot `perm[t]` of the source with `u`, `v`, `w` multiplied by `signs[t]`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SlotMatch {
    /// `perm[t]`: the source slot that becomes target slot `t`.
    pub perm: Vec<usize>,
    /// `signs[t] = (su, sv, sw)`, each `+1` or `-1`, with product `+1`.
    pub signs: Vec<(i8, i8, i8)>,
}

/// A [`SlotMatch`] onto Strassen's scheme (see [`match_strassen`]).
pub type StrassenMatch = SlotMatch;

impl SlotMatch {
    /// Applies the permutation and then the signs to `s`; for a match found by [`match_slots`]
    /// the result equals the target's coefficients.
    pub fn apply(&self, s: &Scheme) -> Result<Scheme, SchemeError> {
        let mut out = permute_slots(s, &self.perm)?;
        for (t, &signs) in self.signs.iter().enumerate() {
            out = sign_gauge(&out, t, signs)?;
        }
        Ok(out)
    }
}

/// The scheme with its products reordered: slot `t` of the result is slot `perm[t]` of `s`.
/// Errors unless `perm` is a permutation of `0..rank`.
pub fn permute_slots(s: &Scheme, perm: &[usize]) -> Result<Scheme, SchemeError> {
    let mut seen = vec![false; s.rank];
    if perm.len() != s.rank {
        return Err(SchemeError::Argument(format!(
            "slot permutation has {} entries, the scheme has rank {}",
            perm.len(),
            s.rank
        )));
    }
    for &p in perm {
        if p >= s.rank || std::mem::replace(&mut seen[p], true) {
            return Err(SchemeError::Argument(format!(
                "{perm:?} is not a permutation of 0..{}",
                s.rank
            )));
        }
    }
    let mut out = s.clone();
    out.u = perm.iter().map(|&p| s.u[p].clone()).collect();
    out.v = perm.iter().map(|&p| s.v[p].clone()).collect();
    out.w =
        s.w.iter()
            .map(|row| perm.iter().map(|&p| row[p]).collect())
            .collect();
    Ok(out)
}

/// The scheme with slot `r`'s `u_r`, `v_r` and W column `r` multiplied by `su`, `sv`, `sw`.
/// Errors unless each sign is `+1` or `-1`, their product is `+1`, and `r < rank`.
pub fn sign_gauge(s: &Scheme, r: usize, (su, sv, sw): (i8, i8, i8)) -> Result<Scheme, SchemeError> {
    if r >= s.rank {
        return Err(SchemeError::Argument(format!(
            "slot {r} out of range (rank {})",
            s.rank
        )));
    }
    let ok = |x: i8| x == 1 || x == -1;
    if !(ok(su) && ok(sv) && ok(sw)) || su * sv * sw != 1 {
        return Err(SchemeError::Argument(format!(
            "sign gauge ({su},{sv},{sw}) must be signs with product +1"
        )));
    }
    let mut out = s.clone();
    out.u[r].iter_mut().for_each(|x| *x *= su as i64);
    out.v[r].iter_mut().for_each(|x| *x *= sv as i64);
    out.w.iter_mut().for_each(|row| row[r] *= sw as i64);
    Ok(out)
}

fn first_sign(x: &[i64]) -> i8 {
    x.iter().find(|&&c| c != 0).map_or(0, |&c| c.signum() as i8)
}

/// The gauge that normalises one slot: after it, the first nonzero of `u` is positive, then the
/// first nonzero of `v`; if one of them is zero, the freedom left is used to make W's column
/// start positive.
fn normalizing_gauge(u: &[i64], v: &[i64], w: &[i64]) -> (i8, i8, i8) {
    let (fu, fv) = (first_sign(u), first_sign(v));
    let fw = if first_sign(w) == 0 { 1 } else { first_sign(w) };
    let (su, sv) = match (fu, fv) {
        (0, 0) => (1, fw),
        (0, b) => (fw * b, b),
        (a, 0) => (a, fw * a),
        (a, b) => (a, b),
    };
    (su, sv, su * sv)
}

/// One slot as `(u_r, v_r, w column r)`.
type Slot = (Vec<i64>, Vec<i64>, Vec<i64>);

/// Every slot after its normalising gauge, with that gauge.
fn normalized_slots(s: &Scheme) -> Vec<(Slot, (i8, i8, i8))> {
    (0..s.rank)
        .map(|r| {
            let wcol: Vec<i64> = s.w.iter().map(|row| row[r]).collect();
            let g = normalizing_gauge(&s.u[r], &s.v[r], &wcol);
            let scale = |x: &[i64], c: i8| x.iter().map(|&y| y * c as i64).collect::<Vec<_>>();
            (
                (scale(&s.u[r], g.0), scale(&s.v[r], g.1), scale(&wcol, g.2)),
                g,
            )
        })
        .collect()
}

/// The canonical form of `s` under slot permutation and sign gauge: every slot normalised so
/// that the first nonzero coefficient of `u_r` (then of `v_r`) is positive, then the slots sorted
/// by `(u_r, v_r, w column r)`. Name and provenance are kept.
pub fn canonical_form(s: &Scheme) -> Scheme {
    let mut slots: Vec<Slot> = normalized_slots(s).into_iter().map(|(x, _)| x).collect();
    slots.sort();
    let mut out = s.clone();
    out.u = slots.iter().map(|x| x.0.clone()).collect();
    out.v = slots.iter().map(|x| x.1.clone()).collect();
    out.w = (0..s.m * s.n)
        .map(|i| slots.iter().map(|x| x.2[i]).collect())
        .collect();
    out
}

/// True when `a` and `b` have the same shape and differ only by slot order and sign gauge
/// (names and provenance are ignored).
pub fn equivalent(a: &Scheme, b: &Scheme) -> bool {
    if (a.m, a.k, a.n, a.rank) != (b.m, b.k, b.n, b.rank) {
        return false;
    }
    let (ca, cb) = (canonical_form(a), canonical_form(b));
    ca.u == cb.u && ca.v == cb.v && ca.w == cb.w
}

/// The slot permutation and signs that map `s` onto `target`, if `s` equals `target` up to slot
/// order and sign gauge; `None` otherwise.
pub fn match_slots(s: &Scheme, target: &Scheme) -> Option<SlotMatch> {
    if (s.m, s.k, s.n, s.rank) != (target.m, target.k, target.n, target.rank) {
        return None;
    }
    let src = normalized_slots(s);
    let dst = normalized_slots(target);
    let mut used = vec![false; s.rank];
    let mut perm = Vec::with_capacity(s.rank);
    let mut signs = Vec::with_capacity(s.rank);
    for (slot, tau) in &dst {
        let r = (0..s.rank).find(|&r| !used[r] && src[r].0 == *slot)?;
        used[r] = true;
        let sigma = src[r].1;
        perm.push(r);
        // target_t = tau * normalized = tau * sigma * s_r (signs are their own inverses).
        signs.push((tau.0 * sigma.0, tau.1 * sigma.1, tau.2 * sigma.2));
    }
    Some(SlotMatch { perm, signs })
}

/// Which slot permutation and signs map `s` onto Strassen's scheme (`kernels/strassen.json`);
/// `None` if `s` is not Strassen's scheme up to slot order and sign gauge (e.g. Winograd's
/// variant, which differs by a basis change).
pub fn match_strassen(s: &Scheme) -> Option<StrassenMatch> {
    match_slots(s, &Scheme::strassen())
}

/// An integer square matrix as rows.
pub type IntMatrix = Vec<Vec<i64>>;

/// The exact inverse of a unimodular integer matrix (determinant +1 or -1), or `None` if `a` is
/// not square or not unimodular. Gauss-Jordan elimination over the rationals in `i128`.
pub fn unimodular_inverse(a: &[Vec<i64>]) -> Option<IntMatrix> {
    let d = a.len();
    if a.iter().any(|r| r.len() != d) || d == 0 {
        return None;
    }
    fn gcd(a: i128, b: i128) -> i128 {
        if b == 0 {
            a.abs()
        } else {
            gcd(b, a % b)
        }
    }
    // Rationals as (numerator, denominator > 0), reduced.
    type Q = (i128, i128);
    fn norm((n, d): Q) -> Option<Q> {
        if d == 0 {
            return None;
        }
        let g = gcd(n, d).max(1);
        let s = if d < 0 { -1 } else { 1 };
        Some((s * n / g, s * d / g))
    }
    fn sub_mul(x: Q, f: Q, y: Q) -> Option<Q> {
        // x - f*y
        let num = f.0.checked_mul(y.0)?;
        let den = f.1.checked_mul(y.1)?;
        norm((
            x.0.checked_mul(den)?.checked_sub(num.checked_mul(x.1)?)?,
            x.1.checked_mul(den)?,
        ))
    }
    let mut m: Vec<Vec<Q>> = (0..d)
        .map(|i| {
            let mut row: Vec<Q> = a[i].iter().map(|&x| (x as i128, 1)).collect();
            row.extend((0..d).map(|j| (i128::from(i == j), 1)));
            row
        })
        .collect();
    for col in 0..d {
        let piv = (col..d).find(|&r| m[r][col].0 != 0)?;
        m.swap(col, piv);
        let p = m[col][col];
        let inv = norm((p.1, p.0))?;
        for x in m[col].iter_mut() {
            *x = norm((x.0.checked_mul(inv.0)?, x.1.checked_mul(inv.1)?))?;
        }
        let pivot_row = m[col].clone();
        for (r, row) in m.iter_mut().enumerate() {
            if r != col && row[col].0 != 0 {
                let f = row[col];
                for (x, &y) in row.iter_mut().zip(&pivot_row) {
                    *x = sub_mul(*x, f, y)?;
                }
            }
        }
    }
    m.iter()
        .map(|row| {
            row[d..]
                .iter()
                .map(|&(n, den)| {
                    if den == 1 {
                        i64::try_from(n).ok()
                    } else {
                        None
                    }
                })
                .collect()
        })
        .collect()
}

fn matmul(a: &[Vec<i64>], b: &[Vec<i64>]) -> Option<IntMatrix> {
    let inner = b.len();
    let cols = b.first().map_or(0, |r| r.len());
    a.iter()
        .map(|row| {
            (0..cols)
                .map(|j| {
                    (0..inner)
                        .try_fold(0i64, |acc, p| acc.checked_add(row[p].checked_mul(b[p][j])?))
                })
                .collect()
        })
        .collect()
}

fn transpose(a: &[Vec<i64>]) -> IntMatrix {
    let cols = a.first().map_or(0, |r| r.len());
    (0..cols)
        .map(|j| a.iter().map(|r| r[j]).collect())
        .collect()
}

fn to_matrix(flat: &[i64], rows: usize, cols: usize) -> IntMatrix {
    (0..rows)
        .map(|i| flat[i * cols..][..cols].to_vec())
        .collect()
}

/// The scheme transformed by the basis change `(X, Y, Z)`: with U_r, V_r, W_r read as the
/// row-major m x k, k x n and m x n matrices of product r,
/// `U_r' = X^-T U_r Y^T`, `V_r' = Y^-T V_r Z^T`, `W_r' = X W_r Z^-1`.
/// X (m x m), Y (k x k) and Z (n x n) must be integer and unimodular so that the result has
/// integer coefficients.
///
/// Why the result is valid: `<U_r', A> = <U_r, X^-1 A Y>` and `<V_r', B> = <V_r, Y^-1 B Z>`, so
/// the new products are the old scheme's products for `A' = X^-1 A Y`, `B' = Y^-1 B Z`, which
/// `s` combines into `A' B' = X^-1 A B Z`; the new W maps that to `X (X^-1 A B Z) Z^-1 = A B`.
pub fn basis_change(
    s: &Scheme,
    x: &[Vec<i64>],
    y: &[Vec<i64>],
    z: &[Vec<i64>],
) -> Result<Scheme, SchemeError> {
    let check = |name: &str, a: &[Vec<i64>], d: usize| -> Result<IntMatrix, SchemeError> {
        if a.len() != d || a.iter().any(|r| r.len() != d) {
            return Err(SchemeError::Argument(format!(
                "basis change: {name} must be {d} x {d}"
            )));
        }
        unimodular_inverse(a).ok_or_else(|| {
            SchemeError::Argument(format!(
                "basis change: {name} is not an integer unimodular matrix (determinant +-1)"
            ))
        })
    };
    let xi = check("X", x, s.m)?;
    let yi = check("Y", y, s.k)?;
    let zi = check("Z", z, s.n)?;
    let overflow = || SchemeError::Argument("basis change: coefficients overflow".into());
    let (xit, yt, yit, zt) = (transpose(&xi), transpose(y), transpose(&yi), transpose(z));
    let mut u = Vec::with_capacity(s.rank);
    let mut v = Vec::with_capacity(s.rank);
    let mut wcols = Vec::with_capacity(s.rank);
    for r in 0..s.rank {
        let ur = to_matrix(&s.u[r], s.m, s.k);
        let ur = matmul(&matmul(&xit, &ur).ok_or_else(overflow)?, &yt).ok_or_else(overflow)?;
        u.push(ur.concat());
        let vr = to_matrix(&s.v[r], s.k, s.n);
        let vr = matmul(&matmul(&yit, &vr).ok_or_else(overflow)?, &zt).ok_or_else(overflow)?;
        v.push(vr.concat());
        let wcol: Vec<i64> = s.w.iter().map(|row| row[r]).collect();
        let wr = to_matrix(&wcol, s.m, s.n);
        let wr = matmul(&matmul(x, &wr).ok_or_else(overflow)?, &zi).ok_or_else(overflow)?;
        wcols.push(wr.concat());
    }
    let w = (0..s.m * s.n)
        .map(|i| wcols.iter().map(|c| c[i]).collect())
        .collect();
    Scheme::new(
        format!("{}-basis-changed", s.name),
        (s.m, s.k, s.n),
        u,
        v,
        w,
        serde_json::json!({"source": "derived", "from": s.name, "transform": "basis change X^-T U Y^T, Y^-T V Z^T, X W Z^-1", "x": x, "y": y, "z": z}),
    )
}

/// A basis change and slot match that map Strassen's scheme onto a given scheme (see
/// [`match_strassen_basis`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BasisMatch {
    /// X (2 x 2, unimodular).
    pub x: IntMatrix,
    /// Y (2 x 2, unimodular).
    pub y: IntMatrix,
    /// Z (2 x 2, unimodular).
    pub z: IntMatrix,
    /// How the basis-changed Strassen scheme's slots map onto the given scheme's.
    pub slots: SlotMatch,
}

/// All 2 x 2 integer matrices with entries in {-1, 0, 1} and determinant +-1.
fn small_unimodular_2x2() -> Vec<IntMatrix> {
    let vals = [-1i64, 0, 1];
    let mut out = Vec::new();
    for a in vals {
        for b in vals {
            for c in vals {
                for d in vals {
                    if (a * d - b * c).abs() == 1 {
                        out.push(vec![vec![a, b], vec![c, d]]);
                    }
                }
            }
        }
    }
    out
}

/// Whether a `<2,2,2;7>` scheme is Strassen's up to a basis change with X, Y, Z among the
/// unimodular 2 x 2 matrices with entries in {-1, 0, 1}, slot order and signs: returns the first
/// `(X, Y, Z)` found (in a fixed enumeration order) such that `basis_change(strassen, X, Y, Z)`
/// equals `s` up to slot order and signs. `None` when `s` is not `<2,2,2;7>` or no such small
/// basis change exists (which does not prove that none exists with larger entries).
///
/// By de Groote's theorem every rank-7 scheme for 2 x 2 matrices is equivalent to Strassen's
/// under basis changes over the reals; this search finds the integer ones with small entries,
/// which covers the schemes training produces.
pub fn match_strassen_basis(s: &Scheme) -> Option<BasisMatch> {
    if (s.m, s.k, s.n, s.rank) != (2, 2, 2, 7) {
        return None;
    }
    let strassen = Scheme::strassen();
    let target = normalized_slots(s);
    let mut sorted_target: Vec<&Slot> = target.iter().map(|(slot, _)| slot).collect();
    sorted_target.sort();
    let mats = small_unimodular_2x2();
    for x in &mats {
        for y in &mats {
            for z in &mats {
                let Ok(t) = basis_change(&strassen, x, y, z) else {
                    continue;
                };
                // Cheap multiset comparison of normalised slots before the full match.
                let mut cand: Vec<Slot> =
                    normalized_slots(&t).into_iter().map(|(s, _)| s).collect();
                cand.sort();
                if cand.iter().ne(sorted_target.iter().copied()) {
                    continue;
                }
                if let Some(slots) = match_slots(&t, s) {
                    return Some(BasisMatch {
                        x: x.clone(),
                        y: y.clone(),
                        z: z.clone(),
                        slots,
                    });
                }
            }
        }
    }
    None
}
