//! Bilinear matrix-multiplication schemes: the `strass-scheme/1` and `/2` formats and exact
//! verification. [`Scheme`] has integer coefficients (what the kernel compiles);
//! [`RationalScheme`] has exact rational ones (verified over Q, converted to a [`Scheme`] by
//! per-product rescaling when possible).
//!
//! A scheme `<m,k,n;rank>` computes C (m x n) = A (m x k) B (k x n) with `rank` products
//! `M_r = (sum_j u[r][j] a_j) * (sum_j v[r][j] b_j)` and `c_i = sum_r w[i][r] M_r`, where A, B and
//! C are indexed row-major. See `../DESIGN.md` and [`verify`] for the exact check.

pub mod altbasis;
pub mod brent;
pub mod equiv;
pub mod expand;
pub mod format;
pub mod import;
mod io;
pub(crate) use io::read_scheme_text;
pub mod kron;
pub mod orient;
pub mod rational;
mod shipped;
pub mod verify;

use std::path::PathBuf;

pub use altbasis::{sparsest_basis, AltAdditions, AltBasis, BasisSearch, SideSearch};
pub use equiv::{
    canonical_form, equivalent, match_strassen, match_strassen_basis, BasisMatch, StrassenMatch,
};
pub use expand::{expansion_errors, ExpansionError};
pub use format::{
    FieldProblem, FORMAT, FORMAT_V2, MAX_COEFF, MAX_DIM, MAX_TENSOR, MAX_VERIFY_TERMS,
};
pub use kron::kron;
pub use orient::orientations;
pub use rational::{Rational, RationalFailure, RationalScheme, RationalVerdict};
pub use shipped::shipped_names;
pub use verify::{FailedEquation, Verdict};

/// A bilinear scheme `<m,k,n;rank>` with integer coefficients.
///
/// Every `Scheme` is well-formed: positive dimensions and rank within [`MAX_DIM`], `u` with `rank`
/// rows of `m*k` coefficients, `v` with `rank` rows of `k*n`, `w` with `m*n` rows of `rank`, every
/// coefficient within [`MAX_COEFF`], and a verification cost within [`MAX_VERIFY_TERMS`]. The
/// fields are private and every constructor ([`Scheme::new`], [`Scheme::load`],
/// [`Scheme::from_json_str`], `Deserialize`) checks this, so code outside the crate cannot build
/// an inconsistent scheme. Whether it is *valid* (computes the product) is [`Scheme::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scheme {
    pub(crate) name: String,
    pub(crate) m: usize,
    pub(crate) k: usize,
    pub(crate) n: usize,
    pub(crate) rank: usize,
    pub(crate) u: Vec<Vec<i64>>,
    pub(crate) v: Vec<Vec<i64>>,
    pub(crate) w: Vec<Vec<i64>>,
    pub(crate) provenance: serde_json::Value,
}

impl Scheme {
    /// Short name, e.g. `"strassen"`.
    pub fn name(&self) -> &str {
        &self.name
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
    pub fn u(&self) -> &[Vec<i64>] {
        &self.u
    }

    /// `rank` rows of `k*n` coefficients of B's entries (row-major).
    pub fn v(&self) -> &[Vec<i64>] {
        &self.v
    }

    /// `m*n` rows of `rank` coefficients of the products, one row per entry of C (row-major).
    pub fn w(&self) -> &[Vec<i64>] {
        &self.w
    }

    /// Where the scheme comes from: `{"source": "training" | "literature" | "fallback" | "import", ...}`.
    pub fn provenance(&self) -> &serde_json::Value {
        &self.provenance
    }

    /// Renames the scheme.
    pub fn set_name(&mut self, name: impl Into<String>) {
        self.name = name.into();
    }

    /// Replaces the provenance record.
    pub fn set_provenance(&mut self, provenance: serde_json::Value) {
        self.provenance = provenance;
    }

    /// A copy of the scheme with its coefficients changed by `edit(u, v, w)`, checked like
    /// [`Scheme::new`] (the rank is the new number of rows of `u`).
    pub fn edited(
        &self,
        edit: impl FnOnce(&mut Vec<Vec<i64>>, &mut Vec<Vec<i64>>, &mut Vec<Vec<i64>>),
    ) -> Result<Scheme, SchemeError> {
        let (mut u, mut v, mut w) = (self.u.clone(), self.v.clone(), self.w.clone());
        edit(&mut u, &mut v, &mut w);
        Scheme::new(
            self.name.clone(),
            (self.m, self.k, self.n),
            u,
            v,
            w,
            self.provenance.clone(),
        )
    }

    /// The scheme taken apart: `(name, (m, k, n), u, v, w, provenance)`, the arguments of
    /// [`Scheme::new`].
    #[allow(clippy::type_complexity)]
    pub fn into_parts(
        self,
    ) -> (
        String,
        (usize, usize, usize),
        Vec<Vec<i64>>,
        Vec<Vec<i64>>,
        Vec<Vec<i64>>,
        serde_json::Value,
    ) {
        (
            self.name,
            (self.m, self.k, self.n),
            self.u,
            self.v,
            self.w,
            self.provenance,
        )
    }
}

impl serde::Serialize for Scheme {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        self.to_json_value().serialize(ser)
    }
}

impl<'de> serde::Deserialize<'de> for Scheme {
    /// Deserialises `strass-scheme/1` with the same checks as [`Scheme::load`], streaming (no
    /// intermediate `serde_json::Value`); a duplicate key is refused.
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let path = std::path::Path::new("<memory>");
        let parsed = format::parse_from(de)?
            .map_err(|e| serde::de::Error::custom(io::field_error(path, e)))?;
        Ok(Scheme::from_parsed(parsed, path))
    }
}

/// Why a scheme could not be loaded or used. Messages name the file, the field and the problem.
#[derive(Debug, thiserror::Error)]
pub enum SchemeError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid JSON.
    #[error("{}: malformed JSON: {detail}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// What the JSON parser said.
        detail: String,
    },
    /// A field is missing, of the wrong type, or inconsistent with the others.
    #[error("{}: field `{field}`: {problem}", path.display())]
    Field {
        /// The file (or `<memory>` for in-memory schemes).
        path: PathBuf,
        /// The offending field, e.g. `u[3][1]`.
        field: String,
        /// The class of problem (one per class of malformed file).
        kind: FieldProblem,
        /// What is wrong with it.
        problem: String,
    },
    /// The scheme is well-formed but does not compute the matrix product.
    #[error(
        "{name}: not a valid <{m},{k},{n}> scheme: {failed} of {total} Brent equations fail; first: {}",
        first.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
    )]
    Invalid {
        /// Scheme name.
        name: String,
        /// Dimensions.
        m: usize,
        /// Dimensions.
        k: usize,
        /// Dimensions.
        n: usize,
        /// Number of failing equations.
        failed: usize,
        /// Number of equations.
        total: usize,
        /// The first few failing equations.
        first: Vec<FailedEquation>,
    },
    /// A [`RationalScheme`] is well-formed but does not compute the matrix product (exact check
    /// over Q).
    #[error(
        "{name}: not a valid <{m},{k},{n}> scheme over Q: {failed} of {total} Brent equations fail; first: {}",
        first.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
    )]
    InvalidRational {
        /// Scheme name.
        name: String,
        /// Dimensions.
        m: usize,
        /// Dimensions.
        k: usize,
        /// Dimensions.
        n: usize,
        /// Number of failing equations.
        failed: usize,
        /// Number of equations.
        total: usize,
        /// The first few failing equations.
        first: Vec<RationalFailure>,
    },
    /// A [`RationalScheme`] has no integral form by rescaling its products
    /// ([`RationalScheme::to_integral`]).
    #[error("{name}: no integral form: {problem}")]
    NotIntegral {
        /// Scheme name.
        name: String,
        /// Which product, and why.
        problem: String,
    },
    /// An operation on schemes was called with arguments that do not fit (e.g. a permutation of
    /// the wrong length).
    #[error("{0}")]
    Argument(String),
    /// A file in another published format could not be imported.
    #[error("{}: {problem}", path.display())]
    Import {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        problem: String,
    },
}

impl Scheme {
    /// Builds a scheme from its parts, checking every dimension and coefficient (not validity:
    /// see [`Scheme::verify`]).
    pub fn new(
        name: impl Into<String>,
        (m, k, n): (usize, usize, usize),
        u: Vec<Vec<i64>>,
        v: Vec<Vec<i64>>,
        w: Vec<Vec<i64>>,
        provenance: serde_json::Value,
    ) -> Result<Self, SchemeError> {
        let s = Scheme {
            name: name.into(),
            m,
            k,
            n,
            rank: u.len(),
            u,
            v,
            w,
            provenance,
        };
        s.check_shape(std::path::Path::new("<memory>"))?;
        Ok(s)
    }

    /// Number of nonzero coefficients in U, V and W together.
    pub fn nonzeros(&self) -> usize {
        self.u
            .iter()
            .chain(&self.v)
            .chain(&self.w)
            .flatten()
            .filter(|&&x| x != 0)
            .count()
    }

    /// Exact verification: evaluates every Brent equation in checked integer arithmetic.
    pub fn verify(&self) -> Verdict {
        verify::verify(self)
    }

    /// Returns `Ok(())` if the scheme is exact, else [`SchemeError::Invalid`].
    pub fn ensure_valid(&self) -> Result<(), SchemeError> {
        let v = self.verify();
        if v.is_valid() {
            Ok(())
        } else {
            Err(SchemeError::Invalid {
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
}
