//! Seed sweep (in the spirit of TigerBeetle's VOPR): random worlds, invariants checked every tick;
//! a failure names the seed and tick.

mod common;

use std::collections::BTreeMap;

use aion_engine::bonds::Bond;
use aion_engine::events::EventKind;
use aion_engine::params::Params;

#[test]
fn invariants_hold_on_every_tick_for_many_seeds() {
    let cap = Params::default().capacity_per_tick as u32;
    for seed in 0..12u64 {
        let mut sim = common::crowd(200 + 37 * seed as u32, 4 + 2 * (seed as u32 % 4), seed, 1 + (seed as usize % 2));
        let mut from = sim.events().next_seq();
        for _ in 0..40 {
            sim.step();
            let tick = sim.tick();
            let mut per_char: BTreeMap<u32, u32> = BTreeMap::new();
            for e in sim.events().since(from) {
                assert_eq!(e.tick, tick, "seed {seed}: event of another tick");
                if let EventKind::InteractionResolved { initiator, target, .. } = e.kind {
                    assert_ne!(initiator, target, "seed {seed} tick {tick}: self-interaction");
                    *per_char.entry(initiator.0).or_default() += 1;
                    *per_char.entry(target.0).or_default() += 1;
                }
            }
            from = sim.events().next_seq();
            for (c, n) in &per_char {
                assert!(*n <= cap, "seed {seed} tick {tick}: character {c} took part in {n} > {cap} interactions");
            }
            let st = sim.state();
            for c in &st.characters {
                for v in c.mood.to_array().into_iter().chain(c.baseline.to_array()) {
                    assert!((-1.0..=1.0).contains(&v), "seed {seed} tick {tick}: mood {v} of {:?}", c.id);
                }
                assert!(c.emotions.intensity.iter().all(|i| (0.0..=1.0).contains(i)), "seed {seed} tick {tick}");
                assert!((0.0..=1.0).contains(&c.energy), "seed {seed} tick {tick}");
            }
            for r in &st.relationships {
                assert!(r.bond.fields().iter().all(|f| f.2), "seed {seed} tick {tick}: bond {:?}", r.bond);
                let h = r.history;
                assert!(
                    (0.0..=1.0).contains(&h.grudge) && (0.0..=1.0).contains(&h.guilt),
                    "seed {seed} tick {tick}: {h:?}"
                );
            }
            for c in &st.characters {
                assert!(c.memory.len() <= aion_engine::memory::MEMORY_MAX, "seed {seed} tick {tick}");
                assert!(c.beliefs.len() <= aion_engine::gossip::BELIEFS_MAX, "seed {seed} tick {tick}");
                assert!(
                    c.trauma.shift.norm() <= aion_engine::memory::TRAUMA_SHIFT_MAX + 1e-4,
                    "seed {seed} tick {tick}"
                );
                assert!((-1.0..=1.0).contains(&c.status), "seed {seed} tick {tick}");
            }
            // Alliances are disjoint and every member exists.
            let mut seen = std::collections::BTreeSet::new();
            for g in &st.groups {
                assert!(g.members.len() >= aion_engine::social::GROUP_MIN_SIZE, "seed {seed} tick {tick}");
                for m in &g.members {
                    assert!(seen.insert(*m), "seed {seed} tick {tick}: {m:?} in two alliances");
                    assert!((m.0 as usize) < st.characters.len());
                }
            }
            // The hot copy in the graph index agrees with the Bond components.
            let g = sim.graph();
            for r in &st.relationships {
                let (s, t) = (g.slot_of(r.source).unwrap(), g.slot_of(r.target).unwrap());
                let e = g.edge(s, t).expect("indexed");
                let hot: Bond = g.bonds()[e];
                assert_eq!(hot, r.bond, "seed {seed} tick {tick}");
            }
        }
    }
}
