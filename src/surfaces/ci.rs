//! What the CI guard gives GitHub Actions besides its report: every error as
//! a workflow annotation (`--format github`), and a Markdown summary of the
//! result appended to the file `$GITHUB_STEP_SUMMARY` names.

use std::fmt::Write as _;
use std::io::Write as _;

use crate::connect::db::DbError;
use crate::surfaces::check::CheckReport;
use crate::surfaces::report::{gh_data, gh_location, gh_property};
use crate::Error;

/// An error of `check` as `::error` workflow commands, one line each: one
/// per problem of invalid files, at its file, line and column (a whole-file
/// problem: at its file), the others without a location.
pub fn error_annotations(e: &Error) -> String {
    let mut out = String::new();
    let mut annotate = |props: Vec<String>, title: &str, message: &str| {
        let mut props = props;
        props.push(format!("title={}", gh_property(title)));
        let _ = writeln!(out, "::error {}::{}", props.join(","), gh_data(message));
    };
    match e {
        Error::Load(load) => {
            for d in &load.0 {
                let origin = crate::model::Origin {
                    file: d.file.as_str().into(),
                    line: d.line,
                    column: d.column,
                };
                annotate(
                    gh_location(Some(&origin), true),
                    "invalid schema file",
                    &d.message,
                );
            }
        }
        Error::Usage(m) => annotate(Vec::new(), "invalid arguments", m),
        Error::Db(DbError::Connect { .. }) => {
            annotate(Vec::new(), "cannot connect", &e.to_string())
        }
        _ => annotate(Vec::new(), "reconcile check failed", &e.to_string()),
    }
    out
}

/// The result of `check` in Markdown: a headline (passed, or how many
/// changes are refused), the compared sides, a table of the refused changes
/// (rule, object, location, reason, safe path), and what could not be
/// verified. An error gives the headline and the error.
pub fn summary(result: &Result<CheckReport, Error>) -> String {
    let mut out = String::new();
    let r = match result {
        Err(e) => {
            let _ = writeln!(out, "### reconcile check: error\n");
            for line in e.to_string().lines() {
                let _ = writeln!(out, "    {line}");
            }
            out.push('\n');
            return out;
        }
        Ok(r) => r,
    };
    let headline = match (r.refused.len(), r.out_of_date.len()) {
        (0, 0) => "passed".to_string(),
        (n, 0) => format!("{n} refused"),
        (0, m) => format!("{m} generated file(s) out of date"),
        (n, m) => format!("{n} refused, {m} generated file(s) out of date"),
    };
    let _ = writeln!(out, "### reconcile check: {headline}\n");
    let _ = writeln!(
        out,
        "The files in `{}` against {}: {} refused, {} warning(s), {} allowed change(s).\n",
        if r.sides.new.is_empty() {
            "."
        } else {
            &r.sides.new
        },
        r.base,
        r.refused.len(),
        r.warnings.len(),
        r.allowed.len()
    );
    if !r.refused.is_empty() {
        out.push_str("| Rule | Object | Where | Reason | Safe path |\n");
        out.push_str("|---|---|---|---|---|\n");
        for f in &r.refused {
            let at = f
                .origin
                .as_ref()
                .map_or_else(String::new, |o| match o.line {
                    0 => o.file.to_string(),
                    _ => format!("{}:{}", o.file, o.line),
                });
            let _ = writeln!(
                out,
                "| {} {} | {} | {} | {} | {} |",
                f.rule,
                f.rule.title(),
                cell(&f.object),
                cell(&at),
                cell(&f.message),
                cell(&f.safe_path)
            );
        }
        out.push('\n');
    }
    for o in &r.out_of_date {
        let _ = writeln!(out, "- {}", cell(&o.message));
    }
    if !r.out_of_date.is_empty() {
        out.push('\n');
    }
    if !r.notes.is_empty() {
        let _ = writeln!(out, "Not verified ({}):\n", r.notes.len());
        for n in &r.notes {
            let at = n
                .origin
                .as_ref()
                .map(|o| format!("{}:{}: ", o.file, o.line))
                .unwrap_or_default();
            let _ = writeln!(out, "- {}{}", cell(&at), cell(&n.message));
        }
        out.push('\n');
    }
    out
}

/// A database of a fleet `check` that did not pass, as one `::error`
/// workflow command (no file: the database is the place), titled by how it
/// ended (`refused by R003` or `failed`), with the target and the reason.
pub fn fleet_annotation(o: &crate::surfaces::fleet::Outcome) -> String {
    use crate::surfaces::fleet::Status;
    let (title, why) = match &o.status {
        Status::Refused(rules) => (format!("refused by {}", rules.join(", ")), String::new()),
        Status::Failed(e) => ("failed".to_string(), format!(": {e}")),
        other => (other.word().to_string(), String::new()),
    };
    format!(
        "::error title={}::{}{}",
        gh_property(&format!("reconcile check: {title}")),
        gh_data(&o.target),
        gh_data(&why)
    )
}

/// A fleet `check` in Markdown for the step summary: the headline (passed,
/// or how many databases did not) and the counts.
pub fn fleet_summary(s: &crate::surfaces::fleet::Summary, total: std::time::Duration) -> String {
    let mut out = String::new();
    let bad = s.refused + s.failed;
    if bad == 0 {
        let _ = writeln!(
            out,
            "### reconcile check: passed on {} database(s)\n",
            s.databases
        );
    } else {
        let _ = writeln!(
            out,
            "### reconcile check: {bad} of {} database(s) did not pass\n",
            s.databases
        );
    }
    let _ = writeln!(out, "| result | databases |\n|---|---|");
    for (word, n) in [
        ("changes to run", s.pending),
        ("up to date", s.up_to_date),
        ("refused", s.refused),
        ("failed", s.failed),
    ] {
        let _ = writeln!(out, "| {word} | {n} |");
    }
    let _ = writeln!(out, "\nIn {:.1}s.\n", total.as_secs_f64());
    out
}

/// A table cell's text: on one line, its `|` escaped.
fn cell(s: &str) -> String {
    s.replace('\r', "").replace('\n', " ").replace('|', "\\|")
}

/// Append `markdown` to the file `$GITHUB_STEP_SUMMARY` names, when it is
/// set and not empty (GitHub gives each step such a file; earlier content
/// is kept). Out: whether it wrote, or why it could not.
pub fn append_step_summary(markdown: &str) -> Result<bool, String> {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return Ok(false);
    };
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(markdown.as_bytes()))
        .map(|()| true)
        .map_err(|e| {
            format!(
                "cannot append to GITHUB_STEP_SUMMARY ({}): {e}",
                std::path::Path::new(&path).display()
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Diagnostic;

    #[test]
    fn a_load_error_is_an_annotation_at_its_line() {
        let e = Error::Load(crate::desired::load::LoadError(vec![Diagnostic {
            file: "schema/a,b.toml".into(),
            line: 3,
            column: 7,
            message: "expected `=`\nhere: 100%".into(),
        }]));
        assert_eq!(
            error_annotations(&e),
            "::error file=schema/a%2Cb.toml,line=3,col=7,title=invalid schema file::expected `=`%0Ahere: 100%25\n"
        );
    }

    #[test]
    fn other_errors_are_annotations_without_a_location() {
        let e = Error::Other("git revision `x` does not exist".into());
        assert_eq!(
            error_annotations(&e),
            "::error title=reconcile check failed::git revision `x` does not exist\n"
        );
    }

    #[test]
    fn a_generated_file_out_of_date_fails_the_summary() {
        let mut r = CheckReport::files_only(std::path::Path::new("schema"));
        assert!(summary(&Ok(r.clone())).starts_with("### reconcile check: passed\n"));
        r.out_of_date.push(crate::surfaces::check::OutOfDate {
            file: "shared/schema.ts".into(),
            line: 4,
            message: "shared/schema.ts is out of date (it differs from line 4 on): run x".into(),
            command: "x".into(),
        });
        let md = summary(&Ok(r));
        assert!(
            md.starts_with("### reconcile check: 1 generated file(s) out of date\n"),
            "{md}"
        );
        assert!(
            md.contains("- shared/schema.ts is out of date (it differs from line 4 on): run x\n"),
            "{md}"
        );
    }

    #[test]
    fn cells_stay_on_one_line() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
    }
}
