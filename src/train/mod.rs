//! Learning bilinear schemes from random matrix products.
//!
//! The pipeline of one run (see [`protocol`]): random data from the seed ([`data`]) -> the
//! rank-R bilinear model ([`model`]) trained by AdamW ([`adamw`]) -> pruning and discretisation
//! ([`discretise`]) -> exact verification -> a per-run record ([`protocol::RunRecord`]) with the
//! metrics of [`metrics`]. On top: studies over grids of settings ([`study`]) with their
//! statistics ([`stats`]), diagnostics of fragility, permutations and gradient noise
//! ([`diagnostics`]), and the comparison with the published claims ([`report`]).

pub mod adamw;
pub mod data;
pub mod diagnostics;
pub mod discretise;
pub mod flip;
pub mod metrics;
pub mod model;
pub mod protocol;
pub mod report;
pub mod stats;
pub mod study;

pub use protocol::{run, Fallback, Objective, RunOutput, RunRecord, TrainSettings};

use crate::scheme::Scheme;
use serde_json::{json, Value};

/// Errors that stop training or a study from running.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Invalid settings.
    #[error("invalid training settings: {0}")]
    Settings(String),
}

/// Structural analysis of a discretised scheme, for the run record.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Match with Strassen (`null` if none).
    pub strassen_match: Value,
    /// For an exact `<2,2,2;7>` scheme without a plain match: the small basis change that maps
    /// Strassen onto it ([`crate::scheme::match_strassen_basis`]); `null` otherwise.
    pub strassen_basis_match: Value,
    /// Expansion errors up to 64 x 64.
    pub expansion_errors: Value,
}

/// Size up to which [`analyse`] measures expansion errors.
pub const EXPANSION_MAX_SIZE: usize = 64;

/// Analyses a discretised scheme: its slot-permutation and sign match with Strassen
/// ([`crate::scheme::match_strassen`]) and the relative errors of applying it recursively to
/// random matrices up to 64 x 64 ([`crate::scheme::expansion_errors`], seeded with `seed`).
pub fn analyse(scheme: &Scheme, seed: u64) -> Analysis {
    let strassen_match = match crate::scheme::match_strassen(scheme) {
        Some(m) => serde_json::to_value(m).expect("matches serialise"),
        None => Value::Null,
    };
    let strassen_basis_match = if strassen_match.is_null() && scheme.verify().is_valid() {
        crate::scheme::match_strassen_basis(scheme).map_or(Value::Null, |m| {
            serde_json::to_value(m).expect("matches serialise")
        })
    } else {
        Value::Null
    };
    let expansion_errors = match crate::scheme::expansion_errors(scheme, EXPANSION_MAX_SIZE, seed) {
        Ok(e) => serde_json::to_value(e).expect("errors serialise"),
        Err(e) => json!({ "error": e.to_string() }),
    };
    Analysis {
        strassen_match,
        strassen_basis_match,
        expansion_errors,
    }
}

/// Strassen's scheme as shipped in `kernels/strassen.json`.
pub fn canonical_strassen() -> Scheme {
    Scheme::strassen()
}

/// The scheme a run writes, if any, and updates the record's fallback fields.
///
/// * Success: the learned scheme, named `name`, with provenance `source: "training"`, every
///   setting and the metrics (nothing time-dependent, so the file is reproducible bit for bit).
/// * Failure with [`Fallback::Canonical`]: Strassen's scheme with provenance
///   `source: "fallback"`; the record says `fallback_used: true` and `success: false`.
/// * Failure otherwise: nothing.
pub fn output_scheme(out: &mut RunOutput, name: &str) -> Option<Scheme> {
    let rec = &mut out.record;
    let chosen = match rec.settings.rounding {
        discretise::Rounding::Plain => &out.plain,
        discretise::Rounding::Balanced => &out.balanced,
    };
    if rec.exact {
        let mut s = chosen.scheme.clone();
        s.name = name.to_string();
        s.provenance = json!({
            "source": "training",
            "generator": format!("strass {}", env!("CARGO_PKG_VERSION")),
            "protocol": rec.settings.protocol,
            "seed": rec.settings.seed,
            "settings": rec.settings,
            "metrics": {
                "attempts": rec.attempts,
                "delta": rec.delta,
                "delta_plain": rec.delta_plain,
                "delta_balanced": rec.delta_balanced,
                "tensor_loss_full": rec.tensor_loss_full,
                "tensor_loss_pruned": rec.tensor_loss_pruned,
                "final_train_loss": rec.train_loss.last,
                "final_test_loss": rec.test_loss.last,
                "verdict_plain": rec.verdict_plain,
                "verdict_balanced": rec.verdict_balanced,
                "nonzeros": rec.nonzeros,
                "strassen_match": rec.strassen_match,
            },
        });
        return Some(s);
    }
    rec.success = false;
    match rec.settings.fallback {
        Fallback::None => None,
        Fallback::Canonical => {
            rec.fallback_used = true;
            let mut s = canonical_strassen();
            s.name = name.to_string();
            s.provenance = json!({
                "source": "fallback",
                "reason": "training did not end in an exact scheme; this is Strassen's literature scheme, not a learned one",
                "protocol": rec.settings.protocol,
                "seed": rec.settings.seed,
                "settings": rec.settings,
                "failed_run": {
                    "attempts": rec.attempts,
                    "delta": rec.delta,
                    "verdict_plain": rec.verdict_plain,
                    "verdict_balanced": rec.verdict_balanced,
                },
            });
            Some(s)
        }
    }
}
