//! Handing freed memory back to the operating system.
//!
//! With glibc's allocator, a process stays resident at its peak: freed pages stay in the
//! arena of the thread that used them, and after each large free glibc raises the size below
//! which it keeps blocks, so a password check's 19 MiB Argon2 block stayed for good. After an
//! attack Haven held 121 MiB for good where it started at 12 (`docs/benchmarks.md`).
//!
//! Haven runs on jemalloc (`tikv-jemallocator`, under the zeroing wrapper in `main.rs`), whose
//! freed pages decay back to the system over ~10 s. Its background threads do that decay on a
//! timer; without them it happens only when some thread next allocates, so a Haven that falls
//! quiet after an attack would keep the memory until the next busy moment.

/// Turns on jemalloc's background purging threads; call once at start. False when the
/// allocator refused (then pages still go back, but only as threads allocate).
pub fn return_freed_pages_in_background() -> bool {
    match tikv_jemalloc_ctl::background_thread::write(true) {
        Ok(()) => true,
        Err(error) => {
            tracing::warn!(%error, "jemalloc's background threads could not be started");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_background_threads_start() {
        assert!(return_freed_pages_in_background());
        assert!(tikv_jemalloc_ctl::background_thread::read().unwrap());
    }
}
