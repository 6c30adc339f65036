//! The workspace: one zero-initialised, 64-byte aligned buffer allocated before the recursion
//! starts, carved into temporaries as the recursion descends. Nothing inside the recursion
//! allocates matrix memory.
//!
//! On Linux a workspace of at least [`HUGE_MIN_BYTES`] is an anonymous memory map (zeroed by the
//! kernel) marked for transparent huge pages (`madvise(MADV_HUGEPAGE)`) before it is first
//! touched: the recursion's operand sums and packing then stream through 2 MiB pages instead of
//! 4 KiB ones, with far fewer TLB misses. The same helper backs the packed GEMM's buffers.

use super::{Element, KernelError};
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ptr::NonNull;

/// Cache-line alignment of the workspace.
const ALIGN: usize = 64;

/// An owned, 64-byte aligned buffer, allocated zeroed; viewed as `[T]` for `T` in {f32, f64}.
pub(crate) struct Workspace {
    ptr: NonNull<u8>,
    bytes: usize,
    backing: Backing,
}

/// How a [`Workspace`]'s memory was obtained (and so how it is freed).
enum Backing {
    /// Nothing (zero bytes).
    None,
    /// The global allocator, with this layout.
    Heap(Layout),
    /// An anonymous memory map of this many bytes.
    #[cfg(target_os = "linux")]
    Map(usize),
}

/// Workspaces of at least this many bytes are memory maps advised for huge pages (Linux).
pub(crate) const HUGE_MIN_BYTES: usize = 4 << 20;

/// An anonymous, zeroed, private memory map of `bytes` (rounded up to 2 MiB) advised for
/// transparent huge pages, or `None` if the system refuses it.
#[cfg(target_os = "linux")]
fn map_huge(bytes: usize) -> Option<(NonNull<u8>, usize)> {
    const HUGE: usize = 2 << 20;
    let len = bytes.checked_next_multiple_of(HUGE)?;
    // SAFETY: an anonymous private mapping at an address the kernel picks touches no existing
    // memory; the result is checked against MAP_FAILED.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return None;
    }
    // SAFETY: [p, p + len) is the mapping just created. The advice is only a hint: if the
    // kernel ignores it the memory is still valid, ordinary pages.
    unsafe { libc::madvise(p, len, libc::MADV_HUGEPAGE) };
    NonNull::new(p.cast::<u8>()).map(|p| (p, len))
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
                backing: Backing::None,
            });
        }
        #[cfg(target_os = "linux")]
        if bytes >= HUGE_MIN_BYTES {
            if let Some((ptr, len)) = map_huge(bytes) {
                return Ok(Workspace {
                    ptr,
                    bytes,
                    backing: Backing::Map(len),
                });
            }
        }
        let layout =
            Layout::from_size_align(bytes, ALIGN).map_err(|_| KernelError::Alloc { bytes })?;
        // SAFETY: the layout has non-zero size.
        let p = unsafe { alloc_zeroed(layout) };
        let ptr = NonNull::new(p).ok_or(KernelError::Alloc { bytes })?;
        Ok(Workspace {
            ptr,
            bytes,
            backing: Backing::Heap(layout),
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
        match self.backing {
            Backing::None => {}
            // SAFETY: allocated by alloc_zeroed with exactly this layout.
            Backing::Heap(layout) => unsafe { dealloc(self.ptr.as_ptr(), layout) },
            #[cfg(target_os = "linux")]
            Backing::Map(len) => {
                // SAFETY: the mapping of `len` bytes created by `map_huge`, unmapped once.
                unsafe { libc::munmap(self.ptr.as_ptr().cast(), len) };
            }
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
