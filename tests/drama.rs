//! The drama manager (issue 5) moves measured tension toward its target curve, and says so.

mod common;

use aion_engine::Sim;
use aion_engine::autonomy::Action;
use aion_engine::events::EventKind;
use aion_engine::params::Params;
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
