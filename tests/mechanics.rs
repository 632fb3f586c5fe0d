//! The model's predicted effects, shown on whole worlds (the maths has unit tests beside it).

mod common;

use aion_engine::autonomy::Action;
use aion_engine::bonds::Bond;
use aion_engine::contagion::{self, ContagionBuffers, Receiver};
use aion_engine::emotion::EmotionKind;
use aion_engine::events::EventKind;
use aion_engine::ids::CharacterId;
use aion_engine::mood::Pad;
use aion_engine::params::Params;
use aion_engine::personality::Personality;
use aion_engine::scenario::{CharacterSpec, WorldSeed};

fn character(id: &str, personality: Personality, mood: Option<Pad>) -> CharacterSpec {
    CharacterSpec { id: id.into(), name: id.into(), personality, mood, tags: Vec::new() }
}

fn variance(v: &[Pad]) -> f64 {
    let n = v.len() as f64;
    let mean = v.iter().map(|m| m.p as f64).sum::<f64>() / n;
    v.iter().map(|m| (m.p as f64 - mean).powi(2)).sum::<f64>() / n
}

#[test]
fn contagion_pulls_connected_moods_together_and_settles() {
    let sim = common::crowd(2_000, 10, 5, 1);
    let g = sim.graph();
    let n = g.n_characters();
    // Spread-out pleasure, everyone equally expressive and open; no threshold.
    let mut moods: Vec<Pad> = (0..n).map(|i| Pad::new(((i * 7919) % 200) as f32 / 100.0 - 1.0, 0.0, 0.0)).collect();
    let params = Params { contagion_threshold: 0.0, contagion_rate: 0.3, contagion_amplify: 0.0, ..Params::default() };
    let recv = Receiver { susceptibility: 0.8, bias: 0.5 };
    let mut bufs = ContagionBuffers::default();
    let start = variance(&moods);
    let mut last_change = f64::MAX;
    for _ in 0..400 {
        bufs.send = moods.iter().map(|m| [0.5 * (m.p + 1.0), 0.5 * (m.a + 1.0), 0.5 * (m.d + 1.0), 1.0]).collect();
        bufs.recv = moods.iter().map(|m| (recv, *m)).collect();
        bufs.out = vec![Pad::default(); n];
        contagion::spread(g, &mut bufs, &params, false);
        last_change = moods.iter().zip(&bufs.out).map(|(a, b)| (a.p - b.p).abs() as f64).fold(0.0, f64::max);
        moods.clone_from(&bufs.out);
    }
    let end = variance(&moods);
    assert!(end < start * 0.01, "variance {start} -> {end}");
    assert!(last_change < 1e-3, "still moving by {last_change}");
}

#[test]
fn moods_return_to_baseline_without_stimuli() {
    // Nobody has relationships, so nobody interacts: only decay toward baseline acts on moods.
    let characters = (0..6)
        .map(|i| {
            let p = Personality {
                extraversion: i as f32 / 5.0 - 0.5,
                neuroticism: 0.3 - i as f32 / 10.0,
                ..Default::default()
            };
            character(&format!("c{i}"), p, Some(Pad::new(-0.9, 0.9, -0.8)))
        })
        .collect();
    let mut sim = common::from_seed(WorldSeed { characters, relationships: Vec::new() }, 1, 1);
    let start = sim.state();
    for c in &start.characters {
        assert!(c.mood.minus(c.baseline).norm() > 0.5);
    }
    for _ in 0..600 {
        sim.step();
    }
    for c in &sim.state().characters {
        assert!(c.mood.minus(c.baseline).norm() < 0.01, "{:?}: {:?} vs {:?}", c.id, c.mood, c.baseline);
    }
}

#[test]
fn an_insult_lowers_the_targets_affinity_and_raises_its_negative_emotions() {
    let brute = Personality { agreeableness: -1.0, neuroticism: 0.5, ..Default::default() };
    let victim = Personality { neuroticism: 0.4, ..Default::default() };
    let hate = Bond { affinity: -0.9, trust: -0.8, familiarity: 0.5, ..Default::default() };
    let ws = WorldSeed {
        characters: vec![character("brute", brute, None), character("victim", victim, None)],
        relationships: vec![(0, 1, hate), (1, 0, Bond { familiarity: 0.5, ..Default::default() })],
    };
    let mut sim = common::from_seed(ws, 3, 1);
    let (b, v) = (CharacterId(0), CharacterId(1));
    let mut checked = 0;
    for _ in 0..300 {
        let before = sim.state();
        let from = sim.events().next_seq();
        sim.step();
        let events: Vec<_> = sim.events().since(from).cloned().collect();
        let insulted = events.iter().any(|e| {
            matches!(e.kind, EventKind::InteractionResolved { initiator, target, action: Action::Insult, .. } if initiator == b && target == v)
        });
        let victim_acted =
            events.iter().any(|e| matches!(e.kind, EventKind::InteractionResolved { initiator, .. } if initiator == v));
        let fell_to_bottom = |s: &aion_engine::snapshot::WorldState| {
            s.relationships
                .iter()
                .find(|r| r.source == v)
                .is_some_and(|r| r.bond.affinity < -0.95 || r.bond.trust < -0.95)
        };
        if !insulted || victim_acted || fell_to_bottom(&before) {
            continue;
        }
        let after = sim.state();
        let bond = |s: &aion_engine::snapshot::WorldState| s.relationships.iter().find(|r| r.source == v).unwrap().bond;
        assert!(bond(&after).affinity < bond(&before).affinity, "affinity did not fall");
        assert!(bond(&after).trust < bond(&before).trust, "trust did not fall");
        let (emo, was) = (after.characters[1].emotions, before.characters[1].emotions);
        // Above what one tick of decay alone would have left (distress may already be near saturation).
        let keep = (-Params::default().emotion_decay_per_tick * (1.0 - 0.5 * victim.neuroticism)).exp();
        for k in [EmotionKind::Distress, EmotionKind::Anger] {
            assert!(emo.get(k) > was.get(k) * keep + 1e-4, "{k:?}: {was:?} -> {emo:?}");
        }
        checked += 1;
    }
    assert!(checked >= 3, "only {checked} clean insults observed");
}

#[test]
fn friendly_worlds_grow_closer_and_hostile_ones_drift_apart() {
    let kind = Personality { agreeableness: 0.9, extraversion: 0.6, ..Default::default() };
    let mean_affinity = |p: Personality, start: f32| {
        let characters = (0..12).map(|i| character(&format!("c{i}"), p, None)).collect();
        let relationships = (0..12u32)
            .flat_map(|i| [(i, (i + 1) % 12), ((i + 1) % 12, i)])
            .map(|(s, t)| (s, t, Bond { affinity: start, familiarity: 0.4, ..Default::default() }))
            .collect();
        let mut sim = common::from_seed(WorldSeed { characters, relationships }, 9, 1);
        for _ in 0..200 {
            sim.step();
        }
        sim.metrics().mean_affinity
    };
    let cruel = Personality { agreeableness: -0.9, neuroticism: 0.6, ..Default::default() };
    let (friendly, hostile) = (mean_affinity(kind, 0.1), mean_affinity(cruel, -0.3));
    assert!(friendly > 0.3, "{friendly}");
    assert!(hostile < -0.3, "{hostile}");
}
