//! `aion run`: run a scenario (or continue a snapshot) headless and write what happened.
//!
//! Output directory: `events.jsonl` (every event, drained from the log after every tick),
//! `metrics.csv` (one row per tick), `final.snapshot`, `summary.json`, and with `--snapshot-every K`
//! `snapshots/tick-<T>.snapshot`. Snapshots and the summary are written crash-safely (temporary file,
//! then rename). The last stdout line is `world hash: <16 hex digits>`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aion_engine::Sim;
use aion_engine::command::Input;
use aion_engine::events::Event;
use aion_engine::ids::Name;
use aion_engine::story::{self, StoryArc};
use aion_engine::{plot, scenario};
use anyhow::{Context, Result};
use clap::{ArgGroup, Args};
use serde::Serialize;

use crate::output::{self, METRICS_HEADER};

/// Most worker threads a run or bench may ask for (a typo like `--threads 10000` would otherwise try
/// to start ten thousand OS threads).
pub const THREADS_MAX: usize = 1024;
/// Write buffer of `events.jsonl` and `metrics.csv`.
const WRITE_BUFFER_BYTES: usize = 1 << 20;

/// Arguments of `aion run`.
#[derive(Args, Debug)]
#[command(group(ArgGroup::new("input").required(true).args(["scenario", "from_snapshot"])))]
pub struct RunArgs {
    /// Scenario file (TOML, `format = "aion.scenario/1"`).
    pub scenario: Option<PathBuf>,
    /// Continue the world saved in this snapshot instead of starting a scenario.
    #[arg(long, value_name = "FILE")]
    pub from_snapshot: Option<PathBuf>,
    /// Ticks to run (more ticks, when continuing a snapshot).
    #[arg(long, default_value_t = 1000)]
    pub ticks: u64,
    /// Seed overriding the scenario's; with --from-snapshot, forks the saved world onto a new branch
    /// with this seed (without it, a snapshot keeps its own).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Apply the commands in this input log (JSON lines `{"tick": T, "command": {...}}`), each before
    /// its tick; the applied ones are written to `DIR/inputs.jsonl` for replay.
    #[arg(long, value_name = "FILE")]
    pub inputs: Option<PathBuf>,
    /// Worker threads [default: available cores]; results are identical for any count.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=THREADS_MAX as i64))]
    pub threads: Option<u16>,
    /// Output directory [default: out/SCENARIO_STEM, or out/WORLD-from-tick-T when continuing a snapshot].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Also save `snapshots/tick-<T>.snapshot` whenever the tick is a multiple of K.
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u64).range(1..))]
    pub snapshot_every: Option<u64>,
    /// Story patterns to sift for [default: `patterns/` beside the scenario, else scenarios/patterns].
    #[arg(long, value_name = "DIR")]
    pub patterns: Option<PathBuf>,
    /// Do not sift stories (no chronicle).
    #[arg(long, conflicts_with = "patterns")]
    pub no_stories: bool,
}

/// Arguments of `aion fork`: a snapshot continued on a new branch with another seed.
#[derive(Args, Debug)]
pub struct ForkArgs {
    /// The snapshot to fork.
    pub snapshot: PathBuf,
    /// The new branch's seed (the same seed continues exactly like the original).
    #[arg(long)]
    pub seed: u64,
    /// Ticks to run on the branch.
    #[arg(long, default_value_t = 1000)]
    pub ticks: u64,
    /// Output directory [default: out/WORLD-from-tick-T].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Worker threads [default: available cores].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=THREADS_MAX as i64))]
    pub threads: Option<u16>,
    /// Story patterns [default: scenarios/patterns].
    #[arg(long, value_name = "DIR")]
    pub patterns: Option<PathBuf>,
}

impl ForkArgs {
    /// The equivalent `aion run --from-snapshot SNAPSHOT --seed S`.
    pub fn to_run(&self) -> RunArgs {
        RunArgs {
            scenario: None,
            from_snapshot: Some(self.snapshot.clone()),
            ticks: self.ticks,
            seed: Some(self.seed),
            threads: self.threads,
            out: self.out.clone(),
            snapshot_every: None,
            patterns: self.patterns.clone(),
            no_stories: false,
            inputs: None,
        }
    }
}

/// `summary.json`.
#[derive(Serialize, Debug)]
struct Summary<'a> {
    scenario: Option<&'a Path>,
    snapshot: Option<&'a Path>,
    world: &'a str,
    seed: u64,
    threads: usize,
    ticks: u64,
    start_tick: u64,
    end_tick: u64,
    characters: usize,
    relationships: usize,
    events: u64,
    events_by_kind: &'a BTreeMap<String, u64>,
    world_hash: String,
    elapsed_s: f64,
    ticks_per_s: f64,
    step_s: f64,
}

/// Runs `aion run`.
pub fn run(args: &RunArgs) -> Result<()> {
    let threads = args.threads.map_or_else(available_threads, usize::from);
    let (mut sim, default_out) = build(args, threads)?;
    let info = sim.info().clone();
    let (n_characters, n_relationships) = (sim.graph().n_characters(), sim.graph().n_relationships());
    let names = sim.names();
    // A fresh world's log starts with its `world_started` event; a snapshot's log holds events the
    // earlier run already wrote, so only what follows is new.
    let first_seq = if args.from_snapshot.is_some() { sim.events().next_seq() } else { 0 };
    let mut out = Outputs::create(args.out.clone().unwrap_or(default_out), &names, first_seq, args, threads)?;
    say!(
        "{}: {n_characters} characters, {n_relationships} relationships, seed {}, {threads} thread(s)",
        info.name,
        info.seed
    );
    let start_tick = sim.tick();
    let bar = output::progress_bar(args.ticks, "ticks");
    let started = Instant::now();
    let mut stepping = Duration::ZERO;
    out.drain(&sim)?;
    for _ in 0..args.ticks {
        let t = Instant::now();
        sim.step();
        stepping += t.elapsed();
        out.record(&mut sim)?;
        bar.inc(1);
    }
    let (dir, counts) = out.finish(&mut sim)?;
    let n_arcs = write_stories(&dir, &sim, &info.name, &names)?;
    write_inputs(&dir, &sim)?;
    let elapsed = started.elapsed().as_secs_f64();
    bar.finish_and_clear();

    let hash = output::hex(sim.world_hash());
    let events_total: u64 = counts.values().sum();
    let summary = Summary {
        scenario: args.scenario.as_deref(),
        snapshot: args.from_snapshot.as_deref(),
        world: &info.name,
        seed: info.seed,
        threads,
        ticks: args.ticks,
        start_tick,
        end_tick: sim.tick(),
        characters: n_characters,
        relationships: n_relationships,
        events: events_total,
        events_by_kind: &counts,
        world_hash: hash.clone(),
        elapsed_s: elapsed,
        ticks_per_s: args.ticks as f64 / elapsed.max(1e-9),
        step_s: stepping.as_secs_f64(),
    };
    let json = serde_json::to_vec_pretty(&summary).context("cannot encode the summary")?;
    output::write_atomic(&dir, "summary.json", &json).with_context(|| cannot_write(&dir.join("summary.json")))?;
    say!(
        "ran {} ticks (tick {start_tick} -> {}) in {elapsed:.2} s ({:.0} ticks/s), {events_total} events",
        args.ticks,
        sim.tick(),
        summary.ticks_per_s
    );
    if let Some(n) = n_arcs {
        say!("{n} stories in {}", dir.join("chronicle.md").display());
    }
    say!("wrote {}", dir.display());
    say!("world hash: {hash}");
    Ok(())
}

/// The files of one run, open for writing.
struct Outputs<'n> {
    dir: PathBuf,
    events: BufWriter<File>,
    metrics: BufWriter<File>,
    /// Display names and keys by stable id, for event lines.
    names: &'n [Name],
    /// Events written, by kind.
    counts: BTreeMap<String, u64>,
    /// Renders event lines in parallel when a tick logs many (`None` with one thread).
    pool: Option<rayon::ThreadPool>,
    /// `seq` of the next event to write.
    next_seq: u64,
    snapshot_every: Option<u64>,
}

impl<'n> Outputs<'n> {
    /// Creates `dir` (and `dir/snapshots` when snapshots are due), `events.jsonl` and `metrics.csv`.
    fn create(dir: PathBuf, names: &'n [Name], next_seq: u64, args: &RunArgs, threads: usize) -> Result<Self> {
        let snapshot_every = args.snapshot_every;
        let deepest = if snapshot_every.is_some() { dir.join("snapshots") } else { dir.clone() };
        std::fs::create_dir_all(&deepest)
            .with_context(|| format!("cannot create output directory {}", deepest.display()))?;
        let create = |name: &str| -> Result<BufWriter<File>> {
            let path = dir.join(name);
            let f = File::create(&path).with_context(|| cannot_write(&path))?;
            Ok(BufWriter::with_capacity(WRITE_BUFFER_BYTES, f))
        };
        let (events, mut metrics) = (create("events.jsonl")?, create("metrics.csv")?);
        writeln!(metrics, "{METRICS_HEADER}").with_context(|| cannot_write(&dir.join("metrics.csv")))?;
        let pool = if threads > 1 {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).thread_name(|i| format!("aion-output-{i}"));
            Some(pool.build().with_context(|| format!("cannot start {threads} output thread(s)"))?)
        } else {
            None
        };
        Ok(Self { events, metrics, names, counts: BTreeMap::new(), pool, next_seq, snapshot_every, dir })
    }

    /// Records the tick just run: its metrics row, its events, and a snapshot when one is due.
    fn record(&mut self, sim: &mut Sim) -> Result<()> {
        writeln!(self.metrics, "{}", output::metrics_row(&sim.metrics()))
            .with_context(|| cannot_write(&self.dir.join("metrics.csv")))?;
        self.drain(sim)?;
        if self.snapshot_every.is_some_and(|k| sim.tick().is_multiple_of(k)) {
            let (dir, name) = (self.dir.join("snapshots"), format!("tick-{}.snapshot", sim.tick()));
            output::write_atomic(&dir, &name, &sim.snapshot()).with_context(|| cannot_write(&dir.join(&name)))?;
        }
        Ok(())
    }

    /// Writes every event logged since the last call. Warns if the bounded log already dropped some
    /// (only possible if one tick logs more than `EVENT_LOG_MAX` events).
    fn drain(&mut self, sim: &Sim) -> Result<()> {
        let log = sim.events();
        if let Some(first) = log.since(self.next_seq).next()
            && first.seq > self.next_seq
        {
            tracing::warn!(lost = first.seq - self.next_seq, "the event log dropped events before they were written");
        }
        let new: Vec<&Event> = log.since(self.next_seq).collect();
        output::write_events(&mut self.events, &new, self.names, &mut self.counts, self.pool.as_ref())
            .with_context(|| cannot_write(&self.dir.join("events.jsonl")))?;
        self.next_seq = log.next_seq();
        Ok(())
    }

    /// Flushes the logs and writes `final.snapshot`; returns the directory and the event counts.
    fn finish(mut self, sim: &mut Sim) -> Result<(PathBuf, BTreeMap<String, u64>)> {
        self.events.flush().with_context(|| cannot_write(&self.dir.join("events.jsonl")))?;
        self.metrics.flush().with_context(|| cannot_write(&self.dir.join("metrics.csv")))?;
        output::write_atomic(&self.dir, "final.snapshot", &sim.snapshot())
            .with_context(|| cannot_write(&self.dir.join("final.snapshot")))?;
        Ok((self.dir, self.counts))
    }
}

fn cannot_write(path: &Path) -> String {
    format!("cannot write {}", path.display())
}

/// The simulation and the default output directory.
fn build(args: &RunArgs, threads: usize) -> Result<(Sim, PathBuf)> {
    let (mut sim, out, beside) = if let Some(path) = &args.from_snapshot {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read snapshot {}", path.display()))?;
        let mut sim =
            Sim::from_snapshot(&bytes, threads).with_context(|| format!("cannot load snapshot {}", path.display()))?;
        if let Some(seed) = args.seed {
            sim.set_seed(seed);
        }
        let out = PathBuf::from("out").join(format!("{}-from-tick-{}", slug(&sim.info().name), sim.tick()));
        (sim, out, None)
    } else {
        let path = args.scenario.as_ref().context("a scenario or --from-snapshot is required")?;
        let s = scenario::load(path).map_err(|e| anyhow::anyhow!(crate::check::describe(path, &e)))?;
        let sim = Sim::from_scenario(&s, args.seed, threads)
            .with_context(|| format!("cannot build the world of {}", path.display()))?;
        let stem = path.file_stem().map_or_else(|| "run".into(), |s| s.to_string_lossy().into_owned());
        let beside = path.parent().map(|d| d.join("patterns"));
        (sim, PathBuf::from("out").join(stem), beside)
    };
    if let Some(file) = &args.inputs {
        for input in read_inputs(file)? {
            let tick = input.tick;
            sim.submit(input).with_context(|| format!("{}: input for tick {tick}", file.display()))?;
        }
    }
    if !args.no_stories {
        let dir = match (&args.patterns, beside) {
            (Some(d), _) => Some(d.clone()),
            (None, Some(d)) if d.is_dir() => Some(d),
            _ => Some(PathBuf::from("scenarios/patterns")).filter(|d| d.is_dir()),
        };
        if let Some(dir) = dir {
            let patterns = plot::load_dir(&dir).map_err(|e| anyhow::anyhow!("patterns in {}: {e}", dir.display()))?;
            sim.set_patterns(patterns)
                .with_context(|| format!("the patterns in {} do not match the snapshot's", dir.display()))?;
        }
    }
    Ok((sim, out))
}

/// Reads an input log: one JSON object per line, `{"tick": T, "command": {...}}`; blank lines skipped.
pub fn read_inputs(file: &Path) -> Result<Vec<Input>> {
    let text = std::fs::read_to_string(file).with_context(|| format!("cannot read inputs {}", file.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("{}:{}: not an input", file.display(), i + 1)))
        .collect()
}

/// Writes the inputs the run applied to `DIR/inputs.jsonl`.
fn write_inputs(dir: &Path, sim: &Sim) -> Result<()> {
    let mut text = String::new();
    for i in sim.input_log() {
        text.push_str(&serde_json::to_string(i).context("cannot encode an input")?);
        text.push('\n');
    }
    output::write_atomic(dir, "inputs.jsonl", text.as_bytes()).with_context(|| cannot_write(&dir.join("inputs.jsonl")))
}

/// Writes `chronicle.md` and `stories.json` when stories were sifted; returns the number of arcs.
fn write_stories(dir: &Path, sim: &Sim, world: &str, names: &[Name]) -> Result<Option<usize>> {
    let Some(stories) = sim.stories() else { return Ok(None) };
    let arcs: Vec<StoryArc> = stories.arcs.values().cloned().collect();
    let text = story::chronicle(world, &arcs, names);
    output::write_atomic(dir, "chronicle.md", text.as_bytes())
        .with_context(|| cannot_write(&dir.join("chronicle.md")))?;
    let seeds: Vec<u64> = stories.seeds(10).iter().map(|a| a.id).collect();
    let doc = serde_json::json!({ "world": world, "tick": sim.tick(), "seeds": seeds, "names": names, "arcs": arcs });
    let json = serde_json::to_vec_pretty(&doc).context("cannot encode the stories")?;
    output::write_atomic(dir, "stories.json", &json).with_context(|| cannot_write(&dir.join("stories.json")))?;
    Ok(Some(arcs.len()))
}

/// Threads to use when not told: the machine's available parallelism.
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(THREADS_MAX)
}

/// A world name as a directory name: lower-case ASCII letters and digits, other runs as `-`.
fn slug(name: &str) -> String {
    let mut s = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    let s = s.trim_end_matches('-');
    if s.is_empty() { "world".to_owned() } else { s.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_directory_names() {
        assert_eq!(slug("Harbor Town"), "harbor-town");
        assert_eq!(slug("  The Great Caravan! "), "the-great-caravan");
        assert_eq!(slug("../.."), "world");
    }
}
