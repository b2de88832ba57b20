//! `alloc::tune`'s trimming thread and `alloc::trim` on glibc: free pages between live heap blocks go back to
//! the system. Its own test binary, so no other test's allocations move the RSS it reads.

#![cfg(all(target_os = "linux", target_env = "gnu"))]

use elastic_ingest::alloc;

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS line")
}

fn threads() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|c| c.trim().to_string())
        .collect()
}

#[test]
fn free_pages_between_live_blocks_go_back_to_the_system_and_tune_keeps_doing_it() {
    // The trimming thread is the one thing that would make this test pass on its own: not started here.
    assert!(!threads().iter().any(|t| t == alloc::TRIM_THREAD));
    // 48 MiB in 4 KiB blocks (under the mmap threshold: heap blocks); every 64th stays alive, so free has no
    // free top of the heap to give back and the rest stay resident as holes.
    let mut blocks: Vec<Vec<u8>> = (0..12 * 1024).map(|i| vec![i as u8; 4096]).collect();
    let kept: Vec<Vec<u8>> = blocks.iter_mut().step_by(64).map(std::mem::take).collect();
    drop(blocks);
    let before = rss_kib();
    assert!(alloc::trim(), "malloc_trim released nothing");
    let after = rss_kib();
    assert!(
        before.saturating_sub(after) >= 24 * 1024,
        "RSS went from {before} KiB to {after} KiB; at least 24 MiB of the 47 MiB freed should have gone back"
    );
    assert_eq!(kept.len(), 192);
    assert!(kept.iter().enumerate().all(|(i, b)| b[0] == (i * 64) as u8));

    // `tune` starts the thread that does this every `TRIM_EVERY` (it names itself once running).
    alloc::tune();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !threads().iter().any(|t| t == alloc::TRIM_THREAD) {
        assert!(
            std::time::Instant::now() < deadline,
            "no {} thread: {:?}",
            alloc::TRIM_THREAD,
            threads()
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
