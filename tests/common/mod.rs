//! Shared builders for the integration tests.
#![allow(dead_code, reason = "each test binary uses a different subset")]

pub mod live;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

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

/// The `aion` executable, built on first use.
///
/// It belongs to the `aion-server` package, and Cargo builds (and names in `CARGO_BIN_EXE_*`) only
/// the binaries of the package under test, which is the root package `aion` here; a dev-dependency
/// on `aion-server` would not build its binary either. So the first test that needs it runs `cargo
/// build -p aion-server --bin aion --message-format=json` once, with the profile this test was built
/// with, and takes the executable's path from Cargo's own `compiler-artifact` message. Cargo releases
/// its build lock before it runs tests, so this works under `cargo test --workspace` in a fresh clone.
pub fn aion_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(build_aion).clone()
}

fn build_aion() -> PathBuf {
    // This test runs from `<target>/<profile dir>/deps/`; the profile dir names the profile, except
    // that the `dev` profile's directory is `debug`.
    let exe = std::env::current_exe().expect("the test knows its own path");
    let dir = exe.parent().and_then(Path::parent).and_then(Path::file_name).and_then(|d| d.to_str());
    let profile = match dir {
        Some("debug") | None => "dev",
        Some(other) => other,
    };
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["build", "-p", "aion-server", "--bin", "aion", "--profile", profile])
        .arg("--message-format=json-render-diagnostics")
        .output()
        .expect("cargo runs");
    assert!(out.status.success(), "building aion failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "aion")
        .find_map(|m| m["executable"].as_str().map(PathBuf::from))
        .expect("cargo reports the aion executable")
}
