//! Tests of the sifter against planted stories, near misses, the bound, and the batch matcher.

use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::autonomy::Action;
use crate::bonds::{Bond, Standing};
use crate::dialogue::Line;
use crate::events::{Event, EventKind, Party};
use crate::groups::{ConflictLevel, Resolution};
use crate::ids::CharacterId;
use crate::mood::Pad;
use crate::personality::Personality;
use crate::trust::BetrayalKind;

const BETRAYAL: &str = r#"format = "aion.pattern/1"
[pattern]
name = "betrayal"
kind = "betrayal"
vars = ["a", "b"]

[[stage]]
name = "trust"
event = "interaction_resolved"
where = { initiator = "?b", target = "?a", action = ["help", "confide", "comfort"] }
when = ["bond(?a, ?b).trust > 0.4"]

[[stage]]
name = "betrayal"
within = 100
event = "trust_broken"
where = { victim = "?a", betrayer = "?b" }
unless = [{ event = "trust_repaired", where = { victim = "?a", betrayer = "?b" } }]

[[stage]]
name = "aftermath"
optional = true
any = true
within = 200
[[stage.clause]]
name = "revenge"
event = "interaction_resolved"
where = { initiator = "?a", target = "?b", action = ["insult", "threaten", "betray"] }
[[stage.clause]]
name = "forgiveness"
event = "trust_repaired"
where = { victim = "?a", betrayer = "?b" }
"#;

const SPAT: &str = r#"format = "aion.pattern/1"
[pattern]
name = "spat"
kind = "rivalry"
vars = ["x", "y"]

[[stage]]
name = "insult"
event = "interaction_resolved"
where = { initiator = "?x", target = "?y", action = "insult" }

[[stage]]
name = "exchange"
within = 30
once = true
unless = [{ event = "interaction_resolved", where = { initiator = "?x", target = "?y", action = "apologize" } }]
[[stage.clause]]
event = "interaction_resolved"
where = { initiator = "?y", target = "?x", action = ["insult", "threaten"] }
[[stage.clause]]
within = 10
event = "conflict_escalated"
where = { parties = ["?x", "?y"] }

[[stage]]
name = "end"
optional = true
any = true
within = 40
[[stage.clause]]
name = "peace"
event = "conflict_resolved"
where = { parties = ["?x", "?y"] }
[[stage.clause]]
name = "hate"
event = "bond_crossed"
where = { source = "?x", target = "?y", to = "enemy" }
unless = [{ event = "interaction_resolved", where = { initiator = "?y", target = "?x", action = "help" } }]
"#;

const PACT: &str = r#"format = "aion.pattern/1"
[pattern]
name = "pact"
kind = "alliance"
vars = ["g", "m", "n"]

[[stage]]
name = "formed"
event = "alliance_formed"
where = { group = "?g", members = ["?m", "?n"] }

[[stage]]
name = "strife"
within = 50
event = "interaction_resolved"
where = { initiator = "?m", target = "?n", action = "insult" }
when = ["valence < 0 or mood(?m).pleasure < 0"]

[[stage]]
name = "split"
any = true
once = true
within = 40
unless = [{ event = "trust_repaired", where = { victim = "?m", betrayer = "?n" } }]
[[stage.clause]]
event = "alliance_dissolved"
where = { group = "?g" }
[[stage.clause]]
event = "conflict_escalated"
where = { a = "?g" }
"#;

const SPARK: &str = r#"format = "aion.pattern/1"
[pattern]
name = "spark"
kind = "romance"
vars = ["p", "q"]

[[stage]]
name = "spark"
any = true
[[stage.clause]]
event = "interaction_resolved"
where = { initiator = "?p", target = "?q", action = "flirt", accepted = true }
[[stage.clause]]
event = "bond_crossed"
where = { source = "?p", target = "?q", to = "lover" }

[[stage]]
name = "echo"
optional = true
once = true
within = 20
event = "interaction_resolved"
where = { initiator = "?q", target = "?p", action = ["flirt", "confess"] }
unless = [{ event = "avoided", where = { character = "?q", target = "?p" } }]
"#;

/// Short windows and no `once`: copy-on-extend, expiry at exact deadlines and extended arcs that
/// later expire all happen often in short random logs.
const TIGHT: &str = r#"format = "aion.pattern/1"
[pattern]
name = "tight"
kind = "rivalry"
vars = ["a", "b"]

[[stage]]
name = "s0"
event = "interaction_resolved"
where = { initiator = "?a", target = "?b" }

[[stage]]
name = "s1"
within = 10
event = "interaction_resolved"
where = { initiator = "?b", target = "?a" }

[[stage]]
name = "s2"
optional = true
any = true
within = 8
[[stage.clause]]
event = "interaction_resolved"
where = { initiator = "?a", target = "?b" }
[[stage.clause]]
within = 3
event = "avoided"
where = { parties = ["?a", "?b"] }
unless = [{ event = "trust_repaired" }]

[[stage]]
name = "s3"
optional = true
[[stage.clause]]
within = 12
event = "interaction_resolved"
where = { parties = ["?a", "?b"] }
unless = [{ event = "bond_crossed", where = { source = "?a" } }]
[[stage.clause]]
within = 3
event = "interaction_resolved"
where = { initiator = "?b", target = "?a" }
"#;

fn pattern(text: &str) -> Pattern {
    parse(text, "test.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// Every bond has trust `trust`; moods are `mood` pleasure.
#[derive(Clone, Copy)]
struct Uniform {
    trust: f32,
    mood: f32,
}

impl StateView for Uniform {
    fn bond(&self, _: u32, _: u32) -> Option<Bond> {
        Some(Bond { trust: self.trust, ..Bond::default() })
    }
    fn personality(&self, _: u32) -> Option<Personality> {
        Some(Personality::default())
    }
    fn mood(&self, _: u32) -> Option<Pad> {
        Some(Pad::new(self.mood, 0.0, 0.0))
    }
}

const TRUSTING: Uniform = Uniform { trust: 0.8, mood: 0.0 };

/// Builds a log: each helper appends one event at the given tick.
#[derive(Default)]
struct Log {
    events: Vec<Event>,
}

impl Log {
    fn push(&mut self, tick: u64, kind: EventKind) -> u64 {
        let seq = self.events.len() as u64;
        self.events.push(Event { seq, tick, kind });
        seq
    }

    fn act(&mut self, tick: u64, from: u32, to: u32, action: Action, valence: f32) -> u64 {
        self.push(
            tick,
            EventKind::InteractionResolved {
                initiator: CharacterId(from),
                target: CharacterId(to),
                action,
                valence,
                initiator_valence: 0.0,
                line: Line::default(),
                about: None,
            },
        )
    }

    fn broken(&mut self, tick: u64, victim: u32, betrayer: u32) -> u64 {
        let kind = EventKind::TrustBroken {
            victim: CharacterId(victim),
            betrayer: CharacterId(betrayer),
            kind: BetrayalKind::BrokenTrust,
            trust_before: 0.8,
            trust_after: 0.1,
            cause: 0,
        };
        self.push(tick, kind)
    }

    fn repaired(&mut self, tick: u64, victim: u32, betrayer: u32) -> u64 {
        let kind = EventKind::TrustRepaired {
            victim: CharacterId(victim),
            betrayer: CharacterId(betrayer),
            trust: 0.3,
            cause: 0,
        };
        self.push(tick, kind)
    }

    fn facts(&self) -> Vec<Fact> {
        self.events.iter().map(fact_of).collect()
    }
}

/// Feeds the whole log in one call, then advances to `now`.
fn sift(patterns: &[Pattern], log: &Log, state: Uniform, now: u64) -> Vec<MatchEvent> {
    let mut s = Sifter::new(patterns.to_vec());
    let mut out = s.feed(&log.facts(), &state, false);
    out.extend(s.advance(now));
    out
}

fn binding(e: &MatchEvent, var: &str) -> Option<Value> {
    e.bindings.iter().find(|(n, _)| &**n == var).map(|(_, v)| *v)
}

#[test]
fn a_planted_betrayal_is_found_with_its_bindings_and_stages() {
    let pat = pattern(BETRAYAL);
    let mut log = Log::default();
    log.act(1, 5, 6, Action::Chat, 0.5); // noise
    let trust = log.act(2, 2, 1, Action::Help, 0.5);
    log.act(3, 1, 2, Action::Chat, 0.5);
    let betrayal = log.broken(50, 1, 2);
    let revenge = log.act(90, 1, 2, Action::Insult, -0.5);
    let out = sift(&[pat], &log, TRUSTING, 0);
    assert_eq!(out.len(), 2, "{out:#?}");
    let (done, more) = (&out[0], &out[1]);
    assert_eq!((done.stage, done.tick, done.completed, done.abandoned), (1, 50, true, None));
    assert_eq!(binding(done, "a"), Some(Value::Char(1)));
    assert_eq!(binding(done, "b"), Some(Value::Char(2)));
    assert_eq!(done.beats, [Beat { clause: 0, seq: trust }, Beat { clause: 1, seq: betrayal }]);
    assert_eq!((done.arc, done.parent.is_some()), (Some(done.id), true));
    assert_eq!((more.stage, more.tick, more.completed), (2, 90, true));
    assert_eq!((more.parent, more.arc), (Some(done.id), Some(done.id)));
    assert_eq!(more.beats.last(), Some(&Beat { clause: 2, seq: revenge }));
    let names: Vec<&str> = done.bindings.iter().map(|(n, _)| &**n).collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn near_misses_are_not_matches() {
    let pat = pattern(BETRAYAL);
    type Plant = fn(&mut Log);
    let cases: [(&str, Plant); 5] = [
        ("wrong order", |l| {
            l.broken(5, 1, 2);
            l.act(6, 2, 1, Action::Help, 0.5);
        }),
        ("outside the window", |l| {
            l.act(5, 2, 1, Action::Help, 0.5);
            l.broken(106, 1, 2);
        }),
        ("an unless fact between", |l| {
            l.act(5, 2, 1, Action::Help, 0.5);
            l.repaired(6, 1, 2);
            l.broken(7, 1, 2);
        }),
        ("wrong participants", |l| {
            l.act(5, 2, 1, Action::Help, 0.5);
            l.broken(7, 1, 3);
            l.broken(8, 2, 1);
        }),
        ("wrong action", |l| {
            l.act(5, 2, 1, Action::Chat, 0.5);
            l.broken(7, 1, 2);
        }),
    ];
    for (what, plant) in cases {
        let mut log = Log::default();
        plant(&mut log);
        let out = sift(std::slice::from_ref(&pat), &log, TRUSTING, 0);
        assert!(out.is_empty(), "{what}: {out:#?}");
    }
    // The window is inclusive, and a `when` condition on the state decides.
    let mut log = Log::default();
    log.act(5, 2, 1, Action::Help, 0.5);
    log.broken(105, 1, 2);
    assert_eq!(sift(std::slice::from_ref(&pat), &log, TRUSTING, 0).len(), 1);
    assert!(sift(&[pat], &log, Uniform { trust: 0.4, mood: 0.0 }, 0).is_empty());
}

#[test]
fn every_combination_is_a_match_and_abandonment_is_reported_once() {
    let pat = pattern(BETRAYAL);
    let mut log = Log::default();
    log.act(1, 2, 1, Action::Help, 0.5);
    log.act(2, 2, 1, Action::Confide, 0.5);
    log.broken(3, 1, 2);
    let out = sift(&[pat], &log, TRUSTING, 1000);
    // Two trusts x one betrayal: two arcs, each abandoned when the aftermath window closed.
    let reached: Vec<_> = out.iter().filter(|e| e.abandoned.is_none()).collect();
    let ended: Vec<_> = out.iter().filter(|e| e.abandoned.is_some()).collect();
    assert_eq!((reached.len(), ended.len()), (2, 2), "{out:#?}");
    assert_ne!(reached[0].id, reached[1].id);
    for e in ended {
        assert_eq!((e.abandoned, e.tick, e.completed, e.stage), (Some(Abandon::Expired), 204, true, 1));
    }
}

#[test]
fn an_extended_match_is_not_abandoned_but_a_negated_one_is() {
    let pat = pattern(SPAT);
    let mut log = Log::default();
    log.act(1, 1, 2, Action::Insult, -0.5);
    log.act(2, 2, 1, Action::Threaten, -0.5);
    let conflict = |a, b| EventKind::ConflictEscalated {
        a: Party::Character(CharacterId(a)),
        b: Party::Character(CharacterId(b)),
        level: ConflictLevel::Insult,
        cause: 0,
    };
    log.push(5, conflict(2, 1));
    log.push(
        8,
        EventKind::ConflictResolved {
            a: Party::Character(CharacterId(1)),
            b: Party::Character(CharacterId(2)),
            how: Resolution::Apology,
            cause: 0,
        },
    );
    let out = sift(std::slice::from_ref(&pat), &log, TRUSTING, 500);
    let got: Vec<_> = out.iter().map(|e| (e.stage, e.tick, e.abandoned)).collect();
    assert_eq!(got, [(1, 5, None), (2, 8, None)], "extended, so never reported abandoned");
    assert_eq!(pat.beat(out[1].beats[3].clause), "peace");
    // An apology between the insult and the reply rules the exchange out.
    let mut log = Log::default();
    log.act(1, 1, 2, Action::Insult, -0.5);
    log.act(2, 1, 2, Action::Apologize, 0.5);
    log.act(3, 2, 1, Action::Threaten, -0.5);
    log.push(4, conflict(1, 2));
    assert!(sift(std::slice::from_ref(&pat), &log, TRUSTING, 500).is_empty());
    // The reply's own window: the conflict must follow within 10 ticks.
    let mut log = Log::default();
    log.act(1, 1, 2, Action::Insult, -0.5);
    log.act(2, 2, 1, Action::Threaten, -0.5);
    log.push(13, conflict(1, 2));
    assert!(sift(std::slice::from_ref(&pat), &log, TRUSTING, 500).is_empty());
    // A completed spat whose only possible ending is ruled out, then expired.
    let mut log = Log::default();
    log.act(1, 1, 2, Action::Insult, -0.5);
    log.act(2, 2, 1, Action::Threaten, -0.5);
    log.push(3, conflict(1, 2));
    log.act(4, 2, 1, Action::Help, 0.5);
    let out = sift(&[pat], &log, TRUSTING, 500);
    let got: Vec<_> = out.iter().map(|e| (e.stage, e.tick, e.abandoned)).collect();
    assert_eq!(got, [(1, 3, None), (1, 44, Some(Abandon::Expired))]);
}

#[test]
fn a_set_field_binds_each_member() {
    let pat = pattern(PACT);
    let mut log = Log::default();
    let members = vec![CharacterId(1), CharacterId(2), CharacterId(3)];
    log.push(1, EventKind::AllianceFormed { group: 7, members, leader: CharacterId(1) });
    log.act(2, 3, 1, Action::Insult, -0.5);
    log.push(9, EventKind::AllianceDissolved { group: 7, members: vec![], reason: "cohesion".into() });
    let out = sift(&[pat], &log, TRUSTING, 0);
    let got: Vec<_> = out.iter().map(|e| (e.stage, binding(e, "m"), binding(e, "n"), binding(e, "g"))).collect();
    let (m, n, g) = (Some(Value::Char(3)), Some(Value::Char(1)), Some(Value::Group(7)));
    assert_eq!(got, [(1, m, n, g), (2, m, n, g)]);
    assert!(out[1].completed);
}

#[test]
fn a_one_stage_arc_is_reported_at_once_and_optional_stages_extend_it() {
    let pat = pattern(SPARK);
    let mut log = Log::default();
    log.act(1, 1, 2, Action::Flirt, 0.5);
    log.act(2, 3, 4, Action::Flirt, -0.5); // not accepted
    log.act(3, 2, 1, Action::Confess, 0.5);
    let out = sift(&[pat], &log, TRUSTING, 0);
    let got: Vec<_> = out.iter().map(|e| (e.stage, e.tick, e.completed)).collect();
    assert_eq!(got, [(0, 1, true), (1, 3, true)], "{out:#?}");
    assert_eq!((out[1].parent, out[1].arc), (Some(out[0].id), Some(out[0].id)));
}

#[test]
fn the_bound_drops_the_least_recently_advanced_first_and_reports_dropped_arcs() {
    let limits = Limits { partials_max: 100, partials_per_pattern_max: 4 };
    let mut s = Sifter::with_limits(vec![pattern(BETRAYAL)], limits);
    assert_eq!(s.pattern_bound(), 4);
    let mut log = Log::default();
    // Three completed arcs (each waits for its aftermath), then a flood of openings.
    for (t, (a, b)) in [(1, 2), (3, 4), (5, 6)].into_iter().enumerate() {
        log.act(t as u64, b, a, Action::Help, 0.5);
        log.broken(t as u64, a, b);
    }
    for t in 10..30 {
        log.act(t, 8, 9, Action::Comfort, 0.5);
    }
    let out = s.feed(&log.facts(), &TRUSTING, false);
    assert!(s.n_partials() <= 4, "{}", s.n_partials());
    let evicted: Vec<_> = out.iter().filter(|e| e.abandoned == Some(Abandon::Evicted)).collect();
    let victims: Vec<_> = evicted.iter().map(|e| binding(e, "a")).collect();
    assert_eq!(victims, [Some(Value::Char(1)), Some(Value::Char(3)), Some(Value::Char(5))], "oldest first");
    assert!(evicted.iter().all(|e| e.completed && e.stage == 1));
    // Only the newest openings are left, so a late betrayal of the flood's pair still matches.
    log.broken(31, 9, 8);
    let more = s.feed(&log.facts(), &TRUSTING, false);
    assert_eq!(more.iter().filter(|e| e.abandoned.is_none()).count(), 4, "{more:#?}");
    // With room, nothing is dropped and an old arc still advances.
    let mut roomy =
        Sifter::with_limits(vec![pattern(BETRAYAL)], Limits { partials_max: 64, partials_per_pattern_max: 64 });
    roomy.feed(&log.facts(), &TRUSTING, false);
    assert_eq!(roomy.n_evicted(), 0);
    let revenge = log.act(70, 1, 2, Action::Threaten, -0.5);
    let more = roomy.feed(&log.facts(), &TRUSTING, false);
    assert_eq!(more.len(), 1);
    assert_eq!(more[0].beats.last().map(|b| b.seq), Some(revenge));
    // The per-pattern share of the total bound.
    let two = vec![pattern(BETRAYAL), pattern(SPAT)];
    assert_eq!(Sifter::with_limits(two, Limits { partials_max: 10, partials_per_pattern_max: 8 }).pattern_bound(), 5);
}

#[test]
fn facts_fed_twice_are_skipped() {
    let mut log = Log::default();
    log.act(1, 2, 1, Action::Help, 0.5);
    log.broken(2, 1, 2);
    let mut s = Sifter::new(vec![pattern(BETRAYAL)]);
    assert_eq!(s.feed(&log.facts(), &TRUSTING, true).len(), 1);
    assert!(s.feed(&log.facts(), &TRUSTING, true).is_empty());
}

/// A state that differs per chunk of the log, so conditions see "the state when the fact arrived".
#[derive(Clone, Copy)]
struct ChunkState(u64);

impl StateView for ChunkState {
    fn bond(&self, a: u32, b: u32) -> Option<Bond> {
        let x = (u64::from(a) * 3 + u64::from(b) * 5 + self.0) % 7;
        (x != 6).then(|| Bond { trust: x as f32 / 7.0, ..Bond::default() })
    }
    fn personality(&self, _: u32) -> Option<Personality> {
        Some(Personality::default())
    }
    fn mood(&self, c: u32) -> Option<Pad> {
        Some(Pad::new(((u64::from(c) + self.0) % 3) as f32 - 1.0, 0.0, 0.0))
    }
}

/// One random event from small numbers: kind, three participants, a parameter.
fn random_event(kind: u8, a: u8, b: u8, c: u8, x: u8) -> EventKind {
    let ch = |v: u8| CharacterId(u32::from(v % 3));
    let (a, b) = if a % 3 == b % 3 { (ch(a), ch(b + 1)) } else { (ch(a), ch(b)) };
    let party = |v: u8, ch: CharacterId| {
        if v.is_multiple_of(4) { Party::Group(10 + u64::from(v % 3)) } else { Party::Character(ch) }
    };
    const ACTS: [Action; 12] = [
        Action::Help,
        Action::Insult,
        Action::Threaten,
        Action::Apologize,
        Action::Flirt,
        Action::Confess,
        Action::Insult,
        Action::Comfort,
        Action::Confide,
        Action::Betray,
        Action::Chat,
        Action::Flirt,
    ];
    let standings = [Standing::Neutral, Standing::Friend, Standing::Lover, Standing::Enemy];
    let members = |v: u8| (0..3).filter(|i| v & (1 << i) != 0).map(CharacterId).collect::<Vec<_>>();
    match kind % 12 {
        0..=3 => EventKind::InteractionResolved {
            initiator: a,
            target: b,
            action: ACTS[usize::from(x % 12)],
            valence: if c.is_multiple_of(2) { 0.5 } else { -0.5 },
            initiator_valence: 0.0,
            line: Line::default(),
            about: None,
        },
        4 => EventKind::TrustBroken {
            victim: a,
            betrayer: b,
            kind: BetrayalKind::BrokenTrust,
            trust_before: 0.5,
            trust_after: 0.0,
            cause: 0,
        },
        5 => EventKind::TrustRepaired { victim: a, betrayer: b, trust: 0.2, cause: 0 },
        6 => EventKind::BondCrossed {
            source: a,
            target: b,
            from: Standing::Neutral,
            to: standings[usize::from(x % 4)],
            cause: 0,
        },
        7 => EventKind::AllianceFormed { group: 10 + u64::from(x % 3), members: members(c | 3), leader: a },
        8 => EventKind::AllianceDissolved {
            group: 10 + u64::from(x % 3),
            members: members(c),
            reason: "cohesion".into(),
        },
        9 => EventKind::ConflictEscalated { a: party(x, a), b: party(c, b), level: ConflictLevel::Threat, cause: 0 },
        10 => EventKind::ConflictResolved { a: party(x, a), b: party(c, b), how: Resolution::Mediation, cause: 0 },
        _ => EventKind::Avoided { character: a, target: b },
    }
}

fn library() -> Vec<Pattern> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/patterns");
    load_dir(&dir).unwrap_or_else(|e| panic!("{e}"))
}

/// Feeds `facts` in chunks (`cuts` decide where), each with its own state, optionally advancing the
/// clock between chunks; returns everything reported after a final `advance(now)`.
fn incremental(
    patterns: &[Pattern],
    facts: &[Fact],
    cuts: &[usize],
    advance: &[bool],
    parallel: bool,
    now: u64,
) -> Vec<MatchEvent> {
    let mut s = Sifter::new(patterns.to_vec());
    let mut out = Vec::new();
    let mut start = 0;
    for (i, &len) in cuts.iter().enumerate() {
        let end = (start + len).min(facts.len());
        out.extend(s.feed(&facts[start..end], &ChunkState(i as u64), parallel));
        if advance[i % advance.len()]
            && let Some(next) = facts.get(end)
        {
            out.extend(s.advance(next.tick));
        }
        start = end;
    }
    out.extend(s.feed(&facts[start..], &ChunkState(cuts.len() as u64), parallel));
    out.extend(s.advance(now));
    assert_eq!(s.n_evicted(), 0, "the bound must not drop anything in this test");
    assert!(out.windows(2).all(|w| w[0].tick <= w[1].tick), "reported in tick order across calls");
    out
}

/// The chunk a fact falls in, as `incremental` cuts the log.
fn chunk_of(seq: u64, cuts: &[usize], n: usize) -> u64 {
    let mut end = 0;
    for (i, &len) in cuts.iter().enumerate() {
        end = (end + len).min(n);
        if (seq as usize) < end {
            return i as u64;
        }
    }
    cuts.len() as u64
}

type Raw = (u8, u8, u8, u8, u8, u8);

fn random_log(raw: &[Raw]) -> Vec<Fact> {
    let mut log = Log::default();
    let mut tick = 0;
    for &(kind, a, b, c, x, gap) in raw {
        tick += u64::from(gap % 5);
        log.push(tick, random_event(kind, a, b, c, x));
    }
    log.facts()
}

fn same_as_batch(patterns: &[Pattern], raw: &[Raw], cuts: &[usize], advance: &[bool], parallel: bool, extra: u64) {
    let facts = random_log(raw);
    let now = facts.last().map_or(0, |f| f.tick) + extra;
    let mut got = incremental(patterns, &facts, cuts, advance, parallel, now);
    got.sort_by_key(sift::order);
    let want = batch(patterns, &facts, now, |seq| ChunkState(chunk_of(seq, cuts, facts.len())));
    assert_eq!(got, want);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// The incremental sifter reports exactly what the batch matcher finds, however the log is cut
    /// into calls, with or without clock advances and parallelism.
    #[test]
    fn incremental_equals_batch_on_random_logs(
        raw in prop::collection::vec((0u8..12, 0u8..5, 0u8..5, 0u8..32, 0u8..12, 0u8..8), 0..48),
        cuts in prop::collection::vec(0usize..10, 0..6),
        advance in prop::collection::vec(any::<bool>(), 1..4),
        parallel in any::<bool>(),
        extra in 0u64..60,
    ) {
        let patterns: Vec<Pattern> = [BETRAYAL, SPAT, PACT, SPARK, TIGHT].into_iter().map(pattern).collect();
        same_as_batch(&patterns, &raw, &cuts, &advance, parallel, extra);
    }

    /// The same with the shipped pattern library.
    #[test]
    fn incremental_equals_batch_with_the_library(
        raw in prop::collection::vec((0u8..12, 0u8..5, 0u8..5, 0u8..32, 0u8..12, 0u8..8), 0..30),
        cuts in prop::collection::vec(0usize..10, 0..5),
        advance in prop::collection::vec(any::<bool>(), 1..3),
        parallel in any::<bool>(),
        extra in 0u64..3000,
    ) {
        same_as_batch(&library(), &raw, &cuts, &advance, parallel, extra);
    }
}

#[test]
fn bindings_name_shared_variables() {
    let pat = pattern(BETRAYAL);
    assert_eq!(pat.vars, [Arc::from("a"), Arc::from("b")]);
    assert_eq!((pat.n_clauses(), pat.last_required(), pat.stage_of(3)), (4, 1, 2));
    assert_eq!((pat.beat(0), pat.beat(2), pat.beat(3)), ("trust", "revenge", "forgiveness"));
}

#[test]
fn a_restored_sifter_continues_exactly() {
    let mut patterns: Vec<Pattern> = [BETRAYAL, SPAT, PACT, SPARK].into_iter().map(pattern).collect();
    patterns.extend(library());
    let mut x: u64 = 7;
    let mut next = || {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (x >> 33) as u8
    };
    let raw: Vec<Raw> = (0..120).map(|_| (next(), next(), next(), next(), next(), next())).collect();
    let facts = random_log(&raw);
    let (head, tail) = facts.split_at(60);
    let mut whole = Sifter::new(patterns.clone());
    let mut want = whole.feed(head, &ChunkState(0), false);
    want.extend(whole.feed(tail, &ChunkState(1), false));
    let mut first = Sifter::new(patterns.clone());
    let mut got = first.feed(head, &ChunkState(0), false);
    let saved = first.state();
    assert!(saved.patterns.iter().map(|p| p.partials.len()).sum::<usize>() > 0, "something to save");
    let json = serde_json::to_string(&saved).unwrap();
    let loaded: SiftState = serde_json::from_str(&json).unwrap();
    assert_eq!(loaded, saved);
    let mut second = Sifter::restore(patterns.clone(), Limits::default(), &loaded).unwrap();
    assert_eq!(second.state(), saved);
    got.extend(second.feed(tail, &ChunkState(1), false));
    assert!(want.iter().filter(|e| e.tick > head.last().unwrap().tick).count() > 0, "the tail reports");
    assert_eq!(got, want);
    // A state only fits the patterns it was saved with.
    let fewer = patterns[1..].to_vec();
    assert!(matches!(Sifter::restore(fewer, Limits::default(), &saved), Err(RestoreError::Mismatch(_))));
    let mut changed = patterns.clone();
    changed[0].stages[1].within = Some(7);
    assert!(matches!(Sifter::restore(changed, Limits::default(), &saved), Err(RestoreError::Mismatch(_))));
}

/// A view of a running world, rebuilt from `Sim::state` after each tick.
struct WorldView {
    bonds: std::collections::BTreeMap<(u32, u32), Bond>,
    people: Vec<(Personality, Pad)>,
}

impl WorldView {
    fn of(sim: &mut crate::Sim) -> Self {
        let s = sim.state();
        Self {
            bonds: s.relationships.iter().map(|r| ((r.source.0, r.target.0), r.bond)).collect(),
            people: s.characters.iter().map(|c| (c.personality, c.mood)).collect(),
        }
    }
}

impl StateView for WorldView {
    fn bond(&self, a: u32, b: u32) -> Option<Bond> {
        self.bonds.get(&(a, b)).copied()
    }
    fn personality(&self, c: u32) -> Option<Personality> {
        self.people.get(c as usize).map(|p| p.0)
    }
    fn mood(&self, c: u32) -> Option<Pad> {
        self.people.get(c as usize).map(|p| p.1)
    }
}

/// The shipped library finds stories in a shipped scenario, tick by tick, with the same results on
/// one thread and in parallel.
#[test]
fn the_library_finds_stories_in_harbor_town() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/harbor_town.toml");
    let scenario = crate::scenario::load(&path).unwrap();
    let mut sim = crate::Sim::from_scenario(&scenario, None, 1).unwrap();
    let (mut one, mut many) = (Sifter::new(library()), Sifter::new(library()));
    let mut next = 0;
    let mut reports = Vec::new();
    for _ in 0..1000 {
        sim.step();
        let facts: Vec<Fact> = sim.events().since(next).map(fact_of).collect();
        next = sim.events().next_seq();
        let view = WorldView::of(&mut sim);
        let (mut a, mut b) = (one.feed(&facts, &view, false), many.feed(&facts, &view, true));
        a.extend(one.advance(sim.tick() + 1));
        b.extend(many.advance(sim.tick() + 1));
        assert_eq!(a, b, "tick {}", sim.tick());
        reports.extend(a);
    }
    let completed: std::collections::BTreeSet<&str> = reports
        .iter()
        .filter(|e| e.completed && e.abandoned.is_none())
        .map(|e| one.patterns()[e.pattern].kind.as_str())
        .collect();
    assert!(completed.contains("friendship") && completed.contains("romance"), "{completed:?}");
    assert_eq!(one.n_evicted(), 0);
}

/// An expiry noticed at a fact comes before that fact's extensions: a stage-1 arc whose window for
/// the next stage closed at tick 11 is abandoned at tick 12, even though a continuation started in
/// time completes the next stage at tick 12 (reported with the abandoned arc as parent).
#[test]
fn an_expiry_noticed_at_a_fact_precedes_its_extensions() {
    let text = r#"format = "aion.pattern/1"
[pattern]
name = "edge"
kind = "rivalry"
vars = ["a", "b"]
[[stage]]
name = "s0"
event = "interaction_resolved"
where = { initiator = "?a", target = "?b" }
[[stage]]
name = "s1"
event = "interaction_resolved"
where = { initiator = "?b", target = "?a" }
[[stage]]
name = "s2"
optional = true
[[stage.clause]]
within = 10
event = "avoided"
where = { character = "?a", target = "?b" }
[[stage.clause]]
within = 5
event = "avoided"
where = { character = "?b", target = "?a" }
"#;
    let pat = pattern(text);
    let mut log = Log::default();
    log.act(0, 1, 2, Action::Help, 0.5);
    log.act(1, 2, 1, Action::Help, 0.5);
    log.push(11, EventKind::Avoided { character: CharacterId(1), target: CharacterId(2) });
    log.push(12, EventKind::Avoided { character: CharacterId(2), target: CharacterId(1) });
    let mut got = sift(std::slice::from_ref(&pat), &log, TRUSTING, 0);
    got.sort_by_key(|e| (e.tick, e.stage, e.abandoned.is_none()));
    let summary: Vec<_> = got.iter().map(|e| (e.stage, e.tick, e.abandoned)).collect();
    assert_eq!(summary, [(1, 1, None), (1, 12, Some(Abandon::Expired)), (2, 12, None)]);
    assert_eq!(got[2].parent, Some(got[0].id));
    assert_eq!(got, {
        let mut want = batch(&[pat], &log.facts(), 0, |_| TRUSTING);
        want.sort_by_key(|e| (e.tick, e.stage, e.abandoned.is_none()));
        want
    });
}
