//! Learning (issue 5): a shy character who is rewarded for reaching out does it more.

mod common;

use aion_engine::Sim;
use aion_engine::bonds::Bond;
use aion_engine::events::EventKind;
use aion_engine::ids::CharacterId;
use aion_engine::params::Params;
use aion_engine::personality::Personality;
use aion_engine::scenario::{CharacterSpec, Genre, WorldSeed};
use aion_engine::world::WorldInfo;

fn world(learning_rate: f32) -> Sim {
    let shy = Personality { extraversion: -0.9, neuroticism: 0.3, ..Default::default() };
    let warm = Personality { agreeableness: 0.9, extraversion: 0.6, ..Default::default() };
    let spec = |id: &str, p| CharacterSpec { id: id.into(), name: id.into(), personality: p, mood: None, tags: vec![] };
    let mut characters = vec![spec("shy", shy)];
    let mut relationships = Vec::new();
    for i in 1..=3u32 {
        characters.push(spec(&format!("friend{i}"), warm));
        let b = Bond { affinity: 0.7, trust: 0.6, familiarity: 0.6, ..Default::default() };
        relationships.push((0, i, Bond { affinity: 0.2, ..b }));
        relationships.push((i, 0, b));
    }
    let info = WorldInfo { name: "learning".into(), seed: 17, genre: Genre::Drama };
    let params = Params { learning_rate, ..Params::default() };
    Sim::from_seed(WorldSeed { characters, relationships }, info, params, 1).expect("builds")
}

/// Ticks (of the last `window`) in which the shy character reached out to someone.
fn reaching_out(sim: &mut Sim, ticks: u64, window: u64) -> usize {
    let mut from = sim.events().next_seq();
    let mut n = 0;
    for t in 0..ticks {
        sim.step();
        let reached = sim.events().since(from).any(|e| match e.kind {
            EventKind::InteractionResolved { initiator, .. } | EventKind::InteractionDeclined { initiator, .. } => {
                initiator == CharacterId(0)
            }
            _ => false,
        });
        if reached && t >= ticks - window {
            n += 1;
        }
        from = sim.events().next_seq();
    }
    n
}

#[test]
fn a_shy_character_rewarded_for_reaching_out_does_it_more() {
    let (mut learns, mut fixed) = (world(0.3), world(0.0));
    let with = reaching_out(&mut learns, 1_500, 500);
    let without = reaching_out(&mut fixed, 1_500, 500);
    assert!(with > without + 20, "reached out in {with} of the last 500 ticks with learning, {without} without");
    let prefs = learns.state().characters[0].preferences.clone();
    assert!(prefs.weight.iter().any(|w| *w > 1.2), "{prefs:?}");
}
