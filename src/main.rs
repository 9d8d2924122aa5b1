//! Thin binary: parse, call the library, print, exit.

mod cli;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use cli::{Cli, Command, Format};
use reconcile::apply::{ApplyOptions, Event};
use reconcile::error::exit;
use reconcile::{paint, report, Target};

/// `print!` to standard output, where a reader that went away (`| head`)
/// ends the output quietly: no panic, and the exit code stays the command's.
/// For what tools read (SQL, JSON, completions): written byte for byte.
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

/// `out!` for text painted by `paint`: its colour codes pass only when
/// colour is on (`--color`, `NO_COLOR`, a terminal); anstream strips them
/// otherwise (with any other control byte of the text).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(anstream::stdout().lock(), $($arg)*);
    }};
}

/// `say!` with a newline.
macro_rules! sayln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(anstream::stdout().lock(), $($arg)*);
    }};
}

/// `eprint!` through anstream (colour codes stripped when colour is off).
macro_rules! err {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(anstream::stderr().lock(), $($arg)*);
    }};
}

mod fleet_cmd;

fn main() -> ExitCode {
    let args = cli::normalize_args(std::env::args());
    let json = cli::wants_json(&args);
    // `.env` of the working directory, as sqlx-cli and drizzle-kit read it:
    // its variables fill what the environment does not set (before the
    // arguments are parsed, so that `[env: DATABASE_URL]` sees it). A bad
    // file stops every command but help, version and completions.
    let dotenv = match load_dotenv() {
        Ok(d) => d,
        Err(_) if cli::needs_no_database(&args) => false,
        Err(e) => return ExitCode::from(usage_error(&e, json)),
    };
    let choice = color_choice(cli::color_flag(&args));
    choice.write_global();
    let clap_color = match choice {
        anstream::ColorChoice::Never => clap::ColorChoice::Never,
        anstream::ColorChoice::Always | anstream::ColorChoice::AlwaysAnsi => {
            clap::ColorChoice::Always
        }
        anstream::ColorChoice::Auto => clap::ColorChoice::Auto,
    };
    let parsed = Cli::command()
        .color(clap_color)
        .try_get_matches_from(&args)
        .and_then(|m| {
            // The URL came from DATABASE_URL (clap reads it when no
            // --database-url is given) and DATABASE_URL from `./.env`.
            let from_env = m.subcommand().is_some_and(|(_, sub)| {
                sub.ids().any(|id| id == "database_url")
                    && sub.value_source("database_url")
                        == Some(clap::parser::ValueSource::EnvVariable)
            });
            URL_FROM_DOTENV.store(dotenv && from_env, std::sync::atomic::Ordering::Relaxed);
            Cli::from_arg_matches(&m)
        });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) if json && e.use_stderr() => {
            return ExitCode::from(usage_error(e.render().to_string().trim_end(), true))
        }
        Err(e) => e.exit(),
    };
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

/// Whether the connection URL is `DATABASE_URL` as `./.env` gave it (for the
/// header's words).
static URL_FROM_DOTENV: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// An input error (exit 2) before anything runs: on stderr, or with `json`
/// as the JSON answer on stdout.
fn usage_error(message: &str, json: bool) -> u8 {
    if json {
        let v = serde_json::json!({
            "success": false,
            "error": message,
            "exitCode": exit::INVALID_INPUT,
        });
        outln!("{}", serde_json::to_string_pretty(&v).expect("json"));
    } else {
        eprintln!("error: {message}");
    }
    exit::INVALID_INPUT
}

/// Read `./.env` (only the working directory's, not its parents'): each
/// variable it sets that the environment does not. `Ok(true)` when it gave
/// `DATABASE_URL`. A file that cannot be parsed is an error naming its line
/// and the variable, never a value (a `.env` holds secrets).
fn load_dotenv() -> Result<bool, String> {
    let path = std::path::Path::new(".env");
    if !path.is_file() {
        return Ok(false);
    }
    let had = std::env::var_os("DATABASE_URL").is_some_and(|v| !v.is_empty());
    match dotenvy::from_path(path) {
        Ok(()) => Ok(!had && std::env::var_os("DATABASE_URL").is_some_and(|v| !v.is_empty())),
        Err(dotenvy::Error::LineParse(rest, _)) => {
            // dotenvy gives the text from the bad line on: find where it starts.
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let line = text
                .find(&rest)
                .map(|at| text[..at].matches('\n').count() + 1);
            let name = rest.split(['=', '\n']).next().unwrap_or("").trim();
            let name = if name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                format!(" (variable `{name}`)")
            } else {
                String::new()
            };
            Err(match line {
                Some(n) => format!(
                    ".env:{n}: cannot read this line{name}: expected NAME=value, a quoted value closed on its line or a later one"
                ),
                None => ".env: cannot read it: expected NAME=value lines".to_string(),
            })
        }
        Err(dotenvy::Error::Io(e)) => Err(format!(".env: cannot read it: {e}")),
        Err(_) => Err(".env: cannot read it: expected NAME=value lines".to_string()),
    }
}

/// `--color` and `NO_COLOR` (which always wins, https://no-color.org) as
/// anstream's choice; `auto` colours only a terminal.
fn color_choice(when: cli::ColorWhen) -> anstream::ColorChoice {
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return anstream::ColorChoice::Never;
    }
    match when {
        cli::ColorWhen::Auto => anstream::ColorChoice::Auto,
        cli::ColorWhen::Always => anstream::ColorChoice::Always,
        cli::ColorWhen::Never => anstream::ColorChoice::Never,
    }
}

/// The target as the header names it, saying when `DATABASE_URL` came from `.env`.
fn target_words(target: &str) -> String {
    if URL_FROM_DOTENV.load(std::sync::atomic::Ordering::Relaxed) {
        format!("{target} (DATABASE_URL from ./.env)")
    } else {
        target.to_string()
    }
}

async fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Plan(args) if args.fleet.given() => fleet_cmd::plan(args).await,
        Command::Apply(args) if args.fleet.given() => fleet_cmd::apply(args).await,
        Command::History(args) if args.fleet.given() => fleet_cmd::history(args).await,
        Command::Check(args) if args.fleet.given() => fleet_cmd::check(args).await,
        Command::Plan(args) => {
            let target = Target {
                schema_dir: args.conn.schema,
                database_url: args.conn.database_url,
                exclude: args.exclude.patterns,
            };
            let json = args.format == Format::Json;
            match reconcile::plan(&target).await {
                Err(e) => fail_as(&e, json),
                Ok(outcome) => {
                    let plan = &outcome.plan;
                    match args.format {
                        Format::Text => say!(
                            "{}",
                            paint::text(&report::text(plan, &target_words(&outcome.target)))
                        ),
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
        Command::Codegen(cli::CodegenCommand::Drizzle(args)) => codegen_drizzle(args),
        Command::Completions(args) => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            let mut buf = Vec::new();
            clap_complete::generate(args.shell, &mut cmd, "reconcile", &mut buf);
            out!("{}", String::from_utf8_lossy(&buf));
            exit::OK
        }
    }
}

async fn serve(args: cli::ServeArgs) -> u8 {
    use reconcile::admin;
    let signal = shutdown_signal();
    let stdin_closed = args.until_stdin_closes.then(stdin_closed);
    let shutdown = async move {
        match stdin_closed {
            Some(closed) => tokio::select! {
                _ = signal => {},
                _ = closed => {},
            },
            None => signal.await,
        }
    };
    let from_port = args.listen.is_none() && std::env::var_os("PORT").is_some();
    let listen = args.listen.unwrap_or_else(|| {
        let port = std::env::var("PORT")
            .ok()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "8080".into());
        format!("0.0.0.0:{port}")
    });
    let listener = match admin::Listener::bind(&listen).await {
        Ok(l) => l,
        Err(e) => {
            let mut fields = serde_json::json!({ "listen": listen, "error": e.to_string() });
            if from_port && e.kind() == std::io::ErrorKind::AddrInUse {
                fields["hint"] = serde_json::json!(
                    "PORT is usually the app's own port: serve the endpoints inside the app \
                     (npm package reconcile-pg: app.use(reconcileAdmin({ schemaDir }))), \
                     or give serve a port of its own with --listen"
                );
            }
            eprintln!("{}", admin::log_line("error", "cannot listen", fields));
            return exit::OPERATIONAL;
        }
    };
    let config = admin::AdminConfig::from_env(args.conn.schema, args.conn.database_url);
    let state = admin::AdminState::new(config, admin::stderr_log());
    match admin::serve(listener, state, shutdown).await {
        Ok(()) => exit::OK,
        Err(e) => {
            let fields = serde_json::json!({ "error": e.to_string() });
            eprintln!("{}", admin::log_line("error", "serve failed", fields));
            exit::OPERATIONAL
        }
    }
}

/// Resolves when standard input reaches its end (or fails). Read on a thread
/// of its own, which never holds the process open: a blocking read of
/// tokio's would keep the runtime from shutting down.
fn stdin_closed() -> impl std::future::Future<Output = ()> + Send + 'static {
    let (closed, on_close) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
        let _ = closed.send(());
    });
    async move {
        let _ = on_close.await;
    }
}

/// SIGTERM (what platforms send on deploy) or Ctrl-C. On unix the handlers
/// are installed when this is called, not when the future is first polled,
/// so a signal that comes while the server starts (its boot apply) is kept
/// and ends the server gracefully once it is up, instead of killing it.
/// Elsewhere Ctrl-C is listened for from the first poll on.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(term) => {},
                _ = wait(int) => {},
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// `reconcile codegen drizzle`: the file written atomically, or standard output.
fn codegen_drizzle(args: cli::DrizzleArgs) -> u8 {
    use reconcile::surfaces::codegen;
    let ts = match codegen::drizzle_schema(&args.schema) {
        Ok(ts) => ts,
        Err(e) => return fail(&e),
    };
    if args.out.as_os_str() == "-" {
        out!("{ts}");
        return exit::OK;
    }
    match codegen::write_atomically(&args.out, &ts) {
        Ok(()) => exit::OK,
        Err(e) => fail(&e),
    }
}

async fn check(args: cli::CheckArgs) -> u8 {
    use reconcile::check::Base;
    let base = match (args.base, args.from, args.database_url) {
        (Some(rev), _, _) => Some(Base::Git {
            rev,
            schema: args.base_schema,
        }),
        (_, Some(dir), _) => Some(Base::Dir(dir)),
        (_, _, Some(url)) => Some(Base::Database(Some(url))),
        // Only --drizzle: the files alone.
        (None, None, None) => None,
    };
    let result = reconcile::surfaces::codegen::check_with_generated(
        &args.schema,
        base.as_ref(),
        &args.exclude.patterns,
        args.drizzle.as_deref(),
    )
    .await;
    // In GitHub Actions, whatever the format: the result in the step's summary.
    if let Err(why) =
        reconcile::surfaces::ci::append_step_summary(&reconcile::surfaces::ci::summary(&result))
    {
        eprintln!("warning: {why}");
    }
    match result {
        Err(e) => {
            if args.format == cli::CheckFormat::Github {
                out!("{}", reconcile::surfaces::ci::error_annotations(&e));
            }
            fail_as(&e, args.format == cli::CheckFormat::Json)
        }
        Ok(report) => {
            match args.format {
                cli::CheckFormat::Text => say!("{}", paint::text(&report::check_text(&report))),
                cli::CheckFormat::Json => outln!("{}", report::check_json(&report)),
                cli::CheckFormat::Github => out!("{}", report::check_github(&report)),
            }
            if report.passed() {
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

/// What `apply`'s flags ask of an apply (one database or a fleet): the lock
/// timeout defaults to the online one with `--online`.
fn apply_options(args: &cli::ApplyArgs) -> ApplyOptions {
    ApplyOptions {
        lock_timeout: args.lock_timeout.unwrap_or(if args.online {
            reconcile::apply::ONLINE_LOCK_TIMEOUT
        } else {
            ApplyOptions::default().lock_timeout
        }),
        statement_timeout: args.statement_timeout,
        expect_plan: args.expect_plan.clone(),
        online: args.online,
        lock_attempts: args.lock_attempts,
        via: reconcile::history::via::CLI_APPLY.into(),
        ..ApplyOptions::default()
    }
}

async fn apply(args: cli::ApplyArgs) -> u8 {
    use std::io::IsTerminal;
    let json = args.format == cli::TextOrJson::Json;
    let mut opts = apply_options(&args);
    let target = Target {
        schema_dir: args.conn.schema,
        database_url: args.conn.database_url,
        exclude: args.exclude.patterns,
    };
    if json {
        // What `POST /__admin/migrate` answers; JSON never asks.
        let started = std::time::Instant::now();
        let (v, code) = match reconcile::apply_target(&target, &opts, &mut |_| {}).await {
            Ok(applied) => (
                reconcile::answer::applied(&applied, started.elapsed(), opts.online),
                exit::OK,
            ),
            Err(e) => (reconcile::answer::apply_error(&e), e.exit_code()),
        };
        return print_answer(v, code);
    }
    // On a terminal, the plan is shown and confirmed first; what runs is
    // what was confirmed (its hash).
    let mut shown: Option<String> = None;
    if !args.yes && std::io::stdin().is_terminal() {
        let outcome = match reconcile::plan(&target).await {
            Ok(o) => o,
            Err(e) => return fail(&e),
        };
        let plan = &outcome.plan;
        let target_name = target_words(&outcome.target);
        say!("{}", paint::text(&report::text(plan, &target_name)));
        if plan.refused.is_empty() && !plan.is_empty() {
            out!(
                "\nApply {} statement(s) to {}? [y/N] ",
                plan.statements.len(),
                target_name
            );
            if !confirmed(&["y", "yes"]) {
                outln!("Nothing was applied.");
                return exit::OK;
            }
            opts.expect_plan.get_or_insert(plan.plan_hash.clone());
        }
        shown = Some(plan.plan_hash.clone());
    }
    let target_name = reconcile::db::config_from(target.database_url.as_deref()).map_or_else(
        |_| "the database".to_string(),
        |c| target_words(&c.describe()),
    );
    let mut first_hash = String::new();
    let mut in_parts = opts.online;
    let mut printer = |e: Event<'_>| match e {
        Event::Planned(plan) => {
            if shown.as_ref() != Some(&plan.plan_hash) {
                say!("{}", paint::text(&report::text(plan, &target_name)));
            }
            first_hash = plan.plan_hash.clone();
        }
        Event::Locked(plan) => {
            if plan.plan_hash != first_hash {
                outln!("\nThe database changed before the lock was ours; the plan under the lock:");
                say!(
                    "{}",
                    paint::text(&report::text(plan, "the database (under the lock)"))
                );
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
            sayln!(
                "{}",
                paint::text(&format!(
                    "  ok {:>7.1}ms  {id}",
                    duration.as_secs_f64() * 1000.0
                ))
            );
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
            say!(
                "{}",
                paint::text(&format!(
                    "  lock timeout on {id} (attempt {attempt} of {}){}; trying again in {:.1}s\n",
                    opts.lock_attempts,
                    if by.is_empty() {
                        String::new()
                    } else {
                        format!(", blocked by {}", by.join(", "))
                    },
                    wait.as_secs_f64()
                ))
            );
        }
        Event::Waiting {
            object,
            blockers,
            waited,
            ..
        } => say_waiting(object, blockers, waited),
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
            err!("{}", paint::text(&report::apply_error(&e)));
            e.exit_code()
        }
    }
}

/// The line of a statement that waits for a lock (apply and prune).
fn say_waiting(object: &str, blockers: &[reconcile::apply::Blocker], waited: std::time::Duration) {
    sayln!(
        "{}",
        paint::text(&format!(
            "  {}",
            reconcile::apply::watch::waiting_line(object, blockers, waited)
        ))
    );
}

/// The options of a prune that drops what was shown (or the hash given).
fn prune_options(args: &cli::PruneArgs, shown: &reconcile::Plan) -> ApplyOptions {
    ApplyOptions {
        lock_timeout: args
            .lock_timeout
            .unwrap_or(ApplyOptions::default().lock_timeout),
        expect_plan: Some(
            args.expect_plan
                .clone()
                .unwrap_or_else(|| shown.plan_hash.clone()),
        ),
        via: reconcile::history::via::CLI_PRUNE.into(),
        ..ApplyOptions::default()
    }
}

/// `prune --format json`: what `POST /__admin/prune` answers, an error as
/// its JSON object with `exitCode`. It never asks: a plan that drops
/// something needs --yes (exit 2 without it, the plan's ids and hash in the
/// answer, nothing dropped).
async fn prune_json(args: cli::PruneArgs, target: Target) -> u8 {
    let shown = match reconcile::pipeline::prune_plan_target(&target).await {
        Ok(outcome) => outcome.plan,
        Err(e) => return fail_as(&e, true),
    };
    let (v, code) = if !shown.is_empty() && !args.yes {
        let v = reconcile::answer::failure(
            format!(
                "prune drops data and --format json never asks: pass --yes to drop the {} object(s) of wouldExecute (nothing was dropped)",
                shown.statements.len()
            ),
            serde_json::json!({
                "wouldExecute": shown.statements.iter().map(|s| &s.id).collect::<Vec<_>>(),
                "planHash": shown.plan_hash,
            }),
        );
        (v, exit::INVALID_INPUT)
    } else {
        let opts = prune_options(&args, &shown);
        let started = std::time::Instant::now();
        match reconcile::pipeline::prune_target(&target, &opts, &mut |_| {}).await {
            Ok(pruned) => (
                reconcile::answer::pruned(&pruned, started.elapsed()),
                exit::OK,
            ),
            Err(e) => (reconcile::answer::apply_error(&e), e.exit_code()),
        }
    };
    print_answer(v, code)
}

async fn prune(args: cli::PruneArgs) -> u8 {
    use std::io::IsTerminal;
    let target = Target {
        schema_dir: args.conn.schema.clone(),
        database_url: args.conn.database_url.clone(),
        exclude: args.exclude.patterns.clone(),
    };
    if args.format == cli::TextOrJson::Json {
        return prune_json(args, target).await;
    }
    let shown = match reconcile::pipeline::prune_plan_target(&target).await {
        Ok(outcome) => {
            say!(
                "{}",
                paint::text(&report::prune_text(&outcome.plan, &outcome.target))
            );
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
    // What runs is what was shown (or the hash given).
    let opts = prune_options(&args, &shown);
    let mut printer = |e: Event<'_>| match e {
        Event::Executed { id, duration, .. } => {
            outln!("  ok {:>7.1}ms  {id}", duration.as_secs_f64() * 1000.0)
        }
        Event::Waiting {
            object,
            blockers,
            waited,
            ..
        } => say_waiting(object, blockers, waited),
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
            err!("{}", paint::text(&report::apply_error(&e)));
            e.exit_code()
        }
    }
}

async fn history(args: cli::HistoryArgs) -> u8 {
    match reconcile::history_target(args.database_url.as_deref(), args.limit).await {
        Err(e) => fail_as(&e, args.format == cli::TextOrJson::Json),
        Ok(entries) => {
            match args.format {
                cli::TextOrJson::Json => {
                    outln!("{}", serde_json::to_string_pretty(&entries).expect("json"))
                }
                cli::TextOrJson::Text => {
                    out!("{}", report::history(&entries, args.verbose))
                }
            }
            exit::OK
        }
    }
}

fn fail(e: &reconcile::Error) -> u8 {
    fail_as(e, false)
}

/// A library error: on stderr, or with `json` as the JSON answer on stdout
/// (`answer::error`, with `exitCode`). The exit code is the error's either way.
fn fail_as(e: &reconcile::Error, json: bool) -> u8 {
    let code = e.exit_code();
    if json {
        print_answer(reconcile::answer::error(e), code)
    } else {
        err!("{} {e}\n", paint::error_label());
        code
    }
}

/// Print a JSON answer on stdout, with `exitCode` when `code` is not 0; `code`.
fn print_answer(mut v: serde_json::Value, code: u8) -> u8 {
    if code != exit::OK {
        v["exitCode"] = code.into();
    }
    outln!("{}", serde_json::to_string_pretty(&v).expect("json"));
    code
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
        Err(e) => fail_as(&e, args.format == cli::TextOrJson::Json),
        Ok(d) => {
            if args.format == cli::TextOrJson::Json {
                let v = reconcile::answer::dumped(&d, &args.out);
                outln!("{}", serde_json::to_string_pretty(&v).expect("json"));
            } else {
                out!("{}", report::dump_text(&d, &args.out));
                eprint!("{}", report::dump_unmanaged(&d.unmanaged));
            }
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
