//! CAPS on `P = 7^b q` ranks (`q` a power of 2, usually 1), on the row-cyclic layout of
//! [`crate::layout`].
//!
//! Each rank holds, at every level of the recursion, its rows of the current sub-problem's
//! A (`am x ak`, `am = M/p`) and B (`bk x bn`, `bk = K/p`) for a group of `p` ranks; the
//! padding guarantees that those rows are the same rows of every quadrant, so the quadrants of
//! the local share are the local shares of the quadrants.
//!
//! * **DFS step** (group unchanged): for `r = 1..7` in turn, form this rank's share of
//!   `S_r = sum U[r] A_q` and `T_r = sum V[r] B_q` locally, recurse, add `M_r` into C's
//!   quadrants. No communication; memory of one product at a time.
//! * **BFS step** (group of `p = 7 p'` splits into seven of `p'`: rank `g p' + j` goes to
//!   group `g`): form all seven `S_r`, `T_r` shares locally, exchange them among the seven
//!   ranks `(0..7, j)` so that group `g` holds `S_g`, `T_g` row-cyclic over its `p'` ranks
//!   (row `s` of the new share is row `s / 7` of what `(s % 7, j)` sent), recurse in the group,
//!   then the inverse exchange brings each rank its rows of all seven `M_r` to add into C.
//! * **Leaf** (after the BFS steps, a group of `q` ranks): with `q = 1` the full sub-problem is
//!   local and strass's engine multiplies it (and may take further Strassen levels itself);
//!   with `q > 1` (the extension to `P = 7^b 2^c`) the group's ranks all-gather B along a ring
//!   (`(q - 1)/q` of the leaf's B sent per rank) and each multiplies its rows of A by it, a
//!   1D classical step.
//!
//! The schedule is `dfs` DFS steps, then `bfs` BFS steps (see [`crate::cost::choose_schedule`]).
//! Buffers are allocated and freed in the order that [`crate::cost::caps_memory`] models.

use crate::comm::{exchange7, ring_allgather};
use crate::cost::Schedule;
use crate::mem::Tracked;
use crate::strassen::{accumulate, combine, deinterleave, interleave, U, V};
use crate::Scalar;
use mpi::topology::{Color, SimpleCommunicator};
use mpi::traits::*;

/// The communicators of a CAPS run: `groups[j]` is this rank's group at BFS step `j`
/// (`groups[0]` = all ranks), created once up front.
pub struct Caps {
    groups: Vec<SimpleCommunicator>,
    sched: Schedule,
}

impl Caps {
    /// Splits `world` (of size `7^sched.bfs q`) into the nested groups. Collective.
    pub fn new(world: &SimpleCommunicator, sched: Schedule) -> Caps {
        let mut groups = vec![world.duplicate()];
        for _ in 0..sched.bfs {
            let last = groups.last().expect("non-empty");
            let pp = last.size() / 7;
            let color = last.rank() / pp;
            let sub = last
                .split_by_color_with_key(Color::with_value(color), last.rank() % pp)
                .expect("every rank has a colour");
            groups.push(sub);
        }
        Caps { groups, sched }
    }

    /// C's local share (`am x bn`, `am = M'/P`) from the local shares of the padded A
    /// (`M'/P x K'`) and B (`K'/P x N'`). Collective over all ranks.
    pub fn multiply<T: Scalar>(
        &self,
        a: &[T],
        b: &[T],
        (mp, kp, np): (usize, usize, usize),
    ) -> Result<Tracked<T>, String> {
        let p = self.groups[0].size() as usize;
        self.rec(a, b, (mp / p, kp, kp / p, np), self.sched.dfs, 0)
    }

    fn rec<T: Scalar>(
        &self,
        a: &[T],
        b: &[T],
        (am, ak, bk, bn): (usize, usize, usize, usize),
        dfs: u32,
        j: usize,
    ) -> Result<Tracked<T>, String> {
        if dfs == 0 && j == self.groups.len() - 1 {
            debug_assert_eq!(am * ak, a.len());
            let comm = &self.groups[j];
            if comm.size() == 1 {
                let mut c = Tracked::zeros(am * bn);
                crate::local_mul(a, b, &mut c, am, ak, bn)?;
                return Ok(c);
            }
            // A leaf shared by q ranks: gather all of B, multiply this rank's rows of A.
            let full = {
                let chunks = ring_allgather(comm, b);
                Tracked::new(interleave(&chunks, bk, bn))
            };
            debug_assert_eq!(full.len(), ak * bn);
            let mut c = Tracked::zeros(am * bn);
            crate::local_mul(a, &full, &mut c, am, ak, bn)?;
            return Ok(c);
        }
        let half = (am / 2, ak / 2, bk / 2, bn / 2);
        if dfs > 0 {
            let mut c = Tracked::zeros(am * bn);
            for r in 0..7 {
                let s = Tracked::new(combine(a, am, ak, &U[r]));
                let t = Tracked::new(combine(b, bk, bn, &V[r]));
                let m = self.rec(&s, &t, half, dfs - 1, j)?;
                accumulate(&mut c, am, bn, &m, r);
            }
            return Ok(c);
        }
        let comm = &self.groups[j];
        let pp = comm.size() as usize / 7;
        // S: the seven shares, exchanged, interleaved into this group's S_g.
        let s_new = {
            let shares: Vec<_> = (0..7)
                .map(|r| Tracked::new(combine(a, am, ak, &U[r])))
                .collect();
            let got = exchange7(comm, pp, &shares);
            drop(shares);
            Tracked::new(interleave(&got, am / 2, ak / 2))
        };
        let t_new = {
            let shares: Vec<_> = (0..7)
                .map(|r| Tracked::new(combine(b, bk, bn, &V[r])))
                .collect();
            let got = exchange7(comm, pp, &shares);
            drop(shares);
            Tracked::new(interleave(&got, bk / 2, bn / 2))
        };
        let m = self.rec(
            &s_new,
            &t_new,
            (7 * am / 2, ak / 2, 7 * bk / 2, bn / 2),
            0,
            j + 1,
        )?;
        drop((s_new, t_new));
        let chunks: Vec<_> = deinterleave(&m, 7 * am / 2, bn / 2)
            .into_iter()
            .map(Tracked::new)
            .collect();
        drop(m);
        let got = exchange7(comm, pp, &chunks);
        drop(chunks);
        let mut c = Tracked::zeros(am * bn);
        for (r, mr) in got.iter().enumerate() {
            accumulate(&mut c, am, bn, mr, r);
        }
        Ok(c)
    }
}
