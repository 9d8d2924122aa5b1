//! What the benchmarks share: psql runs and the plan's statement count.

#![allow(dead_code)] // each benchmark uses its part

use std::path::Path;
use std::process::{Command, Stdio};

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
