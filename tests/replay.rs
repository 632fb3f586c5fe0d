//! Commands and replay (issue 5's command log): (snapshot + input log) replays bit-identically, a
//! fork with a new seed diverges while the same seed does not, bad commands change nothing.

mod common;

use aion_engine::Sim;
use aion_engine::bonds::Bond;
use aion_engine::command::{Command, CommandError, Input};
use aion_engine::emotion::EmotionKind;
use aion_engine::ids::CharacterId;
use aion_engine::mood::Pad;
use aion_engine::scenario::Genre;

fn inputs() -> Vec<Input> {
    vec![
        Input { tick: 3, command: Command::SetGenre { genre: Genre::Romance } },
        Input { tick: 5, command: Command::SetMood { character: CharacterId(4), mood: Pad::new(-0.9, 0.8, -0.5) } },
        Input {
            tick: 5,
            command: Command::Feel { character: CharacterId(7), emotion: EmotionKind::Fear, intensity: 0.9 },
        },
        Input {
            tick: 9,
            command: Command::SetBond {
                from: CharacterId(1),
                to: CharacterId(0),
                bond: Bond { affinity: -0.9, trust: -0.8, familiarity: 0.5, ..Default::default() },
            },
        },
    ]
}

fn hashes(sim: &mut Sim, ticks: u64) -> Vec<u64> {
    (0..ticks)
        .map(|_| {
            sim.step();
            sim.world_hash()
        })
        .collect()
}

#[test]
fn a_snapshot_and_its_input_log_replay_bit_identically() {
    let mut live = common::crowd(300, 6, 8, 2);
    let start = live.snapshot();
    for i in inputs() {
        live.submit(i).expect("valid input");
    }
    let live_hashes = hashes(&mut live, 20);
    let log: Vec<Input> = live.input_log().cloned().collect();
    assert_eq!(log, inputs(), "every input applied, in order");

    let mut replay = Sim::from_snapshot(&start, 1).expect("loads");
    for i in log {
        replay.submit(i).expect("valid input");
    }
    assert_eq!(hashes(&mut replay, 20), live_hashes);

    // The inputs matter: without them the history differs from their tick on.
    let mut plain = Sim::from_snapshot(&start, 1).expect("loads");
    let plain_hashes = hashes(&mut plain, 20);
    assert_eq!(plain_hashes[..2], live_hashes[..2]);
    assert_ne!(plain_hashes[2], live_hashes[2]);
}

#[test]
fn pending_inputs_travel_in_snapshots() {
    let mut a = common::crowd(200, 6, 3, 1);
    for i in inputs() {
        a.submit(i).unwrap();
    }
    let mut b = Sim::from_snapshot(&a.snapshot(), 1).unwrap();
    assert_eq!(hashes(&mut a, 12), hashes(&mut b, 12));
}

#[test]
fn bad_commands_are_refused_and_change_nothing() {
    let mut sim = common::crowd(100, 4, 1, 1);
    sim.step();
    let before = sim.state();
    let late = Input { tick: 1, command: Command::SetGenre { genre: Genre::Mystery } };
    assert!(matches!(sim.submit(late), Err(CommandError::Late { .. })));
    let bad_mood = Command::SetMood { character: CharacterId(1), mood: Pad::new(2.0, 0.0, 0.0) };
    assert!(matches!(sim.apply(&bad_mood), Err(CommandError::OutOfRange { field: "pleasure", .. })));
    let nobody = Command::Feel { character: CharacterId(9_999), emotion: EmotionKind::Joy, intensity: 0.5 };
    assert_eq!(sim.apply(&nobody), Err(CommandError::UnknownCharacter(CharacterId(9_999))));
    assert_eq!(sim.state(), before);
}

#[test]
fn a_fork_with_a_new_seed_diverges_and_the_same_seed_does_not() {
    let mut base = common::crowd(300, 6, 5, 1);
    hashes(&mut base, 10);
    let snap = base.snapshot();
    let original = hashes(&mut base, 10);
    let mut same = Sim::from_snapshot(&snap, 2).unwrap();
    same.set_seed(5);
    assert_eq!(hashes(&mut same, 10), original);
    let mut other = Sim::from_snapshot(&snap, 2).unwrap();
    other.set_seed(6);
    let forked = hashes(&mut other, 10);
    assert!(forked.iter().zip(&original).all(|(a, b)| a != b), "a new seed diverges from the first tick");
}

#[test]
fn a_possessed_character_does_what_it_is_told_and_an_idle_one_rests() {
    use aion_engine::autonomy::Action;
    use aion_engine::command::AutonomyLevel;
    use aion_engine::events::EventKind;
    let mut sim = common::crowd(200, 6, 12, 1);
    let g = sim.graph();
    let me = CharacterId(10);
    let friend = g.slot_id[g.edges[g.row(g.slot_of(me).unwrap()).start].partner as usize];
    sim.submit(Input { tick: 1, command: Command::Possess { character: me, user: 7 } }).unwrap();
    sim.submit(Input {
        tick: 1,
        command: Command::SetAutonomy { character: CharacterId(11), level: AutonomyLevel::Off },
    })
    .unwrap();
    for t in 1..=6u64 {
        let act = Command::Act { character: me, action: Action::Compliment, target: Some(friend) };
        if t % 2 == 1 {
            sim.submit(Input { tick: t, command: act }).unwrap();
        }
    }
    let mut from = sim.events().next_seq();
    for t in 1..=6u64 {
        sim.step();
        let mine: Vec<_> = sim
            .events()
            .since(from)
            .filter_map(|e| match e.kind {
                EventKind::InteractionResolved { initiator, target, action, .. } if initiator == me => {
                    Some((action, target))
                }
                EventKind::InteractionDeclined { initiator, target, action, .. } if initiator == me => {
                    Some((action, target))
                }
                EventKind::Avoided { character, target } if character == me => Some((Action::Avoid, target)),
                _ => None,
            })
            .collect();
        let idle_acted = sim.events().since(from).any(|e| {
            matches!(e.kind, EventKind::InteractionResolved { initiator, .. } | EventKind::InteractionDeclined { initiator, .. } if initiator == CharacterId(11))
        });
        assert!(!idle_acted, "tick {t}: a character with autonomy off acted on its own");
        if t % 2 == 1 {
            assert_eq!(mine, vec![(Action::Compliment, friend)], "tick {t}: the possessed character obeys");
        } else {
            assert!(mine.is_empty(), "tick {t}: without a command the possessed character rests, did {mine:?}");
        }
        from = sim.events().next_seq();
    }
    // Acting toward a stranger is refused and changes nothing.
    let stranger = Command::Act { character: me, action: Action::Insult, target: Some(CharacterId(150)) };
    let before = sim.state();
    if sim.graph().edge(sim.graph().slot_of(me).unwrap(), sim.graph().slot_of(CharacterId(150)).unwrap()).is_none() {
        assert!(matches!(sim.apply(&stranger), Err(CommandError::NoRelationship { .. })));
        assert_eq!(sim.state(), before);
    }
}
