//! `aion bench director`: what 100 active director triggers cost per tick.
//!
//! Three worlds of the same seed tick side by side: without a director, with [`TRIGGERS`] TOML
//! `[[trigger]]`s and with as many Rhai `when` registrations, each pair testing the same conditions
//! over moods, emotions, bonds, tension and metrics (a quarter of them read two characters' state,
//! all of them evaluated every tick unless cooling down) and firing with cooldowns of 10 to 50
//! ticks. The full tick is timed for each. Then, on the director-less world, the directors'
//! decisions alone are timed after each tick (the same compiled programs, their decisions not
//! applied): per trigger evaluation, and the script's world hand-off (lending the ECS world to the
//! script context and taking it back, with an empty script).

use std::time::{Duration, Instant};

use aion_engine::Sim;
use aion_engine::director::{Director, Names, Program, Runtime, ScriptSource, Trigger, WorldEnv};
use aion_engine::params::Params;
use aion_engine::scenario::{self, Genre};
use aion_engine::world::WorldInfo;
use anyhow::{Context, Result};
use serde::Serialize;

use super::{Setup, Table, WARMUP_TICKS, num};
use crate::output;

/// Triggers per director.
pub const TRIGGERS: usize = 100;
/// Watts-Strogatz rewiring of the bench crowd (as in the social workload).
const REWIRE: f32 = 0.1;
/// Trait spread of the bench crowd.
const SPREAD: f32 = 0.35;

/// One size's results.
#[derive(Serialize, Debug)]
pub struct Row {
    characters: u32,
    threads: usize,
    ticks: u64,
    /// Full tick without a director.
    ms_per_tick_none: f64,
    /// Full tick with the TOML triggers.
    ms_per_tick_toml: f64,
    /// Full tick with the Rhai triggers.
    ms_per_tick_rhai: f64,
    /// The TOML director's decision alone, per tick.
    us_per_tick_toml: f64,
    /// The Rhai director's decision alone, per tick (hand-off included).
    us_per_tick_rhai: f64,
    /// Per trigger evaluation (decision time / triggers), TOML.
    us_per_trigger_toml: f64,
    /// Per trigger evaluation, Rhai.
    us_per_trigger_rhai: f64,
    /// Lending the world to a script and taking it back (an empty script's decision).
    us_handoff: f64,
    /// Triggers that fired per tick, on average (TOML; the Rhai ones test the same conditions).
    fired_per_tick: f64,
}

/// Times every size; prints the table as it goes.
pub fn bench(s: &Setup) -> Result<Vec<Row>> {
    let headers = [
        "characters",
        "threads",
        "ticks",
        "ms none",
        "ms toml",
        "ms rhai",
        "µs toml",
        "µs rhai",
        "µs/trig toml",
        "µs/trig rhai",
        "µs hand-off",
        "fired/tick",
    ];
    say!("director: {TRIGGERS} active triggers per tick (ms: full tick; µs: the director's decision alone)");
    let bar = output::progress_bar(s.sizes.len() as u64, "sizes");
    let table = Table::new(&bar, &headers, 7);
    let mut rows = Vec::new();
    for &n in &s.sizes {
        bar.set_message(format!("{n} characters"));
        let row = one(s, n)?;
        table.print(
            &bar,
            vec![
                n.to_string(),
                row.threads.to_string(),
                row.ticks.to_string(),
                num(row.ms_per_tick_none),
                num(row.ms_per_tick_toml),
                num(row.ms_per_tick_rhai),
                num(row.us_per_tick_toml),
                num(row.us_per_tick_rhai),
                num(row.us_per_trigger_toml),
                num(row.us_per_trigger_rhai),
                num(row.us_handoff),
                num(row.fired_per_tick),
            ],
        );
        rows.push(row);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(rows)
}

fn world(s: &Setup, n: u32) -> Result<Sim> {
    let ws = scenario::generate(n, s.degree, REWIRE, SPREAD, s.seed);
    let info = WorldInfo { name: format!("bench-director-{n}"), seed: s.seed, genre: Genre::Drama };
    let mut sim = Sim::from_seed(ws, info, Params::default(), s.threads)
        .with_context(|| format!("cannot build a world of {n} characters"))?;
    if let Some(p) = &s.patterns {
        sim.set_patterns(p.clone()).context("a fresh world takes any patterns")?;
    }
    Ok(sim)
}

/// `TRIGGERS` (character, partner) name pairs spread over the world, each an existing relationship.
fn pairs(sim: &Sim, names: &Names) -> Vec<(String, String)> {
    let mut by_id: Vec<(u32, &str)> = names.iter().map(|(k, id)| (id.0, k.as_str())).collect();
    by_id.sort_unstable();
    let name = |id: aion_engine::ids::CharacterId| by_id[by_id.partition_point(|(i, _)| *i < id.0)].1.to_owned();
    let g = sim.graph();
    let n = g.n_characters();
    (0..TRIGGERS)
        .filter_map(|i| {
            let s = (i * n / TRIGGERS) as u32;
            let e = g.row(s).next()?;
            Some((name(g.slot_id[s as usize]), name(g.slot_id[g.edges[e].partner as usize])))
        })
        .collect()
}

/// The i-th condition in the trigger language and in Rhai, and its cooldown.
fn condition(i: usize, a: &str, b: &str) -> (String, String, u64) {
    let (toml, rhai) = match i % 4 {
        0 => (
            format!("mood({a}).pleasure > -0.1 and bond({a}, {b}).affinity > 0.1"),
            format!(r#"mood("{a}").pleasure > -0.1 && bond("{a}", "{b}").affinity > 0.1"#),
        ),
        1 => (
            format!("tension >= 0 and bond({a}, {b}).trust < 0.3"),
            format!(r#"tension() >= 0.0 && bond("{a}", "{b}").trust < 0.3"#),
        ),
        2 => (
            format!("metric.mean_affinity > 0 and emotion({a}, joy) > 0.05"),
            format!(r#"metric("mean_affinity") > 0.0 && emotion("{a}", "joy") > 0.05"#),
        ),
        _ => (
            format!("mood({a}).arousal > 0.3 or bond({b}, {a}).familiarity > 0.6"),
            format!(r#"mood("{a}").arousal > 0.3 || bond("{b}", "{a}").familiarity > 0.6"#),
        ),
    };
    (toml, rhai, 10 + 10 * (i as u64 % 5))
}

/// The TOML and Rhai programs with the same triggers; odd triggers narrate, even ones make their
/// character feel joy.
fn programs(pairs: &[(String, String)]) -> (Program, Program) {
    let mut toml = Program::default();
    let mut script = String::new();
    for (i, (a, b)) in pairs.iter().enumerate() {
        let (when, rhai_when, cooldown) = condition(i, a, b);
        let (cmd, rhai_cmd) = if i % 2 == 1 {
            (format!(r#"{{"narrate":{{"text":"trigger {i}"}}}}"#), format!(r#"narrate("trigger {i}")"#))
        } else {
            (
                format!(r#"{{"feel":{{"character":"{a}","emotion":"joy","intensity":0.2}}}}"#),
                format!(r#"feel("{a}", "joy", 0.2)"#),
            )
        };
        toml.triggers.push(Trigger {
            name: format!("t{i}"),
            when,
            once: false,
            priority: 0,
            cooldown,
            commands: vec![cmd],
        });
        script.push_str(&format!("when(|| {rhai_when}, || {rhai_cmd}, #{{ cooldown: {cooldown} }});\n"));
    }
    let rhai = Program {
        script: Some(ScriptSource { file: "bench.rhai".into(), first_line: 1, text: script }),
        ..Program::default()
    };
    (toml, rhai)
}

fn ms_per_tick(s: &Setup, sim: &mut Sim) -> (u64, f64) {
    let (ticks, elapsed) = s.budget.warm_and_time(|| sim.step());
    (ticks, elapsed.as_secs_f64() * 1e3 / ticks as f64)
}

fn one(s: &Setup, n: u32) -> Result<Row> {
    let mut none = world(s, n)?;
    let names = none.name_map();
    let pairs = pairs(&none, &names);
    anyhow::ensure!(pairs.len() == TRIGGERS, "a world of {n} characters has too few relationships for the bench");
    let (toml, rhai) = programs(&pairs);
    let (ticks, ms_none) = ms_per_tick(s, &mut none);
    let mut with_toml = world(s, n)?;
    with_toml.set_director(toml.clone()).context("the bench's TOML triggers load")?;
    let (_, ms_toml) = ms_per_tick(s, &mut with_toml);
    let mut with_rhai = world(s, n)?;
    with_rhai.set_director(rhai.clone()).context("the bench's Rhai triggers load")?;
    let (_, ms_rhai) = ms_per_tick(s, &mut with_rhai);

    // The decisions alone, on a fresh director-less world, after each tick.
    let rt_toml = Runtime::build(&toml, names.clone()).context("TOML triggers")?;
    let mut rt_rhai = Runtime::build(&rhai, names.clone()).context("Rhai triggers")?;
    let empty = Program {
        script: Some(ScriptSource { file: "empty.rhai".into(), first_line: 1, text: String::new() }),
        ..Program::default()
    };
    let mut rt_empty = Runtime::build(&empty, names.clone()).context("empty script")?;
    let mut sim = world(s, n)?;
    for _ in 0..WARMUP_TICKS {
        sim.step();
    }
    let mut firings = vec![Default::default(); TRIGGERS];
    let (mut t_toml, mut t_rhai, mut t_empty) = (Duration::ZERO, Duration::ZERO, Duration::ZERO);
    let mut fired = 0usize;
    let (steps, _) = s.budget.time(|| {
        sim.step();
        let next = sim.tick() + 1;
        let seed = sim.info().seed;
        let world = sim.world_mut();
        let start = Instant::now();
        let decided = rt_toml.decide_toml(&WorldEnv { world, names: &rt_toml.names }, &mut firings, next);
        t_toml += start.elapsed();
        fired += decided.len();
        let script = rt_rhai.script.as_mut().expect("a script");
        let start = Instant::now();
        let (decided, errors) = script.decide(world, seed, next, 0);
        t_rhai += start.elapsed();
        debug_assert!(errors.is_empty() && decided.len() <= TRIGGERS, "{errors:?}");
        let kept = world.resource::<Director>().script.clone();
        let script = rt_empty.script.as_mut().expect("a script");
        let start = Instant::now();
        script.decide(world, seed, next, 0);
        t_empty += start.elapsed();
        world.resource_mut::<Director>().script = kept;
    });
    let us = |d: Duration| d.as_secs_f64() * 1e6 / steps as f64;
    Ok(Row {
        characters: n,
        threads: s.threads,
        ticks,
        ms_per_tick_none: ms_none,
        ms_per_tick_toml: ms_toml,
        ms_per_tick_rhai: ms_rhai,
        us_per_tick_toml: us(t_toml),
        us_per_tick_rhai: us(t_rhai),
        us_per_trigger_toml: us(t_toml) / TRIGGERS as f64,
        us_per_trigger_rhai: us(t_rhai) / TRIGGERS as f64,
        us_handoff: us(t_empty),
        fired_per_tick: fired as f64 / steps as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aion_engine::events::EventKind;

    #[test]
    fn both_programs_load_and_fire_on_a_small_world() {
        let setup = Setup {
            sizes: vec![200],
            degree: 8,
            threads: 1,
            seed: 3,
            budget: super::super::Budget { fixed: Some(3) },
            patterns: None,
        };
        let sim = world(&setup, 200).unwrap();
        let names = sim.name_map();
        let (toml, rhai) = programs(&pairs(&sim, &names));
        assert_eq!(toml.triggers.len(), TRIGGERS);
        for p in [toml, rhai] {
            let mut sim = world(&setup, 200).unwrap();
            sim.set_director(p).unwrap();
            let from = sim.events().next_seq();
            for _ in 0..5 {
                sim.step();
            }
            let events: Vec<_> = sim.events().since(from).map(|e| e.kind.clone()).collect();
            assert!(events.iter().any(|k| matches!(k, EventKind::Narrated { .. })), "some triggers fire");
            let errors: Vec<_> = events.iter().filter(|k| matches!(k, EventKind::DirectorError { .. })).collect();
            assert!(errors.is_empty(), "no trigger fails: {errors:?}");
        }
    }
}
