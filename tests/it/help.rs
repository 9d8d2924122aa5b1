//! `--help` of the binary and of every subcommand: each command and each
//! flag says what it does (issue 21), and no help refers to a document the
//! user does not have.

use crate::harness::reconcile;

/// The commands `help` lists under `Commands:` (clap's own `help` aside).
fn commands_of(help: &str) -> Vec<(String, String)> {
    help.lines()
        .skip_while(|l| l.trim() != "Commands:")
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| {
            let t = l.trim_start();
            let (name, about) = t.split_once(' ').unwrap_or((t, ""));
            (name != "help").then(|| (name.to_string(), about.trim().to_string()))
        })
        .collect()
}

/// Every command path (`["plan"]`, `["codegen", "drizzle"]`, ...) with the
/// description its parent's help gives it, found by walking `--help`.
fn all_commands() -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    let mut pending: Vec<Vec<String>> = vec![vec![]];
    while let Some(path) = pending.pop() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        for (name, about) in commands_of(&help(&args)) {
            let mut sub = path.clone();
            sub.push(name);
            pending.push(sub.clone());
            out.push((sub, about));
        }
    }
    out
}

#[test]
fn the_walk_finds_every_command() {
    let names: Vec<String> = all_commands().iter().map(|(p, _)| p.join(" ")).collect();
    for c in [
        "plan",
        "apply",
        "history",
        "check",
        "dump",
        "prune",
        "serve",
        "completions",
        "codegen",
        "codegen drizzle",
    ] {
        assert!(names.iter().any(|n| n == c), "`{c}` not found: {names:?}");
    }
}

/// Every help that has `--database-url` shows the variable behind it, and
/// never its value; `check` reads no variable (only its flag chooses a
/// database to compare with) and says so.
#[test]
fn help_shows_the_variable_behind_database_url_never_its_value() {
    let mut with_flag = 0;
    for (path, _) in all_commands() {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_reconcile"))
            .args(&args)
            .env("DATABASE_URL", "postgres://u:hunter2@db.example/app")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let c = path.join(" ");
        assert!(
            !text.contains("hunter2"),
            "{c} --help shows the URL: {text}"
        );
        // The flag's line and the lines of its long help below it.
        let Some(at) = text
            .lines()
            .position(|l| l.trim_start().starts_with("--database-url <URL>"))
        else {
            continue;
        };
        let flag: String = text
            .lines()
            .skip(at)
            .enumerate()
            .take_while(|(i, l)| *i == 0 || !l.trim_start().starts_with('-'))
            .map(|(_, l)| format!("{l}\n"))
            .collect();
        with_flag += 1;
        if c == "check" {
            assert!(flag.contains("DATABASE_URL is not read"), "{flag}");
            assert!(!flag.contains("[env: "), "{flag}");
        } else {
            assert!(flag.contains("[env: DATABASE_URL]"), "{c} --help: {flag}");
        }
    }
    assert_eq!(with_flag, 7, "the commands with --database-url");
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
    assert!(!top.contains("SPEC") && !top.contains('§'), "{top}");
    let commands = all_commands();
    let mut bare = Vec::new();
    let mut abouts: Vec<&str> = Vec::new();
    for (path, about) in &commands {
        let c = path.join(" ");
        assert!(about.len() > 10, "`{c}` has no description: {about:?}");
        assert!(
            !abouts.contains(&about.as_str()),
            "`{c}` has another command's description: {about:?}"
        );
        abouts.push(about);
        // The long help puts each flag's text on the lines below it.
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let text = help(&args);
        // It opens with the command's own description, as listed.
        let first = text.lines().next().unwrap_or_default();
        let listed = about.trim_end_matches('.');
        assert!(
            first.trim_end_matches('.') == listed,
            "`{c} --help` opens with {first:?}, not its description {about:?}"
        );
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
            !text.contains("SPEC") && !text.contains('§'),
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
