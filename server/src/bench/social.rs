//! `aion bench --workload social`: the full tick on generated small-world crowds, stage by stage.

use std::time::Instant;

use aion_engine::Sim;
use aion_engine::params::Params;
use aion_engine::scenario::{self, Genre};
use aion_engine::tick::TickSystems;
use aion_engine::world::WorldInfo;
use anyhow::{Context, Result};
use serde::Serialize;

use super::{Setup, Table, WARMUP_TICKS, num, rss_bytes};
use crate::output;

/// Watts-Strogatz rewiring of bench crowds (as in `scenarios/crowd_10k.toml`).
const REWIRE: f32 = 0.1;
/// Trait spread of bench crowds (as in `scenarios/crowd_10k.toml`).
const SPREAD: f32 = 0.35;

/// One size's results.
#[derive(Serialize, Debug)]
pub struct Row {
    characters: u32,
    relationships: usize,
    threads: usize,
    build_s: f64,
    /// Resident memory the world added, per character (relationships included); `None` where the
    /// process's resident size cannot be read.
    bytes_per_character: Option<f64>,
    ticks: u64,
    ticks_per_s: f64,
    ms_per_tick: f64,
    /// Nanoseconds per character per tick, by stage in tick order.
    stage_ns_per_character: Vec<(&'static str, f64)>,
    world_hash: String,
}

/// Times every size; prints the table as it goes.
pub fn bench(s: &Setup) -> Result<Vec<Row>> {
    let stages = TickSystems::ALL.map(TickSystems::name);
    let mut headers =
        vec!["characters", "relationships", "threads", "build s", "B/char", "ticks", "ticks/s", "ms/tick"];
    headers.extend(stages);
    say!("social model, full tick; stage columns: ns per character per tick");
    let bar = output::progress_bar(s.sizes.len() as u64, "sizes");
    let table = Table::new(&bar, &headers, 7);
    let mut rows = Vec::new();
    for &n in &s.sizes {
        bar.set_message(format!("{n} characters"));
        let row = one(s, n)?;
        let mut cells = vec![
            n.to_string(),
            row.relationships.to_string(),
            row.threads.to_string(),
            format!("{:.2}", row.build_s),
            row.bytes_per_character.map_or_else(|| "n/a".into(), |b| format!("{b:.0}")),
            row.ticks.to_string(),
            num(row.ticks_per_s),
            num(row.ms_per_tick),
        ];
        cells.extend(row.stage_ns_per_character.iter().map(|(_, ns)| num(*ns)));
        table.print(&bar, cells);
        rows.push(row);
        bar.inc(1);
    }
    bar.finish_and_clear();
    say!("B/char: resident memory added by building the world, per character, relationships included");
    Ok(rows)
}

fn one(s: &Setup, n: u32) -> Result<Row> {
    let rss_before = rss_bytes();
    let started = Instant::now();
    let world = scenario::generate(n, s.degree, REWIRE, SPREAD, s.seed);
    let info = WorldInfo { name: format!("bench-{n}"), seed: s.seed, genre: Genre::default() };
    let mut sim = Sim::from_seed(world, info, Params::default(), s.threads)
        .with_context(|| format!("cannot build a world of {n} characters"))?;
    if let Some(p) = &s.patterns {
        sim.set_patterns(p.clone()).context("a fresh world takes any patterns")?;
    }
    let build_s = started.elapsed().as_secs_f64();
    let bytes_per_character =
        rss_before.zip(rss_bytes()).map(|(before, after)| after.saturating_sub(before) as f64 / f64::from(n.max(1)));
    for _ in 0..WARMUP_TICKS {
        sim.step();
    }
    let origin = Instant::now();
    sim.set_probe(Some(Box::new(move || origin.elapsed().as_nanos() as u64)));
    let (ticks, elapsed) = s.budget.time(|| sim.step());
    let per = (ticks as f64) * f64::from(n.max(1));
    let stage_ns = sim.stage_ns();
    Ok(Row {
        characters: n,
        relationships: sim.graph().n_relationships(),
        threads: s.threads,
        build_s,
        bytes_per_character,
        ticks,
        ticks_per_s: ticks as f64 / elapsed.as_secs_f64(),
        ms_per_tick: elapsed.as_secs_f64() * 1e3 / ticks as f64,
        stage_ns_per_character: TickSystems::ALL
            .iter()
            .zip(stage_ns)
            .map(|(t, ns)| (t.name(), ns as f64 / per))
            .collect(),
        world_hash: output::hex(sim.world_hash()),
    })
}
