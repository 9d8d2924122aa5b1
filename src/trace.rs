//! Phase timings and memory, on stderr when `RECONCILE_TRACE` is set.

/// With `RECONCILE_TRACE` set, phase timings go to stderr.
pub fn trace(phase: &str, since: std::time::Instant) {
    if std::env::var_os("RECONCILE_TRACE").is_some() {
        // Resident memory now and at its peak (Linux), to see what each phase costs.
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let kb = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .map_or(String::new(), |v| v.trim().to_string())
        };
        eprintln!(
            "[trace] {phase}: {:.1}ms (rss {}, peak {})",
            since.elapsed().as_secs_f64() * 1000.0,
            kb("VmRSS:"),
            kb("VmHWM:")
        );
    }
}
