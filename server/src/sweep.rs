//! `aion sweep SCENARIO`: run the scenario's `[experiment]` — every combination of the varied
//! parameters, repeated with seeds derived from the world seed — and write one CSV row per run.
//! With `stop_when`, a run ends at the first tick the condition holds (after that tick), and a
//! `stopped_at` column records that tick (or `ticks` when it never held).

use std::path::PathBuf;

use aion_engine::Sim;
use aion_engine::director::Expr;
use aion_engine::metrics::TickMetrics;
use aion_engine::rng::mix64;
use aion_engine::scenario::{self, with_param};
use anyhow::{Context, Result, bail};
use clap::Args;

use crate::output;
use crate::run::available_threads;

/// Arguments of `aion sweep`.
#[derive(Args, Debug)]
pub struct SweepArgs {
    /// Scenario with an `[experiment]` section.
    pub scenario: PathBuf,
    /// CSV file to write [default: out/<scenario stem>-sweep.csv].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Worker threads per run [default: available cores].
    #[arg(long)]
    pub threads: Option<u16>,
}

/// Runs `aion sweep`.
pub fn sweep(args: &SweepArgs) -> Result<()> {
    let path = &args.scenario;
    let s = scenario::load(path).map_err(|e| anyhow::anyhow!(crate::check::describe(path, &e)))?;
    let Some(exp) = s.experiment.clone() else {
        bail!("{} has no [experiment] section", path.display());
    };
    let threads = args.threads.map_or_else(available_threads, |t| usize::from(t).max(1));
    let stop = match &exp.stop_when {
        Some(text) => Some(Expr::parse_condition(text).map_err(|e| anyhow::anyhow!("stop_when: {e}"))?),
        None => None,
    };
    // Every combination of the varied values, first key slowest.
    let mut combos: Vec<Vec<f64>> = vec![Vec::new()];
    for (_, values) in &exp.vary {
        combos = combos.iter().flat_map(|c| values.iter().map(move |v| [c.clone(), vec![*v]].concat())).collect();
    }
    let mut csv = String::from("run,combination,repetition,seed");
    for (k, _) in &exp.vary {
        csv.push(',');
        csv.push_str(k);
    }
    for m in &exp.metrics {
        csv.push(',');
        csv.push_str(m);
    }
    if stop.is_some() {
        csv.push_str(",stopped_at");
    }
    csv.push_str(",world_hash\n");
    let total = combos.len() as u64 * u64::from(exp.repetitions);
    let bar = output::progress_bar(total, "runs");
    let mut run = 0u64;
    for (ci, combo) in combos.iter().enumerate() {
        let mut sc = s.clone();
        for ((k, _), v) in exp.vary.iter().zip(combo) {
            sc.params = with_param(&sc.params, k, *v).map_err(|m| anyhow::anyhow!("{k} = {v}: {m}"))?;
        }
        for rep in 0..exp.repetitions {
            let seed = mix64(s.world.seed ^ u64::from(rep).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut sim = Sim::from_scenario(&sc, Some(seed), threads).context("cannot build the world")?;
            for _ in 0..exp.ticks {
                sim.step();
                if stop.as_ref().is_some_and(|c| sim.holds(c)) {
                    break;
                }
            }
            let m = sim.metrics();
            csv.push_str(&format!("{run},{ci},{rep},{seed}"));
            for v in combo {
                csv.push_str(&format!(",{v}"));
            }
            for name in &exp.metrics {
                csv.push_str(&format!(",{}", metric(&m, name)));
            }
            if stop.is_some() {
                csv.push_str(&format!(",{}", sim.tick()));
            }
            csv.push_str(&format!(",{}\n", output::hex(m.world_hash)));
            run += 1;
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = path.file_stem().map_or_else(|| "sweep".into(), |s| s.to_string_lossy().into_owned());
        PathBuf::from("out").join(format!("{stem}-sweep.csv"))
    });
    let dir = out.parent().filter(|d| !d.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), PathBuf::from);
    let name = out.file_name().context("--out names a file")?.to_string_lossy().into_owned();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    output::write_atomic(&dir, &name, csv.as_bytes()).with_context(|| format!("cannot write {}", out.display()))?;
    say!("{run} runs ({} combinations x {} repetitions) of {} ticks", combos.len(), exp.repetitions, exp.ticks);
    say!("wrote {}", out.display());
    Ok(())
}

fn metric(m: &TickMetrics, name: &str) -> String {
    match name {
        "interactions" => m.interactions.to_string(),
        "mean_pleasure" => m.mean_pleasure.to_string(),
        "mean_arousal" => m.mean_arousal.to_string(),
        "mean_dominance" => m.mean_dominance.to_string(),
        "mean_affinity" => m.mean_affinity.to_string(),
        "mean_trust" => m.mean_trust.to_string(),
        "events" => m.events.to_string(),
        _ => String::new(),
    }
}
