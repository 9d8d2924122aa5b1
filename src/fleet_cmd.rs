//! `plan`, `apply` and `history` with `--targets FILE` or `--targets-match
//! PATTERN`: the arguments, the one question of a fleet apply, the printing.
//! The runner is the library's (`reconcile::fleet`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use reconcile::error::exit;
use reconcile::fleet::{self, Job, Operation, Outcome, Summary};

use crate::cli;

/// The targets of `--targets` or `--targets-match`, or the exit code of why not
/// (printed, on stderr or as JSON).
async fn targets(f: &cli::Fleet, database_url: Option<&str>, json: bool) -> Result<Vec<Job>, u8> {
    // clap would count DATABASE_URL from the environment as given: only the
    // flag itself conflicts with a targets file.
    let flag_given =
        std::env::args().any(|a| a == "--database-url" || a.starts_with("--database-url="));
    if f.targets.is_some() && flag_given {
        let e = fleet::TargetsError::Input(
            "--targets and --database-url cannot be used together: put every database in the targets file".into(),
        );
        return Err(report_targets_error(&e, json));
    }
    let listed = match (&f.targets, &f.targets_match) {
        (Some(file), _) => fleet::read_targets_file(file),
        (None, Some(pattern)) => fleet::match_databases(database_url, pattern).await,
        (None, None) => Ok(Vec::new()),
    };
    match listed {
        Ok(list) => Ok(list.into_iter().map(Job::new).collect()),
        Err(e) => Err(report_targets_error(&e, json)),
    }
}

/// Print why there are no targets (stderr, or the JSON answer); its exit code.
fn report_targets_error(e: &fleet::TargetsError, json: bool) -> u8 {
    let code = e.exit_code();
    if json {
        crate::print_answer(
            reconcile::answer::failure(e.to_string(), serde_json::json!({})),
            code,
        );
    } else {
        err!("{} {e}\n", reconcile::paint::error_label());
    }
    code
}

/// Prints a fleet's outcomes as they come: a text line each, or the elements
/// of the JSON `targets` list (streamed, so nothing is held per database).
struct Printer {
    json: bool,
    first: bool,
}

impl Printer {
    fn new(json: bool) -> Printer {
        if json {
            out!("{{\n  \"targets\": [");
        }
        Printer { json, first: true }
    }

    fn print(&mut self, o: &Outcome) {
        if self.json {
            let v = serde_json::to_string_pretty(&fleet::target_json(o)).expect("json");
            let indented = v.replace('\n', "\n    ");
            out!("{}\n    {indented}", if self.first { "" } else { "," });
        } else {
            outln!("{}", fleet::line(o));
        }
        self.first = false;
    }

    /// The summary: the table, or the JSON object's end.
    fn finish(&self, s: &Summary, total: Duration, jobs: usize, op: &Operation) {
        if self.json {
            let summary = serde_json::to_string_pretty(&fleet::summary_json(s, total, jobs))
                .expect("json")
                .replace('\n', "\n  ");
            outln!(
                "{}],\n  \"success\": {},\n  \"exitCode\": {},\n  \"summary\": {summary}\n}}",
                if self.first { "" } else { "\n  " },
                s.exit_code == exit::OK,
                s.exit_code
            );
        } else {
            out!("{}", fleet::summary_text(s, total, jobs, op));
        }
    }
}

/// Run `op` over `jobs`, printing as the databases finish (and handing each
/// outcome to `also` after its line); the summary.
async fn run_printed(
    list: Vec<Job>,
    op: &Operation,
    jobs: usize,
    json: bool,
    title: &str,
    mut also: impl FnMut(&fleet::Outcome),
) -> Summary {
    let started = Instant::now();
    let jobs = jobs.min(list.len()).max(1);
    if !json {
        outln!("{title} {} database(s), {jobs} at a time:", list.len());
    }
    let mut printer = Printer::new(json);
    let summary = fleet::run(list, op, jobs, json, |o| {
        printer.print(&o);
        also(&o);
    })
    .await;
    printer.finish(&summary, started.elapsed(), jobs, op);
    summary
}

/// The files, loaded once for every database, and the databases of the
/// fleet; or the exit code of why not (already reported).
async fn files_and_targets(
    conn: &cli::Conn,
    exclude: &cli::Exclude,
    fleet: &cli::Fleet,
    json: bool,
) -> Result<(Arc<reconcile::model::Catalog>, Vec<Job>), u8> {
    let files = reconcile::pipeline::load_files(&conn.schema, &exclude.patterns)
        .map(Arc::new)
        .map_err(|e| crate::fail_as(&e, json))?;
    let list = targets(fleet, conn.database_url.as_deref(), json).await?;
    Ok((files, list))
}

/// `plan --targets …`: each database's plan, a line each, the summary.
pub async fn plan(args: cli::PlanArgs) -> u8 {
    let json = args.format == cli::Format::Json;
    if args.format == cli::Format::Sql {
        eprintln!(
            "error: --format sql prints one database's statements; with --targets or --targets-match use text or json"
        );
        return exit::INVALID_INPUT;
    }
    let (files, list) = match files_and_targets(&args.conn, &args.exclude, &args.fleet, json).await
    {
        Ok(both) => both,
        Err(code) => return code,
    };
    let op = Operation::Plan {
        files,
        detailed_exitcode: args.detailed_exitcode,
    };
    run_printed(list, &op, args.fleet.jobs, json, "Planning", |_| {})
        .await
        .exit_code
}

/// `apply --targets …`: each database applied on its own, a line each, the
/// summary. JSON and `--yes` never ask. On a terminal without `--yes`, the
/// fleet is planned first and one question covers every database with
/// changes; each then runs only if its plan is still the one shown
/// (`--expect-plan` per database), and databases not shown (refused, failed)
/// are not applied. Without a terminal it applies, as `apply` does.
pub async fn apply(args: cli::ApplyArgs) -> u8 {
    use std::io::IsTerminal;
    let json = args.format == cli::TextOrJson::Json;
    let (files, list) = match files_and_targets(&args.conn, &args.exclude, &args.fleet, json).await
    {
        Ok(both) => both,
        Err(code) => return code,
    };
    let opts = crate::apply_options(&args);
    let jobs = args.fleet.jobs;
    let apply_op = Operation::Apply {
        files: files.clone(),
        opts,
    };
    if json || args.yes || !std::io::stdin().is_terminal() {
        return run_printed(list, &apply_op, jobs, json, "Applying to", |_| {})
            .await
            .exit_code;
    }
    // On a terminal: the plans first, one question, then what was shown.
    let plan_op = Operation::Plan {
        files,
        detailed_exitcode: false,
    };
    let mut shown: Vec<(usize, String)> = Vec::new();
    let mut index_of = std::collections::HashMap::new();
    for (i, j) in list.iter().enumerate() {
        index_of.insert(j.settings.describe(), i);
    }
    let planned = run_printed(list.clone(), &plan_op, jobs, false, "Planning", |o| {
        if o.status == fleet::Status::Pending {
            if let (Some(i), Some(h)) = (index_of.get(&o.target), o.plan_hash.clone()) {
                shown.push((*i, h));
            }
        }
    })
    .await;
    drop(index_of);
    if shown.is_empty() {
        outln!("\nNothing to apply.");
        return planned.exit_code;
    }
    out!(
        "\nApply the plans above to the {} database(s) with changes? [y/N] ",
        shown.len()
    );
    if !crate::confirmed(&["y", "yes"]) {
        outln!("Nothing was applied.");
        return worst_but_pending(&planned);
    }
    let chosen: Vec<Job> = shown
        .into_iter()
        .map(|(i, hash)| Job {
            settings: list[i].settings.clone(),
            expect_plan: Some(hash),
        })
        .collect();
    drop(list);
    outln!();
    let applied = run_printed(chosen, &apply_op, jobs, false, "Applying to", |_| {}).await;
    fleet::worst(worst_but_pending(&planned), applied.exit_code)
}

/// The exit code of a plan pass, pending changes aside (refused 3, failed 1).
fn worst_but_pending(s: &Summary) -> u8 {
    if s.exit_code == exit::CHANGES_PENDING {
        exit::OK
    } else {
        s.exit_code
    }
}

/// `history --targets …`: each database's newest entry, a line each; with
/// `--format json`, each database's entries.
pub async fn history(args: cli::HistoryArgs) -> u8 {
    let json = args.format == cli::TextOrJson::Json;
    let list = match targets(&args.fleet, args.database_url.as_deref(), json).await {
        Ok(l) => l,
        Err(code) => return code,
    };
    let op = Operation::History { limit: args.limit };
    run_printed(
        list,
        &op,
        args.fleet.jobs,
        json,
        "Reading the history of",
        |_| {},
    )
    .await
    .exit_code
}

/// `check --targets …` (or `--database-url URL --targets-match PATTERN`): the
/// CI guard's live mode over a fleet. Each database is planned as `check
/// --database-url` plans it: changes that would run pass, a refused change
/// fails (3), an unreachable database fails (1). Text and JSON as a fleet
/// `plan` prints them; `--format github` adds an `::error` annotation per
/// database that did not pass, and in GitHub Actions the counts go to the
/// step summary.
pub async fn check(args: cli::CheckArgs) -> u8 {
    let json = args.format == cli::CheckFormat::Json;
    let github = args.format == cli::CheckFormat::Github;
    let conflict = if args.base.is_some() || args.from.is_some() {
        Some("--targets and --targets-match compare live databases: not with --base or --from")
    } else if args.drizzle.is_some() {
        Some("--drizzle checks one file, not a fleet: run `check --drizzle FILE` on its own")
    } else if args.fleet.targets_match.is_some() && args.database_url.is_none() {
        Some("--targets-match needs --database-url: the server whose databases are listed")
    } else {
        None
    };
    if let Some(why) = conflict {
        let e = fleet::TargetsError::Input(why.into());
        return report_targets_error(&e, json);
    }
    let conn = cli::Conn {
        schema: args.schema.clone(),
        database_url: args.database_url.clone(),
    };
    let (files, list) = match files_and_targets(&conn, &args.exclude, &args.fleet, json).await {
        Ok(both) => both,
        Err(code) => return code,
    };
    let op = Operation::Plan {
        files,
        detailed_exitcode: false,
    };
    let started = Instant::now();
    let mut not_passed = Vec::new();
    let summary = run_printed(list, &op, args.fleet.jobs, json, "Checking", |o| {
        if github && o.exit_code != exit::OK {
            not_passed.push(o.clone());
        }
    })
    .await;
    for o in &not_passed {
        outln!("{}", reconcile::surfaces::ci::fleet_annotation(o));
    }
    if let Err(why) = reconcile::surfaces::ci::append_step_summary(
        &reconcile::surfaces::ci::fleet_summary(&summary, started.elapsed()),
    ) {
        eprintln!("warning: {why}");
    }
    summary.exit_code
}
