//! The C allocator's settings for a process that runs many simulations one
//! after another (a sweep, a fuzz campaign, `redsim bench`).
//!
//! glibc's malloc hands blocks above a moving threshold (128 KiB at first)
//! to mmap(2) and gives the top of its heap back to the kernel once 128 KiB
//! of it is free, so each run's event queue, backlogs and histories were
//! mapped, faulted in page by page and unmapped again: 8% of the time of
//! back-to-back canonical Sentinel runs went to the kernel. Fixing the
//! thresholds at the values glibc's own adjustment tops out at (32 MiB for
//! mmap, twice that for trimming) lets one run's memory serve the next.
//! What stays is what a run already held, so peaks barely move (a 150-seed
//! sweep 24 -> 27 MiB; a long run and a 200-master cluster the same).

/// Largest block malloc takes from its heap rather than from mmap(2):
/// glibc's `DEFAULT_MMAP_THRESHOLD_MAX` on 64-bit hosts.
const MMAP_THRESHOLD: i32 = 32 << 20;
/// Free memory at the top of the heap kept rather than returned: twice the
/// mmap threshold, as glibc's dynamic adjustment sets it.
const TRIM_THRESHOLD: i32 = 2 * MMAP_THRESHOLD;

/// Sets the thresholds (once, before any run; elsewhere than glibc it does
/// nothing). Only speed depends on it: no run reads the allocator.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes two tunables of the allocator, under
    // the allocator's own lock; it takes no pointer.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
        libc::mallopt(libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD);
    }
}
