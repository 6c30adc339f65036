//! The workspace: one zero-initialised, 64-byte aligned buffer allocated before the recursion
//! starts, carved into temporaries as the recursion descends. Nothing inside the recursion
//! allocates matrix memory.
//!
//! Large buffers (the workspace and the packed GEMM's panels, [`advise_huge_pages`]) ask Linux
//! for transparent huge pages before their first touch, so that a Strassen temporary or a packed
//! block of several MiB costs a few TLB entries instead of thousands. `STRASS_HUGE_PAGES=0`
//! turns the advice off (read once per process).

use super::{Element, KernelError};
use std::alloc::{alloc, dealloc, Layout};
use std::ptr::NonNull;

/// Cache-line alignment of the workspace.
const ALIGN: usize = 64;

/// Size of a transparent huge page on x86-64 Linux.
pub(crate) const HUGE_PAGE: usize = 2 << 20;

/// Buffers from this size on are advised to use huge pages (and the workspace is aligned to one).
pub(crate) const HUGE_PAGE_MIN: usize = 2 * HUGE_PAGE;

/// Whether huge pages are to be asked for: unless `STRASS_HUGE_PAGES=0`.
fn huge_pages_wanted() -> bool {
    static WANTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *WANTED.get_or_init(|| std::env::var("STRASS_HUGE_PAGES").map_or(true, |v| v.trim() != "0"))
}

/// Asks the OS to back the whole huge pages inside `[ptr, ptr + bytes)` with transparent huge
/// pages (`madvise(MADV_HUGEPAGE)`); call it before the memory is first touched. Only an advice:
/// where the OS does not offer huge pages (other systems, THP disabled, buffers under
/// [`HUGE_PAGE_MIN`]) nothing happens, and a failure changes nothing but speed.
pub(crate) fn advise_huge_pages(ptr: *mut u8, bytes: usize) {
    if bytes < HUGE_PAGE_MIN || !huge_pages_wanted() {
        return;
    }
    #[cfg(target_os = "linux")]
    {
        let start = (ptr as usize).next_multiple_of(HUGE_PAGE);
        let end = (ptr as usize + bytes) / HUGE_PAGE * HUGE_PAGE;
        if end > start {
            // SAFETY: madvise only changes how the kernel backs these pages, which lie inside
            // one live allocation of ours; MADV_HUGEPAGE never changes their contents.
            unsafe {
                libc::madvise(start as *mut libc::c_void, end - start, libc::MADV_HUGEPAGE);
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = ptr;
}

/// An owned, 64-byte aligned buffer, allocated zeroed; viewed as `[T]` for `T` in {f32, f64}.
pub(crate) struct Workspace {
    ptr: NonNull<u8>,
    bytes: usize,
    layout: Option<Layout>,
}

// SAFETY: Workspace owns its memory exclusively, like a Vec<u8>.
unsafe impl Send for Workspace {}
// SAFETY: shared access hands out nothing; like a Vec<u8>.
unsafe impl Sync for Workspace {}

impl Workspace {
    /// Allocates `bytes` zeroed bytes, or reports [`KernelError::Alloc`].
    pub fn new(bytes: usize) -> Result<Self, KernelError> {
        if bytes == 0 {
            return Ok(Workspace {
                ptr: NonNull::<u64>::dangling().cast(),
                bytes: 0,
                layout: None,
            });
        }
        let align = if bytes >= HUGE_PAGE_MIN {
            HUGE_PAGE
        } else {
            ALIGN
        };
        let layout =
            Layout::from_size_align(bytes, align).map_err(|_| KernelError::Alloc { bytes })?;
        // SAFETY: the layout has non-zero size.
        let p = unsafe { alloc(layout) };
        let ptr = NonNull::new(p).ok_or(KernelError::Alloc { bytes })?;
        // The advice goes before the first touch (the zeroing), which then faults in huge pages.
        advise_huge_pages(p, bytes);
        // SAFETY: p points to `bytes` freshly allocated bytes; u8 has no invalid bit patterns.
        unsafe { std::ptr::write_bytes(p, 0, bytes) };
        Ok(Workspace {
            ptr,
            bytes,
            layout: Some(layout),
        })
    }

    /// Size in bytes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// The first `len` elements as `[T]` (`len * size_of::<T>()` must fit).
    pub fn as_mut_slice<T: Element>(&mut self, len: usize) -> &mut [T] {
        let len = len.min(self.bytes / std::mem::size_of::<T>());
        // SAFETY: the buffer holds at least len elements of T, is aligned to 64 >= align_of::<T>,
        // every bit pattern is a valid f32/f64 (Element is sealed to those), and we hold &mut self.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr() as *mut T, len) }
    }
}

impl Drop for Workspace {
    fn drop(&mut self) {
        if let Some(layout) = self.layout {
            // SAFETY: allocated by alloc with exactly this layout.
            unsafe { dealloc(self.ptr.as_ptr(), layout) }
        }
    }
}

/// Keeps the largest workspace between calls, so repeated products do not fault in fresh pages
/// every time. Concurrent calls each get their own buffer; the largest is kept.
#[derive(Default)]
pub(crate) struct Cache {
    slot: std::sync::Mutex<Option<Workspace>>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cache({} bytes)", self.held())
    }
}

impl Cache {
    /// A workspace of at least `bytes` bytes: the cached one if large enough, else a new one.
    pub fn take(&self, bytes: usize) -> Result<Workspace, KernelError> {
        if bytes == 0 {
            return Workspace::new(0);
        }
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        match slot.take() {
            Some(w) if w.bytes() >= bytes => Ok(w),
            old => {
                // Free the smaller one before allocating the larger.
                drop(old);
                drop(slot);
                Workspace::new(bytes)
            }
        }
    }

    /// Returns a workspace to the cache (the larger of it and the cached one is kept).
    pub fn give(&self, w: Workspace) {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        if slot.as_ref().is_none_or(|old| old.bytes() < w.bytes()) {
            *slot = Some(w);
        }
    }

    /// Frees the cached workspace.
    pub fn clear(&self) {
        let mut slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        *slot = None;
    }

    /// Bytes currently cached.
    pub fn held(&self) -> usize {
        let slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        slot.as_ref().map_or(0, |w| w.bytes())
    }
}

/// Takes the first `len` elements off `ws` (rounded up to whole cache lines so every temporary
/// starts aligned).
pub(crate) fn take<'w, T>(ws: &mut &'w mut [T], len: usize) -> Result<&'w mut [T], KernelError> {
    let per_line = (ALIGN / std::mem::size_of::<T>().max(1)).max(1);
    let padded = len.div_ceil(per_line) * per_line;
    let buf = std::mem::take(ws);
    if padded > buf.len() {
        return Err(KernelError::Internal(format!(
            "workspace exhausted: need {padded} more elements, {} left",
            buf.len()
        )));
    }
    let (head, tail) = buf.split_at_mut(padded);
    *ws = tail;
    Ok(&mut head[..len])
}

/// The space [`take`] uses for `len` elements.
pub(crate) fn padded<T>(len: usize) -> usize {
    let per_line = (ALIGN / std::mem::size_of::<T>().max(1)).max(1);
    len.div_ceil(per_line) * per_line
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kB of transparent huge pages backing the mapping of this process that holds `addr`
    /// (from /proc/self/smaps), or None when it cannot be read.
    #[cfg(target_os = "linux")]
    fn anon_huge_kb(addr: usize) -> Option<usize> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            let first = line.split_whitespace().next().unwrap_or("");
            if let Some((lo, hi)) = first.split_once('-') {
                if let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
                {
                    inside = (lo..hi).contains(&addr);
                    continue;
                }
            }
            if inside {
                if let Some(v) = line.strip_prefix("AnonHugePages:") {
                    return v.trim().trim_end_matches("kB").trim().parse().ok();
                }
            }
        }
        None
    }

    #[test]
    fn workspace_is_zeroed_and_aligned() {
        for bytes in [8, 4096, HUGE_PAGE_MIN + 123] {
            let mut w = Workspace::new(bytes).unwrap();
            let s = w.as_mut_slice::<f64>(bytes / 8);
            assert!(s.iter().all(|&x| x == 0.0));
            assert_eq!(s.as_ptr() as usize % ALIGN, 0);
        }
    }

    /// Where the OS offers transparent huge pages on request (`[always]` or `[madvise]` in
    /// /sys/kernel/mm/transparent_hugepage/enabled), a large workspace gets some.
    #[cfg(target_os = "linux")]
    #[test]
    fn large_workspace_gets_huge_pages() {
        let mode = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .unwrap_or_default();
        if !(mode.contains("[always]") || mode.contains("[madvise]")) || !huge_pages_wanted() {
            eprintln!("transparent huge pages not offered here ({mode:?}): nothing to check");
            return;
        }
        let mut w = Workspace::new(16 << 20).unwrap();
        let addr = w.as_mut_slice::<f64>(1).as_ptr() as usize;
        let kb = anon_huge_kb(addr).expect("the workspace's mapping in /proc/self/smaps");
        assert!(
            kb >= 2048,
            "16 MiB workspace backed by {kb} kB of huge pages"
        );
    }
}
