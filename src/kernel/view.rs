//! Strided matrix views: the public, bounds-checked [`MatRef`] / [`MatMut`], and the raw views the
//! recursion passes around once the public ones have been checked.

use super::KernelError;

/// A read-only strided matrix view: element `(i, j)` is `data[i * row_stride + j * col_stride]`.
///
/// Any strides are allowed (including 0, for broadcasting), so transposed and sub-matrix
/// operands need no copy. The last element must lie inside `data`.
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a, T> {
    pub(super) data: &'a [T],
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) rs: usize,
    pub(super) cs: usize,
}

/// A mutable strided matrix view: element `(i, j)` is `data[i * row_stride + j * col_stride]`.
///
/// Distinct elements must be distinct memory: for a view with more than one row and more than
/// one column, one stride must be at least 1 and the other at least that stride times the extent
/// it steps over (row-major-like or column-major-like layouts, with any padding). Views where
/// writes to one element would change another are refused.
#[derive(Debug)]
pub struct MatMut<'a, T> {
    pub(super) data: &'a mut [T],
    pub(super) rows: usize,
    pub(super) cols: usize,
    pub(super) rs: usize,
    pub(super) cs: usize,
}

macro_rules! shape_accessors {
    ($ty:ident) => {
        impl<T> $ty<'_, T> {
            /// Number of rows.
            pub fn rows(&self) -> usize {
                self.rows
            }

            /// Number of columns.
            pub fn cols(&self) -> usize {
                self.cols
            }

            /// Row stride in elements.
            pub fn row_stride(&self) -> usize {
                self.rs
            }

            /// Column stride in elements.
            pub fn col_stride(&self) -> usize {
                self.cs
            }

            /// The address range `[first, last]` of the view's elements, if any.
            pub(super) fn span(&self) -> Option<(usize, usize)> {
                span(
                    self.data.as_ptr() as usize,
                    self.rows,
                    self.cols,
                    self.rs,
                    self.cs,
                    std::mem::size_of::<T>(),
                )
            }
        }
    };
}
shape_accessors!(MatRef);
shape_accessors!(MatMut);

/// Checks that a `rows x cols` view with these strides fits in `len` elements.
fn check_extent(
    len: usize,
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
    what: &str,
) -> Result<(), KernelError> {
    if rows == 0 || cols == 0 {
        return Ok(());
    }
    let last = (rows - 1)
        .checked_mul(rs)
        .and_then(|x| (cols - 1).checked_mul(cs).and_then(|y| x.checked_add(y)))
        .ok_or_else(|| {
            KernelError::Shape(format!(
                "{what}: {rows}x{cols} view with strides ({rs}, {cs}) overflows the address space"
            ))
        })?;
    if last >= len {
        return Err(KernelError::Shape(format!(
            "{what}: {rows}x{cols} view with strides ({rs}, {cs}) needs {} elements, the slice has {len}",
            last as u128 + 1
        )));
    }
    if last > isize::MAX as usize / 2 {
        return Err(KernelError::Shape(format!("{what}: view too large")));
    }
    Ok(())
}

/// True when no two elements of the view share memory (for the layouts [`MatMut`] accepts).
fn non_overlapping(rows: usize, cols: usize, rs: usize, cs: usize) -> bool {
    if rows == 0 || cols == 0 {
        return true;
    }
    if rows <= 1 || cols <= 1 {
        // One row (or column): only the stride along it matters.
        let (ext, s) = if rows <= 1 { (cols, cs) } else { (rows, rs) };
        return ext <= 1 || s >= 1;
    }
    // The smaller stride steps inside, the larger one jumps over a whole run of it.
    let ((s_in, n_in), s_out) = if cs <= rs {
        ((cs, cols), rs)
    } else {
        ((rs, rows), cs)
    };
    s_in >= 1 && n_in.checked_mul(s_in).is_some_and(|span| s_out >= span)
}

impl<'a, T> MatRef<'a, T> {
    /// A `rows x cols` view of `data` with the given row and column strides (in elements).
    pub fn new(
        data: &'a [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Result<Self, KernelError> {
        check_extent(
            data.len(),
            rows,
            cols,
            row_stride,
            col_stride,
            "matrix view",
        )?;
        Ok(MatRef {
            data,
            rows,
            cols,
            rs: row_stride,
            cs: col_stride,
        })
    }

    /// A contiguous row-major `rows x cols` view; `data` must hold exactly `rows * cols` elements.
    pub fn row_major(data: &'a [T], rows: usize, cols: usize) -> Result<Self, KernelError> {
        exact_len(data.len(), rows, cols)?;
        Self::new(data, rows, cols, cols, 1)
    }

    /// A contiguous column-major `rows x cols` view; `data` must hold exactly `rows * cols`
    /// elements.
    pub fn col_major(data: &'a [T], rows: usize, cols: usize) -> Result<Self, KernelError> {
        exact_len(data.len(), rows, cols)?;
        Self::new(data, rows, cols, 1, rows)
    }

    /// The transposed view (no copy).
    pub fn t(self) -> Self {
        MatRef {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// The `rows x cols` sub-matrix whose top-left element is `(r0, c0)` (no copy).
    pub fn submatrix(
        self,
        r0: usize,
        c0: usize,
        rows: usize,
        cols: usize,
    ) -> Result<Self, KernelError> {
        let off = sub_offset(self.rows, self.cols, self.rs, self.cs, r0, c0, rows, cols)?;
        let data = if rows == 0 || cols == 0 {
            &self.data[..0]
        } else {
            &self.data[off..]
        };
        Ok(MatRef {
            data,
            rows,
            cols,
            rs: self.rs,
            cs: self.cs,
        })
    }

    /// Element `(i, j)`, or `None` outside the view.
    pub fn get(&self, i: usize, j: usize) -> Option<&T> {
        (i < self.rows && j < self.cols).then(|| &self.data[i * self.rs + j * self.cs])
    }

    pub(super) fn raw(&self) -> RawRef<T> {
        RawRef {
            ptr: self.data.as_ptr(),
            rows: self.rows,
            cols: self.cols,
            rs: self.rs as isize,
            cs: self.cs as isize,
        }
    }
}

impl<'a, T> MatMut<'a, T> {
    /// A mutable `rows x cols` view of `data` with the given row and column strides (in elements).
    pub fn new(
        data: &'a mut [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Result<Self, KernelError> {
        check_extent(
            data.len(),
            rows,
            cols,
            row_stride,
            col_stride,
            "mutable matrix view",
        )?;
        if !non_overlapping(rows, cols, row_stride, col_stride) {
            return Err(KernelError::Shape(format!(
                "mutable matrix view: {rows}x{cols} with strides ({row_stride}, {col_stride}) makes distinct elements share memory"
            )));
        }
        Ok(MatMut {
            data,
            rows,
            cols,
            rs: row_stride,
            cs: col_stride,
        })
    }

    /// A contiguous row-major `rows x cols` view; `data` must hold exactly `rows * cols` elements.
    pub fn row_major(data: &'a mut [T], rows: usize, cols: usize) -> Result<Self, KernelError> {
        exact_len(data.len(), rows, cols)?;
        Self::new(data, rows, cols, cols, 1)
    }

    /// A contiguous column-major `rows x cols` view; `data` must hold exactly `rows * cols`
    /// elements.
    pub fn col_major(data: &'a mut [T], rows: usize, cols: usize) -> Result<Self, KernelError> {
        exact_len(data.len(), rows, cols)?;
        Self::new(data, rows, cols, 1, rows)
    }

    /// The transposed view (no copy).
    pub fn t(self) -> Self {
        MatMut {
            data: self.data,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }

    /// The `rows x cols` sub-matrix whose top-left element is `(r0, c0)` (no copy).
    pub fn submatrix(
        self,
        r0: usize,
        c0: usize,
        rows: usize,
        cols: usize,
    ) -> Result<Self, KernelError> {
        let off = sub_offset(self.rows, self.cols, self.rs, self.cs, r0, c0, rows, cols)?;
        let data = if rows == 0 || cols == 0 {
            &mut self.data[..0]
        } else {
            &mut self.data[off..]
        };
        Ok(MatMut {
            data,
            rows,
            cols,
            rs: self.rs,
            cs: self.cs,
        })
    }

    /// A read-only view of the same elements.
    pub fn as_ref(&self) -> MatRef<'_, T> {
        MatRef {
            data: self.data,
            rows: self.rows,
            cols: self.cols,
            rs: self.rs,
            cs: self.cs,
        }
    }

    pub(super) fn raw(&mut self) -> RawMut<T> {
        RawMut {
            ptr: self.data.as_mut_ptr(),
            rows: self.rows,
            cols: self.cols,
            rs: self.rs as isize,
            cs: self.cs as isize,
        }
    }
}

fn exact_len(len: usize, rows: usize, cols: usize) -> Result<(), KernelError> {
    let need = rows
        .checked_mul(cols)
        .ok_or_else(|| KernelError::Shape(format!("{rows} x {cols} overflows usize")))?;
    if need != len {
        return Err(KernelError::Shape(format!(
            "a contiguous {rows}x{cols} matrix needs {need} elements, the slice has {len}"
        )));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn sub_offset(
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
    r0: usize,
    c0: usize,
    r: usize,
    c: usize,
) -> Result<usize, KernelError> {
    let fits = r0.checked_add(r).is_some_and(|e| e <= rows)
        && c0.checked_add(c).is_some_and(|e| e <= cols);
    if !fits {
        return Err(KernelError::Shape(format!(
            "submatrix at ({r0}, {c0}) of size {r}x{c} exceeds the {rows}x{cols} view"
        )));
    }
    if r == 0 || c == 0 {
        return Ok(0);
    }
    // In bounds: (r0, c0) is an element of the checked parent view.
    Ok(r0 * rs + c0 * cs)
}

fn span(
    base: usize,
    rows: usize,
    cols: usize,
    rs: usize,
    cs: usize,
    size: usize,
) -> Option<(usize, usize)> {
    if rows == 0 || cols == 0 || size == 0 {
        return None;
    }
    let last = base + ((rows - 1) * rs + (cols - 1) * cs) * size + (size - 1);
    Some((base, last))
}

/// A checked read-only view, as a raw pointer (the recursion splits views into blocks).
#[derive(Debug)]
pub(crate) struct RawRef<T> {
    pub ptr: *const T,
    pub rows: usize,
    pub cols: usize,
    pub rs: isize,
    pub cs: isize,
}

/// A checked mutable view, as a raw pointer.
#[derive(Debug)]
pub(crate) struct RawMut<T> {
    pub ptr: *mut T,
    pub rows: usize,
    pub cols: usize,
    pub rs: isize,
    pub cs: isize,
}

impl<T> Clone for RawRef<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for RawRef<T> {}
impl<T> Clone for RawMut<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for RawMut<T> {}

// SAFETY: a RawRef is only created from a checked MatRef (or from workspace memory) and only read
// through while the borrow it came from is alive; reading from several threads is fine for Sync T.
unsafe impl<T: Sync> Send for RawRef<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for RawRef<T> {}
// SAFETY: RawMut views handed to different threads are disjoint blocks of one checked, non
// self-overlapping MatMut (or of workspace memory), so no element is written by two threads.
unsafe impl<T: Send> Send for RawMut<T> {}
// SAFETY: as above; a shared RawMut is only used to derive disjoint blocks.
unsafe impl<T: Send> Sync for RawMut<T> {}

impl<T> RawRef<T> {
    /// The block of `rows x cols` at `(r0, c0)`; the caller keeps it inside the view.
    #[inline]
    pub fn block(self, r0: usize, c0: usize, rows: usize, cols: usize) -> Self {
        debug_assert!(r0 + rows <= self.rows && c0 + cols <= self.cols);
        RawRef {
            ptr: self
                .ptr
                .wrapping_offset(r0 as isize * self.rs + c0 as isize * self.cs),
            rows,
            cols,
            rs: self.rs,
            cs: self.cs,
        }
    }

    /// The transposed view.
    #[inline]
    pub fn t(self) -> Self {
        RawRef {
            ptr: self.ptr,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }
}

impl<T> RawMut<T> {
    /// The block of `rows x cols` at `(r0, c0)`; the caller keeps it inside the view.
    #[inline]
    pub fn block(self, r0: usize, c0: usize, rows: usize, cols: usize) -> Self {
        debug_assert!(r0 + rows <= self.rows && c0 + cols <= self.cols);
        RawMut {
            ptr: self
                .ptr
                .wrapping_offset(r0 as isize * self.rs + c0 as isize * self.cs),
            rows,
            cols,
            rs: self.rs,
            cs: self.cs,
        }
    }

    /// The same elements, read-only.
    #[inline]
    pub fn as_ref(self) -> RawRef<T> {
        RawRef {
            ptr: self.ptr,
            rows: self.rows,
            cols: self.cols,
            rs: self.rs,
            cs: self.cs,
        }
    }

    /// The transposed view.
    #[inline]
    pub fn t(self) -> Self {
        RawMut {
            ptr: self.ptr,
            rows: self.cols,
            cols: self.rows,
            rs: self.cs,
            cs: self.rs,
        }
    }
}
