//! The social model's predicted effects on whole worlds (issue 3): negativity bias, slow repair,
//! contagion along strong bonds with a threshold, trauma and healing, gossip, alliances and
//! conflicts, stable group ids.

mod common;

use aion_engine::Sim;
use aion_engine::autonomy::Action;
use aion_engine::bonds::Bond;
use aion_engine::contagion::{self, ContagionBuffers, Receiver};
use aion_engine::events::{EventKind, Party};
use aion_engine::graph::{EdgeInput, SocialGraph};
use aion_engine::ids::CharacterId;
use aion_engine::memory::{self, MemoryKind, Trauma};
use aion_engine::mood::Pad;
use aion_engine::outcome::{self, Edges, Outcome, Side};
use aion_engine::params::Params;
use aion_engine::personality::Personality;
use aion_engine::scenario::{CharacterSpec, WorldSeed};
use aion_engine::social::Groups;
use aion_engine::trust;

fn character(id: &str, personality: Personality) -> CharacterSpec {
    CharacterSpec { id: id.into(), name: id.into(), personality, mood: None, tags: Vec::new() }
}

fn bond(affinity: f32, trust: f32) -> Bond {
    Bond { affinity, trust, familiarity: 0.7, respect: 0.3, ..Default::default() }
}

fn act(action: Action, e: &Edges) -> Outcome {
    let a = outcome::appraise(action, &Side::default(), &Side::default(), e, 0.0, 0.5, 0);
    let (valence, initiator_valence, accepted, line) = (a.valence, a.initiator_valence, a.accepted, a.line);
    Outcome { initiator: 0, target: 1, action, valence, initiator_valence, compat: 0.0, accepted, line }
}

#[test]
fn one_betrayal_outweighs_one_favour_of_equal_size() {
    // A trusted friend helps once, or turns on you once: compare the size of the trust change.
    let e = Edges {
        ti: bond(0.5, 0.6),
        it_hist: trust::EdgeHistory { knows_secret: true, ..Default::default() },
        ..Default::default()
    };
    let help = act(Action::Help, &e);
    let mut betray = act(Action::Betray, &e);
    betray.valence = -help.valence; // equal size, opposite sign
    let p = Params::default();
    let (after_help, _) = outcome::update_edges(&help, e, &p, 1);
    let (after_betrayal, change) = outcome::update_edges(&betray, e, &p, 1);
    let gained = after_help.ti.trust - e.ti.trust;
    let lost = e.ti.trust - after_betrayal.ti.trust;
    assert!(change.betrayal.is_some());
    assert!(lost > 5.0 * gained, "lost {lost} vs gained {gained}");
}

#[test]
fn repair_is_slower_than_breakage_and_leaves_a_mark() {
    let (mut b, mut h) = (bond(0.5, 0.7), trust::EdgeHistory::default());
    trust::betray(&mut b, &mut h, 0.8);
    let broken_in = 1;
    let low = b.trust;
    let mut apologies = 0;
    while b.trust < low + 0.9 * (trust::repair_cap(&h) - low) {
        trust::repair(&mut b, &mut h, 1.0);
        apologies += 1;
    }
    assert!(apologies > 10 * broken_in, "{apologies} apologies");
    assert!(b.trust < 0.7, "repair never erases the betrayal: {}", b.trust);
    assert_eq!(h.betrayals, 1);
}

#[test]
fn contagion_spreads_faster_along_stronger_bonds_and_stops_at_a_threshold() {
    // Two receivers (ids 1 and 2) hear the same cheerful sender (id 0), over a strong and a weak bond.
    let ent = |i: u32| bevy_ecs::entity::Entity::from_raw_u32(i + 1).expect("nonzero");
    let chars: Vec<_> = (0..3).map(|i| (CharacterId(i), ent(i))).collect();
    let strong_bond = Bond { affinity: 0.9, familiarity: 1.0, ..Default::default() };
    let weak_bond = Bond { affinity: 0.0, familiarity: 0.0, ..Default::default() };
    let rel = |s: u32, b: Bond| EdgeInput {
        source: CharacterId(s),
        target: CharacterId(0),
        entity: ent(10 + s),
        bond: b,
        history: trust::EdgeHistory::default(),
    };
    let graph = SocialGraph::build(&chars, &[rel(1, strong_bond), rel(2, weak_bond)]);
    assert_eq!(graph.slot_id, vec![CharacterId(0), CharacterId(1), CharacterId(2)]);
    let recv = Receiver { susceptibility: 0.7, bias: 0.5 };
    let params = Params::default();
    let mut bufs = ContagionBuffers {
        send: vec![[0.9, 0.5, 0.5, 1.0], [0.5, 0.5, 0.5, 1.0], [0.5, 0.5, 0.5, 1.0]],
        recv: vec![(recv, Pad::new(0.8, 0.0, 0.0)), (recv, Pad::default()), (recv, Pad::default())],
        out: vec![Pad::default(); 3],
    };
    let mut moods = [Pad::default(); 3];
    moods[0] = Pad::new(0.8, 0.0, 0.0);
    let mut changes = Vec::new();
    for _ in 0..3000 {
        bufs.recv[1].1 = moods[1];
        bufs.recv[2].1 = moods[2];
        contagion::spread(&graph, &mut bufs, &params, false);
        changes.push((bufs.out[1].p - moods[1].p).abs());
        moods[1] = bufs.out[1];
        moods[2] = bufs.out[2];
    }
    assert!(changes[0] > 0.0);
    let after = |n: usize| -> (f32, f32) {
        let mut m = [Pad::default(); 3];
        let mut b = ContagionBuffers { send: bufs.send.clone(), recv: bufs.recv.clone(), out: vec![Pad::default(); 3] };
        for _ in 0..n {
            b.recv[1].1 = m[1];
            b.recv[2].1 = m[2];
            contagion::spread(&graph, &mut b, &params, false);
            m[1] = b.out[1];
            m[2] = b.out[2];
        }
        (m[1].p, m[2].p)
    };
    let (strong, weak) = after(20);
    assert!(strong > weak && weak >= 0.0, "strong {strong} weak {weak}");
    // It stops: once the receiver is within the threshold of the group emotion, nothing moves.
    assert_eq!(*changes.last().unwrap(), 0.0, "still changing after 3,000 ticks");
    let gap = 0.5 * (0.8 + 1.0) - 0.5 * (moods[1].p + 1.0);
    assert!(gap > 0.0 && gap < params.contagion_threshold * 1.5, "stopped at a gap of {gap}");
}

fn traumatised(sim: &mut Sim, who: u32) {
    let world = sim.world_mut();
    let mut q = world.query::<(&CharacterId, &mut Trauma)>();
    for (id, mut t) in q.iter_mut(world) {
        if id.0 == who {
            memory::traumatize(&mut t, 1.0, -1.0, None, MemoryKind::Betrayed, memory::TRAUMA_THRESHOLD);
        }
    }
}

fn ticks_to_heal(sim: &mut Sim, who: u32, limit: u64) -> u64 {
    let mut from = sim.events().next_seq();
    for t in 1..=limit {
        sim.step();
        let healed = sim
            .events()
            .since(from)
            .any(|e| matches!(e.kind, EventKind::TraumaHealed { character } if character.0 == who));
        if healed {
            return t;
        }
        from = sim.events().next_seq();
    }
    limit
}

#[test]
fn trauma_lowers_the_baseline_and_heals_faster_with_support() {
    let victim = Personality { neuroticism: 0.2, ..Default::default() };
    let friend = Personality { agreeableness: 0.9, extraversion: 0.4, conscientiousness: 0.5, ..Default::default() };
    let alone = WorldSeed { characters: vec![character("v", victim)], relationships: vec![] };
    let supported = WorldSeed {
        characters: vec![character("v", victim), character("f", friend)],
        relationships: vec![(0, 1, bond(0.8, 0.7)), (1, 0, bond(0.8, 0.7))],
    };
    let mut a = common::from_seed(alone, 5, 1);
    let mut b = common::from_seed(supported, 5, 1);
    let base_before = a.state().characters[0].baseline;
    traumatised(&mut a, 0);
    traumatised(&mut b, 0);
    a.step();
    let base_after = a.state().characters[0].baseline;
    assert!(base_after.p < base_before.p - 0.1, "{base_before:?} -> {base_after:?}");
    let t_alone = ticks_to_heal(&mut a, 0, 5_000);
    let t_supported = ticks_to_heal(&mut b, 0, 5_000);
    assert!(t_alone < 5_000, "never healed alone");
    assert!(t_supported < t_alone * 9 / 10, "supported {t_supported} vs alone {t_alone}");
}

#[test]
fn gossip_changes_the_opinion_of_someone_who_never_met_the_subject() {
    // The teller hates the villain; the hearer is the teller's friend and has never met the villain.
    let gossip = Personality { extraversion: 0.9, conscientiousness: -0.5, ..Default::default() };
    let ws = WorldSeed {
        characters: vec![
            character("teller", gossip),
            character("hearer", Personality::default()),
            character("villain", Personality::default()),
        ],
        relationships: vec![
            (0, 1, bond(0.7, 0.6)),
            (1, 0, bond(0.7, 0.7)),
            (0, 2, Bond { affinity: -0.9, trust: -0.6, familiarity: 0.9, ..Default::default() }),
        ],
    };
    let mut sim = common::from_seed(ws, 11, 1);
    let mut heard = None;
    for _ in 0..400 {
        sim.step();
        let state = sim.state();
        if let Some(b) = state.characters[1].beliefs.get(CharacterId(2)) {
            heard = Some(b.opinion);
            break;
        }
    }
    let opinion = heard.expect("the hearer formed an opinion of the villain through gossip");
    assert!(opinion < 0.0, "heard a negative opinion, believes {opinion}");
    assert!(sim.events().iter().any(|e| matches!(e.kind, EventKind::RumorSpread { subject, .. } if subject.0 == 2)));
    assert!(
        sim.graph()
            .edge(sim.graph().slot_of(CharacterId(1)).unwrap(), sim.graph().slot_of(CharacterId(2)).unwrap())
            .is_none()
    );
}

/// Two cliques of six: warm inside, hostile across.
fn two_camps() -> WorldSeed {
    let kind = Personality { agreeableness: 0.5, extraversion: 0.3, ..Default::default() };
    let characters = (0..12).map(|i| character(&format!("c{i}"), kind)).collect();
    let mut relationships = Vec::new();
    for i in 0..12u32 {
        for j in 0..12u32 {
            if i != j {
                let b = if i / 6 == j / 6 { bond(0.7, 0.6) } else { bond(-0.6, -0.4) };
                relationships.push((i, j, b));
            }
        }
    }
    WorldSeed { characters, relationships }
}

#[test]
fn two_hostile_clusters_become_two_alliances_in_conflict() {
    let mut sim = common::from_seed(two_camps(), 2, 1);
    for _ in 0..40 {
        sim.step();
    }
    let groups = sim.world().resource::<Groups>().groups.clone();
    let mut members: Vec<Vec<u32>> = groups.iter().map(|g| g.members.iter().map(|c| c.0).collect()).collect();
    members.sort();
    assert_eq!(members, vec![(0..6).collect::<Vec<_>>(), (6..12).collect::<Vec<_>>()]);
    let (a, b) = (groups[0].id, groups[1].id);
    let conflict = sim.events().iter().any(|e| match e.kind {
        EventKind::ConflictEscalated { a: Party::Group(x), b: Party::Group(y), .. } => (x, y) == (a.min(b), a.max(b)),
        _ => false,
    });
    assert!(conflict, "no conflict between the alliances");
    // Each camp's shared enemies are members of the other camp.
    for g in &groups {
        let other: Vec<CharacterId> = (0..12).map(CharacterId).filter(|c| !g.members.contains(c)).collect();
        assert!(!g.enemies.is_empty(), "{:?} has no shared enemies", g.members);
        assert!(g.enemies.iter().all(|c| other.contains(c)), "{:?} enemies {:?}", g.members, g.enemies);
    }
    assert!(sim.events().iter().any(|e| matches!(e.kind, EventKind::AllianceFormed { .. })));
}

#[test]
fn group_ids_stay_stable_when_membership_barely_changes() {
    let mut sim = common::from_seed(two_camps(), 4, 1);
    for _ in 0..20 {
        sim.step();
    }
    let before = sim.world().resource::<Groups>().groups.clone();
    assert_eq!(before.len(), 2);
    // Character 5 falls out with its camp: every bond to and from it turns cold.
    {
        let world = sim.world_mut();
        let mut graph = world.resource_mut::<SocialGraph>();
        let five = graph.slot_of(CharacterId(5)).unwrap();
        for e in 0..graph.n_relationships() {
            let src = graph.row_of(e);
            if src == five || graph.edges[e].partner == five {
                let mut b = graph.bonds()[e];
                b.affinity = -0.5;
                graph.set_bond(e, b);
            }
        }
    }
    for _ in 0..20 {
        sim.step();
    }
    let after = sim.world().resource::<Groups>().groups.clone();
    let camp = |gs: &[aion_engine::social::Group], who: u32| {
        gs.iter().find(|g| g.members.contains(&CharacterId(who))).map(|g| g.id)
    };
    assert_eq!(camp(&before, 0), camp(&after, 0), "the first camp kept its id");
    assert_eq!(camp(&before, 8), camp(&after, 8), "the second camp kept its id");
    assert_eq!(camp(&after, 5), None, "the outcast left");
    assert!(
        sim.events()
            .iter()
            .any(|e| matches!(&e.kind, EventKind::AllianceChanged { left, .. } if left.contains(&CharacterId(5))))
    );
}

#[test]
fn compatibility_is_cached_per_relationship_and_follows_personality_changes() {
    let p = |o: f32| Personality { openness: o, conscientiousness: o, agreeableness: o, ..Default::default() };
    let ws = WorldSeed {
        characters: vec![character("a", p(0.8)), character("b", p(0.8)), character("c", p(-0.8))],
        relationships: vec![(0, 1, bond(0.1, 0.1)), (0, 2, bond(0.1, 0.1))],
    };
    let mut sim = common::from_seed(ws, 1, 1);
    let edge = |sim: &Sim, s: u32, t: u32| {
        let g = sim.graph();
        g.edge(g.slot_of(CharacterId(s)).unwrap(), g.slot_of(CharacterId(t)).unwrap()).unwrap()
    };
    let (ab, ac) = (edge(&sim, 0, 1), edge(&sim, 0, 2));
    assert!(sim.graph().compat(ab) > sim.graph().compat(ac), "similar people are more compatible");
    // Similar people are sought out more: a's warmth toward b exceeds its warmth toward c.
    assert!(sim.graph().appeal[ab].warmth > sim.graph().appeal[ac].warmth);
    // c becomes like a: the cache follows, both directions.
    assert!(sim.set_personality(CharacterId(2), p(0.8)));
    let (ac, ca) = (edge(&sim, 0, 2), edge(&sim, 2, 0));
    assert_eq!(sim.graph().compat(ac), sim.graph().compat(ab));
    assert_eq!(sim.graph().compat(ca), sim.graph().compat(ab));
}
