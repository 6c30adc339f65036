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
        let name = p.name.unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "unnamed".into())
        });
        Ok(Scheme {
            name,
            m: p.m,
            k: p.k,
            n: p.n,
            rank: p.rank,
            u: p.u,
            v: p.v,
            w: p.w,
            provenance: p.provenance,
        })
    }

    /// Loads a scheme file. The result is well-formed but not yet verified.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, SchemeError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| SchemeError::Read {
            path: path.to_path_buf(),
            source: e,
        })?;
        Self::from_json_str(&text, path)
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

    /// Writes the scheme to `path` as `strass-scheme/1`.
    pub fn save(&self, path: impl AsRef<Path>) -> crate::Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json_string()).map_err(|e| crate::Error::io(path, e))
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
