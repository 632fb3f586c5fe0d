#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod autonomy;
pub mod bonds;
pub mod command;
pub mod contagion;
pub mod dialogue;
pub mod emotion;
pub mod events;
pub mod exec;
pub mod gossip;
pub mod graph;
pub mod groups;
pub mod hierarchy;
pub mod ids;
pub mod interaction;
pub mod memory;
pub mod metrics;
pub mod mood;
pub mod needs;
pub mod outcome;
pub mod params;
pub mod peer;
pub mod personality;
pub mod plot;
pub mod rng;
pub mod scenario;
pub mod snapshot;
pub mod social;
pub mod story;
pub mod tick;
pub mod trust;
pub mod user;
pub mod world;

pub use scenario::Scenario;
pub use world::Sim;
