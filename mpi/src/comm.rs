//! The two communication patterns, on point-to-point messages so that every byte sent is
//! counted ([`bytes_sent`], [`messages_sent`]): the 7-way exchange of a CAPS BFS step, the
//! ring all-gather of a CAPS leaf shared by several ranks, and the ring broadcast of SUMMA.

use crate::mem::Tracked;
use crate::Scalar;
use mpi::point_to_point::send_receive_into;
use mpi::traits::*;
use std::sync::atomic::{AtomicU64, Ordering};

static BYTES: AtomicU64 = AtomicU64::new(0);
static MSGS: AtomicU64 = AtomicU64::new(0);

/// Bytes this rank has sent through this module.
pub fn bytes_sent() -> u64 {
    BYTES.load(Ordering::Relaxed)
}

/// Messages this rank has sent through this module.
pub fn messages_sent() -> u64 {
    MSGS.load(Ordering::Relaxed)
}

/// Zeroes both counters.
pub fn reset_counters() {
    BYTES.store(0, Ordering::Relaxed);
    MSGS.store(0, Ordering::Relaxed);
}

static EXIT_AT: AtomicU64 = AtomicU64::new(u64::MAX);

/// Testing (`strass-mpi --fail-rank`): this process exits with status 3, without finalising
/// MPI, just before its `n`-th send (0-based) through this module, as a rank that dies in the
/// middle of an exchange would.
pub fn exit_before_send(n: u64) {
    EXIT_AT.store(n, Ordering::Relaxed);
}

fn count<T>(len: usize) {
    if MSGS.load(Ordering::Relaxed) == EXIT_AT.load(Ordering::Relaxed) {
        eprintln!(
            "strass-mpi: exiting on purpose in the middle of the multiplication (--fail-rank)"
        );
        std::process::exit(3);
    }
    BYTES.fetch_add((len * std::mem::size_of::<T>()) as u64, Ordering::Relaxed);
    MSGS.fetch_add(1, Ordering::Relaxed);
}

/// The exchange of a BFS step in a group of `7 * pp` ranks where this rank is
/// `(g, j) = (rank / pp, rank % pp)`: `send[t]` goes to `(t, j)`, and `recv[t]` (the result)
/// comes from `(t, j)`; `recv[g]` is a copy of `send[g]`. All chunks have the same length.
/// Pairwise rounds: in round `d` the rank sends to `(g + d) % 7` and receives from
/// `(g - d) % 7`, six sends per rank.
pub fn exchange7<T: Scalar, C: Communicator>(
    comm: &C,
    pp: usize,
    send: &[Tracked<T>],
) -> Vec<Tracked<T>> {
    let rank = comm.rank() as usize;
    let (g, j) = (rank / pp, rank % pp);
    let len = send[0].len();
    let mut recv: Vec<Option<Tracked<T>>> = (0..7).map(|_| None).collect();
    recv[g] = Some(Tracked::new(send[g].to_vec()));
    for d in 1..7 {
        let dst = (g + d) % 7;
        let src = (g + 7 - d) % 7;
        let mut buf = Tracked::<T>::zeros(len);
        count::<T>(len);
        send_receive_into(
            &send[dst][..],
            &comm.process_at_rank((dst * pp + j) as i32),
            &mut buf[..],
            &comm.process_at_rank((src * pp + j) as i32),
        );
        recv[src] = Some(buf);
    }
    recv.into_iter()
        .map(|b| b.expect("all 7 received"))
        .collect()
}

/// Broadcasts `buf` from `root` along the ring `root, root+1, ...`: each rank receives the
/// buffer from its predecessor and forwards it to its successor (the last one does not), in
/// up to four pieces so that the ring pipelines. Every rank but one sends `buf.len()` elements.
pub fn ring_bcast<T: Scalar, C: Communicator>(comm: &C, root: usize, buf: &mut [T]) {
    let q = comm.size() as usize;
    if q == 1 || buf.is_empty() {
        return;
    }
    let rank = comm.rank() as usize;
    let v = (rank + q - root) % q;
    let prev = comm.process_at_rank(((rank + q - 1) % q) as i32);
    let next = comm.process_at_rank(((rank + 1) % q) as i32);
    let piece = buf.len().div_ceil(4);
    for chunk in buf.chunks_mut(piece) {
        if v > 0 {
            prev.receive_into(chunk);
        }
        if v + 1 < q {
            count::<T>(chunk.len());
            next.send(&chunk[..]);
        }
    }
}

/// Ring all-gather: every rank of `comm` contributes `mine` (all the same length) and gets all
/// contributions, indexed by rank. In step `s` a rank forwards the chunk it got in step
/// `s - 1` (its own first) to its successor: `q - 1` sends of one chunk per rank.
pub fn ring_allgather<T: Scalar, C: Communicator>(comm: &C, mine: &[T]) -> Vec<Tracked<T>> {
    let q = comm.size() as usize;
    let rank = comm.rank() as usize;
    let mut got: Vec<Option<Tracked<T>>> = (0..q).map(|_| None).collect();
    got[rank] = Some(Tracked::new(mine.to_vec()));
    let next = comm.process_at_rank(((rank + 1) % q) as i32);
    let prev = comm.process_at_rank(((rank + q - 1) % q) as i32);
    for s in 0..q.saturating_sub(1) {
        let out = (rank + q - s) % q;
        let inc = (rank + 2 * q - s - 1) % q;
        let mut buf = Tracked::<T>::zeros(mine.len());
        count::<T>(mine.len());
        send_receive_into(
            &got[out].as_ref().expect("forwarded chunk present")[..],
            &next,
            &mut buf[..],
            &prev,
        );
        got[inc] = Some(buf);
    }
    got.into_iter()
        .map(|b| b.expect("all chunks received"))
        .collect()
}
