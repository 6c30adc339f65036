//! The workspace: one zero-initialised, 64-byte aligned buffer allocated before the recursion
//! starts, carved into temporaries as the recursion descends. Nothing inside the recursion
//! allocates matrix memory.

use super::{Element, KernelError};
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::ptr::NonNull;

/// Cache-line alignment of the workspace.
const ALIGN: usize = 64;

/// An owned, aligned, zeroed buffer of `len` elements.
pub(crate) struct Workspace<T> {
    ptr: NonNull<T>,
    len: usize,
    layout: Option<Layout>,
}

// SAFETY: Workspace owns its memory exclusively, like a Vec<T>.
unsafe impl<T: Send> Send for Workspace<T> {}
// SAFETY: shared access only hands out &[T], like a Vec<T>.
unsafe impl<T: Sync> Sync for Workspace<T> {}

impl<T: Element> Workspace<T> {
    /// Allocates `len` zeroed elements, or reports [`KernelError::Alloc`].
    pub fn new(len: usize) -> Result<Self, KernelError> {
        let bytes = len
            .checked_mul(std::mem::size_of::<T>())
            .ok_or(KernelError::Alloc { bytes: usize::MAX })?;
        if bytes == 0 {
            return Ok(Workspace {
                ptr: NonNull::dangling(),
                len: 0,
                layout: None,
            });
        }
        let layout =
            Layout::from_size_align(bytes, ALIGN).map_err(|_| KernelError::Alloc { bytes })?;
        // SAFETY: the layout has non-zero size.
        let p = unsafe { alloc_zeroed(layout) } as *mut T;
        let ptr = NonNull::new(p).ok_or(KernelError::Alloc { bytes })?;
        Ok(Workspace {
            ptr,
            len,
            layout: Some(layout),
        })
    }

    /// The whole buffer.
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        // SAFETY: ptr is valid for len elements (or dangling with len 0); all-zero bits are a
        // valid f32/f64 (Element is sealed to those), and we hold &mut self.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.len) }
    }
}

impl<T> Drop for Workspace<T> {
    fn drop(&mut self) {
        if let Some(layout) = self.layout {
            // SAFETY: allocated by alloc_zeroed with exactly this layout.
            unsafe { dealloc(self.ptr.as_ptr() as *mut u8, layout) }
        }
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
