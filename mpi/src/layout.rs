//! How matrices are split over ranks, and the padding each algorithm needs.
//!
//! Two layouts, one per algorithm family; a distributed matrix always carries its [`Layout`].
//!
//! * [`Layout::RowCyclic`] (CAPS): over `p` ranks, global row `i` lives on rank `i mod p`, as
//!   local row `i / p`; each rank stores its rows, all columns, row-major. CAPS pads the
//!   rows of A and B (m and k) up to a multiple of `2^l p` and the columns (k of A, n of B) up
//!   to a multiple of `2^l`, where `l` is the number of Strassen steps (BFS + DFS) it takes
//!   across ranks. With those multiples, every quadrant of every sub-problem starts on a row
//!   that is a multiple of the group size, so a rank holds the *same* rows of each quadrant:
//!   forming Strassen's sums is local, and a BFS step is a 7-way exchange (see [`crate::caps`]).
//!   Padding rows `i >= m` fall on rank `i mod p` exactly like real rows, so padding is local
//!   zero rows and columns, never communication.
//! * [`Layout::Grid`] (SUMMA): ranks form a `pr x pc` grid, rank `r` at `(r / pc, r % pc)`,
//!   holding one contiguous block: rows are cut into `pr` blocks of `rows' / pr`, columns into
//!   `pc` blocks of `cols' / pc` (the last blocks shorter or empty on the logical matrix), where
//!   the padded sizes are `m' = round_up(m, pr)`, `n' = round_up(n, pc)` and, for the inner
//!   dimension, `k' = round_up(k, lcm(pr, pc))` so that SUMMA's panels line up: A is cut
//!   `m'/pr x k'/pc`, B `k'/pr x n'/pc`, C `m'/pr x n'/pc`.
//!
//! A file holds one rank's logical (unpadded) part; see [`crate::io`].

use serde::{Deserialize, Serialize};

/// Where the elements of a distributed matrix live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Layout {
    /// Row `i` on rank `i mod p` (CAPS).
    RowCyclic {
        /// Number of ranks.
        p: usize,
    },
    /// `pr x pc` grid of contiguous blocks (SUMMA); `row_block`/`col_block` are the block sizes.
    Grid {
        /// Grid rows.
        pr: usize,
        /// Grid columns.
        pc: usize,
        /// Rows per block (the last blocks may be shorter or empty).
        row_block: usize,
        /// Columns per block.
        col_block: usize,
    },
}

/// Smallest multiple of `q` that is `>= x` (`q >= 1`).
pub fn round_up(x: usize, q: usize) -> usize {
    x.div_ceil(q) * q
}

/// Greatest common divisor.
pub fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Least common multiple (of positive numbers).
pub fn lcm(a: usize, b: usize) -> usize {
    a / gcd(a, b) * b
}

/// `Some(k)` when `p == 7^k`.
pub fn log7(p: usize) -> Option<u32> {
    let mut q = 1usize;
    let mut k = 0;
    while q < p {
        q = q.checked_mul(7)?;
        k += 1;
    }
    (q == p).then_some(k)
}

/// `Some((b, q))` when `p == 7^b * q` with `q` a power of 2: CAPS's BFS steps and the size of
/// the groups that finish each leaf product together ([`crate::caps`]).
pub fn caps_split(p: usize) -> Option<(u32, usize)> {
    if p == 0 {
        return None;
    }
    let (mut q, mut b) = (p, 0);
    while q.is_multiple_of(7) {
        q /= 7;
        b += 1;
    }
    q.is_power_of_two().then_some((b, q))
}

/// The most square grid `pr x pc = p` with `pr <= pc`.
pub fn grid_shape(p: usize) -> (usize, usize) {
    let mut pr = (p as f64).sqrt() as usize;
    while pr > 1 && !p.is_multiple_of(pr) {
        pr -= 1;
    }
    let pr = pr.max(1);
    (pr, p / pr)
}

/// Padded dimensions `(m', k', n')` for CAPS on `p` ranks with `l` Strassen steps.
pub fn caps_padded(m: usize, k: usize, n: usize, p: usize, l: u32) -> (usize, usize, usize) {
    let two = 1usize << l;
    (round_up(m, two * p), round_up(k, two * p), round_up(n, two))
}

/// Padded dimensions `(m', k', n')` for SUMMA on a `pr x pc` grid: `m'` a multiple of `pr`,
/// `k'` of `lcm(pr, pc)`, `n'` of `pc`.
pub fn summa_padded(m: usize, k: usize, n: usize, pr: usize, pc: usize) -> (usize, usize, usize) {
    (round_up(m, pr), round_up(k, lcm(pr, pc)), round_up(n, pc))
}

impl Layout {
    /// The grid layout of a `rows x cols` operand whose padded size is `prows x pcols`.
    pub fn grid(pr: usize, pc: usize, prows: usize, pcols: usize) -> Layout {
        Layout::Grid {
            pr,
            pc,
            row_block: prows / pr,
            col_block: pcols / pc,
        }
    }

    /// Number of ranks.
    pub fn ranks(&self) -> usize {
        match *self {
            Layout::RowCyclic { p } => p,
            Layout::Grid { pr, pc, .. } => pr * pc,
        }
    }

    /// The global rows and columns held by `rank` of a logical `rows x cols` matrix, as
    /// `(first_row, row_step, local_rows, first_col, local_cols)`: local row `s` is global row
    /// `first_row + s * row_step`, local column `t` is global column `first_col + t`.
    pub fn local_part(
        &self,
        rank: usize,
        rows: usize,
        cols: usize,
    ) -> (usize, usize, usize, usize, usize) {
        match *self {
            Layout::RowCyclic { p } => {
                let lr = if rank < rows {
                    (rows - rank).div_ceil(p)
                } else {
                    0
                };
                (rank, p, lr, 0, cols)
            }
            Layout::Grid {
                pc,
                row_block,
                col_block,
                ..
            } => {
                let (i, j) = (rank / pc, rank % pc);
                let r0 = (i * row_block).min(rows);
                let r1 = ((i + 1) * row_block).min(rows);
                let c0 = (j * col_block).min(cols);
                let c1 = ((j + 1) * col_block).min(cols);
                (r0, 1, r1 - r0, c0, c1 - c0)
            }
        }
    }

    /// The rank holding global element `(i, j)` and its local `(row, col)` there.
    pub fn owner(&self, i: usize, j: usize) -> (usize, usize, usize) {
        match *self {
            Layout::RowCyclic { p } => (i % p, i / p, j),
            Layout::Grid {
                pc,
                row_block,
                col_block,
                ..
            } => {
                let (bi, bj) = (i / row_block, j / col_block);
                (bi * pc + bj, i - bi * row_block, j - bj * col_block)
            }
        }
    }
}

/// Copies a `rows x cols` row-major block into the top-left of a zeroed `prows x pcols` one.
pub fn pad<T: Copy + Default>(
    x: &[T],
    rows: usize,
    cols: usize,
    prows: usize,
    pcols: usize,
) -> Vec<T> {
    assert!(rows <= prows && cols <= pcols && x.len() == rows * cols);
    let mut out = vec![T::default(); prows * pcols];
    for r in 0..rows {
        out[r * pcols..r * pcols + cols].copy_from_slice(&x[r * cols..(r + 1) * cols]);
    }
    out
}

/// The top-left `rows x cols` of a row-major `prows x pcols` block (inverse of [`pad`]).
pub fn unpad<T: Copy>(x: &[T], pcols: usize, rows: usize, cols: usize) -> Vec<T> {
    let mut out = Vec::with_capacity(rows * cols);
    for r in 0..rows {
        out.extend_from_slice(&x[r * pcols..r * pcols + cols]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log7_and_grid() {
        assert_eq!(log7(1), Some(0));
        assert_eq!(log7(7), Some(1));
        assert_eq!(log7(49), Some(2));
        assert_eq!(log7(2401), Some(4));
        assert_eq!(log7(8), None);
        assert_eq!(log7(48), None);
        assert_eq!(caps_split(1), Some((0, 1)));
        assert_eq!(caps_split(4), Some((0, 4)));
        assert_eq!(caps_split(14), Some((1, 2)));
        assert_eq!(caps_split(196), Some((2, 4)));
        assert_eq!(caps_split(6), None);
        assert_eq!(caps_split(21), None);
        assert_eq!(caps_split(0), None);
        assert_eq!(grid_shape(1), (1, 1));
        assert_eq!(grid_shape(4), (2, 2));
        assert_eq!(grid_shape(6), (2, 3));
        assert_eq!(grid_shape(7), (1, 7));
        assert_eq!(grid_shape(12), (3, 4));
        assert_eq!(lcm(4, 6), 12);
    }

    #[test]
    fn caps_padding_makes_quadrants_align() {
        let (mp, kp, np) = caps_padded(700, 1000, 1300, 7, 2);
        assert_eq!((mp, kp, np), (700, 1008, 1300));
        // Every sub-problem after s steps has rows divisible by 2 * group size.
        for s in 0..2 {
            let rows = mp >> s;
            assert_eq!(rows % (2 * 7), 0);
        }
        assert_eq!(caps_padded(5, 5, 5, 1, 0), (5, 5, 5));
        assert_eq!(caps_padded(5, 5, 5, 49, 2), (196, 196, 8));
    }

    #[test]
    fn every_element_has_exactly_one_owner() {
        let (rows, cols) = (23, 17);
        let (pr, pc) = (2, 3);
        let layouts = [
            Layout::RowCyclic { p: 7 },
            Layout::RowCyclic { p: 30 },
            Layout::grid(pr, pc, round_up(rows, pr), round_up(cols, lcm(pr, pc))),
        ];
        for lay in layouts {
            let mut count = vec![0; rows * cols];
            for rank in 0..lay.ranks() {
                let (r0, rstep, lr, c0, lc) = lay.local_part(rank, rows, cols);
                for s in 0..lr {
                    for t in 0..lc {
                        let (i, j) = (r0 + s * rstep, c0 + t);
                        count[i * cols + j] += 1;
                        assert_eq!(lay.owner(i, j), (rank, s, t), "{lay:?}");
                    }
                }
            }
            assert!(count.iter().all(|&c| c == 1), "{lay:?}");
        }
    }

    #[test]
    fn pad_round_trip() {
        let x: Vec<i32> = (0..6).collect();
        let p = pad(&x, 2, 3, 3, 5);
        assert_eq!(p, vec![0, 1, 2, 0, 0, 3, 4, 5, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(unpad(&p, 5, 2, 3), x);
    }
}
