//! Matrix products on slices: the `gemm` crate (burn-flex's own GEMM) behind a bounds-checked
//! view, so that the convolution kernels multiply strided sub-matrices of their buffers (a
//! transposed weight, one output-row band of a gradient) without copying them.
//!
//! One of the two modules of the workspace allowed `unsafe` (with [`super::direct`]; the crate
//! denies it elsewhere): the call into `gemm`, after the views' bounds are checked.

#![allow(unsafe_code)]

/// A read-only `rows × cols` matrix inside `data`: element `(i, j)` is
/// `data[offset + i·row_stride + j·col_stride]`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct MatRef<'a> {
    pub data: &'a [f32],
    pub offset: usize,
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// A dense row-major matrix starting at `offset`.
    pub fn row_major(data: &'a [f32], offset: usize, rows: usize, cols: usize) -> Self {
        MatRef {
            data,
            offset,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        }
    }

    /// The same values read as the transposed matrix (no copy).
    pub fn t(self) -> Self {
        MatRef {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// With rows `row_stride` apart (a band of a larger matrix).
    pub fn with_row_stride(self, row_stride: usize) -> Self {
        MatRef { row_stride, ..self }
    }

    /// Index one past the last element read; panics when that is outside `data`.
    fn check(&self, what: &str) {
        if self.rows == 0 || self.cols == 0 {
            return;
        }
        let last = (self.rows - 1)
            .checked_mul(self.row_stride)
            .and_then(|r| r.checked_add((self.cols - 1).checked_mul(self.col_stride)?))
            .and_then(|l| l.checked_add(self.offset));
        assert!(
            last.is_some_and(|l| l < self.data.len()),
            "gemm: the {what} view ({}x{}, strides {}x{}, offset {}) reaches past its {} values",
            self.rows,
            self.cols,
            self.row_stride,
            self.col_stride,
            self.offset,
            self.data.len()
        );
    }
}

/// `dst = lhs · rhs` (or `dst += lhs · rhs` when `accumulate`), `dst` row-major with rows
/// `dst_row_stride` apart: `dst[i·dst_row_stride + j]` for `i < lhs.rows`, `j < rhs.cols`.
/// `parallel` lets the product use burn-flex's rayon pool (for a single large product);
/// otherwise it runs on the calling thread.
///
/// # Panics
/// When the inner dimensions disagree or a view reaches outside its slice.
pub(crate) fn gemm(
    dst: &mut [f32],
    dst_row_stride: usize,
    accumulate: bool,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    parallel: bool,
) {
    assert_eq!(
        lhs.cols, rhs.rows,
        "gemm: inner dimensions {} and {} disagree",
        lhs.cols, rhs.rows
    );
    let (m, n, k) = (lhs.rows, rhs.cols, lhs.cols);
    if m == 0 || n == 0 {
        return;
    }
    lhs.check("left");
    rhs.check("right");
    MatRef {
        data: dst,
        offset: 0,
        rows: m,
        cols: n,
        row_stride: dst_row_stride,
        col_stride: 1,
    }
    .check("destination");
    if k == 0 {
        if !accumulate {
            for row in dst.chunks_mut(dst_row_stride.max(1)).take(m) {
                row[..n].fill(0.0);
            }
        }
        return;
    }
    let parallelism = if parallel {
        gemm::Parallelism::Rayon(0)
    } else {
        gemm::Parallelism::None
    };
    let stride = |s: usize| s as isize;
    // SAFETY: every element gemm reads or writes lies inside its slice: the three `check`
    // calls above proved that index `offset + (rows−1)·row_stride + (cols−1)·col_stride` (the
    // largest, all strides being non-negative) is in bounds for `lhs` (m×k), `rhs` (k×n) and
    // `dst` (m×n, column stride 1), and `k`, `m`, `n` are positive here. `dst` is borrowed
    // mutably, so it cannot alias `lhs` or `rhs`. Strides fit `isize` because each is at most
    // a slice length. With `read_dst = false` gemm never reads `dst`, so uninitialised-looking
    // contents are irrelevant (it is initialised `f32` anyway).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            stride(dst_row_stride),
            accumulate,
            lhs.data.as_ptr().add(lhs.offset),
            stride(lhs.col_stride),
            stride(lhs.row_stride),
            rhs.data.as_ptr().add(rhs.offset),
            stride(rhs.col_stride),
            stride(rhs.row_stride),
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive(lhs: MatRef<'_>, rhs: MatRef<'_>) -> Vec<f32> {
        let at = |m: &MatRef<'_>, i: usize, j: usize| {
            m.data[m.offset + i * m.row_stride + j * m.col_stride]
        };
        let mut out = vec![0.0; lhs.rows * rhs.cols];
        for i in 0..lhs.rows {
            for j in 0..rhs.cols {
                out[i * rhs.cols + j] =
                    (0..lhs.cols).map(|k| at(&lhs, i, k) * at(&rhs, k, j)).sum();
            }
        }
        out
    }

    fn values(n: usize) -> Vec<f32> {
        (0..n).map(|i| ((i * 7919) % 23) as f32 - 11.0).collect()
    }

    #[test]
    fn strided_and_transposed_views_multiply_like_the_definition() {
        let a = values(64);
        let b = values(80);
        // lhs: rows 1..4 of a 5×12 matrix, columns 0..6 with stride 2 (a 3×6 band).
        let lhs = MatRef {
            data: &a,
            offset: 12,
            rows: 3,
            cols: 6,
            row_stride: 12,
            col_stride: 2,
        };
        // rhs: the transpose of a 4×6 row-major block at offset 5.
        let rhs = MatRef::row_major(&b, 5, 4, 6).t();
        let mut dst = vec![1.0; 3 * 7];
        gemm(&mut dst, 7, false, lhs, rhs, false);
        let expected = naive(lhs, rhs);
        for i in 0..3 {
            assert_eq!(&dst[i * 7..i * 7 + 4], &expected[i * 4..i * 4 + 4]);
            // Columns past n are untouched.
            assert_eq!(&dst[i * 7 + 4..i * 7 + 7], &[1.0; 3]);
        }
        // Accumulation adds to what is there.
        gemm(&mut dst, 7, true, lhs, rhs, true);
        for i in 0..3 {
            for j in 0..4 {
                assert_eq!(dst[i * 7 + j], 2.0 * expected[i * 4 + j]);
            }
        }
    }

    #[test]
    #[should_panic(expected = "reaches past")]
    fn a_view_past_its_slice_is_refused() {
        let a = values(12);
        let lhs = MatRef::row_major(&a, 1, 3, 4);
        let rhs = MatRef::row_major(&a, 0, 4, 1);
        gemm(&mut [0.0; 3], 1, false, lhs, rhs, false);
    }

    #[test]
    #[should_panic(expected = "destination")]
    fn a_destination_too_short_is_refused() {
        let a = values(12);
        let lhs = MatRef::row_major(&a, 0, 3, 4);
        let rhs = MatRef::row_major(&a, 0, 4, 2);
        gemm(&mut [0.0; 5], 2, false, lhs, rhs, false);
    }

    #[test]
    fn an_empty_inner_dimension_gives_zeros() {
        let lhs = MatRef::row_major(&[], 0, 2, 0);
        let rhs = MatRef::row_major(&[], 0, 0, 3);
        let mut dst = vec![5.0; 6];
        gemm(&mut dst, 3, false, lhs, rhs, false);
        assert_eq!(dst, vec![0.0; 6]);
    }
}
