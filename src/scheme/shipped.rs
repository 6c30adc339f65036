//! The schemes shipped in `kernels/`, embedded at build time.
//!
//! `build.rs` parses every `kernels/*.json` with [`super::format::parse`] and checks it with
//! [`super::brent::check`]; a malformed or invalid file stops the build. What remains here is a
//! table of `(file stem, JSON text)` pairs in name order.

use super::Scheme;
use std::path::Path;

include!(concat!(env!("OUT_DIR"), "/shipped.rs"));

/// Names (file stems) of the schemes in `kernels/`, sorted, e.g. `["classical", "strassen",
/// "winograd"]`.
pub fn shipped_names() -> &'static [&'static str] {
    SHIPPED_NAMES
}

impl Scheme {
    /// The shipped scheme `kernels/<name>.json`, exactly verified at build time; `None` if there
    /// is no such file.
    pub fn shipped(name: &str) -> Option<Scheme> {
        let i = SHIPPED_NAMES.iter().position(|&n| n == name)?;
        let path = Path::new("kernels").join(format!("{name}.json"));
        // build.rs parsed and verified this exact text with the same parser; failing here
        // would mean the build script and the library disagree, which is a bug, not bad input.
        let s = Scheme::from_json_str(SHIPPED_TEXTS[i], &path)
            .unwrap_or_else(|e| panic!("embedded scheme {name} no longer parses: {e}"));
        Some(s)
    }

    /// Strassen's `<2,2,2;7>` scheme as shipped in `kernels/strassen.json`.
    pub fn strassen() -> Scheme {
        Self::shipped("strassen").expect("kernels/strassen.json is shipped")
    }
}
