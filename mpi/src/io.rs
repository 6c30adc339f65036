//! Distributed matrices on disk: one block file per rank.
//!
//! File `PREFIX.rank<R>.smb` holds rank `R`'s logical (unpadded) local part of the matrix in the
//! layout it was written with ([`crate::layout::Layout`]). Format `strass-mpi-block/1`, all
//! integers little-endian `u64`:
//!
//! ```text
//! magic "SMPIBLK1" (8 bytes)
//! elem      4 (f32) or 8 (f64)
//! rows cols the global logical matrix size
//! kind      0 = row-cyclic, 1 = grid
//! a b c d   row-cyclic: p 0 0 0; grid: pr pc row_block col_block
//! rank      the rank that wrote it
//! lr lc     local rows and columns (must match the layout)
//! data      lr * lc elements, row-major, little-endian IEEE 754
//! ```
//!
//! Writing is two-phase so that no partial file is left: every rank writes a temporary file
//! beside the target ([`write_temp`]), the ranks agree that all succeeded, then each renames
//! its file into place ([`commit`]); on any failure each removes its temporary ([`discard`]).

use crate::layout::Layout;
use crate::Scalar;
use std::io::Write;
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"SMPIBLK1";
const HEADER_WORDS: usize = 11;

/// What a block file describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    /// Global logical rows.
    pub rows: usize,
    /// Global logical columns.
    pub cols: usize,
    /// The layout the blocks follow.
    pub layout: Layout,
    /// The rank whose part this is.
    pub rank: usize,
}

/// The block file of `rank` under `prefix`.
pub fn block_path(prefix: &Path, rank: usize) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(format!(".rank{rank}.smb"));
    PathBuf::from(s)
}

/// Writes `data` (the local part, `lr x lc` row-major) to a temporary file beside `path`,
/// synced to disk; returns the temporary's path.
pub fn write_temp<T: Scalar>(path: &Path, h: &BlockHeader, data: &[T]) -> std::io::Result<PathBuf> {
    let (_, _, lr, _, lc) = h.layout.local_part(h.rank, h.rows, h.cols);
    if data.len() != lr * lc {
        return Err(std::io::Error::other(format!(
            "block of rank {} has {} elements, its layout says {lr} x {lc}",
            h.rank,
            data.len()
        )));
    }
    let (kind, a, b, c, d) = match h.layout {
        Layout::RowCyclic { p } => (0, p, 0, 0, 0),
        Layout::Grid {
            pr,
            pc,
            row_block,
            col_block,
        } => (1, pr, pc, row_block, col_block),
    };
    let mut bytes = Vec::with_capacity(8 + 8 * HEADER_WORDS + data.len() * T::BYTES);
    bytes.extend_from_slice(MAGIC);
    for w in [T::BYTES, h.rows, h.cols, kind, a, b, c, d, h.rank, lr, lc] {
        bytes.extend_from_slice(&(w as u64).to_le_bytes());
    }
    for x in data {
        x.put_le(&mut bytes);
    }
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other(format!("{} is not a file path", path.display())))?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let res = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()
    })();
    match res {
        Ok(()) => Ok(tmp),
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Moves a temporary written by [`write_temp`] into place.
pub fn commit(tmp: &Path, path: &Path) -> std::io::Result<()> {
    std::fs::rename(tmp, path)
}

/// Removes a temporary written by [`write_temp`] (ignoring a missing one).
pub fn discard(tmp: &Path) {
    let _ = std::fs::remove_file(tmp);
}

/// Reads a block file, checking it against what the reader expects: `elem` bytes per element,
/// the `layout`, the `rank` and (if given) the global shape.
pub fn read_block<T: Scalar>(
    path: &Path,
    layout: &Layout,
    rank: usize,
) -> Result<(BlockHeader, Vec<T>), String> {
    let err = |m: String| format!("{}: {m}", path.display());
    let bytes = std::fs::read(path).map_err(|e| err(e.to_string()))?;
    if bytes.len() < 8 + 8 * HEADER_WORDS || &bytes[..8] != MAGIC {
        return Err(err("not a strass-mpi-block/1 file".into()));
    }
    let w: Vec<usize> = (0..HEADER_WORDS)
        .map(|i| u64::from_le_bytes(bytes[8 + 8 * i..16 + 8 * i].try_into().unwrap()) as usize)
        .collect();
    if w[0] != T::BYTES {
        return Err(err(format!(
            "holds {}-byte elements, this run uses {} ({})",
            w[0],
            T::BYTES,
            T::DTYPE
        )));
    }
    let file_layout = match w[3] {
        0 => Layout::RowCyclic { p: w[4] },
        1 => Layout::Grid {
            pr: w[4],
            pc: w[5],
            row_block: w[6],
            col_block: w[7],
        },
        k => return Err(err(format!("unknown layout kind {k}"))),
    };
    let h = BlockHeader {
        rows: w[1],
        cols: w[2],
        layout: file_layout,
        rank: w[8],
    };
    if file_layout != *layout || h.rank != rank {
        return Err(err(format!(
            "written as rank {} of {:?}; this run needs rank {rank} of {layout:?} (same ranks, algorithm and shape)",
            h.rank, file_layout
        )));
    }
    let (_, _, lr, _, lc) = layout.local_part(rank, h.rows, h.cols);
    if (w[9], w[10]) != (lr, lc) {
        return Err(err(format!(
            "header says {} x {} local elements, the layout {lr} x {lc}",
            w[9], w[10]
        )));
    }
    let body = &bytes[8 + 8 * HEADER_WORDS..];
    if body.len() != lr * lc * T::BYTES {
        return Err(err(format!(
            "{} data bytes, expected {} (truncated or padded file)",
            body.len(),
            lr * lc * T::BYTES
        )));
    }
    let data = body.chunks_exact(T::BYTES).map(T::get_le).collect();
    Ok((h, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_rejections() {
        let dir = tempfile::tempdir().unwrap();
        let lay = Layout::RowCyclic { p: 3 };
        let h = BlockHeader {
            rows: 7,
            cols: 4,
            layout: lay,
            rank: 1,
        };
        // rank 1 of 3 holds rows 1 and 4.
        let data: Vec<f64> = (0..8).map(|i| i as f64 * 0.5 - 1.0).collect();
        let path = block_path(&dir.path().join("a"), 1);
        assert!(path.ends_with("a.rank1.smb"));
        let tmp = write_temp(&path, &h, &data).unwrap();
        assert!(!path.exists());
        commit(&tmp, &path).unwrap();
        assert!(!tmp.exists());
        let (h2, back) = read_block::<f64>(&path, &lay, 1).unwrap();
        assert_eq!(h2, h);
        assert_eq!(back, data);
        // Wrong dtype, rank, layout.
        assert!(read_block::<f32>(&path, &lay, 1)
            .unwrap_err()
            .contains("8-byte"));
        assert!(read_block::<f64>(&path, &lay, 2)
            .unwrap_err()
            .contains("rank"));
        assert!(read_block::<f64>(&path, &Layout::RowCyclic { p: 4 }, 1).is_err());
        // Truncated.
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        assert!(read_block::<f64>(&path, &lay, 1)
            .unwrap_err()
            .contains("truncated"));
        // Wrong element count is refused at write time, leaving nothing behind.
        assert!(write_temp(&path, &h, &data[..5]).is_err());
        let tmp2 = write_temp(&dir.path().join("b.rank1.smb"), &h, &data).unwrap();
        discard(&tmp2);
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(left.len(), 1, "{left:?}");
    }
}
