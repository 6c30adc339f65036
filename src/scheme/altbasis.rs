//! Alternative-basis schemes: a sparse *core* scheme run in changed bases of A, B and C.
//!
//! The idea is Karstadt and Schwartz's ("Matrix multiplication, a little faster", SPAA 2017);
//! this implementation is our own. An [`AltBasis`] `<m,k,n;r>` is a core `(U', V', W')` with the
//! shapes of a scheme (`U'`: r x mk, `V'`: r x kn, `W'`: mn x r) plus integer basis maps
//! `phi` (mk x mk), `psi` (kn x kn) and `nu` (mn x mn). Product `r` is
//! `(U'_r . phi vec(A)) (V'_r . psi vec(B))` and `vec(C) = nu W' M`, so the equivalent standard
//! scheme is `U = U' phi`, `V = V' psi`, `W = nu W'` ([`AltBasis::composed`]). An `AltBasis` is
//! accepted only if that composed scheme passes the exact Brent-equation check.
//!
//! Because everything is linear, `L` levels of recursion factor into: transform A once by
//! `phi^{(x)L}`, B by `psi^{(x)L}`, run the core scheme recursively with no transforms inside,
//! and apply `nu^{(x)L}` to the result. The core is sparser than the original scheme, so every
//! level's additions get cheaper; the transforms are paid once per level of the *inputs*, not
//! once per recursive call.
//!
//! [`sparsest_basis`] searches, for each side independently, the integer unimodular changes
//! with entries in {-1, 0, 1} that make the core sparsest.

use super::{Scheme, SchemeError, MAX_COEFF};

/// An integer square matrix, row-major rows.
pub type IntMatrix = Vec<Vec<i64>>;

/// A core scheme with integer basis maps for A (`phi`), B (`psi`) and C (`nu`); see the module
/// documentation. Every value is exact: its composed scheme passed [`Scheme::ensure_valid`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AltBasis {
    core: Scheme,
    phi: IntMatrix,
    psi: IntMatrix,
    nu: IntMatrix,
    composed: Scheme,
}

/// Additions of one recursion level of an [`AltBasis`], counted term by term (a row with `t`
/// nonzero coefficients costs `t - 1` additions; no common-subexpression elimination).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct AltAdditions {
    /// Forming the `S_r` from A's blocks: `nnz(U') - r` (rows with at least one term).
    pub core_u: usize,
    /// Forming the `T_r` from B's blocks: `nnz(V') - r`.
    pub core_v: usize,
    /// Forming C's blocks from the products: `nnz(W') - mn`.
    pub core_w: usize,
    /// Applying `phi` to A's blocks once: `nnz(phi) - mk`.
    pub phi: usize,
    /// Applying `psi` to B's blocks once: `nnz(psi) - kn`.
    pub psi: usize,
    /// Applying `nu` to C's blocks once: `nnz(nu) - mn`.
    pub nu: usize,
}

impl AltAdditions {
    /// Additions of the core per level (`core_u + core_v + core_w`).
    pub fn core(&self) -> usize {
        self.core_u + self.core_v + self.core_w
    }

    /// Additions of the three basis transforms per level (`phi + psi + nu`).
    pub fn transforms(&self) -> usize {
        self.phi + self.psi + self.nu
    }
}

/// Term-by-term additions of a set of rows: `sum max(nnz(row) - 1, 0)`.
pub fn row_additions(rows: &[Vec<i64>]) -> usize {
    rows.iter()
        .map(|r| r.iter().filter(|&&c| c != 0).count().saturating_sub(1))
        .sum()
}

/// Term-by-term additions of a plain scheme per level (U, V and W rows), for comparison with
/// [`AltAdditions::core`]: Strassen 18, Winograd 24 (15 only after common-subexpression
/// elimination).
pub fn scheme_additions(s: &Scheme) -> usize {
    row_additions(&s.u) + row_additions(&s.v) + row_additions(&s.w)
}

fn arg(msg: String) -> SchemeError {
    SchemeError::Argument(msg)
}

fn check_square(what: &str, m: &[Vec<i64>], d: usize) -> Result<(), SchemeError> {
    if m.len() != d {
        return Err(arg(format!(
            "alt basis: `{what}` has {} rows, expected {d} ({d} x {d})",
            m.len()
        )));
    }
    for (i, row) in m.iter().enumerate() {
        if row.len() != d {
            return Err(arg(format!(
                "alt basis: `{what}[{i}]` has {} entries, expected {d}",
                row.len()
            )));
        }
        if let Some(j) = row.iter().position(|c| c.abs() > MAX_COEFF) {
            return Err(arg(format!(
                "alt basis: `{what}[{i}][{j}]` = {} exceeds the coefficient limit {MAX_COEFF}",
                row[j]
            )));
        }
    }
    Ok(())
}

/// `a (p x q) * b (q x s)` in checked arithmetic; shapes must already agree.
fn matmul(what: &str, a: &[Vec<i64>], b: &[Vec<i64>]) -> Result<IntMatrix, SchemeError> {
    let s = b.first().map_or(0, |r| r.len());
    a.iter()
        .map(|arow| {
            (0..s)
                .map(|j| {
                    arow.iter().zip(b).try_fold(0i64, |acc, (&x, brow)| {
                        x.checked_mul(brow[j])
                            .and_then(|t| acc.checked_add(t))
                            .ok_or_else(|| arg(format!("alt basis: {what} overflows i64")))
                    })
                })
                .collect()
        })
        .collect()
}

impl AltBasis {
    /// Builds an alternative-basis scheme from its core (a well-formed [`Scheme`] whose `u`, `v`,
    /// `w` are `U'`, `V'`, `W'`) and the maps `phi` (mk x mk), `psi` (kn x kn), `nu` (mn x mn).
    ///
    /// Errors if a map has the wrong shape or a coefficient beyond [`MAX_COEFF`], if composing
    /// overflows, or if the composed scheme `(U' phi, V' psi, nu W')` fails exact verification
    /// ([`SchemeError::Invalid`]).
    pub fn new(
        core: Scheme,
        phi: IntMatrix,
        psi: IntMatrix,
        nu: IntMatrix,
    ) -> Result<AltBasis, SchemeError> {
        let (m, k, n) = core.dims();
        check_square("phi", &phi, m * k)?;
        check_square("psi", &psi, k * n)?;
        check_square("nu", &nu, m * n)?;
        let u = matmul("U' phi", &core.u, &phi)?;
        let v = matmul("V' psi", &core.v, &psi)?;
        let w = matmul("nu W'", &nu, &core.w)?;
        let composed = Scheme::new(
            core.name
                .strip_suffix("-core")
                .unwrap_or(&core.name)
                .to_string()
                + "-composed",
            (m, k, n),
            u,
            v,
            w,
            serde_json::json!({"source": "alt-basis", "core": core.name}),
        )?;
        composed.ensure_valid()?;
        Ok(AltBasis {
            core,
            phi,
            psi,
            nu,
            composed,
        })
    }

    /// The core scheme `(U', V', W')`: well-formed, but in general not a valid scheme by itself.
    pub fn core(&self) -> &Scheme {
        &self.core
    }

    /// The basis map of A (mk x mk).
    pub fn phi(&self) -> &[Vec<i64>] {
        &self.phi
    }

    /// The basis map of B (kn x kn).
    pub fn psi(&self) -> &[Vec<i64>] {
        &self.psi
    }

    /// The basis map of C (mn x mn).
    pub fn nu(&self) -> &[Vec<i64>] {
        &self.nu
    }

    /// `(m, k, n)` of one level.
    pub fn dims(&self) -> (usize, usize, usize) {
        self.core.dims()
    }

    /// The equivalent standard scheme `(U' phi, V' psi, nu W')`, exactly verified.
    pub fn composed(&self) -> Scheme {
        self.composed.clone()
    }

    /// Term-by-term additions of one level: the core's and each transform's.
    pub fn additions(&self) -> AltAdditions {
        AltAdditions {
            core_u: row_additions(&self.core.u),
            core_v: row_additions(&self.core.v),
            core_w: row_additions(&self.core.w),
            phi: row_additions(&self.phi),
            psi: row_additions(&self.psi),
            nu: row_additions(&self.nu),
        }
    }

    /// The sparsest alternative basis of Winograd's variant of Strassen's scheme found by
    /// [`sparsest_basis`] (the coefficients below are that search's output; the test
    /// `tests/alt_basis_scheme.rs` re-runs the search and checks this equals it). Its core needs
    /// 12 additions per level (3 for U', 3 for V', 6 for W'), against 15 for Winograd's scheme
    /// after common-subexpression elimination (24 term by term) and 18 for Strassen's; its three
    /// transforms cost 2 additions each per level.
    pub fn winograd_sparse() -> AltBasis {
        let w = Scheme::shipped("winograd").expect("kernels/winograd.json is shipped");
        let (core, phi, psi, nu) = shipped_winograd_alt();
        let core = w
            .edited(|u, v, ww| {
                *u = core.0;
                *v = core.1;
                *ww = core.2;
            })
            .map(|mut c| {
                c.set_name("winograd-alt-core");
                c.set_provenance(serde_json::json!({
                    "source": "alt-basis search",
                    "base": "winograd",
                    "idea": "Karstadt and Schwartz, Matrix multiplication, a little faster, SPAA 2017"
                }));
                c
            })
            .expect("the shipped alt-basis core is well-formed");
        AltBasis::new(core, phi, psi, nu).expect("the shipped alt basis is exact")
    }
}

/// Coefficients of [`AltBasis::winograd_sparse`]: `((U', V', W'), phi, psi, nu)`.
#[allow(clippy::type_complexity)]
fn shipped_winograd_alt() -> (
    (IntMatrix, IntMatrix, IntMatrix),
    IntMatrix,
    IntMatrix,
    IntMatrix,
) {
    let m = |rows: &[[i64; 4]]| -> IntMatrix { rows.iter().map(|r| r.to_vec()).collect() };
    let u = m(&[
        [0, 0, 1, 0],
        [0, 1, 0, 0],
        [0, 1, 0, -1],
        [-1, 0, 0, 0],
        [0, 0, 1, 1],
        [0, 0, 0, 1],
        [-1, 0, 0, -1],
    ]);
    let v = m(&[
        [0, 0, 1, 0],
        [1, 0, 0, 0],
        [0, 1, 0, 0],
        [-1, 0, 0, -1],
        [0, 1, 0, 1],
        [0, 0, 0, -1],
        [0, 0, -1, -1],
    ]);
    let w = vec![
        vec![0, 0, 0, -1, -1, 0, 0],
        vec![0, 0, 1, 0, 0, 0, -1],
        vec![1, 1, 0, 0, 0, 0, 0],
        vec![1, 0, 0, 0, 1, 1, 1],
    ];
    let phi = m(&[[0, 0, 0, -1], [0, 1, 0, 0], [1, 0, 0, 0], [-1, 0, 1, 1]]);
    let psi = m(&[[0, 0, 1, 0], [0, 0, 0, 1], [1, 0, 0, 0], [-1, 1, 0, -1]]);
    let nu = m(&[[0, 0, 1, 0], [0, 1, 0, 1], [1, 0, 0, 1], [0, 0, 0, 1]]);
    ((u, v, w), phi, psi, nu)
}

/// The result of [`sparsest_basis`] for one side.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SideSearch {
    /// Nonzeros of the original side (U, V or W).
    pub nnz_before: usize,
    /// Nonzeros of the sparsest core side found.
    pub nnz_after: usize,
    /// Additions of the original side (term by term).
    pub additions_before: usize,
    /// Additions of the core side.
    pub additions_after: usize,
    /// Additions of the side's basis transform.
    pub transform_additions: usize,
    /// Number of unimodular changes that reached the final comparison (the enumeration prunes
    /// every set whose cost bound already exceeds the best found).
    pub candidates: usize,
}

/// What [`sparsest_basis`] found: the alternative basis and per-side statistics (A, B, C).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasisSearch {
    /// The sparsest alternative basis found (exactly verified).
    pub alt: AltBasis,
    /// Per side: A (`U' = U Q`, `phi = Q^-1`), B (`V' = V Q`, `psi = Q^-1`), C (`W' = R W`,
    /// `nu = R^-1`).
    pub sides: [SideSearch; 3],
}

/// Largest side dimension (`mk`, `kn`, `mn`) [`sparsest_basis`] searches: every candidate is a
/// set of `d` vectors in {-1,0,1}^d, which grows too fast beyond 4.
pub const MAX_SEARCH_DIM: usize = 4;

/// For each side of `s` independently, the integer unimodular change with entries in {-1,0,1}
/// that makes the core sparsest: `U' = U Q`, `phi = Q^-1` (A), `V' = V Q'`, `psi = Q'^-1` (B),
/// `W' = R W`, `nu = R^-1` (C). Among changes with the fewest core nonzeros it prefers the
/// sparsest map, then the first in a fixed enumeration order. The search is exhaustive over
/// such changes (up to the order and signs of the new basis vectors, which do not change any
/// count).
///
/// Errors unless `s` is valid and every side dimension is at most [`MAX_SEARCH_DIM`].
pub fn sparsest_basis(s: &Scheme) -> Result<BasisSearch, SchemeError> {
    s.ensure_valid()?;
    let (m, k, n) = s.dims();
    for (what, d) in [("mk", m * k), ("kn", k * n), ("mn", m * n)] {
        if d > MAX_SEARCH_DIM {
            return Err(arg(format!(
                "alt basis search: {what} = {d} exceeds the searchable {MAX_SEARCH_DIM}"
            )));
        }
    }
    // A side: columns q of Q, cost nnz(U q).
    let ut = transpose(&s.u);
    let vt = transpose(&s.v);
    let r = s.rank();
    let (qa, ra, sa) = search_side(&s.u, r, &|q| nnz_combination(&ut, q))?;
    let (qb, rb, sb) = search_side(&s.v, r, &|q| nnz_combination(&vt, q))?;
    // C side: rows q of R, cost nnz(q^T W).
    let (rc, nuc, sc) = search_side(&transpose(&s.w), m * n, &|q| nnz_combination(&s.w, q))?;
    let core_u = matmul("U Q", &s.u, &qa)?;
    let core_v = matmul("V Q", &s.v, &qb)?;
    let core_w = matmul("R W", &transpose(&rc), &s.w)?;
    let mut core = s.edited(|u, v, w| {
        *u = core_u;
        *v = core_v;
        *w = core_w;
    })?;
    core.set_name(format!("{}-alt-core", s.name));
    core.set_provenance(serde_json::json!({"source": "alt-basis search", "base": s.name}));
    let alt = AltBasis::new(core, ra, rb, transpose(&nuc))?;
    Ok(BasisSearch {
        alt,
        sides: [sa, sb, sc],
    })
}

fn transpose(a: &[Vec<i64>]) -> IntMatrix {
    let cols = a.first().map_or(0, |r| r.len());
    (0..cols)
        .map(|j| a.iter().map(|r| r[j]).collect())
        .collect()
}

/// nnz of `sum_j q[j] * rows[j]` where `rows` holds the side's vectors (one per basis index).
fn nnz_combination(rows: &[Vec<i64>], q: &[i64]) -> usize {
    let len = rows.first().map_or(0, |r| r.len());
    (0..len)
        .filter(|&t| rows.iter().zip(q).map(|(r, &c)| r[t] * c).sum::<i64>() != 0)
        .count()
}

/// Searches `d` vectors in {-1,0,1}^d (first nonzero positive) with the least total cost whose
/// matrix (vectors as columns) is unimodular. `side` is the original side in the orientation
/// with one column per basis index (its nnz is the "before" figure); `rows` is the number of rows
/// of the core side (r for U and V, mn for W), for the addition counts. Returns `(Q, Q^-1, stats)` with Q's
/// columns the chosen vectors; for the C side the caller reads `Q` transposed as `R`.
#[allow(clippy::type_complexity)]
fn search_side(
    side: &[Vec<i64>],
    rows: usize,
    cost: &dyn Fn(&[i64]) -> usize,
) -> Result<(IntMatrix, IntMatrix, SideSearch), SchemeError> {
    let d = side.first().map_or(0, |r| r.len());
    // Candidate vectors, one per +-pair.
    let mut vecs: Vec<(Vec<i64>, usize)> = Vec::new();
    for code in 0..3usize.pow(d as u32) {
        let mut x = code;
        let q: Vec<i64> = (0..d)
            .map(|_| {
                let c = (x % 3) as i64 - 1;
                x /= 3;
                c
            })
            .collect();
        if q.iter().find(|&&c| c != 0) == Some(&1) {
            let c = cost(&q);
            vecs.push((q, c));
        }
    }
    // Cheapest first, so the enumeration can stop a branch early.
    vecs.sort_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
    let mut best: Option<(usize, usize, Vec<usize>)> = None;
    let mut candidates = 0usize;
    let mut chosen = Vec::with_capacity(d);
    fn rec(
        vecs: &[(Vec<i64>, usize)],
        d: usize,
        start: usize,
        cost: usize,
        chosen: &mut Vec<usize>,
        best: &mut Option<(usize, usize, Vec<usize>)>,
        candidates: &mut usize,
    ) {
        if chosen.len() == d {
            let q = columns(vecs, chosen);
            if det(&q).abs() != 1 {
                return;
            }
            *candidates += 1;
            let inv = inverse_unimodular(&q);
            let map_nnz = inv.iter().flatten().filter(|&&c| c != 0).count();
            let better = match best {
                None => true,
                Some((c, mn, _)) => (cost, map_nnz) < (*c, *mn),
            };
            if better {
                *best = Some((cost, map_nnz, chosen.clone()));
            }
            return;
        }
        for i in start..vecs.len() {
            let c = cost + vecs[i].1;
            // Vectors are sorted by cost: the remaining picks cost at least vecs[i].1 each.
            let lower = c + vecs[i].1 * (d - chosen.len() - 1);
            if let Some((bc, _, _)) = best {
                if lower > *bc {
                    break;
                }
            }
            chosen.push(i);
            rec(vecs, d, i + 1, c, chosen, best, candidates);
            chosen.pop();
        }
    }
    rec(&vecs, d, 0, 0, &mut chosen, &mut best, &mut candidates);
    let (_, _, pick) =
        best.ok_or_else(|| arg("alt basis search: no unimodular change found".to_string()))?;
    let q = columns(&vecs, &pick);
    let inv = inverse_unimodular(&q);
    let nnz_before = side.iter().flatten().filter(|&&c| c != 0).count();
    let after: usize = pick.iter().map(|&i| vecs[i].1).sum();
    let stats = SideSearch {
        nnz_before,
        nnz_after: after,
        additions_before: nnz_before.saturating_sub(rows),
        additions_after: after.saturating_sub(rows),
        transform_additions: row_additions(&inv),
        candidates,
    };
    Ok((q, inv, stats))
}

fn columns(vecs: &[(Vec<i64>, usize)], chosen: &[usize]) -> IntMatrix {
    let d = chosen.len();
    (0..d)
        .map(|r| chosen.iter().map(|&c| vecs[c].0[r]).collect())
        .collect()
}

/// Determinant by cofactor expansion (small matrices only).
fn det(a: &[Vec<i64>]) -> i64 {
    let d = a.len();
    match d {
        0 => 1,
        1 => a[0][0],
        2 => a[0][0] * a[1][1] - a[0][1] * a[1][0],
        _ => (0..d)
            .filter(|&j| a[0][j] != 0)
            .map(|j| {
                let sign = if j % 2 == 0 { 1 } else { -1 };
                sign * a[0][j] * det(&minor(a, 0, j))
            })
            .sum(),
    }
}

fn minor(a: &[Vec<i64>], r: usize, c: usize) -> IntMatrix {
    a.iter()
        .enumerate()
        .filter(|&(i, _)| i != r)
        .map(|(_, row)| {
            row.iter()
                .enumerate()
                .filter(|&(j, _)| j != c)
                .map(|(_, &x)| x)
                .collect()
        })
        .collect()
}

/// The inverse of a matrix with determinant +-1 (adjugate over the determinant).
fn inverse_unimodular(a: &[Vec<i64>]) -> IntMatrix {
    let d = a.len();
    let dt = det(a);
    (0..d)
        .map(|i| {
            (0..d)
                .map(|j| {
                    let sign = if (i + j) % 2 == 0 { 1 } else { -1 };
                    sign * det(&minor(a, j, i)) * dt
                })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_is_inverse() {
        let q = vec![
            vec![1, 1, 0, 0],
            vec![0, 1, -1, 0],
            vec![0, 0, 1, 1],
            vec![1, 0, 0, 1],
        ];
        assert_eq!(det(&q).abs(), 2);
        let q = vec![
            vec![1, 1, 0, 0],
            vec![0, 1, -1, 0],
            vec![0, 0, 1, 1],
            vec![0, 0, 0, 1],
        ];
        let inv = inverse_unimodular(&q);
        let id = matmul("t", &q, &inv).unwrap();
        for (i, row) in id.iter().enumerate() {
            for (j, &x) in row.iter().enumerate() {
                assert_eq!(x, i64::from(i == j));
            }
        }
    }
}
