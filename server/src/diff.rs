//! `aion diff RUN_A RUN_B`: where two worlds diverge — the first tick their hashes differ, and at
//! the end the moods, bonds, alliances and stories that differ most.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use aion_engine::snapshot::{self, WorldState};
use anyhow::{Context, Result};
use clap::Args;

/// Arguments of `aion diff`.
#[derive(Args, Debug)]
pub struct DiffArgs {
    /// First run directory (or a snapshot file).
    pub a: PathBuf,
    /// Second run directory (or a snapshot file).
    pub b: PathBuf,
    /// How many of the largest differences to list per kind.
    #[arg(long, default_value_t = 5)]
    pub top: usize,
}

fn load(path: &Path) -> Result<WorldState> {
    let file = if path.is_dir() { path.join("final.snapshot") } else { path.to_path_buf() };
    let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
    snapshot::decode(&bytes).with_context(|| format!("cannot load {}", file.display()))
}

fn hashes(dir: &Path) -> BTreeMap<u64, String> {
    let Ok(text) = std::fs::read_to_string(dir.join("metrics.csv")) else { return BTreeMap::new() };
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let cols: Vec<&str> = l.split(',').collect();
            Some((cols.first()?.parse().ok()?, (*cols.last()?).to_string()))
        })
        .collect()
}

/// Runs `aion diff`.
pub fn diff(args: &DiffArgs) -> Result<()> {
    let (a, b) = (load(&args.a)?, load(&args.b)?);
    let name =
        |s: &WorldState, id: u32| s.characters.get(id as usize).map_or(format!("#{id}"), |c| c.name.display.clone());
    say!(
        "A: {} at tick {} (seed {}); B: {} at tick {} (seed {})",
        a.info.name,
        a.tick,
        a.info.seed,
        b.info.name,
        b.tick,
        b.info.seed
    );
    let (ha, hb) = (hashes(&args.a), hashes(&args.b));
    match ha.iter().find(|(t, h)| hb.get(t).is_some_and(|x| x != *h)) {
        Some((t, _)) => say!("hashes first differ at tick {t}"),
        None if ha.keys().any(|t| hb.contains_key(t)) => say!("hashes agree on every tick both runs recorded"),
        None => say!("no common ticks in the runs' metrics"),
    }

    let mut moods: Vec<(f32, u32)> = a
        .characters
        .iter()
        .zip(&b.characters)
        .map(|(x, y)| (x.mood.minus(y.mood).norm(), x.id.0))
        .filter(|(d, _)| *d > 1e-6)
        .collect();
    moods.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
    say!("moods: {} of {} characters differ", moods.len(), a.characters.len().min(b.characters.len()));
    for (d, id) in moods.iter().take(args.top) {
        say!("  {:<24} |dPAD| {d:.3}", name(&a, *id));
    }

    let bonds_b: BTreeMap<(u32, u32), _> = b.relationships.iter().map(|r| ((r.source.0, r.target.0), r.bond)).collect();
    let mut bonds: Vec<(f32, u32, u32, f32, f32)> = a
        .relationships
        .iter()
        .filter_map(|r| {
            let y = bonds_b.get(&(r.source.0, r.target.0))?;
            let d = (r.bond.affinity - y.affinity).abs() + (r.bond.trust - y.trust).abs();
            (d > 1e-6).then_some((d, r.source.0, r.target.0, r.bond.affinity, y.affinity))
        })
        .collect();
    bonds.sort_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    say!("bonds: {} of {} relationships differ", bonds.len(), a.relationships.len());
    for (d, s, t, fa, fb) in bonds.iter().take(args.top) {
        say!("  {:<24} -> {:<24} affinity {fa:+.2} vs {fb:+.2} (|d| {d:.2})", name(&a, *s), name(&a, *t));
    }

    let groups = |s: &WorldState| -> BTreeSet<Vec<u32>> {
        s.groups.iter().map(|g| g.members.iter().map(|c| c.0).collect()).collect()
    };
    let (ga, gb) = (groups(&a), groups(&b));
    say!("alliances: {} in A, {} in B, {} identical", ga.len(), gb.len(), ga.intersection(&gb).count());
    for (side, only) in [("A", ga.difference(&gb)), ("B", gb.difference(&ga))] {
        for m in only.take(args.top) {
            let who: Vec<String> = m.iter().map(|&id| name(&a, id)).collect();
            say!("  only in {side}: {}", who.join(", "));
        }
    }

    let kinds = |s: &WorldState| -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for arc in s.stories.iter().flat_map(|x| &x.arcs) {
            *out.entry(arc.kind.clone()).or_default() += 1;
        }
        out
    };
    let (ka, kb) = (kinds(&a), kinds(&b));
    let all: BTreeSet<&String> = ka.keys().chain(kb.keys()).collect();
    say!("stories by kind (A vs B):");
    for k in all {
        say!("  {k:<16} {:>5} {:>5}", ka.get(k).unwrap_or(&0), kb.get(k).unwrap_or(&0));
    }
    Ok(())
}
