//! `aion bench`: time the engine on worlds built in code and print a scaling table anyone can rerun.
//!
//! Four workloads: `social` (the full tick, per stage), `peer` (the peer model of
//! `shared/bench/peers`, next to the reference figures of the tools it is compared with),
//! `contagion` (the Spread kernel alone against a plain CSR step, in locality and random order) and
//! `director` (100 active TOML or Rhai triggers per tick; `aion bench director --characters 1000`).
//! Timing uses the wall clock of this tool; the engine itself never reads one.

mod contagion;
mod director;
mod peer;
mod social;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use indicatif::ProgressBar;
use serde::Serialize;

use crate::run::{THREADS_MAX, available_threads};

/// Most characters per bench world for `social` and `contagion` (the scenario limit: a world of the
/// full model takes on the order of a kilobyte per character).
pub const CHARACTERS_MAX: u32 = aion_engine::scenario::POPULATION_MAX;
/// Most agents per peer-model world (about 250 bytes each at degree 20: 4 GB).
pub const PEER_AGENTS_MAX: u32 = 16_000_000;
/// Untimed ticks before timing starts (first-touch page faults, buffer growth, caches).
const WARMUP_TICKS: u64 = 3;
/// Adaptive timing: at least this many ticks...
const ADAPTIVE_TICKS_MIN: u64 = 20;
/// ...and until this much time has passed.
const ADAPTIVE_TIME: Duration = Duration::from_secs(2);

/// Arguments of `aion bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// World sizes, comma separated.
    #[arg(long, value_delimiter = ',', default_value = "1000,10000,100000")]
    pub characters: Vec<u32>,
    /// Mean relationships per character.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=aion_engine::scenario::DEGREE_MAX as i64))]
    pub degree: u32,
    /// Timed ticks (or kernel steps) per size [default: adaptive, at least 20 and about 2 s].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub ticks: Option<u64>,
    /// Worker threads [default: available cores].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=THREADS_MAX as i64))]
    pub threads: Option<u16>,
    /// What to time (or give it as the first argument: `aion bench director`).
    #[arg(long, value_enum, default_value_t = Workload::Social)]
    pub workload: Workload,
    /// What to time, as a positional argument (overrides `--workload`).
    #[arg(value_enum, value_name = "WORKLOAD", conflicts_with = "workload")]
    pub what: Option<Workload>,
    /// Seed of the generated worlds.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Also write the results as JSON to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Story patterns sifted during the social workload [default: scenarios/patterns when present].
    #[arg(long, value_name = "DIR")]
    pub patterns: Option<PathBuf>,
    /// Time the social workload without story sifting.
    #[arg(long, conflicts_with = "patterns")]
    pub no_stories: bool,
}

/// What `aion bench` times.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Workload {
    /// The full tick of the social model, stage by stage.
    Social,
    /// The peer model (contagion + interaction), against Mesa and numpy reference figures.
    Peer,
    /// The contagion kernel alone, against a plain CSR step, in locality and random order.
    Contagion,
    /// The full tick without a director, with 100 TOML triggers and with 100 Rhai `when`
    /// triggers (ms per tick); the decisions alone (µs per trigger evaluation) and the script's
    /// world hand-off.
    Director,
}

/// Settings shared by every workload.
struct Setup {
    sizes: Vec<u32>,
    degree: u32,
    threads: usize,
    seed: u64,
    budget: Budget,
    /// Patterns to sift in the social workload.
    patterns: Option<Vec<aion_engine::plot::Pattern>>,
}

fn load_patterns(dir: &std::path::Path) -> Result<Vec<aion_engine::plot::Pattern>> {
    aion_engine::plot::load_dir(dir).map_err(|e| anyhow::anyhow!("patterns in {}: {e}", dir.display()))
}

/// Runs `aion bench`.
pub fn bench(args: &BenchArgs) -> Result<()> {
    let workload = args.what.unwrap_or(args.workload);
    let max = if workload == Workload::Peer { PEER_AGENTS_MAX } else { CHARACTERS_MAX };
    if let Some(&n) = args.characters.iter().find(|&&n| n == 0 || n > max) {
        anyhow::bail!("--characters {n}: each size must be in 1..={max} for the {workload:?} workload");
    }
    let setup = Setup {
        sizes: args.characters.clone(),
        degree: args.degree,
        threads: args.threads.map_or_else(available_threads, usize::from),
        seed: args.seed,
        budget: Budget { fixed: args.ticks },
        patterns: match (&args.patterns, args.no_stories) {
            (_, true) => None,
            (Some(dir), _) => Some(load_patterns(dir)?),
            (None, _) => {
                let dir = PathBuf::from("scenarios/patterns");
                if dir.is_dir() { Some(load_patterns(&dir)?) } else { None }
            }
        },
    };
    let json = match workload {
        Workload::Social => serde_json::to_value(social::bench(&setup)?)?,
        Workload::Peer => serde_json::to_value(peer::bench(&setup)?)?,
        Workload::Contagion => serde_json::to_value(contagion::bench(&setup)?)?,
        Workload::Director => serde_json::to_value(director::bench(&setup)?)?,
    };
    if let Some(path) = &args.json {
        let doc = serde_json::json!({
            "workload": workload,
            "degree": args.degree,
            "threads": setup.threads,
            "seed": args.seed,
            "rows": json,
        });
        std::fs::write(path, serde_json::to_vec_pretty(&doc)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        say!("wrote {}", path.display());
    }
    Ok(())
}

/// How long to time one size.
#[derive(Clone, Copy, Debug)]
struct Budget {
    /// Exactly this many steps, or adaptive when `None`.
    fixed: Option<u64>,
}

impl Budget {
    /// Calls `step` [`WARMUP_TICKS`] times untimed, then [`Budget::time`]s it.
    fn warm_and_time(self, mut step: impl FnMut()) -> (u64, Duration) {
        for _ in 0..WARMUP_TICKS {
            step();
        }
        self.time(step)
    }

    /// Calls `step` for the budget; returns the steps taken and the time they took.
    fn time(self, mut step: impl FnMut()) -> (u64, Duration) {
        let start = Instant::now();
        let mut n = 0;
        loop {
            step();
            n += 1;
            let done = match self.fixed {
                Some(t) => n >= t,
                None => n >= ADAPTIVE_TICKS_MIN && start.elapsed() >= ADAPTIVE_TIME,
            };
            if done {
                return (n, start.elapsed());
            }
        }
    }
}

/// Resident memory of this process in bytes (`VmRSS` of `/proc/self/status`), where available.
fn rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A table printed row by row as results arrive (above the progress bar, which it suspends).
struct Table {
    widths: Vec<usize>,
}

impl Table {
    /// Prints the header; each column is at least `min_width` wide.
    fn new(bar: &ProgressBar, headers: &[&str], min_width: usize) -> Self {
        let widths: Vec<usize> = headers.iter().map(|h| h.len().max(min_width)).collect();
        let t = Self { widths };
        t.print(bar, headers.iter().map(|h| h.to_string()).collect());
        t
    }

    /// Prints one row, right-aligned under the headers.
    fn print(&self, bar: &ProgressBar, cells: Vec<String>) {
        let line: Vec<String> = cells.iter().zip(&self.widths).map(|(c, &w)| format!("{c:>w$}")).collect();
        bar.suspend(|| say!("{}", line.join("  ")));
    }
}

/// A figure with about four significant digits and no exponent.
fn num(x: f64) -> String {
    match x.abs() {
        a if a >= 1000.0 || a == 0.0 => format!("{x:.0}"),
        a if a >= 100.0 => format!("{x:.1}"),
        a if a >= 10.0 => format!("{x:.2}"),
        a if a >= 1.0 => format!("{x:.3}"),
        _ => format!("{x:.4}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_budgets_take_exactly_that_many_steps() {
        let mut calls = 0;
        let (n, _) = Budget { fixed: Some(5) }.time(|| calls += 1);
        assert_eq!((n, calls), (5, 5));
    }

    #[test]
    fn figures_keep_four_significant_digits() {
        assert_eq!(num(76_923.4), "76923");
        assert_eq!(num(149.04), "149.0");
        assert_eq!(num(6.754), "6.754");
        assert_eq!(num(0.2561), "0.2561");
    }

    #[test]
    fn resident_memory_is_readable_here() {
        if cfg!(target_os = "linux") {
            assert!(rss_bytes().is_some_and(|b| b > 0));
        }
    }
}
