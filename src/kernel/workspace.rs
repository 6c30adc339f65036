//! The workspace: one zero-initialised, 64-byte aligned buffer allocated before the recursion
//! starts, carved into temporaries as the recursion descends. Nothing inside the recursion
//! allocates matrix memory.

use super::{Element, KernelError};
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ptr::NonNull;

/// Cache-line alignment of the workspace.
const ALIGN: usize = 64;

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
        let layout =
            Layout::from_size_align(bytes, ALIGN).map_err(|_| KernelError::Alloc { bytes })?;
        // SAFETY: the layout has non-zero size.
        let p = unsafe { alloc_zeroed(layout) };
        let ptr = NonNull::new(p).ok_or(KernelError::Alloc { bytes })?;
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
            // SAFETY: allocated by alloc_zeroed with exactly this layout.
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
