//! `--help` of the binary and of every subcommand: each command and each
//! flag says what it does (issue 21), and no help refers to a document the
//! user does not have.

use crate::harness::reconcile;

const SUBCOMMANDS: &[&str] = &[
    "plan",
    "apply",
    "history",
    "check",
    "dump",
    "prune",
    "serve",
    "completions",
    "codegen",
];

/// The subcommands that connect where DATABASE_URL points when no
/// --database-url is given, as their help says.
const CONNECTING: &[&str] = &["plan", "apply", "history", "dump", "prune", "serve"];

#[test]
fn help_shows_the_variable_behind_database_url_never_its_value() {
    for c in CONNECTING {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_reconcile"))
            .args([c, "--help"])
            .env("DATABASE_URL", "postgres://u:hunter2@db.example/app")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("[env: DATABASE_URL]"), "{c} --help: {text}");
        assert!(
            !text.contains("hunter2"),
            "{c} --help shows the URL: {text}"
        );
    }
}

/// The help text of `args`, which must exit 0.
fn help(args: &[&str]) -> String {
    let out = reconcile(args);
    assert!(out.status.success(), "{args:?} failed");
    String::from_utf8(out.stdout).expect("help is UTF-8")
}

#[test]
fn every_command_and_every_flag_is_described() {
    let top = help(&["--help"]);
    for c in SUBCOMMANDS {
        let line = top
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{c} ")))
            .unwrap_or_else(|| panic!("`{c}` is not listed:\n{top}"));
        assert!(
            line.trim_start()[c.len()..].trim().len() > 10,
            "`{c}` has no description: {line:?}"
        );
    }
    let mut bare = Vec::new();
    for c in SUBCOMMANDS {
        // The long help puts each flag's text on the lines below it.
        let text = help(&[c, "--help"]);
        let lines: Vec<&str> = text.lines().collect();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            if !t.starts_with('-') || t.starts_with("-h, --help") {
                continue;
            }
            // `--flag <VALUE>  text` on one line, or the text on the next
            // (`[default: ...]` and `[possible values: ...]` are no text).
            let own = t.split_once("  ").is_some_and(|(_, rest)| described(rest));
            let next = lines.get(i + 1).is_some_and(|n| {
                let n = n.trim_start();
                !n.starts_with('-') && described(n)
            });
            if !(own || next) {
                bare.push(format!("{c}: {t}"));
            }
        }
        assert!(
            !text.contains("SPEC"),
            "`{c} --help` refers to SPEC:\n{text}"
        );
    }
    assert!(
        bare.is_empty(),
        "flags without a description:\n{}",
        bare.join("\n")
    );
}

/// Whether a help line says something beyond clap's bracketed notes.
fn described(line: &str) -> bool {
    let mut depth = 0;
    line.chars().any(|c| {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            _ => {}
        }
        depth == 0 && c.is_alphabetic()
    })
}
