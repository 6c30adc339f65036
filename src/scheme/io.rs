//! Loading and saving `strass-scheme/1` JSON files.

use super::{Scheme, SchemeError, FORMAT, MAX_COEFF};
use serde_json::Value;
use std::path::Path;

fn field(path: &Path, field: impl Into<String>, problem: impl Into<String>) -> SchemeError {
    SchemeError::Field {
        path: path.to_path_buf(),
        field: field.into(),
        problem: problem.into(),
    }
}

fn get_dim(
    path: &Path,
    obj: &serde_json::Map<String, Value>,
    key: &str,
) -> Result<usize, SchemeError> {
    let v = obj.get(key).ok_or_else(|| field(path, key, "missing"))?;
    let x = v
        .as_u64()
        .ok_or_else(|| field(path, key, format!("expected a positive integer, found {v}")))?;
    if x == 0 {
        return Err(field(path, key, "must be at least 1"));
    }
    if x > 1 << 16 {
        return Err(field(path, key, format!("{x} is absurdly large")));
    }
    Ok(x as usize)
}

fn get_matrix(
    path: &Path,
    obj: &serde_json::Map<String, Value>,
    key: &str,
    rows: usize,
    cols: usize,
) -> Result<Vec<Vec<i64>>, SchemeError> {
    let v = obj.get(key).ok_or_else(|| field(path, key, "missing"))?;
    let arr = v
        .as_array()
        .ok_or_else(|| field(path, key, "expected an array of rows"))?;
    if arr.len() != rows {
        return Err(field(
            path,
            key,
            format!("expected {rows} rows, found {}", arr.len()),
        ));
    }
    let mut out = Vec::with_capacity(rows);
    for (i, row) in arr.iter().enumerate() {
        let row = row
            .as_array()
            .ok_or_else(|| field(path, format!("{key}[{i}]"), "expected an array of integers"))?;
        if row.len() != cols {
            return Err(field(
                path,
                format!("{key}[{i}]"),
                format!("expected {cols} coefficients, found {}", row.len()),
            ));
        }
        let mut r = Vec::with_capacity(cols);
        for (j, x) in row.iter().enumerate() {
            let name = format!("{key}[{i}][{j}]");
            let c = match x {
                Value::Number(num) => {
                    if let Some(c) = num.as_i64() {
                        c
                    } else if let Some(f) = num.as_f64() {
                        if f.fract() != 0.0 {
                            return Err(field(path, name, format!("fractional coefficient {num}")));
                        }
                        return Err(field(
                            path,
                            name,
                            format!("coefficient {num} is absurdly large"),
                        ));
                    } else {
                        return Err(field(
                            path,
                            name,
                            format!("coefficient {num} is absurdly large"),
                        ));
                    }
                }
                other => {
                    return Err(field(
                        path,
                        name,
                        format!("expected an integer, found {other}"),
                    ))
                }
            };
            if c.abs() > MAX_COEFF {
                return Err(field(
                    path,
                    name,
                    format!("coefficient {c} is absurdly large (limit {MAX_COEFF})"),
                ));
            }
            r.push(c);
        }
        out.push(r);
    }
    Ok(out)
}

impl Scheme {
    /// Parses a scheme from JSON text; `path` is only used in error messages.
    pub fn from_json_str(text: &str, path: &Path) -> Result<Self, SchemeError> {
        let value: Value = serde_json::from_str(text).map_err(|e| SchemeError::Json {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
        let obj = value
            .as_object()
            .ok_or_else(|| field(path, "<root>", "expected a JSON object"))?;
        match obj.get("format") {
            None => return Err(field(path, "format", "missing")),
            Some(Value::String(s)) if s == FORMAT => {}
            Some(other) => {
                return Err(field(
                    path,
                    "format",
                    format!("unknown format {other}, expected \"{FORMAT}\""),
                ))
            }
        }
        let name = match obj.get("name") {
            None => path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "unnamed".into()),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(field(
                    path,
                    "name",
                    format!("expected a string, found {other}"),
                ))
            }
        };
        let m = get_dim(path, obj, "m")?;
        let k = get_dim(path, obj, "k")?;
        let n = get_dim(path, obj, "n")?;
        let rank = get_dim(path, obj, "rank")?;
        let u = get_matrix(path, obj, "u", rank, m * k)?;
        let v = get_matrix(path, obj, "v", rank, k * n)?;
        let w = get_matrix(path, obj, "w", m * n, rank)?;
        let provenance = obj.get("provenance").cloned().unwrap_or(Value::Null);
        Ok(Scheme {
            name,
            m,
            k,
            n,
            rank,
            u,
            v,
            w,
            provenance,
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

    /// The scheme as `strass-scheme/1` JSON, rows on one line each.
    pub fn to_json_string(&self) -> String {
        let rows = |mat: &Vec<Vec<i64>>| -> String {
            let lines: Vec<String> = mat
                .iter()
                .map(|r| serde_json::to_string(r).expect("integers serialize"))
                .collect();
            format!("[\n    {}\n  ]", lines.join(",\n    "))
        };
        format!(
            "{{\n  \"format\": \"{FORMAT}\",\n  \"name\": {},\n  \"m\": {}, \"k\": {}, \"n\": {},\n  \"rank\": {},\n  \"u\": {},\n  \"v\": {},\n  \"w\": {},\n  \"provenance\": {}\n}}\n",
            serde_json::to_string(&self.name).expect("string serializes"),
            self.m,
            self.k,
            self.n,
            self.rank,
            rows(&self.u),
            rows(&self.v),
            rows(&self.w),
            serde_json::to_string_pretty(&self.provenance).expect("json value serializes").replace('\n', "\n  ")
        )
    }

    /// Writes the scheme to `path` as `strass-scheme/1`.
    pub fn save(&self, path: impl AsRef<Path>) -> crate::Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json_string()).map_err(|e| crate::Error::io(path, e))
    }

    /// Checks that all dimensions are positive and all rows have the right lengths and bounded
    /// coefficients.
    pub(crate) fn check_shape(&self, path: &Path) -> Result<(), SchemeError> {
        for (key, d) in [
            ("m", self.m),
            ("k", self.k),
            ("n", self.n),
            ("rank", self.rank),
        ] {
            if d == 0 {
                return Err(field(path, key, "must be at least 1"));
            }
        }
        let checks = [
            ("u", &self.u, self.rank, self.m * self.k),
            ("v", &self.v, self.rank, self.k * self.n),
            ("w", &self.w, self.m * self.n, self.rank),
        ];
        for (key, mat, rows, cols) in checks {
            if mat.len() != rows {
                return Err(field(
                    path,
                    key,
                    format!("expected {rows} rows, found {}", mat.len()),
                ));
            }
            for (i, r) in mat.iter().enumerate() {
                if r.len() != cols {
                    return Err(field(
                        path,
                        format!("{key}[{i}]"),
                        format!("expected {cols} coefficients, found {}", r.len()),
                    ));
                }
                if let Some((j, c)) = r.iter().enumerate().find(|(_, c)| c.abs() > MAX_COEFF) {
                    return Err(field(
                        path,
                        format!("{key}[{i}][{j}]"),
                        format!("coefficient {c} is absurdly large (limit {MAX_COEFF})"),
                    ));
                }
            }
        }
        Ok(())
    }
}
