//! Build script: the git commit that `reconcile --version` shows.
//!
//! `RECONCILE_COMMIT` is the short hash of `HEAD`, or `unknown` outside a git
//! checkout (a source tarball); a `RECONCILE_COMMIT` in the environment wins.
//! It is recomputed when `HEAD` or the branch it names moves.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Rebuild when this git file changes (only files that exist: cargo would
/// take a missing one as changed on every build).
fn watch(path: Option<String>) {
    if let Some(path) = path.filter(|p| std::path::Path::new(p).exists()) {
        println!("cargo:rerun-if-changed={path}");
    }
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]);
    watch(git(&["rev-parse", "--git-path", "HEAD"]));
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watch(git(&["rev-parse", "--git-path", &branch]));
    }
    watch(git(&["rev-parse", "--git-path", "packed-refs"]));
    // Appended on every commit and checkout, even of a branch whose ref is packed.
    watch(git(&["rev-parse", "--git-path", "logs/HEAD"]));
    println!("cargo:rerun-if-env-changed=RECONCILE_COMMIT");
    let commit = std::env::var("RECONCILE_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or(commit)
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=RECONCILE_COMMIT={commit}");
}
