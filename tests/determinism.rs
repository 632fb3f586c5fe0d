//! Determinism contract: same scenario + seed + inputs => identical hashes and events on every tick,
//! with 1 thread or 2, and across snapshot/continue.

mod common;

use aion_engine::Sim;
use aion_engine::events::EventKind;
use aion_engine::scenario;
use common::{crowd, run};

#[test]
fn one_and_two_threads_agree_on_every_tick() {
    // 6,000 characters: above the parallel threshold, so the 2-thread run really fans out.
    let (h1, e1) = run(&mut crowd(6_000, 12, 42, 1), 25);
    let (h2, e2) = run(&mut crowd(6_000, 12, 42, 2), 25);
    assert_eq!(h1, h2);
    assert_eq!(e1, e2);
    assert!(e1.iter().any(|e| matches!(e.kind, EventKind::InteractionResolved { .. })));
}

#[test]
fn another_seed_gives_another_history() {
    let (a, _) = run(&mut crowd(500, 10, 1, 1), 10);
    let (b, _) = run(&mut crowd(500, 10, 2, 1), 10);
    assert_ne!(a, b);
}

#[test]
fn every_shipped_scenario_is_deterministic_across_threads() {
    for path in common::shipped_scenarios() {
        let s = scenario::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut a = Sim::from_scenario(&s, None, 1).expect("builds");
        let mut b = Sim::from_scenario(&s, None, 2).expect("builds");
        let ticks = if a.graph().n_characters() > 5_000 { 10 } else { 60 };
        let (ha, ea) = run(&mut a, ticks);
        let (hb, eb) = run(&mut b, ticks);
        assert_eq!(ha, hb, "{}", path.display());
        assert_eq!(ea, eb, "{}", path.display());
    }
}

#[test]
fn continuing_from_a_snapshot_matches_the_uninterrupted_run() {
    let mut whole = crowd(5_000, 10, 7, 2);
    let (h_whole, e_whole) = run(&mut whole, 40);

    let mut first = crowd(5_000, 10, 7, 2);
    let (h_first, _) = run(&mut first, 20);
    let bytes = first.snapshot();
    let mut resumed = Sim::from_snapshot(&bytes, 1).expect("snapshot loads");
    assert_eq!(resumed.tick(), 20);
    let (h_rest, e_rest) = run(&mut resumed, 20);

    assert_eq!(h_first[..], h_whole[..20]);
    assert_eq!(h_rest[..], h_whole[20..]);
    let tail: Vec<_> = e_whole.into_iter().filter(|e| e.tick > 20).collect();
    assert_eq!(e_rest, tail);
}

#[test]
fn a_snapshot_round_trips_to_the_same_state() {
    let mut sim = crowd(300, 8, 3, 1);
    run(&mut sim, 15);
    let before = sim.state();
    let mut loaded = Sim::from_snapshot(&sim.snapshot(), 2).expect("loads");
    assert_eq!(loaded.state(), before);
}
