//! The `botserver` binary: parses the command line and hands over to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "botserver",
    version,
    about = "A bot server for BASIC bots with durable workflows"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile .bas files or packages and print diagnostics.
    Check {
        #[arg(required = true)]
        paths: Vec<PathBuf>,
    },
    /// Run a dialog in the terminal (TALK to stdout, HEAR from stdin).
    Run { file: PathBuf },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Check { paths } => {
            match botserver::cli::check::check_paths(&paths, &mut std::io::stderr()) {
                Ok(s) => {
                    eprintln!(
                        "checked {} file{}: {} error{}, {} warning{}",
                        s.files,
                        if s.files == 1 { "" } else { "s" },
                        s.errors,
                        if s.errors == 1 { "" } else { "s" },
                        s.warnings,
                        if s.warnings == 1 { "" } else { "s" }
                    );
                    i32::from(s.errors > 0)
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
            }
        }
        Command::Run { file } => {
            let stdin = std::io::stdin();
            match botserver::cli::run::run_file(
                &file,
                stdin.lock(),
                std::io::stdout(),
                &mut std::io::stderr(),
            ) {
                Ok(c) => c,
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
            }
        }
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}
