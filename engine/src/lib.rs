#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod autonomy;
pub mod bonds;
pub mod contagion;
pub mod dialogue;
pub mod emotion;
pub mod events;
pub mod exec;
pub mod graph;
pub mod ids;
pub mod interaction;
pub mod metrics;
pub mod mood;
pub mod needs;
pub mod params;
pub mod peer;
pub mod personality;
pub mod rng;
pub mod scenario;
pub mod snapshot;
pub mod tick;
pub mod user;
pub mod world;

pub use scenario::Scenario;
pub use world::Sim;
