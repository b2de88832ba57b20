//! The allocator's settings for a process that moves large buffers (files in base64, `_bulk` bodies) through
//! memory all day.
//!
//! glibc serves allocations above its mmap threshold with their own mappings, returned to the system on free —
//! but each such free *raises* the threshold (up to 32 MiB), so after the first few large buffers every later one
//! comes from the heap arenas, where freed blocks stay resident and each thread's arena keeps its own. Measured on
//! a sync of 200 attachments of 8 MiB under a 16 MiB budget: the process grew 56 MiB with the dynamic threshold,
//! 14 MiB with a fixed one. [`tune`] fixes the threshold at 256 KiB (setting it turns the dynamic adjustment off),
//! so memory the budget has released is memory the system gets back. Other allocators (musl, macOS) are left
//! alone.

/// Buffers at least this large get their own mapping, returned to the system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const MMAP_THRESHOLD: libc::c_int = 256 * 1024;

/// Applies the settings; call once, first thing in `main` (before threads start).
pub fn tune() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes allocator parameters; M_MMAP_THRESHOLD with a value within glibc's
    // documented range (0 to 32 MiB on 64-bit) is always accepted. It returns 0 on failure, which leaves the
    // defaults in place.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}
