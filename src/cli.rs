//! Command-line types (clap only).

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(
    name = "reconcile",
    version,
    about = "Keep a PostgreSQL schema in step with TOML files, additively and safely",
    after_help = "`reconcile --plan` and `reconcile --apply` are the same as `reconcile plan` and `reconcile apply`.\n\nExit codes: 0 success; 1 operational error; 2 invalid input; 3 a change was refused; 4 changes pending (plan --detailed-exitcode)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Print the statements that would run, the refused changes and the unmanaged objects
    Plan(PlanArgs),
}

#[derive(clap::Args, Debug)]
pub struct Conn {
    /// Schema directory: every *.toml under it is read
    #[arg(long, default_value = "schema", value_name = "DIR")]
    pub schema: PathBuf,
    /// Connection URL or keyword string; default DATABASE_URL, then PGHOST, PGPORT, ...
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub conn: Conn,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 4 when there are statements to run
    #[arg(long)]
    pub detailed_exitcode: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Format {
    Text,
    Sql,
    Json,
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
        ]
        .iter()
        .find(|f| *f == first)
        {
            args[1] = cmd.trim_start_matches("--").to_string();
        }
    }
    args
}
