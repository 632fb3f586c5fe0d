//! Typed commands from outside the tick (a director, a script, a user), applied between ticks in a
//! fixed order and recorded, so that (snapshot + input log) replays bit-identically.
//!
//! A command is validated before it touches the world: a bad one is refused with a
//! [`CommandError`] and changes nothing.

use serde::{Deserialize, Serialize};

use crate::autonomy::Action;
use crate::bonds::Bond;
use crate::emotion::EmotionKind;
use crate::ids::CharacterId;
use crate::mood::Pad;
use crate::personality::Personality;
use crate::scenario::Genre;

/// Most inputs kept in a world's input log; older ones are dropped (the CLI writes every applied
/// input to `inputs.jsonl` as it goes, so nothing is lost on disk).
pub const INPUT_LOG_MAX: usize = 1 << 16;

/// Something a director can do to a world between ticks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Switch the world's genre.
    SetGenre {
        /// New genre.
        genre: Genre,
    },
    /// Replace a character's personality (its compatibilities are recomputed).
    SetPersonality {
        /// Who.
        character: CharacterId,
        /// New traits, each in [-1, 1].
        personality: Personality,
    },
    /// Set how one character feels about another.
    SetBond {
        /// Who holds the feelings.
        from: CharacterId,
        /// About whom.
        to: CharacterId,
        /// New bond (ranges as in scenarios).
        bond: Bond,
    },
    /// Set a character's mood.
    SetMood {
        /// Who.
        character: CharacterId,
        /// New mood, each axis in [-1, 1].
        mood: Pad,
    },
    /// Set how much a character decides for itself.
    SetAutonomy {
        /// Who.
        character: CharacterId,
        /// Full, suggest-only or off.
        level: AutonomyLevel,
    },
    /// A user takes over a character: its autonomy is off and its actions come from `act` commands.
    Possess {
        /// Who.
        character: CharacterId,
        /// The user's account id.
        user: u64,
    },
    /// A possessing user lets go: the character decides for itself again.
    Release {
        /// Who.
        character: CharacterId,
    },
    /// Tell a character what to do in the next tick (for possessed or non-autonomous characters;
    /// an autonomous character takes it as its choice for that tick too).
    Act {
        /// Who acts.
        character: CharacterId,
        /// The action.
        action: Action,
        /// Toward whom (needed for interactions; must be someone it has a relationship with).
        target: Option<CharacterId>,
    },
    /// Make a character feel an emotion (an injected event's effect).
    Feel {
        /// Who.
        character: CharacterId,
        /// Which emotion.
        emotion: EmotionKind,
        /// Intensity in [0, 1].
        intensity: f32,
    },
}

/// How much a character decides for itself.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AutonomyLevel {
    /// It chooses its own actions.
    #[default]
    Full,
    /// It works out what it would do (the suggestion) but acts only on `act` commands.
    Suggest,
    /// It does nothing of its own accord: `act` commands or rest.
    Off,
}

/// Who controls a character's actions.
///
/// Written by commands between ticks; read (and its queued action consumed) by `choose_actions`.
#[derive(bevy_ecs::prelude::Component, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Control {
    /// Autonomy level.
    pub level: AutonomyLevel,
    /// The user possessing it, if any.
    pub possessed_by: Option<u64>,
    /// An action commanded for the next tick.
    pub queued: Option<(Action, Option<CharacterId>)>,
    /// What autonomy suggested last tick (suggest-only characters).
    pub suggestion: Option<(Action, Option<CharacterId>)>,
}

/// A command with the tick before which it is applied: `tick = T` means "after tick T - 1, before
/// tick T runs", so a world at tick `T - 1` applies it on its next step.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// The tick it is applied before.
    pub tick: u64,
    /// What to do.
    pub command: Command,
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CommandError {
    /// The character is not in this world.
    #[error("unknown character {0:?}")]
    UnknownCharacter(CharacterId),
    /// There is no relationship between the two.
    #[error("{from:?} has no relationship with {to:?}")]
    NoRelationship {
        /// Source.
        from: CharacterId,
        /// Target.
        to: CharacterId,
    },
    /// A value is out of its range.
    #[error("{field} is out of range: {value}")]
    OutOfRange {
        /// Which value.
        field: &'static str,
        /// Its value.
        value: f32,
    },
    /// The input is for a tick that has already run.
    #[error("input for tick {tick} arrived at tick {now}: commands apply only before ticks still to run")]
    Late {
        /// The input's tick.
        tick: u64,
        /// The world's tick.
        now: u64,
    },
}

impl Command {
    /// Range checks that need no world.
    pub fn check(&self) -> Result<(), CommandError> {
        let unit = |field: &'static str, v: f32, lo: f32| {
            if (lo..=1.0).contains(&v) { Ok(()) } else { Err(CommandError::OutOfRange { field, value: v }) }
        };
        match self {
            Self::SetGenre { .. }
            | Self::SetAutonomy { .. }
            | Self::Possess { .. }
            | Self::Release { .. }
            | Self::Act { .. } => Ok(()),
            Self::SetPersonality { personality: p, .. } => {
                for (f, v) in ["openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism"]
                    .into_iter()
                    .zip(p.traits())
                {
                    unit(f, v, -1.0)?;
                }
                Ok(())
            }
            Self::SetBond { bond, .. } => {
                for (f, v, ok) in bond.fields() {
                    if !ok {
                        return Err(CommandError::OutOfRange { field: f, value: v });
                    }
                }
                Ok(())
            }
            Self::SetMood { mood, .. } => {
                unit("pleasure", mood.p, -1.0)?;
                unit("arousal", mood.a, -1.0)?;
                unit("dominance", mood.d, -1.0)
            }
            Self::Feel { intensity, .. } => unit("intensity", *intensity, 0.0),
        }
    }
}
