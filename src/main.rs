//! Thin binary: parse, call the library, print, exit.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::{Cli, Command, Format};
use reconcile::apply::{ApplyOptions, Event};
use reconcile::error::exit;
use reconcile::{report, Target};

/// `print!` to standard output, where a reader that went away (`| head`)
/// ends the output quietly: no panic, and the exit code stays the command's.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `println!` with the quiet end of `out!`.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

fn main() -> ExitCode {
    let cli = Cli::parse_from(cli::normalize_args(std::env::args()));
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::from(exit::OPERATIONAL);
        }
    };
    ExitCode::from(runtime.block_on(run(cli)))
}

async fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Plan(args) => {
            let target = Target {
                schema_dir: args.conn.schema,
                database_url: args.conn.database_url,
                exclude: args.exclude.patterns,
            };
            match reconcile::plan(&target).await {
                Err(e) => fail(&e),
                Ok(outcome) => {
                    let plan = &outcome.plan;
                    match args.format {
                        Format::Text => out!("{}", report::text(plan, &outcome.target)),
                        Format::Json => outln!("{}", report::json(plan)),
                        Format::Sql => {
                            out!("{}", report::sql(plan));
                            for f in &plan.refused {
                                eprint!("{}", report::finding_text(f));
                            }
                        }
                    }
                    if !plan.refused.is_empty() {
                        exit::REFUSED
                    } else if args.detailed_exitcode && !plan.is_empty() {
                        exit::CHANGES_PENDING
                    } else {
                        exit::OK
                    }
                }
            }
        }
        Command::Apply(args) => apply(args).await,
        Command::History(args) => history(args).await,
        Command::Check(args) => check(args).await,
        Command::Dump(args) => dump(args).await,
        Command::Prune(args) => prune(args).await,
        Command::Serve(args) => serve(args).await,
    }
}

async fn serve(args: cli::ServeArgs) -> u8 {
    use reconcile::admin;
    let listen = args.listen.unwrap_or_else(|| {
        let port = std::env::var("PORT")
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "8080".into());
        format!("0.0.0.0:{port}")
    });
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {listen}: {e}");
            return exit::OPERATIONAL;
        }
    };
    let config = admin::AdminConfig::from_env(args.conn.schema, args.conn.database_url);
    let state = admin::AdminState::new(config, admin::stderr_log());
    match admin::serve(listener, state, shutdown_signal()).await {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("error: {e}");
            exit::OPERATIONAL
        }
    }
}

/// SIGTERM (what platforms send on deploy) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

async fn check(args: cli::CheckArgs) -> u8 {
    use reconcile::check::Base;
    let base = match (args.base, args.from, args.database_url) {
        (Some(rev), _, _) => Base::Git {
            rev,
            schema: args.base_schema,
        },
        (_, Some(dir), _) => Base::Dir(dir),
        (_, _, url) => Base::Database(url),
    };
    match reconcile::check::check(&args.schema, &base, &args.exclude.patterns).await {
        Err(e) => fail(&e),
        Ok(report) => {
            match args.format {
                cli::CheckFormat::Text => out!("{}", report::check_text(&report)),
                cli::CheckFormat::Json => outln!("{}", report::check_json(&report)),
                cli::CheckFormat::Github => out!("{}", report::check_github(&report)),
            }
            if report.refused.is_empty() {
                exit::OK
            } else {
                exit::REFUSED
            }
        }
    }
}

/// A line read from standard input is one of `yes` (case aside).
fn confirmed(yes: &[&str]) -> bool {
    let mut answer = String::new();
    let _ = std::io::stdin().read_line(&mut answer);
    let answer = answer.trim().to_ascii_lowercase();
    yes.iter().any(|y| *y == answer)
}

async fn apply(args: cli::ApplyArgs) -> u8 {
    use std::io::IsTerminal;
    let target = Target {
        schema_dir: args.conn.schema,
        database_url: args.conn.database_url,
        exclude: args.exclude.patterns,
    };
    let opts = ApplyOptions {
        lock_timeout: args.lock_timeout.unwrap_or(if args.online {
            reconcile::apply::ONLINE_LOCK_TIMEOUT
        } else {
            ApplyOptions::default().lock_timeout
        }),
        statement_timeout: args.statement_timeout,
        expect_plan: args.expect_plan,
        online: args.online,
        lock_attempts: args.lock_attempts,
        ..ApplyOptions::default()
    };
    let mut opts = opts;
    // On a terminal, the plan is shown and confirmed first; what runs is
    // what was confirmed (its hash).
    let mut shown: Option<String> = None;
    if !args.yes && std::io::stdin().is_terminal() {
        let outcome = match reconcile::plan(&target).await {
            Ok(o) => o,
            Err(e) => return fail(&e),
        };
        let plan = &outcome.plan;
        out!("{}", report::text(plan, &outcome.target));
        if plan.refused.is_empty() && !plan.is_empty() {
            out!(
                "\nApply {} statement(s) to {}? [y/N] ",
                plan.statements.len(),
                outcome.target
            );
            if !confirmed(&["y", "yes"]) {
                outln!("Nothing was applied.");
                return exit::OK;
            }
            opts.expect_plan.get_or_insert(plan.plan_hash.clone());
        }
        shown = Some(plan.plan_hash.clone());
    }
    let target_name = reconcile::db::config_from(target.database_url.as_deref())
        .map_or_else(|_| "the database".to_string(), |c| c.describe());
    let mut first_hash = String::new();
    let mut in_parts = opts.online;
    let mut printer = |e: Event<'_>| match e {
        Event::Planned(plan) => {
            if shown.as_ref() != Some(&plan.plan_hash) {
                out!("{}", report::text(plan, &target_name));
            }
            first_hash = plan.plan_hash.clone();
        }
        Event::Locked(plan) => {
            if plan.plan_hash != first_hash {
                outln!("\nThe database changed before the lock was ours; the plan under the lock:");
                out!("{}", report::text(plan, "the database (under the lock)"));
            }
            if plan.statements.is_empty() {
            } else if opts.online {
                outln!(
                    "\nApplying online (lock_timeout {}, up to {} attempt(s) per step):",
                    timeout_text(opts.lock_timeout),
                    opts.lock_attempts
                );
            } else {
                outln!(
                    "\nApplying {} statement(s) in one transaction (lock_timeout {}):",
                    plan.statements.len(),
                    timeout_text(opts.lock_timeout)
                );
            }
        }
        Event::Phase(phase) => {
            // Without --online, phases show only when enum values go first.
            in_parts |= phase.number == 0;
            if in_parts {
                outln!(
                    "  phase {}: {} ({} step(s))",
                    phase.number,
                    phase.title(),
                    phase.steps.len()
                );
            }
        }
        Event::Executed { id, duration, .. } => {
            outln!("  ok {:>7.1}ms  {id}", duration.as_secs_f64() * 1000.0);
        }
        Event::Retry {
            id,
            attempt,
            wait,
            blockers,
        } => {
            let by: Vec<String> = blockers
                .iter()
                .map(|b| format!("pid {} ({}, holds {})", b.pid, b.state, b.lock_mode))
                .collect();
            outln!(
                "  lock timeout on {id} (attempt {attempt} of {}){}; trying again in {:.1}s",
                opts.lock_attempts,
                if by.is_empty() {
                    String::new()
                } else {
                    format!(", blocked by {}", by.join(", "))
                },
                wait.as_secs_f64()
            );
        }
        Event::Waiting {
            object,
            blockers,
            waited,
            ..
        } => outln!(
            "  {}",
            reconcile::apply::watch::waiting_line(object, blockers, waited)
        ),
    };
    match reconcile::apply_target(&target, &opts, &mut printer).await {
        Ok(applied) => {
            if applied.timings.is_empty() {
                outln!("\nNothing to apply: the database matches the files.");
            } else {
                outln!(
                    "\nApplied {} statement(s){} in {:.1}ms; plan hash {}; recorded in {}.",
                    applied.timings.len(),
                    if applied.mode == "online" {
                        format!(" online, in {} phase(s),", applied.phases.len())
                    } else {
                        String::new()
                    },
                    applied.total.as_secs_f64() * 1000.0,
                    applied.plan.plan_hash,
                    reconcile::history::TABLE
                );
            }
            exit::OK
        }
        Err(e) => {
            eprint!("{}", report::apply_error(&e));
            e.exit_code()
        }
    }
}

async fn prune(args: cli::PruneArgs) -> u8 {
    use std::io::IsTerminal;
    let target = Target {
        schema_dir: args.conn.schema,
        database_url: args.conn.database_url,
        exclude: args.exclude.patterns,
    };
    let shown = match reconcile::pipeline::prune_plan_target(&target).await {
        Ok(outcome) => {
            out!("{}", report::prune_text(&outcome.plan, &outcome.target));
            outcome.plan
        }
        Err(e) => return fail(&e),
    };
    if shown.is_empty() {
        return exit::OK;
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            eprintln!(
                "error: prune drops data and standard input is not a terminal to ask: \
                 pass --yes to drop the {} object(s) above (nothing was dropped)",
                shown.statements.len()
            );
            return exit::INVALID_INPUT;
        }
        out!(
            "\nDrop the {} object(s) above and their data? Type `yes` to go on: ",
            shown.statements.len()
        );
        if !confirmed(&["yes"]) {
            outln!("Nothing was dropped.");
            return exit::OK;
        }
    }
    let opts = ApplyOptions {
        lock_timeout: args
            .lock_timeout
            .unwrap_or(ApplyOptions::default().lock_timeout),
        // What runs is what was shown (or the hash given).
        expect_plan: Some(args.expect_plan.unwrap_or(shown.plan_hash)),
        ..ApplyOptions::default()
    };
    let mut printer = |e: Event<'_>| match e {
        Event::Executed { id, duration, .. } => {
            outln!("  ok {:>7.1}ms  {id}", duration.as_secs_f64() * 1000.0)
        }
        Event::Waiting {
            object,
            blockers,
            waited,
            ..
        } => outln!(
            "  {}",
            reconcile::apply::watch::waiting_line(object, blockers, waited)
        ),
        _ => {}
    };
    match reconcile::pipeline::prune_target(&target, &opts, &mut printer).await {
        Ok(pruned) => {
            outln!(
                "\nPruned {} object(s) in {:.1}ms; plan hash {}; recorded in {}.",
                pruned.timings.len(),
                pruned.total.as_secs_f64() * 1000.0,
                pruned.plan.plan_hash,
                reconcile::history::TABLE
            );
            exit::OK
        }
        Err(e) => {
            eprint!("{}", report::apply_error(&e));
            e.exit_code()
        }
    }
}

async fn history(args: cli::HistoryArgs) -> u8 {
    match reconcile::history_target(args.database_url.as_deref(), args.limit).await {
        Ok(entries) => {
            match args.format {
                cli::HistoryFormat::Json => {
                    outln!("{}", serde_json::to_string_pretty(&entries).expect("json"))
                }
                cli::HistoryFormat::Text => out!("{}", report::history(&entries)),
            }
            exit::OK
        }
        Err(e) => fail(&e),
    }
}

fn fail(e: &reconcile::Error) -> u8 {
    eprintln!("error: {e}");
    e.exit_code()
}

async fn dump(args: cli::DumpArgs) -> u8 {
    match reconcile::dump_target(
        args.database_url.as_deref(),
        &args.out,
        &args.db_schema,
        &args.exclude.patterns,
        args.force,
    )
    .await
    {
        Err(e) => fail(&e),
        Ok(d) => {
            out!("{}", report::dump_text(&d, &args.out));
            eprint!("{}", report::dump_unmanaged(&d.unmanaged));
            exit::OK
        }
    }
}

/// A timeout as a person reads it: `5s`, `300ms`, or `none` for zero.
fn timeout_text(d: std::time::Duration) -> String {
    if d.is_zero() {
        "none".into()
    } else {
        humantime::format_duration(d).to_string()
    }
}
