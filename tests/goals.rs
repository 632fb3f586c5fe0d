//! Goals (issue 5): a character with a romance goal interacts with its target far more than
//! without one; goals are adopted and achieved as events.

mod common;

use aion_engine::Sim;
use aion_engine::bonds::Bond;
use aion_engine::events::EventKind;
use aion_engine::goals::{GoalChange, GoalKind};
use aion_engine::ids::CharacterId;
use aion_engine::params::Params;
use aion_engine::personality::Personality;
use aion_engine::scenario::{CharacterSpec, Genre, WorldSeed};
use aion_engine::world::WorldInfo;

/// A suitor (0) mildly attracted to one of six acquaintances (1), all equally familiar.
fn world(goals: bool) -> Sim {
    let spec = |id: String| CharacterSpec {
        id: id.clone(),
        name: id,
        personality: Personality { extraversion: 0.3, agreeableness: 0.4, ..Default::default() },
        mood: None,
        tags: vec![],
    };
    let characters = (0..7).map(|i| spec(format!("c{i}"))).collect();
    let mut relationships = Vec::new();
    for i in 1..7u32 {
        let base = Bond { affinity: 0.3, trust: 0.3, familiarity: 0.5, ..Default::default() };
        let toward = if i == 1 { Bond { attraction: 0.75, ..base } } else { base };
        relationships.push((0, i, toward));
        relationships.push((i, 0, base));
    }
    let info = WorldInfo { name: "goals".into(), seed: 23, genre: Genre::Drama };
    let params = Params { goals, learning_rate: 0.0, ..Params::default() };
    Sim::from_seed(WorldSeed { characters, relationships }, info, params, 1).expect("builds")
}

fn toward_target(sim: &mut Sim, ticks: u64) -> (usize, usize) {
    let mut from = sim.events().next_seq();
    let (mut to_target, mut all) = (0, 0);
    for _ in 0..ticks {
        sim.step();
        for e in sim.events().since(from) {
            if let EventKind::InteractionResolved { initiator: CharacterId(0), target, .. } = e.kind {
                all += 1;
                to_target += usize::from(target == CharacterId(1));
            }
        }
        from = sim.events().next_seq();
    }
    (to_target, all)
}

#[test]
fn a_romance_goal_draws_the_suitor_to_its_target() {
    let (mut with, mut without) = (world(true), world(false));
    let (a, all_a) = toward_target(&mut with, 300);
    let (b, all_b) = toward_target(&mut without, 300);
    let (share_a, share_b) = (a as f32 / all_a.max(1) as f32, b as f32 / all_b.max(1) as f32);
    assert!(share_a > 1.5 * share_b, "with a goal {a}/{all_a}, without {b}/{all_b}");
    let adopted = with.events().iter().any(|e| {
        matches!(
            e.kind,
            EventKind::GoalChanged {
                character: CharacterId(0),
                change: GoalChange::Adopted,
                kind: GoalKind::WinAffection,
                target: Some(CharacterId(1))
            }
        )
    });
    assert!(adopted, "the suitor adopted the goal");
    assert!(!without.events().iter().any(|e| matches!(e.kind, EventKind::GoalChanged { .. })));
}
