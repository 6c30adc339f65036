//! SUMMA (van de Geijn and Watts, 1997) on a `pr x pc` grid, on the grid layout of
//! [`crate::layout`]: rank `(i, j)` holds the blocks `A_ij` (`m'/pr x k'/pc`), `B_ij`
//! (`k'/pr x n'/pc`) and `C_ij` (`m'/pr x n'/pc`). The inner dimension is cut into
//! `q = lcm(pr, pc)` panels of width `k'/q`; for each panel the grid column owning it
//! broadcasts its A panel along the grid rows, the grid row owning it broadcasts its B panel
//! along the grid columns (ring broadcasts, [`crate::comm::ring_bcast`]), and every rank adds
//! the panels' product into its C block with strass's engine.

use crate::comm::ring_bcast;
use crate::mem::Tracked;
use crate::Scalar;
use mpi::topology::{Color, SimpleCommunicator};
use mpi::traits::*;

/// The grid of a SUMMA run: this rank's row and column communicators.
pub struct Summa {
    pr: usize,
    pc: usize,
    i: usize,
    j: usize,
    row: SimpleCommunicator,
    col: SimpleCommunicator,
}

impl Summa {
    /// Arranges `world` (of size `pr * pc`) as the grid. Collective.
    pub fn new(world: &SimpleCommunicator, pr: usize, pc: usize) -> Summa {
        let r = world.rank() as usize;
        let (i, j) = (r / pc, r % pc);
        let row = world
            .split_by_color_with_key(Color::with_value(i as i32), j as i32)
            .expect("every rank has a row");
        let col = world
            .split_by_color_with_key(Color::with_value(j as i32), i as i32)
            .expect("every rank has a column");
        Summa {
            pr,
            pc,
            i,
            j,
            row,
            col,
        }
    }

    /// This rank's C block from its blocks of the padded A and B (dimensions `m' k' n'`).
    /// Collective over the grid.
    pub fn multiply<T: Scalar>(
        &self,
        a: &[T],
        b: &[T],
        (mp, kp, np): (usize, usize, usize),
    ) -> Result<Tracked<T>, String> {
        let (pr, pc) = (self.pr, self.pc);
        let q = crate::layout::lcm(pr, pc);
        let (bm, bka, bn) = (mp / pr, kp / pc, np / pc);
        let w = kp / q;
        debug_assert_eq!(a.len(), bm * bka);
        debug_assert_eq!(b.len(), kp / pr * bn);
        let mut c = Tracked::zeros(bm * bn);
        let mut ap = Tracked::zeros(bm * w);
        let mut bp = Tracked::zeros(w * bn);
        for t in 0..q {
            let (oc, ao) = (t / (q / pc), (t % (q / pc)) * w);
            if self.j == oc {
                for r in 0..bm {
                    ap[r * w..(r + 1) * w].copy_from_slice(&a[r * bka + ao..r * bka + ao + w]);
                }
            }
            ring_bcast(&self.row, oc, &mut ap);
            let (or, bo) = (t / (q / pr), (t % (q / pr)) * w);
            if self.i == or {
                bp.copy_from_slice(&b[bo * bn..(bo + w) * bn]);
            }
            ring_bcast(&self.col, or, &mut bp);
            crate::local_mul_add(&ap, &bp, &mut c, bm, w, bn)?;
        }
        Ok(c)
    }
}
