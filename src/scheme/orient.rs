//! The orientations of a scheme: from one `<m,k,n;r>` scheme, exact `<p(m,k,n);r>` schemes for
//! every permutation `p` of the three dimensions, with the same rank and the same coefficients
//! rearranged (no search, no floating point).
//!
//! A scheme is a decomposition `sum_r u_r (x) v_r (x) w_r` of the matrix-multiplication tensor
//! `sum_{i,j,l} e_ij (x) e_jl (x) e_il`. Two symmetries of that tensor give all six orientations:
//! * [`transpose`]: `C^T = B^T A^T`, so `<m,k,n>` becomes `<n,k,m>` with `u' = v` (read through
//!   B's transpose), `v' = u` (through A's transpose) and `w'` read through C's transpose;
//! * [`rotate`]: the cyclic shift of the three factors, `<m,k,n>` becomes `<k,n,m>` with
//!   `u' = v`, `v'` = W read through C's transpose and `w'` = U read through A's transpose.
//!
//! The kernel uses them so that a rectangular scheme shipped in one orientation (say `<2,3,4>`)
//! also serves products whose long side is another dimension (`<4,3,2>`, `<3,4,2>`, ...).

use super::{Scheme, SchemeError};

/// The `<n,k,m>` scheme for `C^T = B^T A^T`, named `"{name}@{n}x{k}x{m}"`.
pub fn transpose(s: &Scheme) -> Result<Scheme, SchemeError> {
    let (m, k, n) = s.dims();
    let r = s.rank();
    // A' = B^T (n x k): A'(i, j) = B(j, i).  B' = A^T (k x m): B'(j, l) = A(l, j).
    // C' = C^T (n x m): C'(i, l) = C(l, i).
    let u = (0..r)
        .map(|q| (0..n * k).map(|x| s.v()[q][(x % k) * n + x / k]).collect())
        .collect();
    let v = (0..r)
        .map(|q| (0..k * m).map(|x| s.u()[q][(x % m) * k + x / m]).collect())
        .collect();
    let w = (0..n * m)
        .map(|x| s.w()[(x % m) * n + x / m].clone())
        .collect();
    Scheme::new(
        oriented_name(s, (n, k, m)),
        (n, k, m),
        u,
        v,
        w,
        s.provenance().clone(),
    )
}

/// The `<k,n,m>` scheme from the cyclic shift of the tensor's factors, named
/// `"{name}@{k}x{n}x{m}"`.
pub fn rotate(s: &Scheme) -> Result<Scheme, SchemeError> {
    let (m, k, n) = s.dims();
    let r = s.rank();
    // A' = B (k x n). B' (n x m): B'(l, i) = coefficient of C(i, l). C' (k x m): C'(j, i) =
    // coefficient of A(i, j).
    let u = s.v().to_vec();
    let v = (0..r)
        .map(|q| (0..n * m).map(|x| s.w()[(x % m) * n + x / m][q]).collect())
        .collect();
    let w = (0..k * m)
        .map(|x| (0..r).map(|q| s.u()[q][(x % m) * k + x / m]).collect())
        .collect();
    Scheme::new(
        oriented_name(s, (k, n, m)),
        (k, n, m),
        u,
        v,
        w,
        s.provenance().clone(),
    )
}

/// The scheme's name without an earlier orientation suffix, with `@{m}x{k}x{n}` appended.
fn oriented_name(s: &Scheme, (m, k, n): (usize, usize, usize)) -> String {
    let base = s.name().split('@').next().unwrap_or(s.name());
    format!("{base}@{m}x{k}x{n}")
}

/// The distinct orientations of `s`: `s` itself first, then one scheme for each other
/// permutation of its dimensions (none for a cube, two for `<2,2,3>`, five for `<2,3,4>`), in a
/// fixed order. Each is exact when `s` is.
pub fn orientations(s: &Scheme) -> Result<Vec<Scheme>, SchemeError> {
    let r1 = rotate(s)?;
    let r2 = rotate(&r1)?;
    let t0 = transpose(s)?;
    let t1 = transpose(&r1)?;
    let t2 = transpose(&r2)?;
    let mut out = vec![s.clone()];
    for o in [r1, r2, t0, t1, t2] {
        if out.iter().all(|x| x.dims() != o.dims()) {
            out.push(o);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_orientation_of_every_shipped_scheme_is_exact() {
        for name in crate::scheme::shipped_names() {
            let s = Scheme::shipped(name).unwrap();
            let all = orientations(&s).unwrap();
            let (m, k, n) = s.dims();
            let mut want = vec![
                (m, k, n),
                (k, n, m),
                (n, m, k),
                (n, k, m),
                (m, n, k),
                (k, m, n),
            ];
            want.sort();
            want.dedup();
            let mut got: Vec<_> = all.iter().map(|o| o.dims()).collect();
            got.sort();
            assert_eq!(got, want, "{name}");
            for o in &all {
                assert!(o.verify().is_valid(), "{}", o.name());
                assert_eq!(o.rank(), s.rank());
                assert_eq!(o.nonzeros(), s.nonzeros());
            }
        }
    }

    #[test]
    fn transpose_twice_and_rotate_thrice_are_the_identity() {
        let s = Scheme::shipped("learned-234-20").unwrap();
        let tt = transpose(&transpose(&s).unwrap()).unwrap();
        assert_eq!((tt.u(), tt.v(), tt.w()), (s.u(), s.v(), s.w()));
        assert_eq!(tt.name(), "learned-234-20@2x3x4");
        let rrr = rotate(&rotate(&rotate(&s).unwrap()).unwrap()).unwrap();
        assert_eq!((rrr.u(), rrr.v(), rrr.w()), (s.u(), s.v(), s.w()));
    }

    #[test]
    fn a_wrong_index_map_would_be_caught() {
        // Rotating by reading W without the transpose is not a valid scheme: the check above
        // can fail.
        let s = Scheme::shipped("learned-234-20").unwrap();
        let r = rotate(&s).unwrap();
        let (m, k, n) = s.dims();
        let bad = r
            .edited(|_, v, _| {
                for (q, row) in v.iter_mut().enumerate() {
                    *row = (0..n * m).map(|x| s.w()[x % (m * n)][q]).collect();
                }
            })
            .unwrap();
        assert_eq!((m, k, n), (2, 3, 4));
        assert!(!bad.verify().is_valid());
    }
}
