//! Plans (issue 5): multi-step plans toward goals happen in order, are re-planned when the world
//! changes, travel in snapshots and agree across thread counts; characters answer what was just
//! done to them (retaliate or avoid after an insult, return help).

mod common;

use aion_engine::Sim;
use aion_engine::autonomy::Action;
use aion_engine::bonds::Bond;
use aion_engine::command::{AutonomyLevel, Command, Input};
use aion_engine::events::{Event, EventKind};
use aion_engine::goals::GoalKind;
use aion_engine::ids::CharacterId;
use aion_engine::params::Params;
use aion_engine::personality::Personality;
use aion_engine::plans::PlanChange;
use aion_engine::scenario::{CharacterSpec, Genre, WorldSeed};
use aion_engine::world::WorldInfo;
use common::{crowd, run};

fn spec(i: usize, personality: Personality) -> CharacterSpec {
    CharacterSpec { id: format!("c{i}"), name: format!("c{i}"), personality, mood: None, tags: vec![] }
}

fn bond(affinity: f32, trust: f32, familiarity: f32) -> Bond {
    Bond { affinity, trust, familiarity, ..Default::default() }
}

const V: CharacterId = CharacterId(0);
const RIVAL: CharacterId = CharacterId(1);
const ALLY: CharacterId = CharacterId(2);
const FRIEND: CharacterId = CharacterId(3);

/// A victim (0) betrayed by a rival (1), with a friend who dislikes the rival (2), a friend who
/// does not mind it (3), and two acquaintances.
fn revenge_world(threads: usize) -> Sim {
    let victim = Personality { extraversion: 0.2, agreeableness: -0.3, ..Default::default() };
    let mut characters = vec![spec(0, victim)];
    characters.extend((1..6).map(|i| spec(i, Personality::default())));
    let mut relationships = vec![
        (0, 1, bond(-0.3, -0.4, 0.6)),
        (1, 0, bond(0.0, 0.1, 0.6)),
        (0, 2, bond(0.6, 0.5, 0.6)),
        (2, 0, bond(0.6, 0.5, 0.6)),
        (0, 3, bond(0.5, 0.4, 0.5)),
        (3, 0, bond(0.5, 0.4, 0.5)),
        (2, 1, bond(-0.5, -0.3, 0.5)),
        (1, 2, bond(-0.2, 0.0, 0.5)),
        (3, 1, bond(0.1, 0.1, 0.4)),
        (1, 3, bond(0.1, 0.1, 0.4)),
    ];
    for i in 4..6 {
        relationships.push((0, i, bond(0.1, 0.1, 0.3)));
        relationships.push((i, 0, bond(0.1, 0.1, 0.3)));
    }
    let info = WorldInfo { name: "revenge".into(), seed: 5, genre: Genre::Drama };
    let params = Params { learning_rate: 0.0, ..Params::default() };
    let sim = Sim::from_seed(WorldSeed { characters, relationships }, info, params, threads).expect("builds");
    betrayed(sim, threads)
}

/// The same world after the rival betrayed the victim: a grudge and a betrayal on the victim's edge.
fn betrayed(mut sim: Sim, threads: usize) -> Sim {
    let mut state = sim.state();
    let r = state.relationships.iter_mut().find(|r| r.source == V && r.target == RIVAL).expect("edge 0 -> 1");
    r.history.betrayals = 1;
    r.history.grudge = 0.9;
    r.history.trust_peak = 0.5;
    Sim::from_state(state, threads).expect("rebuilds")
}

/// The victim's plan events, in order.
fn plan_events(events: &[Event]) -> Vec<(PlanChange, GoalKind, u8, Action, Option<CharacterId>)> {
    events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::PlanChanged { character: V, change, goal, step, action, target } => {
                Some((change, goal, step, action, target))
            }
            _ => None,
        })
        .collect()
}

#[test]
fn a_revenge_plan_approaches_an_ally_before_confronting_the_rival() {
    let mut sim = revenge_world(1);
    let (_, events) = run(&mut sim, 200);
    let plan = plan_events(&events);
    let formed = plan.iter().position(|p| p.0 == PlanChange::Formed && p.1 == GoalKind::Revenge);
    let formed = formed.unwrap_or_else(|| panic!("a revenge plan is formed: {plan:?}"));
    assert_eq!(plan[formed].4, Some(ALLY), "the first step approaches the friend who dislikes the rival");
    let rest = &plan[formed + 1..];
    let ally = rest.iter().position(|p| p.0 == PlanChange::StepDone && p.2 == 0).expect("the ally step is done");
    assert_eq!(rest[ally].4, Some(ALLY));
    assert!(matches!(rest[ally].3, Action::Help | Action::Ally), "{:?}", rest[ally]);
    let confront = rest[ally..].iter().find(|p| p.0 == PlanChange::Completed).expect("the plan completes");
    assert_eq!((confront.2, confront.4), (1, Some(RIVAL)), "then the rival is confronted");
    assert!(confront.3.is_hostile(), "{confront:?}");
    // The interactions themselves happened in that order.
    let seq_of = |pred: &dyn Fn(&EventKind) -> bool| events.iter().find(|e| pred(&e.kind)).map(|e| e.seq);
    let backed = seq_of(&|k| {
        matches!(
            k,
            EventKind::InteractionResolved { initiator: V, target: ALLY, action: Action::Help | Action::Ally, .. }
        )
    });
    let done = seq_of(&|k| matches!(k, EventKind::PlanChanged { character: V, change: PlanChange::Completed, .. }));
    assert!(backed.expect("helped the ally") < done.expect("completed"));
}

#[test]
fn a_plan_is_replanned_when_its_ally_turns_hostile() {
    let mut sim = revenge_world(1);
    // The victim holds still (autonomy off) so the plan waits at its first step.
    let level = |level| Command::SetAutonomy { character: V, level };
    sim.submit(Input { tick: 1, command: level(AutonomyLevel::Off) }).expect("valid");
    let mut events = Vec::new();
    while !plan_events(&events).iter().any(|p| p.0 == PlanChange::Formed) {
        assert!(sim.tick() < 50, "no plan formed");
        events.extend(run(&mut sim, 1).1);
    }
    assert_eq!(plan_events(&events)[0].4, Some(ALLY));
    let next = sim.tick() + 1;
    let hostile = bond(-0.7, -0.5, 0.6);
    sim.submit(Input { tick: next, command: Command::SetBond { from: ALLY, to: V, bond: hostile } }).expect("valid");
    sim.submit(Input { tick: next + 10, command: level(AutonomyLevel::Full) }).expect("valid");
    let (_, later) = run(&mut sim, 80);
    let plan = plan_events(&later);
    let replanned = plan.iter().position(|p| p.0 == PlanChange::Replanned).unwrap_or_else(|| panic!("{plan:?}"));
    assert_eq!(plan[replanned].1, GoalKind::Revenge);
    assert_eq!(plan[replanned].4, Some(FRIEND), "the new plan leans on the other friend");
    assert!(
        !plan.iter().any(|p| p.0 == PlanChange::StepDone && p.4 == Some(ALLY)),
        "the hostile ally is no longer approached: {plan:?}"
    );
    let backed = plan[replanned..].iter().find(|p| p.0 == PlanChange::StepDone).expect("the new first step is done");
    assert_eq!((backed.2, backed.4), (0, Some(FRIEND)));
}

#[test]
fn plans_travel_in_snapshots() {
    let mut whole = crowd(3_000, 10, 11, 2);
    let (h_whole, e_whole) = run(&mut whole, 60);
    assert!(
        e_whole.iter().any(|e| matches!(e.kind, EventKind::PlanChanged { change: PlanChange::StepDone, .. })),
        "plans are made and advanced in a crowd"
    );
    let mut first = crowd(3_000, 10, 11, 2);
    run(&mut first, 33);
    let mut resumed = Sim::from_snapshot(&first.snapshot(), 1).expect("loads");
    let (h_rest, e_rest) = run(&mut resumed, 27);
    assert_eq!(h_rest[..], h_whole[33..]);
    let tail: Vec<_> = e_whole.into_iter().filter(|e| e.tick > 33).collect();
    assert_eq!(e_rest, tail);
}

#[test]
fn one_and_two_threads_agree_with_plans() {
    let (h1, e1) = run(&mut crowd(6_000, 12, 9, 1), 30);
    let (h2, e2) = run(&mut crowd(6_000, 12, 9, 2), 30);
    assert!(e1.iter().any(|e| matches!(e.kind, EventKind::PlanChanged { .. })));
    assert_eq!(h1, h2);
    assert_eq!(e1, e2);
}

/// Triples (target, actor, friend) x `n`: the actor does `action` to the target at tick 10. Half the
/// targets are disagreeable and bold, half agreeable and anxious.
fn answer_world(n: usize, action: Action) -> (Sim, Vec<(CharacterId, CharacterId, bool)>) {
    let mut characters = Vec::new();
    let mut relationships = Vec::new();
    let mut pairs = Vec::new();
    for k in 0..n {
        let nasty = k % 2 == 0;
        let target = if nasty {
            Personality { agreeableness: -0.6, extraversion: 0.3, ..Default::default() }
        } else {
            Personality { agreeableness: 0.6, neuroticism: 0.6, ..Default::default() }
        };
        let (t, a, f) = (3 * k as u32, 3 * k as u32 + 1, 3 * k as u32 + 2);
        characters.push(spec(t as usize, target));
        characters.push(spec(a as usize, Personality::default()));
        characters.push(spec(f as usize, Personality::default()));
        for (x, y, b) in [(t, a, bond(0.2, 0.2, 0.5)), (t, f, bond(0.4, 0.3, 0.5)), (a, f, bond(0.2, 0.2, 0.5))] {
            relationships.push((x, y, b));
            relationships.push((y, x, b));
        }
        pairs.push((CharacterId(t), CharacterId(a), nasty));
    }
    let info = WorldInfo { name: "answer".into(), seed: 3, genre: Genre::Drama };
    let params = Params { learning_rate: 0.0, ..Params::default() };
    let mut sim = Sim::from_seed(WorldSeed { characters, relationships }, info, params, 1).expect("builds");
    for &(t, a, _) in &pairs {
        let act = Command::Act { character: a, action, target: Some(t) };
        sim.submit(Input { tick: 10, command: act }).expect("valid");
    }
    (sim, pairs)
}

/// For each target, how often it did each of `actions` to its actor in the ticks after the act.
fn answers(action: Action, responses: &[Action]) -> Vec<(bool, usize)> {
    let (mut sim, pairs) = answer_world(120, action);
    run(&mut sim, 10);
    let (_, events) = run(&mut sim, 6);
    pairs
        .iter()
        .map(|&(t, a, nasty)| {
            let n = events
                .iter()
                .filter(|e| match e.kind {
                    EventKind::InteractionResolved { initiator, target, action, .. } => {
                        initiator == t && target == a && responses.contains(&action)
                    }
                    EventKind::Avoided { character, target } => {
                        character == t && target == a && responses.contains(&Action::Avoid)
                    }
                    _ => false,
                })
                .count();
            (nasty, n)
        })
        .collect()
}

fn total(v: &[(bool, usize)], nasty: Option<bool>) -> usize {
    v.iter().filter(|(n, _)| nasty.is_none_or(|x| x == *n)).map(|(_, c)| c).sum()
}

#[test]
fn insulted_characters_retaliate_or_avoid_by_temperament() {
    let hostile = [Action::Insult, Action::Threaten];
    let (insulted, baseline) = (answers(Action::Insult, &hostile), answers(Action::Chat, &hostile));
    let (avoid_i, avoid_b) = (answers(Action::Insult, &[Action::Avoid]), answers(Action::Chat, &[Action::Avoid]));
    let (ri, rb) = (total(&insulted, None), total(&baseline, None));
    let (ai, ab) = (total(&avoid_i, None), total(&avoid_b, None));
    assert!(ri + ai > 3 * (rb + ab) + 5, "answers to an insult {ri}+{ai}, to a chat {rb}+{ab}");
    // The disagreeable answer in kind, the agreeable and anxious keep away.
    assert!(total(&insulted, Some(true)) > 2 * total(&insulted, Some(false)), "{insulted:?}");
    assert!(total(&avoid_i, Some(false)) > total(&avoid_i, Some(true)), "{avoid_i:?}");
}

#[test]
fn help_is_returned() {
    let kind = [Action::Help, Action::Compliment];
    let (helped, baseline) = (answers(Action::Help, &kind), answers(Action::Chat, &kind));
    // The agreeable half (the disagreeable return little).
    let (h, b) = (total(&helped, Some(false)), total(&baseline, Some(false)));
    // Measured: 87 after help, 60 after a chat (120 triples, 6 ticks).
    assert!(4 * h > 5 * b + 10, "returned after help {h}, after a chat {b}");
}
