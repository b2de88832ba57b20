//! Shared by the benchmark programs: process measurements from /proc and BENCHMARKS.md section writing.
#![allow(dead_code)]

/// Peak resident set size of this process (VmHWM), in KiB.
pub fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// User + system CPU seconds of this process.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
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
