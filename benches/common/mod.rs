//! What the benchmarks share: psql runs and the plan's statement count.

#![allow(dead_code)] // each benchmark uses its part

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How many statements a JSON plan has.
pub fn statements_in(json: &str) -> usize {
    let v: serde_json::Value = serde_json::from_str(json).expect("plan JSON");
    v["statements"].as_array().map_or(0, Vec::len)
}

pub fn psql(url: &str, sql: &str) {
    let ok = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        .stdout(Stdio::null())
        .status()
        .expect("run psql")
        .success();
    assert!(ok, "psql failed: {sql}");
}

pub fn psql_file(url: &str, file: &Path) {
    let ok = Command::new("psql")
        .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f"])
        .arg(file)
        .stdout(Stdio::null())
        .status()
        .expect("run psql")
        .success();
    assert!(ok, "psql -f {} failed", file.display());
}

pub fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((u, q)) => (u, format!("?{q}")),
        None => (url, String::new()),
    };
    let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
    format!("{base}/{db}{query}")
}

/// The first value psql prints for a query.
pub fn psql_value(url: &str, sql: &str) -> String {
    let out = Command::new("psql")
        .args([
            "-X",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            url,
            "-c",
            sql,
        ])
        .output()
        .expect("run psql");
    assert!(out.status.success(), "psql failed: {sql}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Run `cmd` to its end with stdout and stderr in files: its wall time, its
/// peak RSS in KiB (from `wait4`, for that child alone) and its stdout; a
/// failure gives the exit status and the first `error` line of stderr.
pub fn measured(cmd: &mut Command) -> Result<(Duration, i64, String), String> {
    let out_file = tempfile::NamedTempFile::new().unwrap();
    let err_file = tempfile::NamedTempFile::new().unwrap();
    let t = Instant::now();
    // Reaped by wait4 below, which also gives its peak memory.
    #[allow(clippy::zombie_processes)]
    let child = cmd
        .stdout(out_file.reopen().unwrap())
        .stderr(err_file.reopen().unwrap())
        .spawn()
        .map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own child, not waited for elsewhere.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let elapsed = t.elapsed();
    assert!(pid > 0, "wait4 failed");
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let err = std::fs::read_to_string(err_file.path()).unwrap_or_default();
        let first = err
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or("(no message)");
        return Err(format!(
            "{:?} failed (status {status:#x}): {first}",
            cmd.get_args().collect::<Vec<_>>()
        ));
    }
    let out = std::fs::read_to_string(out_file.path()).unwrap_or_default();
    Ok((elapsed, usage.ru_maxrss, out))
}
