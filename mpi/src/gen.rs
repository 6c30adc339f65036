//! Reproducible test matrices: entry `(i, j)` of matrix `id` depends only on the seed and the
//! global index, never on the number of ranks or the layout, so every run of the same shape and
//! seed multiplies the same matrices whatever `P` is.

/// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Entry `(i, j)` of matrix `id` (0 = A, 1 = B, 2 = the check vector x) for `seed`:
/// uniform in `[-1, 1)`, exactly representable in `f32`.
pub fn entry(seed: u64, id: u64, i: u64, j: u64) -> f64 {
    let h = mix(mix(mix(seed ^ (id << 56)) ^ i) ^ j.wrapping_mul(0x2545_f491_4f6c_dd1d));
    // 24 random bits: exact in f32 and f64.
    ((h >> 40) as f64) / (1u64 << 23) as f64 - 1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_in_range_distinct_and_reproducible() {
        let xs: Vec<f64> = (0..1000).map(|i| entry(7, 0, i / 10, i % 10)).collect();
        assert!(xs.iter().all(|x| (-1.0..1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.1, "mean {mean}");
        assert_eq!(entry(7, 0, 3, 4), xs[34]);
        assert_ne!(entry(7, 0, 3, 4), entry(8, 0, 3, 4));
        assert_ne!(entry(7, 0, 3, 4), entry(7, 1, 3, 4));
        assert_ne!(entry(7, 0, 3, 4), entry(7, 0, 4, 3));
        assert_eq!(entry(7, 0, 3, 4) as f32 as f64, entry(7, 0, 3, 4));
    }
}
