//! Bilinear matrix-multiplication schemes: the `strass-scheme/1` format and exact verification.
//!
//! A scheme `<m,k,n;rank>` computes C (m x n) = A (m x k) B (k x n) with `rank` products
//! `M_r = (sum_j u[r][j] a_j) * (sum_j v[r][j] b_j)` and `c_i = sum_r w[i][r] M_r`, where A, B and
//! C are indexed row-major. See `../DESIGN.md` and [`verify`] for the exact check.

pub mod brent;
pub mod equiv;
pub mod expand;
pub mod format;
pub mod import;
mod io;
pub mod kron;
mod shipped;
pub mod verify;

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub use equiv::{
    canonical_form, equivalent, match_strassen, match_strassen_basis, BasisMatch, StrassenMatch,
};
pub use expand::{expansion_errors, ExpansionError};
pub use format::{FieldProblem, FORMAT, MAX_COEFF, MAX_DIM};
pub use kron::kron;
pub use shipped::shipped_names;
pub use verify::{FailedEquation, Verdict};

/// A bilinear scheme `<m,k,n;rank>` with integer coefficients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scheme {
    /// Short name, e.g. `"strassen"`.
    pub name: String,
    /// Rows of A and C.
    pub m: usize,
    /// Columns of A, rows of B.
    pub k: usize,
    /// Columns of B and C.
    pub n: usize,
    /// Number of products.
    pub rank: usize,
    /// `rank` rows of `m*k` coefficients of A's entries (row-major).
    pub u: Vec<Vec<i64>>,
    /// `rank` rows of `k*n` coefficients of B's entries (row-major).
    pub v: Vec<Vec<i64>>,
    /// `m*n` rows of `rank` coefficients of the products, one row per entry of C (row-major).
    pub w: Vec<Vec<i64>>,
    /// Where the scheme comes from: `{"source": "training" | "literature" | "fallback" | "import", ...}`.
    pub provenance: serde_json::Value,
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
