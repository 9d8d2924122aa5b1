//! Every code block of README.md is run or checked, so that what a user
//! copies works (issue 21). A fenced block says what it is by its language:
//!
//! - `toml`: a whole set of schema files, alone: applied to an empty database
//!   (exit 0), then planned again with nothing to run. The roles the blocks
//!   name (`README_ROLES`) are created first; roles live in the cluster.
//! - `sh`: run by `bash -euo pipefail` in a directory holding a copy of
//!   `schema/`, with the built `reconcile` first on `PATH`, `DATABASE_URL` at
//!   an empty database of the harness's server and `PORT` free; it must exit 0.
//!   `sh no-run` marks the commands that build or test this repository
//!   itself (`cargo ...`, `scripts/...`): `.ci/run` runs those.
//! - `text` (a synopsis of commands, an output): each `reconcile SUB ...`
//!   line names only flags that `reconcile SUB --help` describes.
//! - `yaml`, `json`: shown, not run (a workflow's lines; an answer).
//! - `sh npm` and `js`: a Node.js app's commands and code, run by
//!   `tests/node/readme.test.mjs` in the throwaway project of `node.rs`,
//!   with the packed npm package installed: each `npx` line runs, a
//!   `js server` block serves the admin endpoints, a `js api` block runs.
//!
//! A block without a language, or an indented code block, fails the test.
//!
//! The links of README.md and `docs/` name files of the repository only.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::{free_port, reconcile, repo, Run, TestDb};

/// Roles the README's blocks grant to or name in policies.
const README_ROLES: &[&str] = &[
    "app_user",
    "app_reader",
    "app_writer",
    "app_billing",
    "auditor",
    "reporting",
];

struct Block {
    line: usize,
    lang: String,
    tags: Vec<String>,
    text: String,
}

fn blocks() -> Vec<Block> {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let lines: Vec<&str> = readme.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    // The last line with text, and whether a blank line followed it.
    let mut last_text = "";
    let mut blank_since = true;
    while i < lines.len() {
        let line = lines[i];
        if let Some(info) = line.strip_prefix("```") {
            let mut words = info.split_whitespace().map(str::to_string);
            let lang = words.next().unwrap_or_default();
            let tags = words.collect();
            let start = i + 1;
            i += 1;
            while i < lines.len() && !lines[i].starts_with("```") {
                i += 1;
            }
            assert!(
                i < lines.len(),
                "README.md:{start}: a code block is not closed"
            );
            out.push(Block {
                line: start,
                lang,
                tags,
                text: lines[start..i].join("\n") + "\n",
            });
            last_text = "```";
            blank_since = false;
        } else if line.trim().is_empty() {
            blank_since = true;
        } else {
            // An indented code block: four spaces after a blank line, not
            // inside a list item (whose text goes on indented).
            let in_list = last_text.starts_with(' ')
                || last_text.starts_with("- ")
                || last_text.starts_with("* ");
            assert!(
                !(blank_since && line.starts_with("    ") && !in_list),
                "README.md:{}: an indented code block; fence it with its language (```sh, ```text, ...)",
                i + 1
            );
            last_text = line;
            blank_since = false;
        }
        i += 1;
    }
    out
}

fn ensure_roles(db: &TestDb) {
    for role in README_ROLES {
        db.sql(&format!(
            "DO $$ BEGIN CREATE ROLE {role}; EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        ));
    }
}

#[test]
fn every_block_has_a_language_and_there_are_some_of_each() {
    let blocks = blocks();
    for b in &blocks {
        assert!(
            ["toml", "sh", "text", "yaml", "json", "js"].contains(&b.lang.as_str()),
            "README.md:{}: a code block's language is {:?}; expected toml, sh, text, yaml, json or js",
            b.line,
            b.lang
        );
    }
    for lang in ["toml", "sh", "text"] {
        assert!(
            blocks.iter().filter(|b| b.lang == lang).count() >= 2,
            "fewer than two {lang} blocks: is the README read?"
        );
    }
}

#[test]
fn every_toml_block_applies_and_plans_empty() {
    let mut failures = Vec::new();
    for b in blocks().iter().filter(|b| b.lang == "toml") {
        let db = TestDb::new("readme_toml");
        ensure_roles(&db);
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("readme.toml"), &b.text).unwrap();
        let schema = dir.path().to_str().unwrap();
        let conn = ["--schema", schema, "--database-url", &db.url];
        let applied = Run::from(reconcile(&[&["apply", "--yes"][..], &conn].concat()));
        if applied.code != 0 {
            failures.push(format!("README.md:{}: apply: {applied}", b.line));
            continue;
        }
        let again = Run::from(reconcile(
            &[&["plan", "--detailed-exitcode"][..], &conn].concat(),
        ));
        if again.code != 0 {
            failures.push(format!("README.md:{}: plan after apply: {again}", b.line));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The directory of the built binary, to put first on `PATH`.
fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_reconcile"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Run a block's bash in a process group of its own, its output in files (a
/// server it left running keeps no pipe open), for at most two minutes; then
/// end whatever of the group is left (a server started with `&`).
fn run_block(mut c: Command, dir: &Path) -> Run {
    use std::os::unix::process::CommandExt;
    let stdout = dir.join("block.stdout");
    let stderr = dir.join("block.stderr");
    c.process_group(0)
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap());
    let mut child = c.spawn().expect("bash runs");
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > std::time::Duration::from_secs(120) {
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    // SAFETY: kill(2) of the block's own process group, made above.
    unsafe {
        libc::kill(-(child.id() as i32), libc::SIGKILL);
    }
    let _ = child.wait();
    Run {
        code: status.and_then(|s| s.code()).unwrap_or(-1),
        stdout: std::fs::read_to_string(&stdout).unwrap_or_default(),
        stderr: std::fs::read_to_string(&stderr).unwrap_or_default()
            + if status.is_none() {
                "\n(killed after 120 s)"
            } else {
                ""
            },
    }
}

#[test]
fn every_sh_block_runs() {
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut failures = Vec::new();
    let mut ran = 0;
    for b in blocks().iter().filter(|b| b.lang == "sh") {
        if b.tags.iter().any(|t| t == "npm") {
            // Run by tests/node/readme.test.mjs, where the package is installed.
            for line in b.text.lines().filter(|l| !l.trim().is_empty()) {
                let command = line.trim_start();
                assert!(
                    command.starts_with("npm install reconcile-pg") || command.starts_with("npx reconcile "),
                    "README.md:{}: a `npm` block holds `npm install reconcile-pg` and `npx reconcile ...` lines; not {command:?}",
                    b.line
                );
            }
            continue;
        }
        if b.tags.iter().any(|t| t == "no-run") {
            for line in b.text.lines().filter(|l| !l.trim().is_empty()) {
                let command = line.trim_start();
                assert!(
                    command.starts_with("cargo ") || command.starts_with("scripts/"),
                    "README.md:{}: a `no-run` block runs only this repository's own scripts and cargo; not {command:?}",
                    b.line
                );
            }
            continue;
        }
        let db = TestDb::new("readme_sh");
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&repo().join("schema"), &dir.path().join("schema"));
        let mut c = Command::new("bash");
        c.args(["-euo", "pipefail", "-c", &b.text])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("HOME", dir.path())
            .env("DATABASE_URL", &db.url)
            .env("PORT", free_port().to_string());
        for var in [
            "ADMIN_TOKEN",
            "RUN_MIGRATIONS_ON_BOOT",
            "NO_COLOR",
            "GITHUB_STEP_SUMMARY",
        ] {
            c.env_remove(var);
        }
        let out = run_block(c, dir.path());
        ran += 1;
        if out.code != 0 {
            failures.push(format!("README.md:{}:\n{}\n{out}", b.line, b.text));
        }
    }
    assert!(ran >= 2, "only {ran} sh blocks ran");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_synopsis_line_names_flags_the_help_describes() {
    let mut failures = Vec::new();
    for b in blocks().iter().filter(|b| b.lang == "text") {
        let mut sub: Option<String> = None;
        for line in b.text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            if words.first() == Some(&"reconcile") {
                sub = words.get(1).map(|s| s.to_string());
            } else if !line.starts_with(' ') {
                sub = None;
            }
            let Some(sub) = sub.as_deref() else { continue };
            if sub.starts_with('-') {
                continue;
            }
            let help = Run::from(reconcile(&[sub, "--help"]));
            if help.code != 0 {
                failures.push(format!(
                    "README.md:{}: `reconcile {sub}` is no command: {help}",
                    b.line
                ));
                continue;
            }
            for flag in line
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                .filter(|w| w.starts_with("--") && w.len() > 2)
            {
                if !help.stdout.contains(flag) {
                    failures.push(format!(
                        "README.md:{}: `reconcile {sub}` has no {flag}",
                        b.line
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The user's documentation is in the repository (issue 21): every link of
/// README.md and of `docs/` names a file inside the repository (or a web
/// address), and none refers to SPEC or to `../shared`, which a clone lacks.
#[test]
fn the_documentation_links_only_to_files_of_the_repository() {
    let root = repo().canonicalize().unwrap();
    let mut pages = vec![root.join("README.md")];
    let mut pending = vec![root.join("docs")];
    while let Some(d) = pending.pop() {
        for e in std::fs::read_dir(&d).expect("docs/") {
            let p = e.unwrap().path();
            if p.is_dir() {
                pending.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                pages.push(p);
            }
        }
    }
    assert!(pages.len() >= 9, "README.md and docs/rules: {pages:?}");
    let mut bad = Vec::new();
    let mut local = 0;
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        let name = page.strip_prefix(&root).unwrap().display().to_string();
        for (n, line) in text.lines().enumerate() {
            for word in ["SPEC", "§", "../shared/SPEC"] {
                if line.contains(word) {
                    bad.push(format!("{name}:{}: refers to {word}: {line}", n + 1));
                }
            }
            // `[text](target)`: each target on the line.
            for (_, rest) in line.match_indices("](").map(|(i, _)| line.split_at(i + 2)) {
                let target = rest.split(')').next().unwrap_or_default();
                let target = target.split('#').next().unwrap_or_default();
                if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                local += 1;
                let file = page.parent().unwrap().join(target);
                match file.canonicalize() {
                    Ok(f) if f.starts_with(&root) => {}
                    Ok(f) => bad.push(format!(
                        "{name}:{}: {target} is outside the repository ({})",
                        n + 1,
                        f.display()
                    )),
                    Err(_) => bad.push(format!("{name}:{}: {target} does not exist", n + 1)),
                }
            }
        }
    }
    assert!(
        local >= 8,
        "only {local} links to files found: is the README read?"
    );
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
