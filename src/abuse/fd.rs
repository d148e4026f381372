//! The file-descriptor budget: every TCP connection costs one, and running out means nobody
//! (not even `/healthz`) can connect. Haven raises its soft limit to the hard limit at start
//! and caps accepted connections below it.

/// Descriptors kept for the database, logs, the metrics listener and the like.
pub const RESERVED: u64 = 128;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit where the platform allows it, and returns
/// the soft limit now in force (`None` where it cannot be read).
pub fn raise_limit() -> Option<u64> {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => Some(limit),
        Err(error) => {
            tracing::warn!(%error, "could not raise the file-descriptor limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE)
                .ok()
                .map(|(soft, _)| soft)
        }
    }
}

/// The connection cap: the configured one, or (0) the fd limit minus the reserve.
pub fn connection_cap(configured: usize, fd_limit: Option<u64>) -> usize {
    let derived = fd_limit
        .map(|limit| limit.saturating_sub(RESERVED).max(16))
        .unwrap_or(1024);
    let derived = usize::try_from(derived).unwrap_or(usize::MAX);
    match configured {
        0 => derived,
        n => n.min(derived),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_stays_below_the_fd_limit() {
        assert_eq!(connection_cap(0, Some(1024)), 896);
        assert_eq!(connection_cap(5000, Some(1024)), 896);
        assert_eq!(connection_cap(100, Some(1024)), 100);
        assert_eq!(connection_cap(0, Some(50)), 16);
        assert!(raise_limit().is_some_and(|l| l > 0));
    }
}
