//! The data caches of the core the kernel runs on, read once per process: from Linux's sysfs
//! (`/sys/devices/system/cpu/cpu0/cache/index*`), else from CPUID (leaf 4 on Intel, leaf
//! `0x8000001D` on AMD), else a stated fallback (32 KiB 8-way L1d, 512 KiB 8-way L2, no L3).
//! The packed GEMM derives its blocking from these numbers (`fused::default_blocking`).

use std::sync::OnceLock;

/// One cache level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLevel {
    /// Capacity in bytes.
    pub bytes: usize,
    /// Associativity (ways).
    pub ways: usize,
    /// Line size in bytes.
    pub line: usize,
    /// Logical CPUs sharing it.
    pub sharing: usize,
}

impl CacheLevel {
    /// Sets (`bytes / (ways * line)`, at least 1).
    pub fn sets(&self) -> usize {
        (self.bytes / (self.ways.max(1) * self.line.max(1))).max(1)
    }
}

/// The data caches of one core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caches {
    /// Level-1 data cache.
    pub l1d: CacheLevel,
    /// Level-2 cache.
    pub l2: CacheLevel,
    /// Level-3 cache, if any.
    pub l3: Option<CacheLevel>,
    /// Where the numbers came from: `"sysfs"`, `"cpuid"` or `"fallback"`.
    pub source: &'static str,
}

impl Caches {
    /// The caches of this machine, detected once per process.
    pub fn detect() -> &'static Caches {
        static C: OnceLock<Caches> = OnceLock::new();
        C.get_or_init(|| {
            from_sysfs(std::path::Path::new("/sys/devices/system/cpu/cpu0/cache"))
                .or_else(from_cpuid)
                .unwrap_or_else(Caches::fallback)
        })
    }

    /// The numbers used when neither sysfs nor CPUID tells.
    pub fn fallback() -> Caches {
        Caches {
            l1d: CacheLevel {
                bytes: 32 << 10,
                ways: 8,
                line: 64,
                sharing: 1,
            },
            l2: CacheLevel {
                bytes: 512 << 10,
                ways: 8,
                line: 64,
                sharing: 1,
            },
            l3: None,
            source: "fallback",
        }
    }

    /// One line such as `L1d 32 KiB 8-way, L2 512 KiB 8-way, L3 32768 KiB 16-way shared by 2 (sysfs)`.
    pub fn summary(&self) -> String {
        let f = |name: &str, c: &CacheLevel| {
            let mut s = format!("{name} {} KiB {}-way", c.bytes >> 10, c.ways);
            if c.sharing > 1 {
                s += &format!(" shared by {}", c.sharing);
            }
            s
        };
        let mut s = format!("{}, {}", f("L1d", &self.l1d), f("L2", &self.l2));
        if let Some(l3) = &self.l3 {
            s += &format!(", {}", f("L3", l3));
        }
        s + &format!(" ({})", self.source)
    }

    /// Builds the caches from `(level, is_data_or_unified, level)` entries; `None` without an
    /// L1d or an L2.
    fn from_levels(levels: &[(u32, CacheLevel)], source: &'static str) -> Option<Caches> {
        let get = |l: u32| levels.iter().find(|(x, _)| *x == l).map(|(_, c)| *c);
        Some(Caches {
            l1d: get(1)?,
            l2: get(2)?,
            l3: get(3),
            source,
        })
    }
}

/// Parses a sysfs cache size such as `32K`, `1M` or `512`.
pub fn parse_size(s: &str) -> Option<usize> {
    let s = s.trim();
    let (num, mul) = match s.as_bytes().last()? {
        b'K' | b'k' => (&s[..s.len() - 1], 1 << 10),
        b'M' | b'm' => (&s[..s.len() - 1], 1 << 20),
        b'G' | b'g' => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<usize>().ok()?.checked_mul(mul)
}

/// Counts the CPUs in a sysfs CPU list such as `0-3,8,10-11`.
pub fn parse_cpu_list(s: &str) -> Option<usize> {
    let mut n = 0usize;
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        n += match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?);
                b.checked_sub(a)? + 1
            }
            None => {
                part.parse::<usize>().ok()?;
                1
            }
        };
    }
    (n > 0).then_some(n)
}

/// Reads `index*` directories under `dir` (sysfs layout); `None` if they do not describe an L1d
/// and an L2.
pub fn from_sysfs(dir: &std::path::Path) -> Option<Caches> {
    let mut levels = Vec::new();
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let p = e.path();
        if !p.file_name()?.to_str()?.starts_with("index") {
            continue;
        }
        let read = |f: &str| std::fs::read_to_string(p.join(f)).ok();
        let Some(kind) = read("type") else { continue };
        if kind.trim() == "Instruction" {
            continue;
        }
        let level = read("level").and_then(|s| s.trim().parse::<u32>().ok());
        let bytes = read("size").and_then(|s| parse_size(&s));
        let (Some(level), Some(bytes)) = (level, bytes) else {
            continue;
        };
        let num = |f: &str| read(f).and_then(|s| s.trim().parse::<usize>().ok());
        let line = num("coherency_line_size").filter(|&x| x > 0).unwrap_or(64);
        let ways = num("ways_of_associativity").filter(|&x| x > 0).unwrap_or(8);
        let sharing = read("shared_cpu_list")
            .and_then(|s| parse_cpu_list(&s))
            .unwrap_or(1);
        levels.push((
            level,
            CacheLevel {
                bytes,
                ways,
                line,
                sharing,
            },
        ));
    }
    Caches::from_levels(&levels, "sysfs")
}

/// Reads the deterministic cache parameters from CPUID (leaf 4, or AMD's `0x8000001D`).
#[cfg(target_arch = "x86_64")]
fn from_cpuid() -> Option<Caches> {
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    // CPUID is available on every x86-64 CPU; leaves above the maximum are not asked.
    let (max, max_ext) = (__cpuid(0).eax, __cpuid(0x8000_0000).eax);
    let leaf = if max >= 4 && __cpuid_count(4, 0).eax & 0x1f != 0 {
        4
    } else if max_ext >= 0x8000_001d {
        0x8000_001d
    } else {
        return None;
    };
    let mut levels = Vec::new();
    for sub in 0..16 {
        // The leaf exists (checked above); sub-leaves past the last return type 0.
        let r = __cpuid_count(leaf, sub);
        let kind = r.eax & 0x1f;
        if kind == 0 {
            break;
        }
        if kind == 2 {
            continue; // instruction cache
        }
        let level = (r.eax >> 5) & 7;
        let ways = ((r.ebx >> 22) & 0x3ff) as usize + 1;
        let parts = ((r.ebx >> 12) & 0x3ff) as usize + 1;
        let line = (r.ebx & 0xfff) as usize + 1;
        let sets = r.ecx as usize + 1;
        let sharing = ((r.eax >> 14) & 0xfff) as usize + 1;
        levels.push((
            level,
            CacheLevel {
                bytes: ways * parts * line * sets,
                ways,
                line,
                sharing,
            },
        ));
    }
    Caches::from_levels(&levels, "cpuid")
}

#[cfg(not(target_arch = "x86_64"))]
fn from_cpuid() -> Option<Caches> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_lists() {
        assert_eq!(parse_size("32K\n"), Some(32 << 10));
        assert_eq!(parse_size("32768K"), Some(32 << 20));
        assert_eq!(parse_size("1M"), Some(1 << 20));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("K"), None);
        assert_eq!(parse_size("x1K"), None);
        assert_eq!(parse_cpu_list("0-1\n"), Some(2));
        assert_eq!(parse_cpu_list("0-3,8,10-11"), Some(7));
        assert_eq!(parse_cpu_list("3-1"), None);
        assert_eq!(parse_cpu_list(""), None);
    }

    #[test]
    fn sysfs_layout() {
        let dir = tempfile::tempdir().unwrap();
        let entry = |i: usize, level: &str, kind: &str, size: &str, ways: &str, shared: &str| {
            let d = dir.path().join(format!("index{i}"));
            std::fs::create_dir(&d).unwrap();
            for (f, v) in [
                ("level", level),
                ("type", kind),
                ("size", size),
                ("ways_of_associativity", ways),
                ("coherency_line_size", "64"),
                ("shared_cpu_list", shared),
            ] {
                std::fs::write(d.join(f), format!("{v}\n")).unwrap();
            }
        };
        entry(0, "1", "Data", "48K", "12", "0");
        entry(1, "1", "Instruction", "32K", "8", "0");
        assert_eq!(from_sysfs(dir.path()), None, "no L2 yet");
        entry(2, "2", "Unified", "2048K", "16", "0");
        entry(3, "3", "Unified", "32768K", "16", "0-15");
        let c = from_sysfs(dir.path()).unwrap();
        assert_eq!(c.l1d.bytes, 48 << 10);
        assert_eq!(c.l1d.ways, 12);
        assert_eq!(c.l1d.sets(), 64);
        assert_eq!(c.l2.bytes, 2 << 20);
        assert_eq!(c.l3.unwrap().sharing, 16);
        assert_eq!(c.source, "sysfs");
        assert!(from_sysfs(&dir.path().join("missing")).is_none());
    }

    #[test]
    fn this_machine_has_plausible_caches() {
        let c = Caches::detect();
        assert!(c.l1d.bytes >= 4 << 10 && c.l1d.bytes <= 1 << 20, "{c:?}");
        assert!(c.l2.bytes > c.l1d.bytes, "{c:?}");
        assert!(!c.summary().is_empty());
    }
}
