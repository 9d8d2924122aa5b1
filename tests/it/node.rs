//! The npm package `reconcile-pg` in a Node.js app as our first users write
//! one: `scripts/npm-pack.sh` packs `npm/` with the binary under test, a
//! throwaway project (`tests/node/package.json` and its lock: Express, Drizzle
//! ORM, pg, TypeScript, Playwright's core) installs it from the registry, and
//! Node's own test runner runs `tests/node/*.test.mjs` there against this
//! run's PostgreSQL. Node.js and npm come from `.ci/run`; on a machine
//! without them the tests say so and skip (they fail under `CI`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::harness::{missing, repo, TestDb};

/// The installed project, made once per test run: Err says what failed.
static PROJECT: OnceLock<Result<PathBuf, String>> = OnceLock::new();

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Run `cmd`; Err with what it printed when it fails.
fn run(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!(
            "{what} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

fn make_project() -> Result<PathBuf, String> {
    let base = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("node-app");
    let _ = std::fs::remove_dir_all(&base);
    let app = base.join("app");
    std::fs::create_dir_all(&app).map_err(|e| e.to_string())?;
    let packed = run(
        Command::new(repo().join("scripts/npm-pack.sh"))
            .arg(env!("CARGO_BIN_EXE_reconcile"))
            .arg(base.join("pack")),
        "scripts/npm-pack.sh",
    )?;
    let tgz = packed.lines().last().unwrap_or("").trim().to_string();
    for entry in std::fs::read_dir(repo().join("tests/node")).map_err(|e| e.to_string())? {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_file() {
            std::fs::copy(&path, app.join(path.file_name().unwrap())).map_err(|e| e.to_string())?;
        }
    }
    let npm = |args: &[&str]| {
        let mut c = Command::new("npm");
        c.args(args)
            .args(["--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&app);
        c
    };
    run(&mut npm(&["ci"]), "npm ci (tests/node/package-lock.json)")?;
    run(
        &mut npm(&["install", &tgz]),
        "npm install of the packed reconcile-pg",
    )?;
    Ok(app)
}

/// The installed project; None (after `missing`) without Node.js and npm.
fn project() -> Option<&'static Path> {
    if !have("node") || !have("npm") {
        missing("Node.js and npm are needed for the npm package's tests (.ci/run installs them)");
        return None;
    }
    match PROJECT.get_or_init(make_project) {
        Ok(p) => Some(p),
        Err(e) => panic!("the throwaway Node.js project could not be made: {e}"),
    }
}

/// `node --test FILE` in the project with `env`; fails the Rust test with
/// everything the Node tests printed when one of them fails.
fn node_test(app: &Path, file: &str, env: &[(&str, String)]) {
    let mut c = Command::new("node");
    c.args(["--test", "--test-reporter=spec", file])
        .current_dir(app)
        .env("RECONCILE_REPO", repo())
        .env_remove("DATABASE_URL")
        .env_remove("ADMIN_TOKEN")
        .env_remove("RUN_MIGRATIONS_ON_BOOT")
        .env_remove("RECONCILE_BINARY");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run node");
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "node --test {file} failed:\n{text}");
    // The runner's summary: at least one test ran and none failed.
    assert!(text.contains("ℹ fail 0"), "{text}");
    assert!(!text.contains("ℹ pass 0"), "{text}");
}

/// `npx reconcile --version`, `plan()` and `apply()` with their errors, an
/// Express app serving the admin endpoints on its own port the same as
/// `reconcile serve` (health, dry-run, migrate, 401, 405, 409), and the boot
/// migration (`tests/node/package.test.mjs`).
#[test]
fn npm_package_binary_api_and_express_admin_endpoints() {
    let Some(app) = project() else { return };
    let api = TestDb::new("npm_api");
    let express = TestDb::new("npm_express");
    let boot = TestDb::new("npm_boot");
    node_test(
        app,
        "package.test.mjs",
        &[
            ("DATABASE_URL_API", api.url.clone()),
            ("DATABASE_URL_EXPRESS", express.url.clone()),
            ("DATABASE_URL_BOOT", boot.url.clone()),
        ],
    );
}

/// The README's Node.js blocks: its `npx` lines, its Express recipe and its
/// JS API example (`tests/node/readme.test.mjs`).
#[test]
fn readme_node_blocks_run_in_an_app() {
    let Some(app) = project() else { return };
    let cli = TestDb::new("npm_readme_cli");
    let server = TestDb::new("npm_readme_server");
    let api = TestDb::new("npm_readme_api");
    node_test(
        app,
        "readme.test.mjs",
        &[
            ("DATABASE_URL_README_CLI", cli.url.clone()),
            ("DATABASE_URL_README_SERVER", server.url.clone()),
            ("DATABASE_URL_README_API", api.url.clone()),
        ],
    );
}

/// `codegen drizzle` from `schema/`: the same bytes twice, `tsc --strict` over
/// it and typed use of it, and a Drizzle insert and select on every table
/// against the database `apply` built (`tests/node/drizzle.test.mjs`).
#[test]
fn generated_drizzle_schema_type_checks_and_round_trips_every_table() {
    let Some(app) = project() else { return };
    let db = TestDb::new("npm_drizzle");
    node_test(
        app,
        "drizzle.test.mjs",
        &[("DATABASE_URL_DRIZZLE", db.url.clone())],
    );
}

/// The dry-run page in headless Chromium through the Express handler: the
/// plan, a refusal and a hazard; Migrate applies and then nothing is left;
/// a stale page's Migrate is refused (`tests/node/page.test.mjs`).
#[test]
fn dry_run_page_in_headless_chromium() {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        missing(&format!(
            "Chromium is needed for the dry-run page's browser test: looked for {chromium} (.ci/run installs Debian's chromium)"
        ));
        return;
    }
    let Some(app) = project() else { return };
    let db = TestDb::new("npm_page");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    let _ = std::fs::create_dir_all(&shots);
    node_test(
        app,
        "page.test.mjs",
        &[
            ("DATABASE_URL_PAGE", db.url.clone()),
            ("RECONCILE_SCREENSHOTS", shots.display().to_string()),
        ],
    );
}
