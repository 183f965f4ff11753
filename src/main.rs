//! The `botserver` binary: parses the command line and hands over to the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

// The server allocates many small short-lived values per request (JSON, Rhai values);
// mimalloc is markedly faster than the system allocator there (measured with perf).
// Its version 2 (the crate's `v2`): with version 3 the process kept taking fresh pages
// from the kernel while values made on one thread were freed on another (a storm of
// wake-ups grew it by ~280 MB, and zeroing those pages was 10-15% of the CPU).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
    /// Serve the bots over HTTP with durable execution.
    Serve {
        /// Folder holding the *.gbai packages.
        #[arg(long, env = "BOTSERVER_BOTS", default_value = "bottemplates")]
        bots: PathBuf,
        /// Address to listen on.
        #[arg(long, env = "BOTSERVER_BIND", default_value = "127.0.0.1:8080")]
        bind: String,
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, env = "REDIS_URL")]
        redis_url: Option<String>,
        #[arg(long, env = "BOTSERVER_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
        /// This instance's name in execution leases (default: a new random name).
        #[arg(long, env = "BOTSERVER_INSTANCE")]
        instance: Option<String>,
    },
    /// Measure the figures of the README (Performance) against a fresh database.
    Bench {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long, env = "REDIS_URL")]
        redis_url: Option<String>,
        /// Print one JSON object with the figures on the last line.
        #[arg(long)]
        json: bool,
        /// Seconds each throughput figure is measured over.
        #[arg(long, default_value_t = 8.0)]
        seconds: f64,
        /// Only these parts, comma-separated: compile, steps, throughput, delegated,
        /// parallel, conversation, wake, wakeups, memory, recovery, scale, console
        /// (scale and console run only when named here).
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Apply the database migrations and exit.
    Migrate {
        #[command(flatten)]
        db: DbArgs,
    },
}

#[derive(clap::Args)]
struct DbArgs {
    /// PostgreSQL URL; without it a private cluster under --data-dir is used.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Where the zero-config cluster lives.
    #[arg(long, env = "BOTSERVER_DATA", default_value = "data")]
    data_dir: PathBuf,
}

fn main() -> ExitCode {
    // At the default level the server says where its database is, which bots it serves
    // and whether Redis is on; colours only on a terminal.
    use std::io::IsTerminal;
    let filter = match std::env::var("RUST_LOG") {
        Ok(v) if !v.trim().is_empty() => tracing_subscriber::EnvFilter::new(v),
        _ => tracing_subscriber::EnvFilter::new("botserver=info"),
    };
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
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
        Command::Serve {
            bots,
            bind,
            db,
            redis_url,
            admin_token,
            instance,
        } => {
            let opts = botserver::cli::serve::ServeOptions {
                database_url: db.database_url,
                redis_url: redis_url.filter(|u| !u.is_empty()),
                bind,
                bots,
                admin_token: admin_token.filter(|t| !t.is_empty()),
                instance,
                data_dir: db.data_dir,
            };
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: cannot start the async runtime: {e}");
                    return ExitCode::from(2);
                }
            };
            match runtime.block_on(botserver::cli::serve::serve(opts)) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("error: {e}");
                    1
                }
            }
        }
        Command::Bench {
            db,
            redis_url,
            json,
            seconds,
            only,
        } => {
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: cannot start the async runtime: {e}");
                    return ExitCode::from(2);
                }
            };
            let result = botserver::cli::serve::database_url(db.database_url, &db.data_dir)
                .and_then(|(url, _cluster)| {
                    let opts = botserver::bench::run::BenchOptions {
                        database_url: url,
                        redis_url: redis_url.filter(|u| !u.is_empty()),
                        seconds: seconds.clamp(1.0, 120.0),
                        only,
                    };
                    runtime.block_on(botserver::bench::run::run(&opts))
                });
            match result {
                Ok((figures, extra)) => {
                    print!("{}", botserver::bench::report::table(&figures, &extra));
                    if json {
                        println!("{}", serde_json::json!(figures));
                    }
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    1
                }
            }
        }
        Command::Migrate { db } => {
            match botserver::cli::serve::database_url(db.database_url, &db.data_dir)
                .and_then(|(url, _cluster)| botserver::cli::serve::migrate(&url))
            {
                Ok(n) => {
                    println!("applied {n} migration(s)");
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    1
                }
            }
        }
    };
    ExitCode::from(code.clamp(0, 255) as u8)
}
