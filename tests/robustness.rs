//! Every external format refuses bad input with an error and never panics: scenarios, story
//! patterns and snapshots, fed random text and byte-level mutations of the shipped files.
//! (A stand-in for coverage-guided fuzzing, which needs a nightly toolchain this machine lacks.)

mod common;

use aion_engine::{plot, scenario, snapshot};
use proptest::prelude::*;

fn shipped(dir: &str) -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    v.sort();
    v
}

/// Applies byte edits (position, new byte) and cuts, keeping the text UTF-8 (lossy).
fn mutate(text: &str, edits: &[(usize, u8)], cut: Option<usize>) -> String {
    let mut b = text.as_bytes().to_vec();
    for (pos, byte) in edits {
        if !b.is_empty() {
            let i = pos % b.len();
            b[i] = *byte;
        }
    }
    if let Some(c) = cut
        && !b.is_empty()
    {
        b.truncate(c % b.len());
    }
    String::from_utf8_lossy(&b).into_owned()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn mutated_scenarios_are_refused_or_accepted_but_never_panic(
        which in 0usize..64,
        edits in prop::collection::vec((any::<usize>(), prop::sample::select(b"=[]{}\"\n,.0-9az#".to_vec())), 1..6),
        cut in prop::option::of(any::<usize>()),
    ) {
        let files = shipped("scenarios");
        let (name, text) = &files[which % files.len()];
        // Scripts are not read from disk here: a mutated `script = ...` must not touch files.
        let parsed = scenario::parse_with(&mutate(text, &edits, cut), name, &|_| Err("no scripts in this test".into()));
        if let Err(e) = parsed {
            let m = e.to_string();
            prop_assert!(m.contains(name.as_str()) || m.contains("syntax"), "errors name the file: {m}");
        }
    }

    #[test]
    fn random_text_is_not_a_scenario_or_a_pattern(text in "\\PC{0,400}") {
        let _ = scenario::parse_with(&text, "random.toml", &|_| Err("no scripts".into()));
        let _ = plot::parse(&text, "random.toml");
    }

    #[test]
    fn mutated_patterns_never_panic(
        which in 0usize..64,
        edits in prop::collection::vec((any::<usize>(), prop::sample::select(b"=[]{}\"\n,.0-9az<>&|!".to_vec())), 1..6),
        cut in prop::option::of(any::<usize>()),
    ) {
        let files = shipped("scenarios/patterns");
        let (name, text) = &files[which % files.len()];
        let _ = plot::parse(&mutate(text, &edits, cut), name);
    }

    #[test]
    fn damaged_snapshots_are_refused(edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in prop::option::of(any::<usize>())) {
        let mut sim = common::crowd(60, 4, 3, 1);
        for _ in 0..5 {
            sim.step();
        }
        let good = sim.snapshot();
        let mut bad = good.clone();
        for (pos, byte) in &edits {
            let i = pos % bad.len();
            bad[i] = *byte;
        }
        if let Some(c) = cut {
            bad.truncate(c % bad.len());
        }
        if bad != good {
            prop_assert!(snapshot::decode(&bad).is_err(), "a damaged snapshot was accepted");
        }
    }
}
