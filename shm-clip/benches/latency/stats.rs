//! Percentiles and table formatting.

/// Order statistics of one set of samples, in nanoseconds.
#[derive(Clone, Copy, Debug)]
pub struct Summary {
    pub n: usize,
    pub p50: u64,
    pub p99: u64,
    pub max: u64,
}

impl Summary {
    /// Nearest-rank percentiles of `samples` (which it sorts).
    pub fn of(samples: &mut [u64]) -> Summary {
        assert!(!samples.is_empty(), "no samples");
        samples.sort_unstable();
        let n = samples.len();
        let rank = |p: usize| samples[(n * p).div_ceil(100).clamp(1, n) - 1];
        Summary {
            n,
            p50: rank(50),
            p99: rank(99),
            max: samples[n - 1],
        }
    }
}

/// Nanoseconds as microseconds, with as many decimals as are meaningful.
pub fn us(ns: u64) -> String {
    let us = ns as f64 / 1000.0;
    if us < 10.0 {
        format!("{us:.2}")
    } else if us < 1000.0 {
        format!("{us:.1}")
    } else {
        format!("{us:.0}")
    }
}

/// `a / b` as a ratio such as `1.27×`.
pub fn ratio(a: u64, b: u64) -> String {
    if b == 0 {
        "-".into()
    } else {
        format!("{:.2}×", a as f64 / b as f64)
    }
}

/// A payload size as `16 B`, `4 KiB`, `1 MiB`.
pub fn size(len: usize) -> String {
    match len {
        l if l >= 1 << 20 && l % (1 << 20) == 0 => format!("{} MiB", l >> 20),
        l if l >= 1 << 10 && l % (1 << 10) == 0 => format!("{} KiB", l >> 10),
        l => format!("{l} B"),
    }
}

/// Nanoseconds per byte as GB/s (decimal), for throughput columns.
pub fn gbps(len: usize, ns: u64) -> String {
    if ns == 0 {
        "-".into()
    } else {
        format!("{:.1}", len as f64 / ns as f64)
    }
}
