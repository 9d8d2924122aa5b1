//! Command-line types (clap only).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "reconcile",
    version = VERSION,
    about = "Keep a PostgreSQL schema in step with TOML files, additively and safely",
    after_help = "`reconcile --plan` and `reconcile --apply` are the same as `reconcile plan` and `reconcile apply`.\n\nExit codes: 0 success; 1 operational error; 2 invalid input; 3 a change was refused; 4 changes pending (plan --detailed-exitcode)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Colour in text output: auto (on a terminal, unless NO_COLOR is set), always or never
    #[arg(long, global = true, value_enum, default_value_t = ColorWhen::Auto, value_name = "WHEN")]
    pub color: ColorWhen,
}

/// `--version`: the crate's version and the git commit it was built from
/// (`build.rs`; `unknown` outside a git checkout).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("RECONCILE_COMMIT"),
    ")"
);

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ColorWhen {
    Auto,
    Always,
    Never,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the statements that would run, the refused changes and the unmanaged objects
    Plan(PlanArgs),
    /// Print the plan, then apply it in one transaction under an advisory lock
    Apply(ApplyArgs),
    /// Show the applied plans recorded in the database, newest first
    History(HistoryArgs),
    /// The CI guard: refuse destructive edits of the schema files
    Check(CheckArgs),
    /// Write the live schema as TOML files, one per table, to adopt an existing database.
    Dump(DumpArgs),
    /// Drop what an applied version of the files marked `deprecated` and the files no longer have
    Prune(PruneArgs),
    /// Admin HTTP endpoints: health, dry-run and migrate (ADMIN_TOKEN, RUN_MIGRATIONS_ON_BOOT, PORT)
    Serve(ServeArgs),
    /// Print a shell completion script: `reconcile completions bash > /etc/bash_completion.d/reconcile`
    Completions(CompletionsArgs),
    /// Generate an ORM's schema from the files (Drizzle): `reconcile codegen drizzle --out shared/schema.ts`
    #[command(subcommand)]
    Codegen(CodegenCommand),
}

/// `reconcile codegen <ORM>`.
#[derive(Subcommand, Debug)]
#[command(
    after_help = "reconcile codegen drizzle [--schema DIR] --out FILE   (--out - writes standard output)"
)]
pub enum CodegenCommand {
    /// Write the Drizzle ORM schema (drizzle-orm/pg-core TypeScript) that matches the files, the same bytes for the same files
    #[command(
        after_help = "What Drizzle has no form for (policies, triggers, functions, views, grants, ...) is left out and named \
in a comment at the top of the file. `reconcile check --drizzle FILE` fails (exit 3) when FILE is not what the files generate now."
    )]
    Drizzle(DrizzleArgs),
}

#[derive(clap::Args, Debug)]
pub struct DrizzleArgs {
    /// Schema directory: every *.toml under it is read (no database is needed)
    #[arg(long, default_value = "schema", value_name = "DIR")]
    pub schema: PathBuf,
    /// The TypeScript file to write (e.g. shared/schema.ts), replaced atomically, its directories created; `-` for standard output
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "bash: reconcile completions bash > ~/.local/share/bash-completion/completions/reconcile\n\
zsh:  reconcile completions zsh > ~/.zfunc/_reconcile   (with fpath+=~/.zfunc before compinit in ~/.zshrc)\n\
fish: reconcile completions fish > ~/.config/fish/completions/reconcile.fish"
)]
pub struct CompletionsArgs {
    /// The shell to write the script for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(clap::Args, Debug)]
pub struct DumpArgs {
    /// Connection URL or keyword string; default DATABASE_URL (also read from ./.env), then PGHOST, PGPORT, ...
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// The directory to write to.
    #[arg(long, default_value = "schema", value_name = "DIR")]
    pub out: PathBuf,
    /// Only this schema (repeatable); default: every schema but the system's.
    #[arg(long = "db-schema", value_name = "NAME")]
    pub db_schema: Vec<String>,
    #[command(flatten)]
    pub exclude: Exclude,
    /// Overwrite files that exist.
    #[arg(long)]
    pub force: bool,
    /// How to print what was written: text, or JSON (the files, the tables, the unmanaged objects)
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Drops only objects (tables, columns, indexes) that an applied version of the files marked `deprecated` \
and that the files no longer have; nothing else is ever dropped. Tables and columns go in one transaction, \
indexes with DROP INDEX CONCURRENTLY; all under the apply lock and the lock timeout, recorded in the history. \
On a terminal it asks first; without one, or with --format json, it needs --yes (else it exits 2 and drops nothing)."
)]
pub struct PruneArgs {
    #[command(flatten)]
    pub conn: Conn,
    /// Drop without asking.
    #[arg(long)]
    pub yes: bool,
    #[command(flatten)]
    pub exclude: Exclude,
    /// How long a drop may wait for a table lock (e.g. 5s, 500ms, 1m); default 5s; 0 means no limit
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub lock_timeout: Option<std::time::Duration>,
    /// Drop only if the prune plan's hash is still this one.
    #[arg(long, value_name = "HASH")]
    pub expect_plan: Option<String>,
    /// How to print the result: text, or JSON (what `POST /__admin/prune` answers); JSON never asks, so it needs --yes
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

#[derive(clap::Args, Debug)]
#[command(
    after_help = "Binds 0.0.0.0:$PORT by default (every interface, as platforms that give PORT require). \
Health needs no token and answers only status, timestamp, env, migrationsEnabled and database (\"ok\"/\"error\"). \
A request's headers must arrive within 10s; an idle kept-alive connection is closed after 5s; \
a request is answered within 60s (migrate: 600s, the apply going on if it takes longer); \
at most 512 connections, 16 KiB of headers and a 16 KiB body. See \"Running `serve` in production\" in the README."
)]
pub struct ServeArgs {
    #[command(flatten)]
    pub conn: Conn,
    /// Address to listen on (HOST:PORT or unix:PATH); default 0.0.0.0:$PORT, else 0.0.0.0:8080
    ///
    /// The default binds every interface: platforms such as Replit, Heroku or a
    /// container runtime give the port in PORT and route outside traffic to it
    /// on all interfaces, so a loopback-only server would be unreachable there.
    /// The endpoints are then open to whoever can reach the port: health needs
    /// no token (and shows no connection details), the others need ADMIN_TOKEN.
    /// Give --listen 127.0.0.1:PORT to serve only this machine, or
    /// --listen unix:PATH for a Unix socket (mode 0600) that an application in
    /// front forwards to (the npm package's handler does).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Stop, as on SIGTERM, when standard input reaches its end
    ///
    /// For a parent process that runs serve as its child and holds its
    /// standard input open (the npm package's handler): the server ends with
    /// the parent, however the parent ends.
    #[arg(long)]
    pub until_stdin_closes: bool,
}

#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("old_side").args(["base", "from", "database_url", "targets"])))]
#[command(group(clap::ArgGroup::new("compared").required(true).multiple(true).args(["base", "from", "database_url", "drizzle", "targets", "targets_match"])))]
pub struct CheckArgs {
    /// Schema directory: every *.toml under it is read
    #[arg(long, default_value = "schema", value_name = "DIR")]
    pub schema: PathBuf,
    /// Compare with the files at this git revision (read through git; no checkout)
    #[arg(long, value_name = "GIT_REV")]
    pub base: Option<String>,
    /// With --base: the schema directory at that revision, when it has moved
    #[arg(long, value_name = "DIR", requires = "base")]
    pub base_schema: Option<PathBuf>,
    /// Compare with the files of another directory
    #[arg(long, value_name = "DIR")]
    pub from: Option<PathBuf>,
    /// Compare with a live database, as plan would (with --targets-match: the server whose databases are listed); only this flag chooses it (DATABASE_URL is not read here, so that a job's variable never picks what check compares with)
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
    /// Also fail (exit 3) when this Drizzle schema file is not what `codegen drizzle` generates from the files now; alone, the only comparison
    #[arg(long, value_name = "FILE")]
    pub drizzle: Option<PathBuf>,
    /// How to print the result: text, JSON, or GitHub workflow annotations
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    #[command(flatten)]
    pub exclude: Exclude,
    #[command(flatten)]
    pub fleet: Fleet,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum CheckFormat {
    Text,
    Json,
    Github,
}

#[derive(clap::Args, Debug)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub conn: Conn,
    /// How long a statement may wait for a table lock (e.g. 5s, 500ms, 1m); default 5s, 1s with --online; 0 means no limit
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub lock_timeout: Option<std::time::Duration>,
    /// How long one statement may run; 0 means no limit
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = parse_duration)]
    pub statement_timeout: std::time::Duration,
    /// Apply only if the plan under the lock has this hash (the one `plan` printed)
    #[arg(long, value_name = "HASH")]
    pub expect_plan: Option<String>,
    /// Keep writes flowing: a quick transaction, then indexes built CONCURRENTLY, then constraints validated (README, "Busy tables")
    #[arg(long)]
    pub online: bool,
    /// With --online: how many times a step that timed out waiting for a lock is tried, with backoff
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub lock_attempts: u32,
    /// Apply without asking (it asks only when standard input is a terminal)
    #[arg(long)]
    pub yes: bool,
    /// How to print the result: text, or JSON (the plan, each statement's time, the outcome); JSON never asks
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
    #[command(flatten)]
    pub fleet: Fleet,
    #[command(flatten)]
    pub exclude: Exclude,
}

#[derive(clap::Args, Debug)]
pub struct HistoryArgs {
    /// Connection URL or keyword string; default DATABASE_URL (also read from ./.env), then PGHOST, PGPORT, ...
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// How many entries, newest first (0 or more)
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(i64).range(0..))]
    pub limit: i64,
    /// How to print the entries: text, or JSON with every statement
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
    /// Text: print each statement whole (without it, its first line)
    #[arg(long)]
    pub verbose: bool,
    #[command(flatten)]
    pub fleet: Fleet,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum TextOrJson {
    Text,
    Json,
}

/// The longest timeout PostgreSQL takes (`lock_timeout`, `statement_timeout`
/// are `int` milliseconds): 2,147,483,647 ms, about 24.8 days.
pub const MAX_TIMEOUT_MS: u64 = i32::MAX as u64;

/// A timeout as PostgreSQL's settings take it: `5s`, `500ms`, `2m`, `1h`, a
/// bare number is seconds; `0` means no limit, as in PostgreSQL. Errors
/// (exit 2): not a number, an unknown unit, a negative value, or more than
/// `MAX_TIMEOUT_MS`.
pub fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite())
        .ok_or_else(|| {
            format!("bad duration `{s}`: expected e.g. 5s, 500ms, 2m, or 0 for no limit")
        })?;
    let ms_per_unit = match unit.trim() {
        "" | "s" | "sec" => 1000.0,
        "ms" => 1.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        u => return Err(format!("bad duration unit `{u}`: expected ms, s, m or h")),
    };
    let ms = n * ms_per_unit;
    if ms > MAX_TIMEOUT_MS as f64 {
        return Err(format!(
            "duration `{s}` is too long: PostgreSQL takes at most {MAX_TIMEOUT_MS}ms (about 24 days); 0 means no limit"
        ));
    }
    Ok(std::time::Duration::from_secs_f64(ms / 1000.0))
}

#[derive(clap::Args, Debug)]
pub struct Conn {
    /// Schema directory: every *.toml under it is read
    #[arg(long, default_value = "schema", value_name = "DIR")]
    pub schema: PathBuf,
    /// Connection URL or keyword string; default DATABASE_URL (also read from ./.env), then PGHOST, PGPORT, ...
    #[arg(long, value_name = "URL", env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub conn: Conn,
    /// How to print the plan: text, the SQL alone, or JSON
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 4 when there are statements to run
    #[arg(long)]
    pub detailed_exitcode: bool,
    #[command(flatten)]
    pub fleet: Fleet,
    #[command(flatten)]
    pub exclude: Exclude,
}

/// `--exclude PATTERN`, repeatable (plan, apply, check, dump, prune).
#[derive(clap::Args, Debug)]
pub struct Exclude {
    /// Never consider what this pattern matches (repeatable): `drizzle.*` (a whole schema), `public.schema_migrations`, `tmp_*` (in public); `*` in a part is any characters, a name holding a dot goes in double quotes. Adds to the files' `exclude` key
    #[arg(long = "exclude", value_name = "PATTERN", value_parser = reconcile::exclude::Pattern::parse)]
    pub patterns: Vec<reconcile::exclude::Pattern>,
}

/// `--targets FILE` or `--targets-match PATTERN`, and `--jobs N` (plan, apply,
/// history, and check against live databases).
#[derive(clap::Args, Debug)]
#[command(group(clap::ArgGroup::new("fleet_source").args(["targets", "targets_match"])))]
pub struct Fleet {
    /// Run on each database of this file instead: one connection string a line (as --database-url takes it), # starts a comment
    ///
    /// Not with --database-url (DATABASE_URL in the environment is ignored).
    #[arg(long, value_name = "FILE")]
    pub targets: Option<PathBuf>,
    /// Run on each database of the --database-url server whose name matches this SQL LIKE pattern (e.g. 'tenant_%')
    #[arg(long, value_name = "PATTERN")]
    pub targets_match: Option<String>,
    /// With --targets or --targets-match: how many databases run at once
    #[arg(long, value_name = "N", default_value_t = reconcile::fleet::DEFAULT_JOBS, value_parser = parse_jobs, requires = "fleet_source")]
    pub jobs: usize,
}

/// `--jobs`: a whole number from 1 to 1000.
fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=1000).contains(&n) => Ok(n),
        _ => Err(format!(
            "bad --jobs `{s}`: expected a whole number from 1 to 1000"
        )),
    }
}

impl Fleet {
    /// Whether the command runs on a fleet (`--targets` or `--targets-match`).
    pub fn given(&self) -> bool {
        self.targets.is_some() || self.targets_match.is_some()
    }
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Sql,
    Json,
}

/// Whether the arguments ask for JSON (`--format json` or `--format=json`):
/// then even an argument error is answered as a JSON object on stdout.
pub fn wants_json(args: &[String]) -> bool {
    args.windows(2)
        .any(|w| w[0] == "--format" && w[1] == "json")
        || args.iter().any(|a| a == "--format=json")
}

/// Whether the command asks only for help, the version, a completion
/// script or generated code: it runs even when `./.env` cannot be read.
pub fn needs_no_database(args: &[String]) -> bool {
    args.iter()
        .skip(1)
        .any(|a| matches!(a.as_str(), "-h" | "--help" | "-V" | "--version" | "help"))
        || args
            .get(1)
            .is_some_and(|a| a == "completions" || a == "codegen")
}

/// `--color WHEN` or `--color=WHEN` as given (before the whole command line
/// is parsed, so that clap's own help and errors follow it too); `auto` when
/// absent or not one of the words.
pub fn color_flag(args: &[String]) -> ColorWhen {
    let mut value = None;
    for (i, a) in args.iter().enumerate() {
        if a == "--color" {
            value = args.get(i + 1).map(String::as_str);
        } else if let Some(v) = a.strip_prefix("--color=") {
            value = Some(v);
        }
    }
    match value {
        Some("always") => ColorWhen::Always,
        Some("never") => ColorWhen::Never,
        _ => ColorWhen::Auto,
    }
}

/// `reconcile --plan ...` is `reconcile plan ...`.
pub fn normalize_args(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut args: Vec<String> = args.into_iter().collect();
    if let Some(first) = args.get(1) {
        if let Some(cmd) = [
            "--plan",
            "--apply",
            "--check",
            "--dump",
            "--serve",
            "--history",
            "--prune",
        ]
        .iter()
        .find(|f| *f == first)
        {
            args[1] = cmd.trim_start_matches("--").to_string();
        }
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn serve_help_states_the_admin_limits() {
        use reconcile::admin;
        let mut cmd = Cli::command();
        let help = cmd
            .find_subcommand_mut("serve")
            .unwrap()
            .render_help()
            .to_string();
        let secs = |d: std::time::Duration| format!("{}s", d.as_secs());
        for stated in [
            secs(admin::HEADER_READ_TIMEOUT),
            secs(admin::KEEP_ALIVE_IDLE_TIMEOUT),
            secs(admin::REQUEST_TIMEOUT),
            secs(admin::MIGRATE_REQUEST_TIMEOUT),
            format!("at most {} connections", admin::MAX_CONNECTIONS),
            format!("{} KiB of headers", admin::MAX_HEADER_BYTES / 1024),
            format!("{} KiB body", admin::MAX_REQUEST_BODY / 1024),
            "0.0.0.0:$PORT".to_string(),
        ] {
            assert!(
                help.contains(&stated),
                "serve --help does not say {stated:?}: {help}"
            );
        }
    }

    #[test]
    fn flag_spellings_are_subcommands() {
        let args = normalize_args(["reconcile", "--plan", "--schema", "x"].map(String::from));
        assert_eq!(args[1], "plan");
        let cli = Cli::parse_from(args);
        assert!(matches!(cli.command, Command::Plan(_)));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5s").unwrap().as_millis(), 5000);
        assert_eq!(parse_duration("250ms").unwrap().as_millis(), 250);
        assert_eq!(parse_duration("2m").unwrap().as_secs(), 120);
        assert!(parse_duration("5x").is_err());
        // 0 is PostgreSQL's "no limit", not the shortest timeout.
        assert!(parse_duration("0").unwrap().is_zero());
        assert!(parse_duration("0ms").unwrap().is_zero());
        assert_eq!(
            parse_duration("2147483647ms").unwrap().as_millis(),
            2_147_483_647
        );
        for bad in [
            "2147483648ms",
            "999999999999999999999h",
            "1e400",
            "-5s",
            "inf",
            "NaN",
            "",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad} accepted");
        }
    }
}
