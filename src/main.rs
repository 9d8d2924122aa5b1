//! Thin binary: parse, call the library, print, exit.

mod cli;

use std::process::ExitCode;

use clap::Parser;
use cli::{Cli, Command, Format};
use reconcile::error::exit;
use reconcile::{report, Target};

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
            };
            match reconcile::plan(&target).await {
                Err(e) => fail(&e),
                Ok(outcome) => {
                    let plan = &outcome.plan;
                    match args.format {
                        Format::Text => print!("{}", report::text(plan, &outcome.target)),
                        Format::Json => println!("{}", report::json(plan)),
                        Format::Sql => {
                            print!("{}", report::sql(plan));
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
    }
}

fn fail(e: &reconcile::Error) -> u8 {
    eprintln!("error: {e}");
    e.exit_code()
}
