//! Stable identifiers, independent of ECS entity indices.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

/// Stable id of a character: assigned in declaration order when a scenario is loaded, kept in
/// snapshots, never reused within a world. RNG streams and hashes are keyed by it.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CharacterId(pub u32);

/// Dense index of a character in the hot-path buffers of [`crate::graph::SocialGraph`].
///
/// Assigned by locality renumbering when the graph is (re)built; not stable across rebuilds, so it
/// never appears in events or snapshots.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Slot(pub u32);

/// Human-facing identity of a character: the scenario's string id and display name.
#[derive(Component, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Name {
    /// The scenario id (e.g. `"alice"`), unique in the world.
    pub key: String,
    /// Display name (e.g. `"Alice Moreau"`).
    pub display: String,
}
