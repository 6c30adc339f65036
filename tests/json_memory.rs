//! The scheme JSON loader's memory stays within a small constant factor of the file: the U, V, W
//! coefficient matrices it returns are its only large allocation (it used to build a
//! `serde_json::Value` of about 21 times the file's size first).
//!
//! A counting global allocator measures the peak of live heap bytes while a scheme is parsed. This
//! file has a single test so that no other test allocates concurrently.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use strass::Scheme;

/// Wraps the system allocator and tracks live and peak bytes.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

fn shrank(bytes: usize) {
    LIVE.fetch_sub(bytes, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so `System`'s
// guarantees hold; the counters are only bookkeeping.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which is `System.alloc`'s.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by this allocator (that is, by `System`) with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller upholds `realloc`'s contract, which is `System.realloc`'s.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            // Counted as if the old and the new block were both live for a moment (a copy).
            grew(new_size);
            shrank(layout.size());
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns its result with the peak of heap bytes it held above what was live when
/// it started.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = LIVE.load(Ordering::Relaxed);
    PEAK.store(base, Ordering::Relaxed);
    let out = f();
    (out, PEAK.load(Ordering::Relaxed) - base)
}

/// Heap bytes held by a scheme's coefficient matrices (row buffers and row headers).
fn matrix_bytes(s: &Scheme) -> usize {
    let m = |rows: &[Vec<i64>]| {
        std::mem::size_of_val(rows) + rows.iter().map(|r| r.capacity() * 8).sum::<usize>()
    };
    m(s.u()) + m(s.v()) + m(s.w())
}

#[test]
fn loading_a_large_scheme_costs_little_more_than_its_matrices() {
    // The classical <16,16,16;4096> scheme: valid, 786,432 coefficients, about 9 MB as written by
    // `to_json_string` (mostly "0, ").
    let original = Scheme::classical(16, 16, 16).unwrap();
    let text = original.to_json_string();
    let file = text.len();
    assert!(file > 8 << 20, "{file}");
    assert!((file as u64) < strass::fsio::MAX_SCHEME_FILE);

    let (loaded, peak_load) = peak_during(|| Scheme::from_json_str(&text, Path::new("c16.json")));
    let loaded = loaded.unwrap();
    assert_eq!(loaded, original);
    let matrices = matrix_bytes(&loaded);
    drop(loaded);

    let (deser, peak_serde) = peak_during(|| serde_json::from_str::<Scheme>(&text));
    assert_eq!(deser.unwrap(), original);

    println!(
        "file {file} B, matrices {matrices} B, peak from_json_str {peak_load} B ({:.2}x file), \
         peak serde_json::from_str::<Scheme> {peak_serde} B ({:.2}x file)",
        peak_load as f64 / file as f64,
        peak_serde as f64 / file as f64
    );
    for (what, peak) in [
        ("Scheme::from_json_str", peak_load),
        ("Deserialize for Scheme", peak_serde),
    ] {
        // The matrices are 8 bytes per coefficient against 3 bytes of text ("0, "): about 2.7x
        // the file. Everything else the loader holds at its peak must stay small beside them.
        assert!(
            peak < 4 * file,
            "{what}: peak {peak} B is more than 4x the {file} B file"
        );
        assert!(
            peak < matrices + matrices / 4,
            "{what}: peak {peak} B is more than 1.25x the {matrices} B of the matrices"
        );
    }
}
