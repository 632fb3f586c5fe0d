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
fn tracking_error(inject: bool, ticks: u64) -> (f32, Vec<aion_engine::events::Event>) {
    let ws = scenario::generate(400, 8, 0.1, 0.35, 31);
    let info = WorldInfo { name: "drama".into(), seed: 31, genre: Genre::Drama };
    let params = Params { drama_peak: 0.45, drama_base: 0.0, drama_climax: 100, ..Params::default() };
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

#[test]
fn injected_events_are_logged_as_the_drama_managers_hand() {
    // Measured on this world: nudges alone 0.0946 mean |tension - target|, with injections 0.0959;
    // injection does not yet beat nudging (open), so this checks what it does, not how well.
    let (nudged, _) = tracking_error(false, 200);
    let (injected, events) = tracking_error(true, 200);
    eprintln!("mean |tension - target|: nudges {nudged:.4}, with injections {injected:.4}");
    let by_drama = |a: Action| {
        events.iter().any(|e| matches!(e.kind, EventKind::Injected { by: Source::Drama, action, .. } if action == a))
    };
    assert!(by_drama(Action::Insult) && by_drama(Action::Apologize), "it raises and lowers tension, as events");
}

#[test]
fn the_drama_manager_injects_a_beat_for_the_top_story_seeds_cast() {
    let ws = scenario::generate(200, 8, 0.1, 0.35, 5);
    let info = WorldInfo { name: "seeds".into(), seed: 5, genre: Genre::Drama };
    let params = Params { drama_peak: 0.2, ..Params::default() };
    let mut sim = Sim::from_seed(ws, info, params, 1).expect("builds");
    sim.world_mut().resource_mut::<Drama>().inject = true;
    sim.set_patterns(plot::load_dir(&common::scenario_path("patterns")).expect("patterns")).expect("fresh");
    let mut developed = 0;
    for _ in 0..6 {
        for _ in 0..drama::DEVELOP_EVERY {
            sim.step();
        }
        let Some((id, cast, beats)) =
            sim.stories().and_then(|s| s.seeds(1).first().map(|a| (a.id, a.characters(), a.beats.len())))
        else {
            continue;
        };
        let from = sim.events().next_seq();
        sim.step();
        let injected = sim.events().since(from).find_map(|e| match e.kind {
            EventKind::Injected { by: Source::Drama, actor, target, .. } => Some((actor, target)),
            _ => None,
        });
        let Some((a, b)) = injected.filter(|(a, b)| cast.contains(a) && cast.contains(b)) else { continue };
        // Whether the beat advances the arc depends on its pattern's next stage (open: measured
        // here, not asserted).
        for _ in 0..5 {
            sim.step();
        }
        let arc = &sim.stories().expect("sifting").arcs[&id];
        eprintln!("beat {a:?} -> {b:?}: arc {id} ({}) beats {beats} -> {}", arc.kind, arc.beats.len());
        developed += 1;
    }
    assert!(developed >= 1, "a seed was developed");
}
