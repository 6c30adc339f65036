//! A description of the machine a measurement was taken on, for every file in `bench-results/`
//! and for the identity check of the tuning file ([`crate::tune`]).
//!
//! ```
//! let m = strass::machine::Machine::detect();
//! assert!(m.logical_cores >= 1);
//! println!("{}", m.to_markdown());
//! ```

use std::time::{SystemTime, UNIX_EPOCH};

/// The machine: CPU, cores, SIMD extensions, OpenBLAS build (with the `openblas` feature), date.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Machine {
    /// CPU model name (`model name` in `/proc/cpuinfo`), or `"unknown"`.
    pub cpu_model: String,
    /// Logical CPUs available to this process (`available_parallelism`: reduced by `taskset` or
    /// a CPU-limited cgroup, so not part of the [`Machine::identity`]).
    pub logical_cores: usize,
    /// Logical CPUs the machine has (`processor` entries in `/proc/cpuinfo`, whatever this
    /// process may use), when known.
    #[serde(default)]
    pub cpus: Option<usize>,
    /// Physical cores (distinct `(physical id, core id)` pairs in `/proc/cpuinfo`), when known.
    pub physical_cores: Option<usize>,
    /// The SIMD extensions the kernel cares about that this CPU has, in a fixed order
    /// (`avx512f`, `avx2`, `fma`, `avx`, `sse4.1`, `neon`).
    pub isa: Vec<String>,
    /// `openblas_get_config()`, when built with the `openblas` feature.
    pub openblas_config: Option<String>,
    /// `openblas_get_corename()`, when built with the `openblas` feature.
    pub openblas_core: Option<String>,
    /// Operating system and architecture, e.g. `linux x86_64`.
    pub os: String,
    /// The UTC date of the detection, `YYYY-MM-DD`.
    pub date: String,
}

impl Machine {
    /// Detects the current machine (reads `/proc/cpuinfo` where it exists; never fails).
    pub fn detect() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let (cpu_model, physical_cores) = parse_cpuinfo(&cpuinfo);
        let processors = cpuinfo
            .lines()
            .filter(|l| {
                l.split_once(':')
                    .is_some_and(|(k, _)| k.trim() == "processor")
            })
            .count();
        let cpus = (processors > 0).then_some(processors);
        let logical_cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        #[cfg(feature = "openblas")]
        let (openblas_config, openblas_core) =
            (Some(crate::blas::config()), Some(crate::blas::corename()));
        #[cfg(not(feature = "openblas"))]
        let (openblas_config, openblas_core) = (None, None);
        Machine {
            cpu_model,
            logical_cores,
            cpus,
            physical_cores,
            isa: detect_isa(),
            openblas_config,
            openblas_core,
            os: format!("{} {}", std::env::consts::OS, std::env::consts::ARCH),
            date: utc_date(SystemTime::now()),
        }
    }

    /// The identity used to tell whether a tuning file was made on this kind of machine: CPU
    /// model, logical cores and SIMD extensions (not the date, not the OpenBLAS build).
    ///
    /// The identity names the hardware, not what this process may use: it has the machine's
    /// CPU count ([`Machine::cpus`]), not [`Machine::logical_cores`], so a tuning file written
    /// under `taskset` or in a CPU-limited cgroup still applies when the process runs
    /// unrestricted.
    pub fn identity(&self) -> String {
        let cpus = self
            .cpus
            .map_or_else(|| "unknown number of".to_string(), |c| c.to_string());
        format!("{} | {cpus} CPUs | {}", self.cpu_model, self.isa_string())
    }

    /// The SIMD extensions joined with `+`, or `"none"`.
    pub fn isa_string(&self) -> String {
        if self.isa.is_empty() {
            "none".into()
        } else {
            self.isa.join("+")
        }
    }

    /// The OpenBLAS build as one string (`"<config> (core <core>)"`), or `"not linked"`.
    pub fn openblas_string(&self) -> String {
        match (&self.openblas_config, &self.openblas_core) {
            (Some(c), Some(k)) => format!("{c} (core {k})"),
            (Some(c), None) => c.clone(),
            (None, Some(k)) => format!("core {k}"),
            (None, None) => "not linked (build without the `openblas` feature)".into(),
        }
    }

    /// The description as `(key, value)` pairs, in a fixed order.
    pub fn fields(&self) -> Vec<(&'static str, String)> {
        vec![
            ("cpu", self.cpu_model.clone()),
            ("logical_cores", self.logical_cores.to_string()),
            (
                "physical_cores",
                self.physical_cores
                    .map_or_else(|| "unknown".into(), |p| p.to_string()),
            ),
            ("isa", self.isa_string()),
            ("openblas", self.openblas_string()),
            ("os", self.os.clone()),
            ("date", self.date.clone()),
        ]
    }

    /// A Markdown block: a `key | value` table under a `Machine` heading line.
    pub fn to_markdown(&self) -> String {
        let mut s = String::from("| machine | |\n| --- | --- |\n");
        for (k, v) in self.fields() {
            s.push_str(&format!("| {k} | {} |\n", v.replace('|', "\\|")));
        }
        s
    }

    /// One line, e.g. for a plot caption or a log:
    /// `Intel(R) Xeon(R) ..., 2 cores, avx512f+avx2+fma, OpenBLAS ..., 2026-11-22`.
    pub fn summary(&self) -> String {
        let blas = match (&self.openblas_config, &self.openblas_core) {
            (Some(c), Some(k)) => format!(", {c} ({k})"),
            _ => String::new(),
        };
        format!(
            "{}, {} cores, {}{}, {}",
            self.cpu_model,
            self.logical_cores,
            self.isa_string(),
            blas,
            self.date
        )
    }

    /// The description as a two-column CSV (`key,value` header, one row per field, values
    /// quoted when they contain a comma or a quote).
    pub fn to_csv(&self) -> String {
        let mut s = String::from("key,value\n");
        for (k, v) in self.fields() {
            s.push_str(&format!("{k},{}\n", csv_field(&v)));
        }
        s
    }

    /// The description as CSV comment lines (`# key: value`), for tools that skip `#` lines.
    pub fn csv_comment(&self) -> String {
        self.fields()
            .into_iter()
            .map(|(k, v)| format!("# {k}: {v}\n"))
            .collect()
    }
}

/// Quotes a CSV field when needed (RFC 4180: commas, quotes, line breaks).
pub fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_string()
    }
}

/// `(model name, physical cores)` from the text of `/proc/cpuinfo`.
fn parse_cpuinfo(text: &str) -> (String, Option<usize>) {
    let mut model = None;
    let mut cores = std::collections::BTreeSet::new();
    let mut phys = String::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            // x86 uses "model name"; some ARM kernels use "Processor" or "Hardware".
            "model name" | "Processor" | "Hardware" if model.is_none() && !value.is_empty() => {
                model = Some(value.split_whitespace().collect::<Vec<_>>().join(" "))
            }
            "physical id" => phys = value.to_string(),
            "core id" => {
                cores.insert((phys.clone(), value.to_string()));
            }
            _ => {}
        }
    }
    let physical = (!cores.is_empty()).then_some(cores.len());
    (model.unwrap_or_else(|| "unknown".into()), physical)
}

/// The SIMD extensions of this CPU that matter to the kernel, detected at run time.
fn detect_isa() -> Vec<String> {
    #[allow(unused_mut)]
    let mut v: Vec<&str> = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        if is_x86_feature_detected!("avx512f") {
            v.push("avx512f");
        }
        if is_x86_feature_detected!("avx2") {
            v.push("avx2");
        }
        if is_x86_feature_detected!("fma") {
            v.push("fma");
        }
        if is_x86_feature_detected!("avx") {
            v.push("avx");
        }
        if is_x86_feature_detected!("sse4.1") {
            v.push("sse4.1");
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        if std::arch::is_aarch64_feature_detected!("neon") {
            v.push("neon");
        }
    }
    v.into_iter().map(String::from).collect()
}

/// `YYYY-MM-DD` in UTC for a point in time (proleptic Gregorian calendar).
pub fn utc_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to (year, month, day); the standard era-based conversion.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // day of era, [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn dates() {
        assert_eq!(utc_date(UNIX_EPOCH), "1970-01-01");
        // 2000-02-29 (leap day of a century divisible by 400) = day 11016.
        let t = UNIX_EPOCH + Duration::from_secs(11_016 * 86_400);
        assert_eq!(utc_date(t), "2000-02-29");
        // 2026-11-22 = day 20_779.
        let t = UNIX_EPOCH + Duration::from_secs(20_779 * 86_400 + 86_399);
        assert_eq!(utc_date(t), "2026-11-22");
        // 2100-03-01 follows 2100-02-28 (not a leap year): day 47_541.
        let t = UNIX_EPOCH + Duration::from_secs(47_541 * 86_400);
        assert_eq!(utc_date(t), "2100-03-01");
    }

    #[test]
    fn cpuinfo_parsing() {
        let text = "processor\t: 0\nmodel name\t: Foo  CPU @ 2GHz\nphysical id\t: 0\ncore id\t: 0\n\n\
                    processor\t: 1\nmodel name\t: Foo  CPU @ 2GHz\nphysical id\t: 0\ncore id\t: 0\n\n\
                    processor\t: 2\nmodel name\t: Foo  CPU @ 2GHz\nphysical id\t: 0\ncore id\t: 1\n";
        assert_eq!(parse_cpuinfo(text), ("Foo CPU @ 2GHz".into(), Some(2)));
        assert_eq!(parse_cpuinfo(""), ("unknown".into(), None));
    }

    #[test]
    fn csv_quoting() {
        assert_eq!(csv_field("a b"), "a b");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
    }
}
