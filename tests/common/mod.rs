//! Shared builders for the integration tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

use aion_engine::Sim;
use aion_engine::events::Event;
use aion_engine::params::Params;
use aion_engine::scenario::{self, Genre, WorldSeed};
use aion_engine::world::WorldInfo;

/// A generated small-world population, as `aion bench` builds it.
pub fn crowd(n: u32, degree: u32, seed: u64, threads: usize) -> Sim {
    let ws = scenario::generate(n, degree, 0.1, 0.35, seed);
    from_seed(ws, seed, threads)
}

/// A world from explicit characters and relationships.
pub fn from_seed(ws: WorldSeed, seed: u64, threads: usize) -> Sim {
    let info = WorldInfo { name: "test".into(), seed, genre: Genre::Drama };
    Sim::from_seed(ws, info, Params::default(), threads).expect("world builds")
}

/// Path of a shipped scenario.
pub fn scenario_path(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)
}

/// Every shipped scenario file.
pub fn shipped_scenarios() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .expect("scenarios/ exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

/// Runs `ticks` ticks, returning the hash after each and every event logged meanwhile.
pub fn run(sim: &mut Sim, ticks: u64) -> (Vec<u64>, Vec<Event>) {
    let mut from = sim.events().next_seq();
    let (mut hashes, mut events) = (Vec::new(), Vec::new());
    for _ in 0..ticks {
        sim.step();
        hashes.push(sim.world_hash());
        events.extend(sim.events().since(from).cloned());
        from = sim.events().next_seq();
    }
    (hashes, events)
}
