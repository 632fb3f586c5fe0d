//! The director (issue 5): timed events, triggers, Rhai scripts and their sandbox, the inject,
//! narrate, spawn, retire and goal commands, determinism and replay of directed worlds, stop_when.

mod common;

use aion_engine::Sim;
use aion_engine::autonomy::Action;
use aion_engine::bonds::Bond;
use aion_engine::command::{Command, Input};
use aion_engine::events::{Event, EventKind};
use aion_engine::ids::CharacterId;
use aion_engine::personality::Personality;
use aion_engine::scenario::{self, LoadError};

const CAST: &str = r#"format = "aion.scenario/1"
[world]
name = "Directed"
seed = 11

[[character]]
id = "alice"
personality = { extraversion = 0.5, agreeableness = 0.3 }

[[character]]
id = "bob"
personality = { extraversion = 0.2, neuroticism = 0.4 }

[[character]]
id = "carol"
personality = { extraversion = 0.7 }

[[character]]
id = "dan"
personality = { agreeableness = -0.4 }

[[relationship]]
from = "alice"
to = "bob"
affinity = 0.6
trust = 0.5
familiarity = 0.6
mutual = true

[[relationship]]
from = "bob"
to = "carol"
affinity = 0.3
familiarity = 0.4
mutual = true

[[relationship]]
from = "carol"
to = "dan"
affinity = -0.2
familiarity = 0.3
mutual = true

[[relationship]]
from = "dan"
to = "alice"
familiarity = 0.2
mutual = true
"#;

fn world(extra: &str, threads: usize) -> Sim {
    let s = scenario::parse(&format!("{CAST}{extra}"), "directed.toml").unwrap_or_else(|e| panic!("{e}"));
    Sim::from_scenario(&s, None, threads).expect("builds")
}

fn narrations(events: &[Event]) -> Vec<(u64, String)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Narrated { text, .. } => Some((e.tick, text.clone())),
            _ => None,
        })
        .collect()
}

fn errors(events: &[Event]) -> Vec<(String, u32, String)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::DirectorError { script, line, message } => Some((script.clone(), *line, message.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn timed_events_fire_at_their_ticks_and_every_repeats() {
    let extra = r#"
[[event]]
at = 5
do = [{ narrate = { text = "five" } }]

[[event]]
every = 4
from = 2
until = 14
do = [{ narrate = { text = "tock" } }]
"#;
    let (_, events) = common::run(&mut world(extra, 1), 20);
    let got = narrations(&events);
    let at = |t: &str| got.iter().filter(|(_, x)| x == t).map(|(k, _)| *k).collect::<Vec<_>>();
    assert_eq!(at("five"), [5]);
    assert_eq!(at("tock"), [2, 6, 10, 14]);
}

#[test]
fn once_fires_once_cooldown_spaces_firings_and_priority_orders_commands() {
    let extra = r#"
[[trigger]]
name = "first"
when = "tick >= 3"
once = true
do = [{ narrate = { text = "once" } }]

[[trigger]]
name = "slow"
when = "tick >= 0"
cooldown = 5
do = [{ narrate = { text = "cool" } }]

[[trigger]]
name = "low"
when = "tick == 7"
priority = 1
do = [{ narrate = { text = "low" } }]

[[trigger]]
name = "high"
when = "tick == 7 and bond(alice, bob).affinity > -2"
priority = 9
do = [{ narrate = { text = "high" } }]
"#;
    let (_, events) = common::run(&mut world(extra, 1), 20);
    let got = narrations(&events);
    let at = |t: &str| got.iter().filter(|(_, x)| x == t).map(|(k, _)| *k).collect::<Vec<_>>();
    // Conditions read the world after tick T; their commands apply before tick T + 1.
    assert_eq!(at("once"), [4]);
    assert_eq!(at("cool"), [1, 6, 11, 16]);
    let eight: Vec<&str> = got.iter().filter(|(t, _)| *t == 8).map(|(_, x)| x.as_str()).collect();
    assert_eq!(eight, ["high", "low"], "priority first, then declaration order");
}

fn trust_of(sim: &mut Sim, from: u32, to: u32) -> f32 {
    let g = sim.graph();
    let e = g.edge(g.slot_of(CharacterId(from)).unwrap(), g.slot_of(CharacterId(to)).unwrap()).unwrap();
    g.bonds()[e].trust
}

#[test]
fn an_injected_betrayal_lowers_trust_as_a_real_one_does_even_when_the_target_is_busy() {
    // alice (0) betrays bob (1), who trusts her.
    let betray = |cmd: Command, capacity: u8| {
        let extra = format!("[params]\ncapacity_per_tick = {capacity}\n");
        let mut sim = world(&extra, 1);
        sim.step();
        let before = trust_of(&mut sim, 1, 0);
        sim.submit(Input { tick: 2, command: cmd }).unwrap();
        // Keep bob busy with his own proposal, so with capacity 1 he has no room for alice.
        let busy = Command::Act { character: CharacterId(1), action: Action::Chat, target: Some(CharacterId(2)) };
        sim.submit(Input { tick: 2, command: busy }).unwrap();
        let (_, events) = common::run(&mut sim, 1);
        (before, trust_of(&mut sim, 1, 0), events)
    };
    let inject = Command::Inject { actor: CharacterId(0), action: Action::Betray, target: CharacterId(1) };
    let act = Command::Act { character: CharacterId(0), action: Action::Betray, target: Some(CharacterId(1)) };
    let (before, injected, events) = betray(inject.clone(), 2);
    let (_, acted, _) = betray(act.clone(), 2);
    assert!(injected < before, "trust {before} -> {injected}");
    assert_eq!(injected, acted, "the injected betrayal is resolved by the normal pipeline");
    let kinds: Vec<&EventKind> = events.iter().map(|e| &e.kind).collect();
    assert!(kinds.iter().any(|k| matches!(k, EventKind::Injected { action: Action::Betray, .. })));
    assert!(kinds.iter().any(|k| matches!(k, EventKind::TrustBroken { victim: CharacterId(1), .. })));

    // With capacity 1 and bob proposing himself, a chosen betrayal is declined; an injected one is not.
    let (_, injected_busy, _) = betray(inject, 1);
    let (before, acted_busy, events) = betray(act, 1);
    assert!(injected_busy < before);
    assert_eq!(acted_busy, before, "declined: nothing changed");
    assert!(events.iter().any(|e| matches!(e.kind, EventKind::InteractionDeclined { action: Action::Betray, .. })));
}

fn spawn_and_retire() -> Vec<Input> {
    let newcomer = Command::Spawn {
        name: "stranger".into(),
        personality: Personality { extraversion: 0.9, agreeableness: -0.5, ..Default::default() },
        mood: None,
        bonds: vec![(CharacterId(3), Bond { affinity: 0.4, familiarity: 0.5, ..Default::default() })],
    };
    vec![
        Input { tick: 4, command: newcomer },
        Input { tick: 8, command: Command::Retire { character: CharacterId(7) } },
        Input {
            tick: 9,
            command: Command::Inject { actor: CharacterId(300), action: Action::Insult, target: CharacterId(3) },
        },
    ]
}

#[test]
fn spawn_and_retire_work_and_stay_deterministic() {
    let run = |threads: usize| {
        let mut sim = common::crowd(300, 6, 5, threads);
        for i in spawn_and_retire() {
            sim.submit(i).unwrap();
        }
        common::run(&mut sim, 12)
    };
    let (h1, events) = run(1);
    let (h2, _) = run(2);
    assert_eq!(h1, h2, "1 vs 2 threads");
    let spawned = events.iter().find_map(|e| match &e.kind {
        EventKind::CharacterSpawned { character, name, .. } => Some((e.tick, *character, name.clone())),
        _ => None,
    });
    assert_eq!(spawned, Some((4, CharacterId(300), "stranger".to_owned())), "the next stable id");
    assert!(events.iter().any(|e| e.tick == 9 && matches!(e.kind, EventKind::Injected { .. })), "it takes part");
    let retired_at = events.iter().find(|e| matches!(e.kind, EventKind::CharacterRetired { .. })).unwrap().tick;
    assert_eq!(retired_at, 8);
    let seven = CharacterId(7);
    let involves = |k: &EventKind| match k {
        EventKind::InteractionResolved { initiator, target, .. }
        | EventKind::InteractionDeclined { initiator, target, .. } => *initiator == seven || *target == seven,
        _ => false,
    };
    assert!(!events.iter().any(|e| e.tick >= 8 && involves(&e.kind)), "a retired character is out of the story");

    // Snapshot after the spawn and the retirement, continue: the same hashes as the live run.
    let mut live = common::crowd(300, 6, 5, 2);
    for i in spawn_and_retire() {
        live.submit(i).unwrap();
    }
    common::run(&mut live, 10);
    let snap = live.snapshot();
    let (rest, _) = common::run(&mut live, 6);
    let mut loaded = Sim::from_snapshot(&snap, 1).unwrap();
    assert_eq!(loaded.state(), Sim::from_snapshot(&snap, 2).unwrap().state());
    assert_eq!(common::run(&mut loaded, 6).0, rest, "snapshot/continue");
    let g = loaded.graph();
    assert!(g.slot_of(seven).is_some_and(|s| g.row(s).is_empty()), "no relationships left");
    // Commands about a retired character are refused; ids are never reused.
    assert!(loaded.apply(&Command::Retire { character: seven }).is_err());
    let again = Command::Spawn { name: "late".into(), personality: Personality::default(), mood: None, bonds: vec![] };
    loaded.apply(&again).unwrap();
    assert_eq!(loaded.name_map()["late"], CharacterId(301));
}

fn scripted(script: &str, threads: usize) -> Sim {
    let text = format!("{CAST}\n[director]\ninline = \"\"\"\n{script}\"\"\"\n");
    let s = scenario::parse(&text, "scripted.toml").unwrap_or_else(|e| panic!("{e}"));
    Sim::from_scenario(&s, None, threads).expect("builds")
}

/// Line of the inline script's first line in `scripted.toml`.
fn first_line() -> u32 {
    CAST.lines().count() as u32 + 4
}

#[test]
fn misbehaving_scripts_are_stopped_with_their_line_and_the_world_goes_on() {
    let script = r#"at(2, || { loop { } });
at(3, || { let s = "x"; loop { s += s; } });
at(4, || { let a = []; loop { a.push(1); } });
at(5, || { summon_dragon("bob"); });
at(6, || { narrate(42); });
every(1, || { set("ticks", tick()); });
"#;
    let mut sim = scripted(script, 1);
    let (hashes, events) = common::run(&mut sim, 8);
    let errs = errors(&events);
    let base = first_line();
    assert_eq!(errs.len(), 5, "{errs:?}");
    for (i, (file, line, _)) in errs.iter().enumerate() {
        assert_eq!(file, "scripted.toml");
        assert_eq!(*line, base + i as u32, "{errs:?}");
    }
    assert!(errs[0].2.contains("Too many operations"), "{}", errs[0].2);
    assert!(errs[1].2.to_lowercase().contains("string"), "{}", errs[1].2);
    assert!(errs[2].2.to_lowercase().contains("array"), "{}", errs[2].2);
    assert!(errs[3].2.contains("summon_dragon"), "{}", errs[3].2);
    assert!(errs[4].2.contains("narrate"), "{}", errs[4].2);
    // The world kept ticking and the well-behaved callback kept running.
    assert_eq!(sim.tick(), 8);
    assert!(hashes.windows(2).all(|w| w[0] != w[1]));
    let vars = &sim.state().director.vars;
    assert_eq!(vars.get("ticks"), Some(&aion_engine::director::Var::Int(7)));
}

#[test]
fn a_script_syntax_error_is_a_load_error_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.rhai"), "// fine\nat(3, || {\n  narrate(\"x\" \n});\n").unwrap();
    let sc = dir.path().join("s.toml");
    std::fs::write(&sc, format!("{CAST}\n[director]\nscript = \"bad.rhai\"\n")).unwrap();
    let Err(LoadError::Invalid(p)) = scenario::load(&sc) else { panic!("expected a load error") };
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].file.ends_with("bad.rhai") && p[0].line == 4, "{}", p[0]);
    // Unknown names and bad conditions in TOML are load errors too.
    let bad = format!(
        "{CAST}[[trigger]]\nwhen = \"mood(zed).pleasure > 0\"\ndo = [{{ retire = {{ character = \"nobody\" }} }}]\n"
    );
    let Err(LoadError::Invalid(p)) = scenario::parse(&bad, "t.toml") else { panic!("expected a load error") };
    let keys: Vec<&str> = p.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, ["trigger[0].when", "trigger[0].do[0]"], "{p:?}");
}

#[test]
fn scripts_with_rand_are_deterministic_across_runs_and_threads() {
    let script = r#"every(1, || {
    let people = characters();
    let a = people[rand_int(0, people.len() - 1)];
    if rand() < 0.5 { feel(a, "joy", 0.5); } else { set_mood(a, -0.5, 0.2, 0); }
    set("last", a);
});
when(|| tension() >= 0.0 && tick() % 7 == 0, || narrate("week " + tick()), #{ cooldown: 3 });
"#;
    let (a, ea) = common::run(&mut scripted(script, 1), 30);
    let (b, eb) = common::run(&mut scripted(script, 2), 30);
    assert_eq!(a, b);
    assert_eq!(ea, eb);
    assert!(ea.iter().filter(|e| matches!(e.kind, EventKind::Directed { .. })).count() >= 30);
    // Seen after ticks 0, 7, 14, 21 and 28; applied before the next.
    let weeks: Vec<u64> = narrations(&ea).iter().map(|(t, _)| *t).collect();
    assert_eq!(weeks, [1, 8, 15, 22, 29]);
}

#[test]
fn a_directed_world_replays_from_its_snapshot_and_external_inputs() {
    let script = r#"when(|| bond("alice", "bob").trust < 0.5, || inject("dan", "insult", "alice"), #{ cooldown: 4 });
every(3, || { if rand() < 0.5 { narrate("rain"); } });
"#;
    let extra = "[[trigger]]\nwhen = \"tick > 2\"\ncooldown = 5\ndo = [{ inject = { actor = \"carol\", action = \"help\", target = \"bob\" } }]\n";
    let text = format!("{CAST}{extra}\n[director]\ninline = \"\"\"\n{script}\"\"\"\n");
    let s = scenario::parse(&text, "replay.toml").unwrap();
    let mut live = Sim::from_scenario(&s, None, 2).unwrap();
    common::run(&mut live, 5);
    let start = live.snapshot();
    let inputs = vec![
        Input {
            tick: 8,
            command: Command::Inject { actor: CharacterId(0), action: Action::Betray, target: CharacterId(1) },
        },
        Input { tick: 12, command: Command::Narrate { text: "a user speaks".into() } },
    ];
    for i in &inputs {
        live.submit(i.clone()).unwrap();
    }
    let (live_hashes, live_events) = common::run(&mut live, 20);
    assert!(
        live_events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Injected { by: aion_engine::director::Source::Trigger, .. }))
    );
    let log: Vec<Input> = live.input_log().cloned().collect();
    assert_eq!(log, inputs, "director commands are not inputs");

    let mut replay = Sim::from_snapshot(&start, 1).unwrap();
    for i in log {
        replay.submit(i).unwrap();
    }
    let (hashes, events) = common::run(&mut replay, 20);
    assert_eq!(hashes, live_hashes);
    assert_eq!(events, live_events);
}

#[test]
fn goals_and_params_can_be_directed() {
    let extra = r#"
[[event]]
at = 2
do = [
  { set_goal = { character = "alice", goal = "revenge", target = "dan", priority = 0.9 } },
  { set_param = { name = "trust_loss", value = 0.3 } },
]

[[event]]
at = 4
do = [{ drop_goal = { character = "alice", goal = "revenge" } }]
"#;
    let mut sim = world(extra, 1);
    let (_, events) = common::run(&mut sim, 3);
    let adopted = events.iter().any(|e| {
        matches!(e.kind, EventKind::GoalChanged { character: CharacterId(0), target: Some(CharacterId(3)), .. })
    });
    assert!(adopted);
    assert_eq!(sim.state().params.trust_loss, 0.3);
    let (_, events) = common::run(&mut sim, 2);
    assert!(
        events.iter().any(|e| matches!(
            e.kind,
            EventKind::GoalChanged { change: aion_engine::goals::GoalChange::Abandoned, .. }
        ))
    );
    assert!(events.iter().any(|e| matches!(&e.kind, EventKind::Directed { command, .. } if command == "drop_goal")));
    assert!(sim.apply(&Command::SetParam { name: "capacity_per_tick".into(), value: 3.0 }).is_err());
}

#[test]
fn stop_when_ends_a_sweep_run_at_the_first_tick_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    let sc = dir.path().join("stop.toml");
    let text = format!(
        "{CAST}\n[experiment]\nrepetitions = 2\nticks = 50\nstop_when = \"tick >= 13 or metric.events > 100000\"\nmetrics = [\"events\"]\n"
    );
    std::fs::write(&sc, text).unwrap();
    let csv = dir.path().join("out.csv");
    let out = std::process::Command::new(common::aion_bin())
        .args(["sweep", sc.to_str().unwrap(), "--out", csv.to_str().unwrap(), "--threads", "1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let table = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<&str> = table.lines().collect();
    assert_eq!(rows[0], "run,combination,repetition,seed,events,stopped_at,world_hash");
    for r in &rows[1..] {
        assert_eq!(r.split(',').nth(5), Some("13"), "{table}");
    }
}
