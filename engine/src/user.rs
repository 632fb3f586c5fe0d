//! Users: people in a session, as entities in the world (DESIGN.md). They observe and direct; they
//! are not simulation state, so they are kept in snapshots but not in the world hash.

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::ids::CharacterId;

/// A person connected to (or registered in) a session.
#[derive(Component, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Account id (assigned by the server).
    pub account: u64,
    /// Display name.
    pub name: String,
}

/// What a user may do in a session.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Watches only.
    Observer,
    /// Plays a character (may possess one).
    Player,
    /// Steers the world (inject events, pause, fork).
    Director,
    /// Owns the session: everything a director can, plus membership.
    Owner,
}

/// What a user is looking at.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Focus {
    /// The whole world.
    #[default]
    World,
    /// One character.
    Character(CharacterId),
    /// A named view of the observatory (feed, graph, arcs, metrics).
    View(String),
}

/// Whether a user is connected and what it is focused on.
#[derive(Component, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    /// Connected right now.
    pub connected: bool,
    /// Current focus.
    pub focus: Focus,
    /// Character the user possesses, if any.
    pub possessing: Option<CharacterId>,
}

/// A user's data as stored in snapshots.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserState {
    /// Identity.
    pub user: User,
    /// Role.
    pub role: Role,
    /// Presence.
    pub presence: Presence,
}
