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

fn spec(i: u32, personality: Personality) -> CharacterSpec {
    CharacterSpec { id: format!("c{i}"), name: format!("c{i}"), personality, mood: None, tags: vec![] }
}

/// Six close friends (one alliance); the others respect 0 most; 5 is extraverted and dominant.
fn lead_world(seed: u64, goals: bool) -> Sim {
    let follower = Personality { extraversion: -0.4, agreeableness: 0.4, ..Default::default() };
    let boss = Personality { extraversion: 0.8, agreeableness: -0.1, conscientiousness: 0.3, ..Default::default() };
    let characters = (0..6).map(|i| spec(i, if i == 5 { boss } else { follower })).collect();
    let mut relationships = Vec::new();
    for a in 0..6u32 {
        for b in 0..6u32 {
            if a != b {
                let respect = if b == 0 { 0.15 } else { 0.1 };
                relationships.push((
                    a,
                    b,
                    Bond { affinity: 0.6, trust: 0.5, familiarity: 0.6, respect, ..Default::default() },
                ));
            }
        }
    }
    let info = WorldInfo { name: "lead".into(), seed, genre: Genre::Drama };
    let params = Params { goals, learning_rate: 0.0, ..Params::default() };
    Sim::from_seed(WorldSeed { characters, relationships }, info, params, 1).expect("builds")
}

/// Analytics ticks (of `ticks`) at which character 5 led its alliance.
fn ticks_leading(sim: &mut Sim, ticks: u64) -> usize {
    let mut n = 0;
    for t in 1..=ticks {
        sim.step();
        if t % 20 == 0 {
            let groups = sim.world().resource::<aion_engine::social::Groups>();
            n += groups.groups.iter().filter(|g| g.leader == CharacterId(5)).count();
        }
    }
    n
}

#[test]
fn a_would_be_leader_leads_more_often_with_the_goal() {
    let (mut with, mut without) = (0, 0);
    for seed in [1, 2, 3] {
        let mut a = lead_world(seed, true);
        with += ticks_leading(&mut a, 600);
        without += ticks_leading(&mut lead_world(seed, false), 600);
        if seed == 1 {
            let adopted = a.events().iter().any(|e| {
                matches!(e.kind, EventKind::GoalChanged { character: CharacterId(5), kind: GoalKind::Lead, .. })
            });
            assert!(adopted, "the would-be leader wants to lead");
        }
    }
    println!("led at {with} of 90 checks with the goal, {without} without");
    assert!(with > without + 3, "led at {with} checks with the goal, {without} without");
}

/// An exposer (0) betrayed by a culprit (1) that six of its friends (2..8) still like.
fn expose_world(goals: bool) -> Sim {
    let exposer = Personality { agreeableness: 0.8, conscientiousness: 0.6, extraversion: 0.3, ..Default::default() };
    let mut characters = vec![spec(0, exposer)];
    characters.extend((1..8).map(|i| spec(i, Personality::default())));
    let friendly = Bond { affinity: 0.6, trust: 0.5, familiarity: 0.6, ..Default::default() };
    let mild = Bond { affinity: 0.2, trust: 0.2, familiarity: 0.5, ..Default::default() };
    let mut relationships = vec![
        (0, 1, Bond { affinity: -0.4, trust: -0.3, familiarity: 0.6, ..Default::default() }),
        (1, 0, Bond { affinity: 0.1, familiarity: 0.6, ..Default::default() }),
    ];
    for k in 2..8u32 {
        relationships.extend([(0, k, friendly), (k, 0, friendly), (k, 1, mild), (1, k, mild)]);
    }
    let info = WorldInfo { name: "expose".into(), seed: 8, genre: Genre::Drama };
    let params = Params { goals, learning_rate: 0.0, ..Params::default() };
    let mut sim = Sim::from_seed(WorldSeed { characters, relationships }, info, params, 1).expect("builds");
    let mut state = sim.state();
    let r = state.relationships.iter_mut().find(|r| r.source == CharacterId(0) && r.target == CharacterId(1));
    let r = r.expect("edge 0 -> 1");
    (r.history.betrayals, r.history.grudge, r.history.trust_peak) = (1, 0.5, 0.5);
    Sim::from_state(state, 1).expect("rebuilds")
}

/// Mean affinity of the culprit's other acquaintances toward it.
fn culprit_standing(sim: &mut Sim) -> f32 {
    let state = sim.state();
    let toward: Vec<f32> = state
        .relationships
        .iter()
        .filter(|r| r.target == CharacterId(1) && r.source != CharacterId(0))
        .map(|r| r.bond.affinity)
        .collect();
    toward.iter().sum::<f32>() / toward.len() as f32
}

#[test]
fn an_exposer_lowers_the_culprits_standing() {
    let (mut with, mut without) = (expose_world(true), expose_world(false));
    let before = culprit_standing(&mut with);
    for _ in 0..150 {
        with.step();
        without.step();
    }
    let (a, b) = (culprit_standing(&mut with), culprit_standing(&mut without));
    println!("culprit standing {before} -> {a} with the goal, {b} without");
    assert!(a < b - 0.1, "standing {before} -> {a} with the goal, {b} without");
    let exposed = |change| {
        with.events().iter().any(|e| {
            matches!(e.kind, EventKind::GoalChanged { character: CharacterId(0), kind: GoalKind::Expose, change: c, .. } if c == change)
        })
    };
    assert!(exposed(GoalChange::Adopted), "the goal was adopted");
}
