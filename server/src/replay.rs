//! `aion replay SNAPSHOT INPUTS`: continue a saved world with a recorded input log and check that
//! every tick's world hash matches the original run's `metrics.csv`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use aion_engine::Sim;
use aion_engine::command::Input;
use anyhow::{Context, Result, bail};
use clap::Args;

use crate::output;
use crate::run::{available_threads, read_inputs};

/// Arguments of `aion replay`.
#[derive(Args, Debug)]
pub struct ReplayArgs {
    /// The snapshot to start from.
    pub snapshot: PathBuf,
    /// The input log to apply (a run's `inputs.jsonl`); inputs before the snapshot's tick are skipped.
    pub inputs: PathBuf,
    /// The original run's `metrics.csv`: every replayed tick's hash must match its row.
    #[arg(long, value_name = "METRICS")]
    pub expect: Option<PathBuf>,
    /// Ticks to replay [default: up to the last tick in --expect].
    #[arg(long)]
    pub ticks: Option<u64>,
    /// Story patterns, when the snapshot was sifting [default: scenarios/patterns].
    #[arg(long, value_name = "DIR")]
    pub patterns: Option<PathBuf>,
    /// Worker threads [default: available cores]; results are identical for any count.
    #[arg(long)]
    pub threads: Option<u16>,
}

/// Runs `aion replay`; fails when a hash differs.
pub fn replay(args: &ReplayArgs) -> Result<()> {
    let bytes = std::fs::read(&args.snapshot).with_context(|| format!("cannot read {}", args.snapshot.display()))?;
    let threads = args.threads.map_or_else(available_threads, |t| usize::from(t).max(1));
    let mut sim =
        Sim::from_snapshot(&bytes, threads).with_context(|| format!("cannot load {}", args.snapshot.display()))?;
    if sim.was_sifting() {
        let dir = args.patterns.clone().unwrap_or_else(|| PathBuf::from("scenarios/patterns"));
        let patterns =
            aion_engine::plot::load_dir(&dir).map_err(|e| anyhow::anyhow!("patterns in {}: {e}", dir.display()))?;
        sim.set_patterns(patterns).context("the patterns do not match the snapshot's")?;
    }
    let start = sim.tick();
    let mut applied = 0;
    // A snapshot already carries the inputs queued when it was taken; don't queue those twice.
    let mut queued: Vec<Input> = sim.pending_inputs().to_vec();
    let fresh: Vec<Input> = read_inputs(&args.inputs)?
        .into_iter()
        .filter(|i| i.tick > start)
        .filter(|i| match queued.iter().position(|q| q == i) {
            Some(k) => {
                queued.remove(k);
                false
            }
            None => true,
        })
        .collect();
    for input in fresh {
        let tick = input.tick;
        sim.submit(input).with_context(|| format!("{}: input for tick {tick}", args.inputs.display()))?;
        applied += 1;
    }
    let expected = match &args.expect {
        Some(path) => read_hashes(path)?,
        None => BTreeMap::new(),
    };
    let last = expected.keys().next_back().copied().unwrap_or(start);
    let ticks = args.ticks.unwrap_or(last.saturating_sub(start));
    let (mut checked, bar) = (0u64, output::progress_bar(ticks, "ticks"));
    for _ in 0..ticks {
        sim.step();
        bar.inc(1);
        if let Some(want) = expected.get(&sim.tick()) {
            let got = output::hex(sim.world_hash());
            if &got != want {
                bar.finish_and_clear();
                bail!("replay diverged at tick {}: expected world hash {want}, got {got}", sim.tick());
            }
            checked += 1;
        }
    }
    bar.finish_and_clear();
    say!("replayed ticks {start} -> {} with {applied} input(s); {checked} hash(es) matched", sim.tick());
    say!("world hash: {}", output::hex(sim.world_hash()));
    Ok(())
}

/// Tick -> world hash from a `metrics.csv` (first and last columns).
fn read_hashes(path: &std::path::Path) -> Result<BTreeMap<u64, String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let cols: Vec<&str> = line.split(',').collect();
        let (Some(tick), Some(hash)) = (cols.first(), cols.last()) else { continue };
        let tick: u64 = tick.parse().with_context(|| format!("{}:{}: bad tick", path.display(), i + 1))?;
        out.insert(tick, (*hash).to_string());
    }
    Ok(out)
}
