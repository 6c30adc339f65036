//! Loading and saving `strass-scheme/1` JSON files (parsing itself lives in [`super::format`]).

use super::format::{self, FieldError, ParseError};
use super::{Scheme, SchemeError, FORMAT};
use std::path::Path;

pub(crate) fn field_error(path: &Path, e: FieldError) -> SchemeError {
    SchemeError::Field {
        path: path.to_path_buf(),
        field: e.field,
        kind: e.kind,
        problem: e.problem,
    }
}

impl Scheme {
    /// Parses a scheme from JSON text; `path` is only used in error messages and, when the file
    /// has no `name`, as the name (its stem).
    pub fn from_json_str(text: &str, path: &Path) -> Result<Self, SchemeError> {
        let p = format::parse(text).map_err(|e| match e {
            ParseError::Json(detail) => SchemeError::Json {
                path: path.to_path_buf(),
                detail,
            },
            ParseError::Field(f) => field_error(path, f),
        })?;
        Ok(Self::from_parsed(p, path))
    }

    /// [`Scheme::from_json_str`] on an already parsed JSON value.
    pub fn from_json_value(value: &serde_json::Value, path: &Path) -> Result<Self, SchemeError> {
        let p = format::parse_value(value).map_err(|f| field_error(path, f))?;
        Ok(Self::from_parsed(p, path))
    }

    pub(crate) fn from_parsed(p: format::Parsed, path: &Path) -> Self {
        let name = p.name.unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "unnamed".into())
        });
        Scheme {
            name,
            m: p.m,
            k: p.k,
            n: p.n,
            rank: p.rank,
            u: p.u,
            v: p.v,
            w: p.w,
            provenance: p.provenance,
        }
    }

    /// Loads a scheme file (a regular file of at most [`crate::fsio::MAX_SCHEME_FILE`] bytes).
    /// The result is well-formed but not yet verified.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, SchemeError> {
        let path = path.as_ref();
        Self::from_json_str(&read_scheme_text(path)?, path)
    }

    /// Loads a scheme file and verifies it exactly; an invalid scheme is
    /// [`SchemeError::Invalid`].
    pub fn load_verified(path: impl AsRef<Path>) -> Result<Self, SchemeError> {
        let s = Self::load(path)?;
        s.ensure_valid()?;
        Ok(s)
    }

    /// The scheme as `strass-scheme/1` JSON, rows on one line each.
    pub fn to_json_string(&self) -> String {
        let rows = |mat: &Vec<Vec<i64>>| -> String {
            let lines: Vec<String> = mat
                .iter()
                .map(|r| {
                    let xs: Vec<String> = r.iter().map(|x| x.to_string()).collect();
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
            "{{\n  \"format\": \"{FORMAT}\",\n  \"name\": {name},\n  \"m\": {}, \"k\": {}, \"n\": {},\n  \"rank\": {},\n  \"u\": {},\n  \"v\": {},\n  \"w\": {},\n  \"provenance\": {provenance}\n}}\n",
            self.m,
            self.k,
            self.n,
            self.rank,
            rows(&self.u),
            rows(&self.v),
            rows(&self.w),
        )
    }

    /// The scheme as a `strass-scheme/1` JSON value (what `Serialize` produces).
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::json!({
            "format": FORMAT,
            "name": self.name,
            "m": self.m, "k": self.k, "n": self.n,
            "rank": self.rank,
            "u": self.u, "v": self.v, "w": self.w,
            "provenance": self.provenance,
        })
    }

    /// Writes the scheme to `path` as `strass-scheme/1`, atomically (see
    /// [`crate::fsio::write_atomic`]): on failure the old file is intact.
    pub fn save(&self, path: impl AsRef<Path>) -> crate::Result<()> {
        let path = path.as_ref();
        crate::fsio::write_atomic(path, self.to_json_string().as_bytes())
            .map_err(|e| crate::Error::io(path, e))
    }

    /// Checks that all dimensions are positive and bounded and all rows have the right lengths
    /// and bounded coefficients.
    pub(crate) fn check_shape(&self, path: &Path) -> Result<(), SchemeError> {
        format::check_parts(
            (self.m, self.k, self.n, self.rank),
            &self.u,
            &self.v,
            &self.w,
        )
        .map_err(|e| field_error(path, e))
    }
}

/// The text of a scheme file (a regular file of at most [`crate::fsio::MAX_SCHEME_FILE`] bytes),
/// with a read error naming the file: what every scheme loader and importer reads with.
pub(crate) fn read_scheme_text(path: &Path) -> Result<String, SchemeError> {
    crate::fsio::read_bounded(path, crate::fsio::MAX_SCHEME_FILE).map_err(|e| SchemeError::Read {
        path: path.to_path_buf(),
        source: e,
    })
}
