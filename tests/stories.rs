//! Plot detection on real worlds (issue 4): the shipped scenarios tell stories of their genre, every
//! beat cites a real event, and sifting keeps the determinism contract.

mod common;

use aion_engine::Sim;
use aion_engine::events::{Event, EventKind};
use aion_engine::plot;
use aion_engine::scenario;
use aion_engine::story::StoryArc;

fn patterns() -> Vec<plot::Pattern> {
    plot::load_dir(&common::scenario_path("patterns")).expect("the shipped patterns load")
}

fn run_with_stories(path: &std::path::Path, ticks: u64, threads: usize) -> (Sim, Vec<Event>) {
    let s = scenario::load(path).expect("scenario loads");
    let mut sim = Sim::from_scenario(&s, None, threads).expect("builds");
    sim.set_patterns(patterns()).expect("fresh sifter");
    let mut events: Vec<Event> = sim.events().iter().cloned().collect();
    let mut from = sim.events().next_seq();
    for _ in 0..ticks {
        sim.step();
        events.extend(sim.events().since(from).cloned());
        from = sim.events().next_seq();
    }
    (sim, events)
}

fn arcs(sim: &Sim) -> Vec<StoryArc> {
    sim.stories().expect("sifting is on").arcs.values().cloned().collect()
}

#[test]
fn every_hand_made_scenario_tells_a_story_of_its_genre_within_2000_ticks() {
    for name in ["harbor_town.toml", "summer_wedding.toml", "manor_mystery.toml"] {
        let path = common::scenario_path(name);
        let genre = scenario::load(&path).unwrap().world.genre;
        let (sim, events) = run_with_stories(&path, 2_000, 1);
        let arcs = arcs(&sim);
        let primary: Vec<&StoryArc> = arcs.iter().filter(|a| a.primary).collect();
        let kinds: std::collections::BTreeSet<&str> = arcs.iter().map(|a| a.kind.as_str()).collect();
        assert!(!primary.is_empty(), "{name} ({genre:?}): no arc of its genre among {kinds:?}");
        // Every beat cites a real event of that tick.
        for a in &arcs {
            for b in &a.beats {
                let e = events
                    .iter()
                    .find(|e| e.seq == b.seq)
                    .unwrap_or_else(|| panic!("{name}: beat cites missing event {}", b.seq));
                assert_eq!(e.tick, b.tick, "{name}: beat tick");
            }
        }
        assert!(events.iter().any(|e| matches!(e.kind, EventKind::ArcAdvanced { .. })));
    }
}

#[test]
fn sifting_is_deterministic_across_threads_and_snapshots() {
    let path = common::scenario_path("harbor_town.toml");
    let (a, ea) = run_with_stories(&path, 300, 1);
    let (b, eb) = run_with_stories(&path, 300, 2);
    assert_eq!(ea, eb);
    assert_eq!(arcs(&a), arcs(&b));

    let (mut first, _) = run_with_stories(&path, 150, 2);
    let mut resumed = Sim::from_snapshot(&first.snapshot(), 1).expect("loads");
    resumed.set_patterns(patterns()).expect("same patterns restore the sifter");
    let mut from = resumed.events().next_seq();
    let mut tail = Vec::new();
    for _ in 0..150 {
        resumed.step();
        tail.extend(resumed.events().since(from).cloned());
        from = resumed.events().next_seq();
    }
    assert_eq!(resumed.world_hash(), a.world_hash());
    let expected: Vec<Event> = ea.into_iter().filter(|e| e.tick > 150).collect();
    assert_eq!(tail, expected);
    assert_eq!(arcs(&resumed), arcs(&a));
}

#[test]
fn the_generated_populations_tell_stories_of_their_genre_too() {
    // Large worlds find their first stories quickly; fewer ticks keep the debug test short.
    for (name, ticks) in [("village_500.toml", 300), ("crowd_10k.toml", 45)] {
        let (sim, _) = run_with_stories(&common::scenario_path(name), ticks, 2);
        let arcs = arcs(&sim);
        let kinds: std::collections::BTreeSet<&str> = arcs.iter().map(|a| a.kind.as_str()).collect();
        assert!(arcs.iter().any(|a| a.primary), "{name}: no arc of its genre among {kinds:?}");
    }
}
