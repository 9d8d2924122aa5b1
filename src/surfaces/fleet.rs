//! Many databases at once (SPEC §4, "Many databases"): `plan`, `apply` and
//! `history` over a list of targets, from a file of connection strings
//! (`--targets`) or from the databases of one server whose names match a
//! `LIKE` pattern (`--targets-match`), a bounded number at a time (`--jobs`).
//!
//! Each database is planned or applied on its own, through the pipeline's
//! functions (its own connection, transaction and advisory lock): one that
//! fails, is refused or cannot be reached stops no other. The runner hands
//! each database's [`Outcome`] to the caller as it finishes and keeps only
//! the counts ([`Summary`]), so memory stays flat in the number of targets.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::apply::{ApplyError, ApplyOptions};
use crate::connect::db::{self, Settings};
use crate::error::exit;
use crate::model::{self, names};
use crate::pipeline;
use crate::surfaces::{answer, report};
use crate::Error;

/// How many databases run at once when `--jobs` is not given.
pub const DEFAULT_JOBS: usize = 4;

/// One database of the fleet: where it is, and for an apply the plan hash a
/// person confirmed for it (what runs is what was shown).
#[derive(Clone, Debug)]
pub struct Job {
    pub settings: Settings,
    pub expect_plan: Option<String>,
}

impl Job {
    /// A database with nothing confirmed.
    pub fn new(settings: Settings) -> Job {
        Job {
            settings,
            expect_plan: None,
        }
    }
}

/// What the fleet does to each database.
#[derive(Clone)]
pub enum Operation {
    /// `plan`; with `detailed_exitcode`, pending changes exit 4.
    Plan {
        files: Arc<model::Catalog>,
        detailed_exitcode: bool,
    },
    /// `apply` (also `--online`, as `opts` says).
    Apply {
        files: Arc<model::Catalog>,
        opts: ApplyOptions,
    },
    /// `history`: the `limit` newest entries of each database.
    History { limit: i64 },
}

/// How one database ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Statements ran and committed.
    Applied,
    /// `plan`: statements would run.
    Pending,
    /// Nothing to run: the database matches the files.
    UpToDate,
    /// A change was refused (the rule ids, e.g. `R003`); nothing was applied.
    Refused(Vec<String>),
    /// Unreachable, a SQL failure, ...; nothing was applied (the short error).
    Failed(String),
    /// `history`: the entries were read.
    Read,
}

impl Status {
    /// The word of the text line and of the summary table.
    pub fn word(&self) -> &'static str {
        match self {
            Status::Applied => "applied",
            Status::Pending => "pending",
            Status::UpToDate => "up to date",
            Status::Refused(_) => "refused",
            Status::Failed(_) => "failed",
            Status::Read => "read",
        }
    }

    /// The value of `result` in JSON.
    pub fn key(&self) -> &'static str {
        match self {
            Status::Applied => "applied",
            Status::Pending => "pending",
            Status::UpToDate => "upToDate",
            Status::Refused(_) => "refused",
            Status::Failed(_) => "failed",
            Status::Read => "read",
        }
    }
}

/// One database, finished.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// `host=… port=… user=… dbname=…` (never the password).
    pub target: String,
    pub status: Status,
    pub exit_code: u8,
    /// Statements applied (`apply`), to run (`plan`), or history entries read (`history`).
    pub statements: usize,
    pub duration: Duration,
    /// The plan's hash (plan and apply, when one was computed).
    pub plan_hash: Option<String>,
    /// `history`: the newest entry, as `2026-12-01T10:00:00.000Z plan 1a2b…`.
    pub detail: Option<String>,
    /// The database's JSON answer (what the single-database command prints
    /// under `--format json`), only when the runner was asked to keep it.
    pub answer: Option<Value>,
}

/// The counts of a fleet run and its exit code (the worst of its databases).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub databases: usize,
    pub applied: usize,
    pub pending: usize,
    pub up_to_date: usize,
    pub refused: usize,
    pub failed: usize,
    pub read: usize,
    pub exit_code: u8,
}

impl Summary {
    /// Count one database.
    pub fn add(&mut self, o: &Outcome) {
        self.databases += 1;
        match o.status {
            Status::Applied => self.applied += 1,
            Status::Pending => self.pending += 1,
            Status::UpToDate => self.up_to_date += 1,
            Status::Refused(_) => self.refused += 1,
            Status::Failed(_) => self.failed += 1,
            Status::Read => self.read += 1,
        }
        self.exit_code = worst(self.exit_code, o.exit_code);
    }
}

/// The worse of two exit codes: 1, then 2, then 3, then 4, then 0.
pub fn worst(a: u8, b: u8) -> u8 {
    fn rank(c: u8) -> u8 {
        match c {
            exit::OK => 0,
            exit::CHANGES_PENDING => 1,
            exit::REFUSED => 2,
            exit::INVALID_INPUT => 3,
            _ => 4,
        }
    }
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// Why the list of targets could not be made. `Input` is exit 2 (the file,
/// the pattern), `Listing` exit 1 (the server to list could not be asked).
#[derive(Debug, thiserror::Error)]
pub enum TargetsError {
    #[error("{0}")]
    Input(String),
    #[error("cannot list the databases to match: {0}")]
    Listing(Box<Error>),
}

impl TargetsError {
    /// The exit code (SPEC §4).
    pub fn exit_code(&self) -> u8 {
        match self {
            TargetsError::Input(_) => exit::INVALID_INPUT,
            TargetsError::Listing(e) => e.exit_code(),
        }
    }
}

/// The targets of a `--targets` file: one connection string a line (a URL
/// or a keyword string, read as `--database-url` reads it, the `PG*`
/// variables filling what it leaves out); blank lines and lines starting
/// with `#` are skipped. Errors (exit 2) name the file, and the line of a
/// string that cannot be read: a file that cannot be read, one without any
/// connection string, a bad string (the message never shows a password).
pub fn read_targets_file(path: &Path) -> Result<Vec<Settings>, TargetsError> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| TargetsError::Input(format!("{shown}: cannot read the targets file: {e}")))?;
    parse_targets(&text, &shown.to_string())
}

/// The targets of a `--targets` file's text; `file` names it in errors.
pub fn parse_targets(text: &str, file: &str) -> Result<Vec<Settings>, TargetsError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut warnings = Vec::new();
        let settings = db::config_from_warning(Some(line), &mut |w| warnings.push(w))
            .map_err(|e| {
                TargetsError::Input(format!(
                    "{file}:{}: {e} (expected a connection string: postgres://USER@HOST:PORT/DBNAME or host=... dbname=...)",
                    i + 1
                ))
            })?;
        for w in warnings {
            eprintln!("{file}:{}: {w}", i + 1);
        }
        out.push(settings);
    }
    if out.is_empty() {
        return Err(TargetsError::Input(format!(
            "{file}: no connection string in the targets file (expected one a line; blank lines and lines starting with # are skipped)"
        )));
    }
    Ok(out)
}

/// The databases of the server that `database_url` names (else
/// `DATABASE_URL`, else the `PG*` variables) whose name matches the SQL
/// `LIKE` pattern, in name order, as targets: the same settings with
/// `dbname` replaced. Templates and databases that do not allow connections
/// are left out. Listed with one query through that connection. Errors:
/// bad settings or no database matching (exit 2); the server cannot be
/// reached or asked (exit 1).
pub async fn match_databases(
    database_url: Option<&str>,
    pattern: &str,
) -> Result<Vec<Settings>, TargetsError> {
    let base = db::config_from(database_url).map_err(|e| TargetsError::Input(e.to_string()))?;
    let names = list_databases(&base, pattern)
        .await
        .map_err(|e| TargetsError::Listing(Box::new(e)))?;
    if names.is_empty() {
        return Err(TargetsError::Input(format!(
            "no database of {} has a name matching LIKE {} (templates and databases that do not allow connections are left out)",
            base.describe(),
            names::printed_literal(pattern)
        )));
    }
    Ok(names
        .into_iter()
        .map(|name| Settings {
            dbname: name,
            ..base.clone()
        })
        .collect())
}

async fn list_databases(base: &Settings, pattern: &str) -> Result<Vec<String>, Error> {
    let db = db::Db::connect(base).await?;
    // `begin` pins standard_conforming_strings, which the literal relies on.
    db.begin("READ ONLY").await?;
    let rows = db
        .simple(&format!(
            "SELECT d.datname FROM pg_catalog.pg_database d \
             WHERE d.datname OPERATOR(pg_catalog.~~) {} AND NOT d.datistemplate AND d.datallowconn \
             ORDER BY d.datname COLLATE \"C\"",
            names::quote_literal(pattern)
        ))
        .await;
    let _ = db.execute("ROLLBACK").await;
    Ok(rows?
        .into_iter()
        .filter_map(|r| r.into_iter().next().flatten())
        .collect())
}

/// Run `op` on every job, `jobs` (at least 1) at a time, each database in a
/// task of its own; `on_done` gets each database's outcome as it finishes
/// (in the order they finish). With `keep_answers`, each outcome carries its
/// JSON answer. Returns the counts and the worst exit code. Never fails: a
/// database that cannot be reached or applied is an outcome like the others.
pub async fn run(
    targets: impl IntoIterator<Item = Job>,
    op: &Operation,
    jobs: usize,
    keep_answers: bool,
    mut on_done: impl FnMut(Outcome),
) -> Summary {
    let jobs = jobs.max(1);
    let mut summary = Summary::default();
    let mut running = tokio::task::JoinSet::new();
    let mut finish = |joined: Result<Outcome, tokio::task::JoinError>, summary: &mut Summary| {
        let outcome = joined.unwrap_or_else(|e| Outcome {
            target: "a database".into(),
            status: Status::Failed(format!("internal error: {e}")),
            exit_code: exit::OPERATIONAL,
            statements: 0,
            duration: Duration::ZERO,
            plan_hash: None,
            detail: None,
            answer: None,
        });
        summary.add(&outcome);
        on_done(outcome);
    };
    for job in targets {
        while running.len() >= jobs {
            if let Some(joined) = running.join_next().await {
                finish(joined, &mut summary);
            }
        }
        let op = op.clone();
        running.spawn(async move { one(job, &op, keep_answers).await });
    }
    while let Some(joined) = running.join_next().await {
        finish(joined, &mut summary);
    }
    summary
}

/// One database: plan, apply or read its history.
async fn one(job: Job, op: &Operation, keep: bool) -> Outcome {
    let started = Instant::now();
    let target = job.settings.describe();
    let mut o = Outcome {
        target,
        status: Status::UpToDate,
        exit_code: exit::OK,
        statements: 0,
        duration: Duration::ZERO,
        plan_hash: None,
        detail: None,
        answer: None,
    };
    match op {
        Operation::Plan {
            files,
            detailed_exitcode,
        } => match pipeline::plan_loaded(&job.settings, files).await {
            Ok(outcome) => {
                let plan = &outcome.plan;
                o.statements = plan.statements.len();
                o.plan_hash = Some(plan.plan_hash.clone());
                (o.status, o.exit_code) = if !plan.refused.is_empty() {
                    (Status::Refused(rule_ids(plan)), exit::REFUSED)
                } else if !plan.is_empty() {
                    let code = if *detailed_exitcode {
                        exit::CHANGES_PENDING
                    } else {
                        exit::OK
                    };
                    (Status::Pending, code)
                } else {
                    (Status::UpToDate, exit::OK)
                };
                if keep {
                    o.answer = Some(report::json_value(plan));
                }
            }
            Err(e) => failed(
                &mut o,
                &e.to_string(),
                e.exit_code(),
                keep.then(|| answer::error(&e)),
            ),
        },
        Operation::Apply { files, opts } => {
            let mut opts = opts.clone();
            // Many databases at once: the server's time counts, not round trips.
            opts.read_ahead = false;
            if job.expect_plan.is_some() {
                opts.expect_plan = job.expect_plan.clone();
            }
            let desired = model::Catalog::clone(files);
            match pipeline::apply_loaded(&job.settings, desired, &opts, &mut |_| {}).await {
                Ok(applied) => {
                    o.statements = applied.timings.len();
                    o.plan_hash = Some(applied.plan.plan_hash.clone());
                    o.status = if applied.timings.is_empty() {
                        Status::UpToDate
                    } else {
                        Status::Applied
                    };
                    if keep {
                        o.answer = Some(answer::applied(&applied, started.elapsed(), opts.online));
                    }
                }
                Err(ApplyError::Refused { plan }) => {
                    o.status = Status::Refused(rule_ids(&plan));
                    o.exit_code = exit::REFUSED;
                    o.plan_hash = Some(plan.plan_hash.clone());
                    if keep {
                        o.answer = Some(answer::apply_error(&ApplyError::Refused { plan }));
                    }
                }
                Err(e) => {
                    let code = e.exit_code();
                    if let ApplyError::PlanChanged { actual, .. } = &e {
                        o.plan_hash = Some(actual.clone());
                    }
                    failed(
                        &mut o,
                        &e.to_string(),
                        code,
                        keep.then(|| answer::apply_error(&e)),
                    );
                    if code == exit::REFUSED {
                        // The plan changed since it was shown: nothing ran.
                        o.status = Status::Refused(vec!["plan changed".into()]);
                    }
                }
            }
        }
        Operation::History { limit } => match pipeline::history_on(&job.settings, *limit).await {
            Ok(entries) => {
                o.status = Status::Read;
                o.statements = entries.len();
                o.detail = Some(match entries.first() {
                    Some(e) => format!(
                        "newest {} plan {} ({}, {} statement(s))",
                        e.applied_at,
                        short_hash(&e.plan_hash),
                        e.via,
                        e.statements.len()
                    ),
                    None => "no applied plan recorded".into(),
                });
                if keep {
                    o.answer = Some(serde_json::to_value(&entries).unwrap_or(Value::Null));
                }
            }
            Err(e) => failed(
                &mut o,
                &e.to_string(),
                e.exit_code(),
                keep.then(|| answer::error(&e)),
            ),
        },
    }
    o.duration = started.elapsed();
    o
}

/// Mark `o` failed with the first line of `message` (without the target
/// again: `cannot connect: ...`).
fn failed(o: &mut Outcome, message: &str, code: u8, answer: Option<Value>) {
    let first = message.lines().next().unwrap_or("").trim();
    let first = first.replace(&format!(" to {}:", o.target), ":");
    o.status = Status::Failed(first);
    o.exit_code = code;
    o.answer = answer;
}

/// The rule ids of a plan's refusals, each once, in order.
fn rule_ids(plan: &crate::plan::Plan) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for f in &plan.refused {
        let id = f.rule.to_string();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

/// The first 12 characters of a plan hash, as lines show it.
fn short_hash(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
}

/// The text line of one finished database:
/// `applied        3 statement(s)    41.2ms  host=… dbname=…  …`.
pub fn line(o: &Outcome) -> String {
    let count = match o.status {
        Status::Read => format!(
            "{:>4} entr{}",
            o.statements,
            if o.statements == 1 { "y  " } else { "ies" }
        ),
        _ => format!("{:>4} statement(s)", o.statements),
    };
    let why = match &o.status {
        Status::Refused(rules) => format!("  refused by {}", rules.join(", ")),
        Status::Failed(e) => format!("  {e}"),
        _ => o
            .detail
            .as_ref()
            .map_or(String::new(), |d| format!("  {d}")),
    };
    format!(
        "{:<10} {count} {:>9.1}ms  {}{why}",
        o.status.word(),
        o.duration.as_secs_f64() * 1000.0,
        o.target
    )
}

/// The summary table after the lines: how many databases ended each way,
/// the time, and how many ran at once.
pub fn summary_text(s: &Summary, total: Duration, jobs: usize, op: &Operation) -> String {
    let rows: Vec<(&str, usize)> = match op {
        Operation::Plan { .. } => vec![
            ("pending", s.pending + s.applied),
            ("up to date", s.up_to_date),
            ("refused", s.refused),
            ("failed", s.failed),
        ],
        Operation::Apply { .. } => vec![
            ("applied", s.applied),
            ("up to date", s.up_to_date),
            ("refused", s.refused),
            ("failed", s.failed),
        ],
        Operation::History { .. } => vec![("read", s.read), ("failed", s.failed)],
    };
    let mut out = format!(
        "\n{} database(s) in {:.1}s, {} at a time:\n",
        s.databases,
        total.as_secs_f64(),
        jobs.max(1)
    );
    for (word, n) in rows {
        out.push_str(&format!("  {word:<11}{n:>6}\n"));
    }
    out
}

/// One database as an element of the JSON `targets` list: `target`,
/// `result`, `exitCode`, `statements` (`entries` for history), `durationMs`,
/// `planHash`, `rules` (refused), `error` (failed), and `answer` (the
/// single-database command's JSON answer, when kept).
pub fn target_json(o: &Outcome) -> Value {
    let mut v = json!({
        "target": o.target,
        "result": o.status.key(),
        "exitCode": o.exit_code,
        "durationMs": o.duration.as_millis() as u64,
    });
    if o.status == Status::Read {
        v["entries"] = o.statements.into();
    } else {
        v["statements"] = o.statements.into();
    }
    if let Some(h) = &o.plan_hash {
        v["planHash"] = h.clone().into();
    }
    match &o.status {
        Status::Refused(rules) => v["rules"] = json!(rules),
        Status::Failed(e) => v["error"] = e.clone().into(),
        _ => {}
    }
    if let Some(a) = &o.answer {
        v["answer"] = a.clone();
    }
    v
}

/// The JSON `summary` of a fleet run (camelCase keys).
pub fn summary_json(s: &Summary, total: Duration, jobs: usize) -> Value {
    json!({
        "databases": s.databases,
        "applied": s.applied,
        "pending": s.pending,
        "upToDate": s.up_to_date,
        "refused": s.refused,
        "failed": s.failed,
        "read": s.read,
        "exitCode": s.exit_code,
        "durationMs": total.as_millis() as u64,
        "jobs": jobs.max(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_exit_code_wins_in_order_1_3_4_0() {
        assert_eq!(worst(0, 4), 4);
        assert_eq!(worst(4, 3), 3);
        assert_eq!(worst(3, 4), 3);
        assert_eq!(worst(3, 1), 1);
        assert_eq!(worst(1, 3), 1);
        assert_eq!(worst(1, 0), 1);
        assert_eq!(worst(0, 0), 0);
    }

    fn outcome(status: Status, statements: usize) -> Outcome {
        Outcome {
            target: "host=h port=5432 user=u dbname=a".into(),
            status,
            exit_code: exit::OK,
            statements,
            duration: Duration::from_millis(12),
            plan_hash: Some("abc".into()),
            detail: None,
            answer: None,
        }
    }

    #[test]
    fn a_line_says_result_statements_time_target_and_why() {
        let l = line(&outcome(Status::Applied, 3));
        assert!(l.starts_with("applied "), "{l}");
        assert!(
            l.contains(" 3 statement(s) ") && l.contains("12.0ms  host=h"),
            "{l}"
        );
        let l = line(&outcome(
            Status::Refused(vec!["R003".into(), "R005".into()]),
            0,
        ));
        assert!(l.ends_with("dbname=a  refused by R003, R005"), "{l}");
        let l = line(&outcome(
            Status::Failed("cannot connect: refused".into()),
            0,
        ));
        assert!(
            l.starts_with("failed ") && l.ends_with("  cannot connect: refused"),
            "{l}"
        );
        let v = target_json(&outcome(Status::UpToDate, 0));
        assert_eq!(v["result"], "upToDate");
        assert_eq!(v["durationMs"], 12);
        assert_eq!(v["statements"], 0);
        let v = target_json(&outcome(Status::Read, 2));
        assert_eq!(v["entries"], 2);
        assert!(v.get("statements").is_none());
    }

    #[test]
    fn the_summary_counts_each_result_and_keeps_the_worst_code() {
        let mut s = Summary::default();
        for (status, code) in [
            (Status::Applied, exit::OK),
            (Status::Refused(vec![]), exit::REFUSED),
            (Status::Failed(String::new()), exit::OPERATIONAL),
            (Status::UpToDate, exit::OK),
        ] {
            let mut o = outcome(status, 1);
            o.exit_code = code;
            s.add(&o);
        }
        assert_eq!(
            (
                s.databases,
                s.applied,
                s.refused,
                s.failed,
                s.up_to_date,
                s.exit_code
            ),
            (4, 1, 1, 1, 1, exit::OPERATIONAL)
        );
    }

    #[test]
    fn a_targets_file_skips_comments_and_blank_lines() {
        let t = parse_targets(
            "# tenants\n\npostgres://u:secret@h1:5433/a\n  host=h2 dbname=b  \n",
            "t.txt",
        )
        .unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].dbname, "a");
        assert_eq!(t[1].dbname, "b");
        assert!(!t[0].describe().contains("secret"));
    }

    #[test]
    fn a_bad_line_names_file_and_line_and_no_password() {
        let e = parse_targets(
            "# x\npostgres://h/a\nhost=h bogus=1 password=hunter2\n",
            "t.txt",
        )
        .unwrap_err();
        let m = e.to_string();
        assert!(m.starts_with("t.txt:3: "), "{m}");
        assert!(!m.contains("hunter2"), "{m}");
        assert_eq!(e.exit_code(), exit::INVALID_INPUT);
        let e = parse_targets("# only comments\n\n", "t.txt").unwrap_err();
        assert!(
            e.to_string().starts_with("t.txt: no connection string"),
            "{e}"
        );
    }
}
