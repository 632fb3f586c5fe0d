//! `aion`: the command line of the Aion engine.
//!
//! - `aion run SCENARIO` / `aion run --from-snapshot FILE`: run headless, write events, metrics,
//!   snapshots and a summary; the last stdout line is `world hash: <16 hex digits>`.
//! - `aion check SCENARIO...`: validate scenarios, reporting every problem with file, line and key.
//! - `aion bench`: time generated worlds and print a scaling table.
//! - `aion serve`: the server (REST API, observatory WebSocket, page); see serve.rs.
//!
//! Logs go to stderr, filtered by `RUST_LOG` (default `warn`). Errors exit with code 1 and a message on
//! stderr; usage errors exit with code 2.

/// `println!` that ignores a closed stdout (`aion run ... | head -1`) instead of panicking: the run's
/// files matter more than its console lines.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod api;
mod app;
mod auth;
mod bench;
mod check;
mod diff;
mod live;
mod loadtest;
mod output;
mod page;
mod perm;
mod replay;
mod run;
mod serve;
mod shipped;
mod store;
mod stories;
mod sweep;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

/// Command line of the Aion engine.
#[derive(Parser, Debug)]
#[command(name = "aion", version, about = "Run, check and benchmark Aion worlds", propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a scenario (or continue a snapshot) and write events, metrics, snapshots and a summary.
    Run(run::RunArgs),
    /// Validate scenarios without running them.
    Check(check::CheckArgs),
    /// Time generated worlds and print a scaling table.
    Bench(bench::BenchArgs),
    /// List and filter the story arcs of a finished run.
    Stories(stories::StoriesArgs),
    /// Continue a snapshot with a recorded input log and check every tick's hash.
    Replay(replay::ReplayArgs),
    /// Run a scenario's [experiment]: a parameter sweep with repetitions, one CSV row per run.
    Sweep(sweep::SweepArgs),
    /// Show where two runs diverge: first differing tick, moods, bonds, alliances, stories.
    Diff(diff::DiffArgs),
    /// Fork a snapshot onto a new seed and run it (`aion run --from-snapshot FILE --seed S`).
    Fork(run::ForkArgs),
    /// Serve live sessions: REST API, observatory WebSocket and page (SQLite by default).
    Serve(serve::ServeArgs),
    /// Load-test a server: N WebSocket observers, M directors and a REST client; latency percentiles.
    Loadtest(loadtest::LoadtestArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match &cli.command {
        Command::Run(args) => run::run(args).map(|()| ExitCode::SUCCESS),
        Command::Check(args) => Ok(check::check(args)),
        Command::Bench(args) => bench::bench(args).map(|()| ExitCode::SUCCESS),
        Command::Stories(args) => stories::stories(args).map(|_| ExitCode::SUCCESS),
        Command::Replay(args) => replay::replay(args).map(|()| ExitCode::SUCCESS),
        Command::Diff(args) => diff::diff(args).map(|()| ExitCode::SUCCESS),
        Command::Sweep(args) => sweep::sweep(args).map(|()| ExitCode::SUCCESS),
        Command::Fork(args) => run::run(&args.to_run()).map(|()| ExitCode::SUCCESS),
        Command::Serve(args) => serve::validate(args).and_then(|()| serve::serve(args)).map(|()| ExitCode::SUCCESS),
        Command::Loadtest(args) => loadtest::loadtest(args).map(|()| ExitCode::SUCCESS),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {}", report(&e));
        ExitCode::FAILURE
    })
}

/// An error and its causes on one line, `outer: inner: ...`, skipping a cause whose text the message
/// already holds (many error types repeat their source in their own message).
fn report(e: &anyhow::Error) -> String {
    let mut msg = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
    }
    msg
}

/// Logs to stderr, filtered by `RUST_LOG` (e.g. `RUST_LOG=aion_engine=debug`), `warn` by default.
fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
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
    fn run_needs_exactly_one_input() {
        assert!(Cli::try_parse_from(["aion", "run"]).is_err());
        assert!(Cli::try_parse_from(["aion", "run", "a.toml", "--from-snapshot", "b.snapshot"]).is_err());
        // A seed with a snapshot forks it onto a new branch.
        assert!(Cli::try_parse_from(["aion", "run", "--from-snapshot", "b.snapshot", "--seed", "3"]).is_ok());
        assert!(Cli::try_parse_from(["aion", "fork", "b.snapshot"]).is_err(), "a fork needs its seed");
        let ok = Cli::try_parse_from(["aion", "run", "a.toml", "--ticks", "0", "--threads", "2"]).unwrap();
        let Command::Run(args) = ok.command else { panic!("parsed as run") };
        assert_eq!((args.ticks, args.threads), (0, Some(2)));
        assert!(Cli::try_parse_from(["aion", "run", "a.toml", "--threads", "0"]).is_err());
    }

    #[test]
    fn reports_do_not_repeat_causes() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "gone");
        let e = anyhow::Error::new(io).context("cannot read x: gone").context("loading");
        assert_eq!(report(&e), "loading: cannot read x: gone");
    }

    #[test]
    fn bench_sizes_are_a_comma_separated_list() {
        let cli = Cli::try_parse_from(["aion", "bench", "--characters", "1000,20000", "--workload", "peer"]).unwrap();
        let Command::Bench(args) = cli.command else { panic!("parsed as bench") };
        assert_eq!(args.characters, vec![1000, 20000]);
        assert_eq!(args.workload, bench::Workload::Peer);
    }
}
