//! Import of schemes published in other formats.
//!
//! * **fast-matmul** text files (Benson and Ballard's `codegen/algorithms/`): three blocks of
//!   whitespace-separated numbers for U, V and W, separated by lines starting with `#` (a `#`
//!   line may also open the file as a comment). In each block a row is one entry of A, B or C
//!   (row-major) and a column is one product. The dimensions follow from the row counts
//!   (`mk`, `kn`, `mn`). Fractions are accepted only if a per-product rescaling
//!   (`u_r * a`, `v_r * b`, `w_r / (a b)`) makes every coefficient an integer; otherwise the file
//!   is refused, and symbolic coefficients (approximate, border-rank schemes) are always refused.
//! * **AlphaTensor** `factorizations_r.npz`: a NumPy archive with one array per `"m,k,n"` key,
//!   holding U (mk x R), V (kn x R) and W (mn x R); W is for `(A B)^T`, so its `m x n` index is
//!   transposed on import. Only plain numeric arrays can be read: the archive stores its
//!   non-square keys as pickled object arrays, which are refused with a clear error. Float arrays
//!   are accepted when their fractions are exact binary fractions that the same per-product
//!   rescaling removes. Of the 93 keys of `factorizations_r.npz` (commit 1949163), 2,2,2, 3,3,3,
//!   4,4,4, 5,5,5 and 10,10,10 import and verify; 9,9,9 and 11,11,11 are exact over the
//!   rationals but not integral and are refused; the 86 others are pickled.
//!
//! Imported schemes are not verified here: callers (e.g. `strass import`) verify them exactly.

use super::{Scheme, SchemeError};
use serde_json::json;
use std::path::Path;

fn import_err(path: &Path, problem: impl Into<String>) -> SchemeError {
    SchemeError::Import {
        path: path.to_path_buf(),
        problem: problem.into(),
    }
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 {
        a.abs()
    } else {
        gcd(b, a % b)
    }
}

/// A reduced fraction with positive denominator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Frac {
    num: i128,
    den: i128,
}

impl Frac {
    fn new(num: i128, den: i128) -> Option<Frac> {
        if den == 0 {
            return None;
        }
        let g = gcd(num, den).max(1);
        let s = if den < 0 { -1 } else { 1 };
        Some(Frac {
            num: s * num / g,
            den: s * den / g,
        })
    }

    fn mul(self, num: i128, den: i128) -> Option<Frac> {
        Frac::new(self.num.checked_mul(num)?, self.den.checked_mul(den)?)
    }
}

/// Parses one token of a fast-matmul file: an integer or a fraction `p/q`.
fn parse_token(tok: &str) -> Result<Frac, String> {
    let bounded = |x: i128| x.unsigned_abs() <= super::MAX_COEFF as u128;
    if let Ok(x) = tok.parse::<i64>() {
        if !bounded(x as i128) {
            return Err(format!("coefficient {tok} is absurdly large"));
        }
        return Ok(Frac {
            num: x as i128,
            den: 1,
        });
    }
    if let Some((p, q)) = tok.split_once('/') {
        if let (Ok(p), Ok(q)) = (p.parse::<i64>(), q.parse::<i64>()) {
            if q != 0 && bounded(p as i128) && bounded(q as i128) {
                return Frac::new(p as i128, q as i128).ok_or_else(|| "bad fraction".into());
            }
        }
        return Err(format!("malformed fraction `{tok}`"));
    }
    if tok.chars().any(|c| c.is_ascii_alphabetic()) {
        return Err(format!(
            "symbolic coefficient `{tok}`: this is a parametrised (approximate, border-rank) \
             scheme, not an exact one, and cannot be imported"
        ));
    }
    Err(format!("`{tok}` is not an integer or a fraction"))
}

/// `mk`, `kn`, `mn` -> `(m, k, n)`, if consistent.
fn dims_from_counts(mk: usize, kn: usize, mn: usize) -> Option<(usize, usize, usize)> {
    let m2 = (mk * mn).checked_div(kn)?;
    let m = (1..=m2).find(|&m| m * m >= m2)?;
    if m == 0 || m * m != m2 || !mk.is_multiple_of(m) || !mn.is_multiple_of(m) {
        return None;
    }
    let (k, n) = (mk / m, mn / m);
    (k * n == kn).then_some((m, k, n))
}

/// Scales product `r`'s rational factors to integers: `u_r` and `v_r` to primitive integer
/// vectors, `w_r` by the inverse. Returns `None` if `w_r` is then not integral (no per-product
/// rescaling can make it so, since u_r, v_r are primitive), else whether anything changed.
fn integralize(u: &mut [Frac], v: &mut [Frac], w: &mut [Frac]) -> Option<bool> {
    // Factor making a vector primitive integral: lcm(denominators) / gcd(numerators).
    fn primitive_factor(x: &[Frac]) -> Option<(i128, i128)> {
        let mut l: i128 = 1;
        let mut g: i128 = 0;
        for f in x {
            l = (l / gcd(l, f.den)).checked_mul(f.den)?;
            g = gcd(g, f.num);
        }
        Some((l, g.max(1)))
    }
    let (lu, gu) = primitive_factor(u)?;
    let (lv, gv) = primitive_factor(v)?;
    let changed = (lu, gu, lv, gv) != (1, 1, 1, 1);
    for f in u.iter_mut() {
        *f = f.mul(lu, gu)?;
    }
    for f in v.iter_mut() {
        *f = f.mul(lv, gv)?;
    }
    for f in w.iter_mut() {
        *f = f.mul(gu.checked_mul(gv)?, lu.checked_mul(lv)?)?;
        if f.den != 1 {
            return None;
        }
    }
    Some(changed)
}

/// U, V, W with rational coefficients as in the published files: one row per entry of A, B, C
/// (row-major, C already in our orientation), one column per product.
type Blocks = [Vec<Vec<Frac>>; 3];

/// Checks the Brent equations with rational coefficients: each block is scaled by the lcm `L` of
/// its denominators, so the equations become `sum_r U' V' W' = L_u L_v L_w [delta]` in `i128`.
/// `None` on overflow.
fn exact_over_rationals(blocks: &Blocks, (k, n): (usize, usize)) -> Option<bool> {
    let scaled = |b: &Vec<Vec<Frac>>| -> Option<(i128, Vec<Vec<i128>>)> {
        let mut l: i128 = 1;
        for f in b.iter().flatten() {
            l = (l / gcd(l, f.den)).checked_mul(f.den)?;
        }
        let rows = b
            .iter()
            .map(|row| row.iter().map(|f| f.num.checked_mul(l / f.den)).collect())
            .collect::<Option<Vec<Vec<i128>>>>()?;
        Some((l, rows))
    };
    let (lu, u) = scaled(&blocks[0])?;
    let (lv, v) = scaled(&blocks[1])?;
    let (lw, w) = scaled(&blocks[2])?;
    let scale = lu.checked_mul(lv)?.checked_mul(lw)?;
    for (ia, ua) in u.iter().enumerate() {
        for (ib, vb) in v.iter().enumerate() {
            for (ic, wc) in w.iter().enumerate() {
                let mut acc: i128 = 0;
                for ((&x, &y), &z) in ua.iter().zip(vb).zip(wc) {
                    acc = acc.checked_add(x.checked_mul(y)?.checked_mul(z)?)?;
                }
                let (i, p, q, j, s, t) = (ia / k, ia % k, ib / n, ib % n, ic / n, ic % n);
                let delta = i128::from(p == q && i == s && j == t);
                if acc != scale * delta {
                    return Some(false);
                }
            }
        }
    }
    Some(true)
}

/// Turns rational blocks into a [`Scheme`]: each product is rescaled to integers if it has
/// fractions (recorded in the provenance as `rescaled_products`), or the import is refused with
/// a message saying whether the scheme is at least exact over the rationals.
fn finish(
    path: &Path,
    name: String,
    (m, k, n): (usize, usize, usize),
    blocks: Blocks,
    mut provenance: serde_json::Value,
) -> Result<Scheme, SchemeError> {
    let rank = blocks[0].first().map_or(0, |r| r.len());
    let limit = super::MAX_COEFF as u128;
    if let Some(f) = blocks
        .iter()
        .flatten()
        .flatten()
        .find(|f| f.num.unsigned_abs() > limit || f.den.unsigned_abs() > limit)
    {
        return Err(import_err(
            path,
            format!("coefficient {}/{} is absurdly large", f.num, f.den),
        ));
    }
    let column =
        |b: &Vec<Vec<Frac>>, r: usize| -> Vec<Frac> { b.iter().map(|row| row[r]).collect() };
    let (mut u, mut v, mut wcols) = (Vec::new(), Vec::new(), Vec::new());
    let mut rescaled = Vec::new();
    for r in 0..rank {
        let (mut ur, mut vr, mut wr) = (
            column(&blocks[0], r),
            column(&blocks[1], r),
            column(&blocks[2], r),
        );
        match integralize(&mut ur, &mut vr, &mut wr) {
            Some(true) => rescaled.push(r),
            Some(false) => {}
            None => {
                let over_q = match exact_over_rationals(&blocks, (k, n)) {
                    Some(true) => "it is an exact scheme over the rationals",
                    Some(false) => "it is not an exact scheme even over the rationals",
                    None => "its exactness over the rationals could not be checked (overflow)",
                };
                return Err(import_err(
                    path,
                    format!(
                        "product {r} has non-integer coefficients that no rescaling of the \
                         product (u_r * a, v_r * b, w_r / (a b)) makes integral; {over_q}, but \
                         strass schemes have integer coefficients"
                    ),
                ));
            }
        }
        let ints = |x: Vec<Frac>| -> Result<Vec<i64>, SchemeError> {
            x.iter()
                .map(|f| {
                    i64::try_from(f.num)
                        .ok()
                        .filter(|c| c.unsigned_abs() <= super::MAX_COEFF as u64)
                        .ok_or_else(|| {
                            import_err(path, format!("product {r}: coefficient too large"))
                        })
                })
                .collect()
        };
        u.push(ints(ur)?);
        v.push(ints(vr)?);
        wcols.push(ints(wr)?);
    }
    let w = (0..m * n)
        .map(|i| wcols.iter().map(|c| c[i]).collect())
        .collect();
    if !rescaled.is_empty() {
        provenance["rescaled_products"] = json!(rescaled);
        provenance["rescaling"] =
            json!("fractions removed per product: u_r * a, v_r * b, w_r / (a b)");
    }
    Scheme::new(name, (m, k, n), u, v, w, provenance).map_err(|e| import_err(path, e.to_string()))
}

/// Parses a fast-matmul text file (see the module docs). `path` names the file in errors and
/// in the provenance.
pub fn fast_matmul_from_str(text: &str, path: &Path) -> Result<Scheme, SchemeError> {
    let mut blocks: Vec<Vec<(usize, Vec<Frac>)>> = vec![Vec::new()];
    let mut comments = Vec::new();
    for (lineno, line) in text.lines().enumerate() {
        let line = line.trim();
        if let Some(c) = line.strip_prefix('#') {
            let c = c.trim();
            if !c.is_empty() {
                comments.push(c.to_string());
            }
            if !blocks.last().is_some_and(|b| b.is_empty()) {
                blocks.push(Vec::new());
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let row = line
            .split_whitespace()
            .map(parse_token)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| import_err(path, format!("line {}: {e}", lineno + 1)))?;
        if let Some(b) = blocks.last_mut() {
            b.push((lineno + 1, row));
        }
    }
    blocks.retain(|b| !b.is_empty());
    if blocks.len() != 3 {
        let hint = if blocks.len() > 3 {
            " (extra blocks such as substitution information for eliminated variables are not \
             supported: import the plain version of the scheme)"
        } else {
            ""
        };
        return Err(import_err(
            path,
            format!(
                "expected 3 blocks of numbers (U, V, W) separated by `#` lines, found {}{hint}",
                blocks.len()
            ),
        ));
    }
    let rank = blocks[0][0].1.len();
    for (b, name) in blocks.iter().zip(["U", "V", "W"]) {
        if let Some((line, row)) = b.iter().find(|(_, r)| r.len() != rank) {
            return Err(import_err(
                path,
                format!(
                    "line {line}: {name} row has {} columns, expected {rank} (one per product)",
                    row.len()
                ),
            ));
        }
    }
    let (mk, kn, mn) = (blocks[0].len(), blocks[1].len(), blocks[2].len());
    let dims = dims_from_counts(mk, kn, mn).ok_or_else(|| {
        import_err(
            path,
            format!(
                "row counts {mk} (U), {kn} (V), {mn} (W) are not m*k, k*n, m*n for any m, k, n"
            ),
        )
    })?;
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "imported".into());
    let mut provenance = json!({
        "source": "import",
        "format": "fast-matmul",
        "file": name,
    });
    if let Some(c) = comments.first() {
        provenance["comment"] = json!(c);
    }
    let strip = |b: &Vec<(usize, Vec<Frac>)>| b.iter().map(|(_, r)| r.clone()).collect();
    let blocks = [strip(&blocks[0]), strip(&blocks[1]), strip(&blocks[2])];
    finish(path, name, dims, blocks, provenance)
}

/// Reads a fast-matmul text file (see [`fast_matmul_from_str`]).
pub fn fast_matmul(path: impl AsRef<Path>) -> Result<Scheme, SchemeError> {
    let path = path.as_ref();
    let text = crate::fsio::read_bounded(path, crate::fsio::MAX_SCHEME_FILE).map_err(|e| {
        SchemeError::Read {
            path: path.to_path_buf(),
            source: e,
        }
    })?;
    fast_matmul_from_str(&text, path)
}

/// The keys (`"m,k,n"`) of an AlphaTensor archive, sorted by dimensions.
#[cfg(feature = "cli")]
pub fn alphatensor_keys(path: impl AsRef<Path>) -> Result<Vec<String>, SchemeError> {
    let path = path.as_ref();
    let npz = npyz::npz::NpzArchive::open(path)
        .map_err(|e| import_err(path, format!("not a readable .npz archive: {e}")))?;
    let mut keys: Vec<String> = npz.array_names().map(str::to_string).collect();
    let dims = |k: &String| -> Vec<usize> { k.split(',').filter_map(|x| x.parse().ok()).collect() };
    keys.sort_by_key(dims);
    Ok(keys)
}

/// Reads the scheme stored under `key` (`"m,k,n"`) in an AlphaTensor `factorizations_r.npz`
/// archive (see the module docs; C's index is transposed).
#[cfg(feature = "cli")]
pub fn alphatensor(path: impl AsRef<Path>, key: &str) -> Result<Scheme, SchemeError> {
    let path = path.as_ref();
    let (m, k, n) = parse_key(path, key)?;
    let file = std::fs::File::open(path).map_err(|e| SchemeError::Read {
        path: path.to_path_buf(),
        source: e,
    })?;
    alphatensor_from_reader(std::io::BufReader::new(file), path, (m, k, n))
}

/// [`alphatensor`] on an archive held in memory (`path` only names it in messages).
#[cfg(feature = "cli")]
pub fn alphatensor_from_bytes(bytes: &[u8], path: &Path, key: &str) -> Result<Scheme, SchemeError> {
    let dims = parse_key(path, key)?;
    alphatensor_from_reader(std::io::Cursor::new(bytes), path, dims)
}

#[cfg(feature = "cli")]
fn parse_key(path: &Path, key: &str) -> Result<(usize, usize, usize), SchemeError> {
    let dims: Vec<usize> = key
        .split(',')
        .map(|x| x.trim().parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| import_err(path, format!("key `{key}` is not of the form m,k,n")))?;
    let [m, k, n] = dims[..] else {
        return Err(import_err(
            path,
            format!("key `{key}` is not of the form m,k,n"),
        ));
    };
    Ok((m, k, n))
}

#[cfg(feature = "cli")]
fn alphatensor_from_reader(
    reader: impl std::io::Read + std::io::Seek,
    path: &Path,
    (m, k, n): (usize, usize, usize),
) -> Result<Scheme, SchemeError> {
    let key = format!("{m},{k},{n}");
    let mut zip = npyz::zip::ZipArchive::new(reader)
        .map_err(|e| import_err(path, format!("not a readable .npz archive: {e}")))?;
    let mut entry = match zip.by_name(&npyz::npz::file_name_from_array_name(&key)) {
        Ok(f) => f,
        Err(npyz::zip::result::ZipError::FileNotFound) => {
            return Err(import_err(path, format!("no key {key} in the archive")))
        }
        Err(e) => return Err(import_err(path, format!("key {key}: {e}"))),
    };
    // The header is read and its shape checked before anything is decoded, so a forged shape
    // or a compressed bomb costs nothing: the data reader is limited to the size the checked
    // shape implies.
    let (header_bytes, shape) =
        read_npy_header(&mut entry).map_err(|e| import_err(path, format!("key {key}: {e}")))?;
    let header = npyz::NpyHeader::from_reader(&header_bytes[..]).map_err(|e| {
        let pickled = if e.to_string().contains("type string") {
            " (most likely a pickled object array, which strass cannot read; the plain \
             integer arrays, e.g. the square keys 2,2,2 to 5,5,5, can be read)"
        } else {
            ""
        };
        import_err(path, format!("key {key}: {e}{pickled}"))
    })?;
    let tensor = (m as u64).saturating_mul(k as u64).saturating_mul(n as u64);
    if m == 0 || k == 0 || n == 0 || tensor > super::MAX_TENSOR {
        return Err(import_err(
            path,
            format!(
                "key {key}: dimensions must be positive with m*k*n at most {}",
                super::MAX_TENSOR
            ),
        ));
    }
    let bad_shape = || {
        import_err(
            path,
            format!(
                "key {key}: shape {shape:?}; only arrays of shape (3, d, R) with \
                 d = m*k = k*n = m*n, R at most {} and at most {MAX_NPZ_ELEMENTS} elements \
                 can be read",
                super::MAX_DIM
            ),
        )
    };
    if shape.len() != 3
        || shape[0] != 3
        || m * k != k * n
        || m * k != m * n
        || shape[1] != (m * k) as u64
        || shape[2] == 0
        || shape[2] > super::MAX_DIM
        || 3 * shape[1] * shape[2] > MAX_NPZ_ELEMENTS
    {
        return Err(bad_shape());
    }
    let records = 3 * shape[1] * shape[2];
    // Plain numeric items are at most 8 bytes.
    let npy = npyz::NpyFile::with_header(header, std::io::Read::take(entry, records * 8));
    let fortran = npy.order() == npyz::Order::Fortran;
    let dtype = match npy.dtype() {
        npyz::DType::Plain(t) => t.to_string(),
        other => format!("{other:?}"),
    };
    let unreadable = || {
        import_err(
            path,
            format!(
                "key {key}: stored with dtype {dtype} and shape {shape:?}; only plain numeric \
                 arrays of shape (3, d, R) with d = m*k = k*n = m*n can be read"
            ),
        )
    };
    // Integers stay integers; floats must be exact dyadic rationals (0.5, 0.125, ...).
    let to_frac = |x: f64| -> Result<Frac, SchemeError> {
        let bad = || {
            import_err(
                path,
                format!("key {key}: coefficient {x} is not a bounded rational"),
            )
        };
        if !x.is_finite() || x.abs() > super::MAX_COEFF as f64 {
            return Err(bad());
        }
        let mut den: i128 = 1;
        let mut y = x;
        while y.fract() != 0.0 {
            if den > 1 << 20 {
                return Err(bad());
            }
            y *= 2.0;
            den *= 2;
        }
        Frac::new(y as i128, den).ok_or_else(bad)
    };
    let floats = |v: Vec<f64>| v.into_iter().map(to_frac).collect::<Result<Vec<Frac>, _>>();
    let ints = |v: Vec<i64>| -> Vec<Frac> {
        v.into_iter()
            .map(|c| Frac {
                num: c as i128,
                den: 1,
            })
            .collect()
    };
    let read_err = |e: std::io::Error| import_err(path, format!("key {key}: {e}"));
    let data: Vec<Frac> = match dtype.get(1..) {
        Some("i1") => ints(
            npy.into_vec::<i8>()
                .map_err(read_err)?
                .into_iter()
                .map(i64::from)
                .collect(),
        ),
        Some("i2") => ints(
            npy.into_vec::<i16>()
                .map_err(read_err)?
                .into_iter()
                .map(i64::from)
                .collect(),
        ),
        Some("i4") => ints(
            npy.into_vec::<i32>()
                .map_err(read_err)?
                .into_iter()
                .map(i64::from)
                .collect(),
        ),
        Some("i8") => ints(npy.into_vec::<i64>().map_err(read_err)?),
        Some("f4") => floats(
            npy.into_vec::<f32>()
                .map_err(read_err)?
                .into_iter()
                .map(f64::from)
                .collect(),
        )?,
        Some("f8") => floats(npy.into_vec::<f64>().map_err(read_err)?)?,
        _ => return Err(unreadable()),
    };
    let (d, rank) = (shape[1] as usize, shape[2] as usize);
    if data.len() != 3 * d * rank {
        return Err(unreadable());
    }
    // A Fortran-ordered array stores element (f, row, r) at f + 3 (row + d r).
    let data = if fortran {
        let mut c = Vec::with_capacity(data.len());
        for f in 0..3 {
            for row in 0..d {
                for r in 0..rank {
                    c.push(data[f + 3 * (row + d * r)]);
                }
            }
        }
        c
    } else {
        data
    };
    // Blocks with one row per entry (row-major), one column per product.
    let block = |f: usize, rows: Vec<usize>| -> Vec<Vec<Frac>> {
        rows.into_iter()
            .map(|row| data[(f * d + row) * rank..][..rank].to_vec())
            .collect()
    };
    // Their third factor indexes (A B)^T: entry (s, t) of C is their row t*m + s.
    let c_rows = (0..m * n).map(|c| (c % n) * m + c / n).collect();
    let blocks = [
        block(0, (0..m * k).collect()),
        block(1, (0..k * n).collect()),
        block(2, c_rows),
    ];
    let provenance = json!({
        "source": "import",
        "format": "alphatensor",
        "file": path.file_name().map(|s| s.to_string_lossy().into_owned()),
        "key": key,
        "note": "third factor transposed (AlphaTensor's W is for (A B)^T)",
    });
    let name = format!("alphatensor-{m}{k}{n}-{rank}");
    finish(path, name, (m, k, n), blocks, provenance)
}

/// Largest array (elements) strass imports from an `.npz` archive.
#[cfg(feature = "cli")]
const MAX_NPZ_ELEMENTS: u64 = 1 << 22;

/// Largest `.npy` header strass reads (bytes); numpy writes headers of about 100 bytes.
#[cfg(feature = "cli")]
const MAX_NPY_HEADER: usize = 1 << 16;

/// Reads the `.npy` preamble and header of `r` with a bounded header length and extracts the
/// `shape` tuple (checked so that its product fits in a `u64`). Returns the raw bytes read
/// (for `npyz` to interpret) and the shape.
#[cfg(feature = "cli")]
fn read_npy_header(r: &mut impl std::io::Read) -> Result<(Vec<u8>, Vec<u64>), String> {
    let mut pre = [0u8; 8];
    r.read_exact(&mut pre)
        .map_err(|e| format!("not an .npy array: {e}"))?;
    if &pre[..6] != b"\x93NUMPY" {
        return Err("not an .npy array (no magic number)".into());
    }
    let mut bytes = pre.to_vec();
    let len = match pre[6] {
        1 => {
            let mut b = [0u8; 2];
            r.read_exact(&mut b).map_err(|e| e.to_string())?;
            bytes.extend_from_slice(&b);
            u16::from_le_bytes(b) as usize
        }
        2 | 3 => {
            let mut b = [0u8; 4];
            r.read_exact(&mut b).map_err(|e| e.to_string())?;
            bytes.extend_from_slice(&b);
            u32::from_le_bytes(b) as usize
        }
        v => return Err(format!("unsupported .npy version {v}")),
    };
    if len > MAX_NPY_HEADER {
        return Err(format!(
            "header of {len} bytes, beyond the limit of {MAX_NPY_HEADER}"
        ));
    }
    let start = bytes.len();
    bytes.resize(start + len, 0);
    r.read_exact(&mut bytes[start..])
        .map_err(|e| format!("truncated header: {e}"))?;
    let text = String::from_utf8_lossy(&bytes[start..]);
    let shape = npy_shape(&text).ok_or_else(|| format!("no readable shape in header {text:?}"))?;
    Ok((bytes, shape))
}

/// The `shape` tuple of an `.npy` header dictionary, e.g. `(3, 4, 7)`; `None` when absent,
/// malformed, or when the number of elements overflows a `u64`.
#[cfg(feature = "cli")]
fn npy_shape(header: &str) -> Option<Vec<u64>> {
    let at = header.find("'shape'")?;
    let rest = header[at + 7..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let inner = rest.strip_prefix('(')?;
    let inner = &inner[..inner.find(')')?];
    let dims = inner
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| x.strip_suffix('L').unwrap_or(x).parse::<u64>().ok())
        .collect::<Option<Vec<u64>>>()?;
    dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d))?;
    Some(dims)
}
