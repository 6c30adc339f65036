//! Counting the bytes of the buffers an algorithm holds: every matrix buffer of [`crate::caps`]
//! and [`crate::summa`] is a [`Tracked`], which adds its size to a process-wide counter while
//! alive; [`peak`] is the high-water mark (`memory_peak_max` in the JSON line). The local
//! engine's own workspace and MPI's buffers are not in it (`rss_peak_max` covers everything).

use std::sync::atomic::{AtomicU64, Ordering};

static LIVE: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);

/// A vector whose bytes count towards [`live`] and [`peak`] until it is dropped.
#[derive(Debug)]
pub struct Tracked<T> {
    v: Vec<T>,
}

impl<T> Tracked<T> {
    /// Tracks `v` (its length, not its capacity).
    pub fn new(v: Vec<T>) -> Self {
        let now = LIVE.fetch_add(bytes_of(&v), Ordering::Relaxed) + bytes_of(&v);
        PEAK.fetch_max(now, Ordering::Relaxed);
        Tracked { v }
    }
}

impl<T: Clone + Default> Tracked<T> {
    /// A tracked vector of `len` default (zero) elements.
    pub fn zeros(len: usize) -> Self {
        Self::new(vec![T::default(); len])
    }
}

fn bytes_of<T>(v: &[T]) -> u64 {
    std::mem::size_of_val(v) as u64
}

impl<T> Drop for Tracked<T> {
    fn drop(&mut self) {
        LIVE.fetch_sub(bytes_of(&self.v), Ordering::Relaxed);
    }
}

impl<T> std::ops::Deref for Tracked<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.v
    }
}

impl<T> std::ops::DerefMut for Tracked<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.v
    }
}

/// Bytes held now.
pub fn live() -> u64 {
    LIVE.load(Ordering::Relaxed)
}

/// Highest [`live`] since the start or the last [`reset_peak`].
pub fn peak() -> u64 {
    PEAK.load(Ordering::Relaxed)
}

/// Sets the peak to what is held now.
pub fn reset_peak() {
    PEAK.store(live(), Ordering::Relaxed);
}

/// The process's peak resident set (VmHWM of /proc/self/status) in bytes, if readable.
pub fn rss_peak() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_live_and_peak() {
        let base = live();
        reset_peak();
        {
            let a = Tracked::<f64>::zeros(100);
            let b = Tracked::<f32>::zeros(10);
            assert_eq!(live() - base, 840);
            drop(a);
            assert_eq!(live() - base, 40);
            drop(b);
        }
        assert_eq!(live(), base);
        assert_eq!(peak() - base, 840);
    }
}
