//! The drama manager (issue 5) moves measured tension toward its target curve, and says so.

mod common;

use aion_engine::Sim;
use aion_engine::autonomy::Action;
use aion_engine::director::Source;
use aion_engine::drama::{self, Drama};
use aion_engine::events::EventKind;
use aion_engine::params::Params;
use aion_engine::plot;
use aion_engine::scenario::{self, Genre};
use aion_engine::social::Feuds;
use aion_engine::story::ArcStatus;
use aion_engine::world::WorldInfo;

fn world(drama_peak: f32) -> Sim {
    let ws = scenario::generate(400, 8, 0.1, 0.35, 31);
    let info = WorldInfo { name: "drama".into(), seed: 31, genre: Genre::Drama };
    let params = Params { drama_peak, ..Params::default() };
    Sim::from_seed(ws, info, params, 1).expect("builds")
}

/// Share of hostile interactions over ticks `from..to`.
fn hostility(sim: &mut Sim, warmup: u64, ticks: u64) -> f32 {
    for _ in 0..warmup {
        sim.step();
    }
    let from = sim.events().next_seq();
    for _ in 0..ticks {
        sim.step();
    }
    let (mut hostile, mut all) = (0u32, 0u32);
    for e in sim.events().since(from) {
        if let EventKind::InteractionResolved { action, .. } = e.kind {
            all += 1;
            hostile += u32::from(matches!(action, Action::Insult | Action::Threaten | Action::Betray));
        }
    }
    hostile as f32 / all.max(1) as f32
}

#[test]
fn the_drama_manager_moves_tension_toward_its_target() {
    let free = hostility(&mut world(-1.0), 150, 100);
    let heated = hostility(&mut world(0.3), 150, 100);
    let calmed = hostility(&mut world(0.0), 150, 100);
    assert!(heated > free && (heated - 0.3).abs() < (free - 0.3).abs(), "free {free:.3}, aiming at 0.3: {heated:.3}");
    assert!(calmed < free, "free {free:.3}, aiming at 0: {calmed:.3}");
    let mut sim = world(0.3);
    hostility(&mut sim, 0, 100);
    assert!(sim.events().iter().any(|e| matches!(e.kind, EventKind::DramaNudged { .. })), "its influence is logged");
}

/// Mean absolute gap between measured tension and the target curve over `ticks` ticks.
fn tracking_error(
    n: u32,
    seed: u64,
    (base, peak, climax): (f32, f32, u64),
    inject: bool,
    ticks: u64,
) -> (f32, Vec<aion_engine::events::Event>) {
    let ws = scenario::generate(n, 8, 0.1, 0.35, seed);
    let info = WorldInfo { name: "drama".into(), seed, genre: Genre::Drama };
    let params = Params { drama_peak: peak, drama_base: base, drama_climax: climax, ..Params::default() };
    let mut sim = Sim::from_seed(ws, info, params.clone(), 1).expect("builds");
    sim.world_mut().resource_mut::<Drama>().inject = inject;
    let mut err = 0.0;
    let from = sim.events().next_seq();
    for _ in 0..ticks {
        sim.step();
        let t = sim.world().resource::<Drama>().tension;
        err += (t - drama::target(sim.tick(), params.drama_base, params.drama_peak, params.drama_climax)).abs();
    }
    (err / ticks as f32, sim.events().since(from).cloned().collect())
}

/// Injections by the drama manager among `events`.
fn injected_by_drama(events: &[aion_engine::events::Event]) -> usize {
    events.iter().filter(|e| matches!(e.kind, EventKind::Injected { by: Source::Drama, .. })).count()
}

#[test]
fn injections_track_the_curve_better_where_nudges_saturate() {
    // A climax at 0.7 hostile interactions is more than nudging (x5 at most) reaches in these
    // worlds, so the manager also injects quarrels, in proportion to the gap. Measured (200 ticks,
    // 400 characters): seed 31 nudges 0.1457 vs 0.1412 with injections; seed 7 0.1563 vs 0.1500.
    for seed in [31, 7] {
        let (nudged, _) = tracking_error(400, seed, (0.0, 0.7, 100), false, 200);
        let (injected, events) = tracking_error(400, seed, (0.0, 0.7, 100), true, 200);
        eprintln!("seed {seed}: mean |tension - target|: nudges {nudged:.4}, with injections {injected:.4}");
        assert!(injected < nudged, "seed {seed}: injections {injected:.4} vs nudges {nudged:.4}");
        assert!(injected_by_drama(&events) > 0, "injections are events");
        assert!(events.iter().any(|e| matches!(e.kind, EventKind::DramaNudged { .. })), "so are nudges");
    }
}

#[test]
fn injections_wait_until_nudges_saturate() {
    // A curve nudges can follow: no injection, the same run as with nudges alone.
    let (nudged, _) = tracking_error(400, 31, (0.0, 0.45, 100), false, 200);
    let (injected, events) = tracking_error(400, 31, (0.0, 0.45, 100), true, 200);
    assert_eq!(injected_by_drama(&events), 0);
    assert_eq!(nudged, injected);
}

#[test]
fn a_developed_story_seed_advances() {
    let ws = scenario::generate(200, 8, 0.1, 0.35, 5);
    let info = WorldInfo { name: "seeds".into(), seed: 5, genre: Genre::Drama };
    let params = Params { drama_peak: 0.2, ..Params::default() };
    let mut sim = Sim::from_seed(ws, info, params, 1).expect("builds");
    sim.set_patterns(plot::load_dir(&common::scenario_path("patterns")).expect("patterns")).expect("fresh");
    let (mut developed, mut advanced) = (0, 0);
    while sim.tick() < 600 {
        sim.step();
        if !(sim.tick() + 1).is_multiple_of(drama::DEVELOP_EVERY) {
            continue;
        }
        sim.step();
        // What the manager chose at this tick's Direct stage, recomputed from the same state.
        let feuds = sim.world().resource::<Feuds>().clone();
        let skip = sim.world().resource::<Drama>().gave_up.clone();
        let Some((arc, beat)) = drama::seed_to_develop(sim.stories().expect("sifting"), sim.graph(), &feuds, &skip)
        else {
            continue;
        };
        let before = sim.stories().expect("sifting").arcs[&arc].stage;
        let from = sim.events().next_seq();
        sim.step();
        let injected = sim.events().since(from).any(|e| {
            e.kind
                == EventKind::Injected {
                    by: Source::Drama,
                    actor: beat.actor,
                    action: beat.action,
                    target: beat.target,
                }
        });
        assert!(injected, "the beat for arc {arc} was injected: {beat:?}");
        developed += 1;
        for _ in 0..drama::DEVELOP_TRIES {
            sim.step();
        }
        let moved =
            sim.events().since(from).any(|e| matches!(&e.kind, EventKind::ArcAdvanced { arc: a, .. } if *a == arc));
        let now = &sim.stories().expect("sifting").arcs[&arc];
        eprintln!("arc {arc} ({}) stage {before} -> {} ({:?}) after {beat:?}", now.kind, now.stage, now.status);
        assert_eq!(moved, now.stage > before || now.status == ArcStatus::Resolved);
        advanced += usize::from(moved);
    }
    // Measured: 7 developments (feuds, redemptions, a betrayal), 4 of which moved their arc on.
    assert!(advanced >= 2, "{advanced} of {developed} developed seeds advanced");
}

#[test]
fn developing_seeds_is_deterministic_across_threads_and_snapshots() {
    let patterns = plot::load_dir(&common::scenario_path("patterns")).expect("patterns");
    let build = |threads| {
        let ws = scenario::generate(200, 8, 0.1, 0.35, 5);
        let info = WorldInfo { name: "seeds".into(), seed: 5, genre: Genre::Drama };
        let params = Params { drama_peak: 0.6, drama_climax: 150, ..Params::default() };
        let mut sim = Sim::from_seed(ws, info, params, threads).expect("builds");
        sim.set_patterns(patterns.clone()).expect("fresh");
        sim
    };
    let (mut one, mut two) = (build(1), build(2));
    for _ in 0..160 {
        one.step();
        two.step();
        assert_eq!(one.world_hash(), two.world_hash(), "tick {}", one.tick());
    }
    let mut resumed = Sim::from_snapshot(&one.snapshot(), 1).expect("loads");
    resumed.set_patterns(patterns.clone()).expect("same patterns");
    for _ in 0..100 {
        one.step();
        resumed.step();
        assert_eq!(one.world_hash(), resumed.world_hash(), "tick {}", one.tick());
    }
    assert!(injected_by_drama(&one.events().iter().cloned().collect::<Vec<_>>()) > 0, "the manager acted");
}
