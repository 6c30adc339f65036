//! The per-machine cutoff file written by `strass tune` and read by the kernel.
//! (Filled in by the benchmark/tuning issue.)

use crate::kernel::Leaf;

/// The tuned cutoff for this dtype, leaf and thread count, if a valid tuning file has one.
pub fn cutoff_for(_dtype: &str, _leaf: Leaf, _threads: usize) -> Option<usize> {
    None
}
