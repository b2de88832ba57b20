//! Shared by the benchmark programs: process measurements from /proc, BENCHMARKS.md section writing, and the
//! CPU floor of moving bytes (`floor.rs`, used by the end-to-end benchmark).
#![allow(dead_code)]

pub mod floor;

/// Peak resident set size of this process (VmHWM), in KiB.
pub fn peak_rss_kib() -> u64 {
    status_kib("self", "VmHWM:")
}

/// Current resident set size of this process (VmRSS), in KiB.
pub fn rss_kib() -> u64 {
    status_kib("self", "VmRSS:")
}

/// A KiB field (`VmHWM:`, `VmRSS:`, ...) of `/proc/<pid>/status` (`pid` a number or `self`); 0 if unreadable.
pub fn status_kib(pid: &str, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Resets the peak RSS watermark to the current RSS (Linux `clear_refs` 5), so that `peak_rss_kib` afterwards
/// measures one phase. False if the kernel refused.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// User + system CPU seconds of this process.
pub fn cpu_seconds() -> f64 {
    cpu_seconds_of("self")
}

/// User + system CPU seconds of process `pid` (a number, or `self`).
pub fn cpu_seconds_of(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of /proc/pid/stat (11 and 12 after the command name); 100 ticks/s.
    (ticks(11) + ticks(12)) / 100.0
}

/// Replaces (or appends) the section starting with `heading` in `path`.
pub fn write_section(path: &str, heading: &str, section: &str) {
    let current = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n\n".into());
    let mut out = String::new();
    let mut skipping = false;
    for line in current.lines() {
        if line.starts_with("## ") {
            skipping = line.starts_with(heading);
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !out.ends_with("\n\n") {
        out.push('\n');
    }
    out.push_str(section);
    if let Err(e) = std::fs::write(path, out) {
        eprintln!("cannot write {path}: {e}");
    }
}
