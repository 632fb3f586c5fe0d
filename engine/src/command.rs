//! Typed commands from outside the tick (a director, a script, a user), applied between ticks in a
//! fixed order and recorded, so that (snapshot + input log) replays bit-identically.
//!
//! A command is validated before it touches the world: a bad one is refused with a
//! [`CommandError`] and changes nothing.

use serde::{Deserialize, Serialize};

use crate::autonomy::Action;
use crate::bonds::Bond;
use crate::emotion::EmotionKind;
use crate::goals::GoalKind;
use crate::ids::CharacterId;
use crate::mood::Pad;
use crate::personality::Personality;
use crate::scenario::Genre;

/// Most inputs kept in a world's input log; older ones are dropped (the CLI writes every applied
/// input to `inputs.jsonl` as it goes, so nothing is lost on disk).
pub const INPUT_LOG_MAX: usize = 1 << 16;
/// Longest `narrate` text, in bytes.
pub const NARRATE_BYTES_MAX: usize = 1024;
/// Longest id of a spawned character, in bytes (as scenario ids).
pub const SPAWN_ID_BYTES_MAX: usize = 64;
/// Most relationships a `spawn` command may declare.
pub const SPAWN_BONDS_MAX: usize = 256;
/// Parameters `set_param` may change while a world runs: rates and thresholds whose change needs
/// no rebuild (anything structural, such as `capacity_per_tick`, is left to the scenario).
pub const SETTABLE_PARAMS: &[&str] = &[
    "emotion_decay_per_tick",
    "mood_emotion_pull",
    "mood_baseline_pull",
    "contagion_rate",
    "contagion_threshold",
    "affinity_gain",
    "trust_gain",
    "trust_loss",
    "learning_rate",
    "drama_peak",
    "drama_base",
];

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
    /// Make an interaction happen in the coming tick: `actor` does `action` to `target` (they must
    /// have a relationship), bypassing the actor's own choice and the target's capacity. It is
    /// resolved by the normal pipeline (appraisal, bonds, betrayal, emotions, memories, witnesses).
    Inject {
        /// Who acts.
        actor: CharacterId,
        /// An interaction (not `rest` or `avoid`).
        action: Action,
        /// Toward whom.
        target: CharacterId,
    },
    /// A line of story text in the event log (at most [`NARRATE_BYTES_MAX`] bytes).
    Narrate {
        /// The text.
        text: String,
    },
    /// A new character joins with the next stable id. Each bond is how it feels about `other`;
    /// `other` feels the same about it (as `mutual = true` in scenarios).
    Spawn {
        /// Unique id (`[a-z0-9_-]`, at most [`SPAWN_ID_BYTES_MAX`] bytes), also its display name.
        name: String,
        /// Big Five traits, each in [-1, 1].
        personality: Personality,
        /// Starting mood; its personality baseline when absent.
        #[serde(default)]
        mood: Option<Pad>,
        /// Relationships with existing characters.
        #[serde(default)]
        bonds: Vec<(CharacterId, Bond)>,
    },
    /// A character leaves: its relationships are removed (nobody chooses it, no contagion flows
    /// through it) and it no longer acts. Its stable id stays taken.
    Retire {
        /// Who.
        character: CharacterId,
    },
    /// Give a character a goal (replacing a goal of the same kind and target).
    SetGoal {
        /// Whose.
        character: CharacterId,
        /// What for.
        goal: GoalKind,
        /// About whom (needed by every goal but `gain_status`).
        #[serde(default)]
        target: Option<CharacterId>,
        /// Weight on choices, in [0, 1].
        priority: f32,
    },
    /// Drop a character's goals of this kind (and target, when given).
    DropGoal {
        /// Whose.
        character: CharacterId,
        /// Which kind.
        goal: GoalKind,
        /// About whom (any target when absent).
        #[serde(default)]
        target: Option<CharacterId>,
    },
    /// Change one of the [`SETTABLE_PARAMS`] while the world runs.
    SetParam {
        /// Parameter name.
        name: String,
        /// New value (its range is the parameter's).
        value: f64,
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
    /// The action is not an interaction (`inject` needs one).
    #[error("{0:?} is not an interaction")]
    NotInteraction(Action),
    /// The character has retired from the world.
    #[error("{0:?} has retired")]
    Retired(CharacterId),
    /// A text or name is empty, too long or malformed.
    #[error("{field}: {message}")]
    Invalid {
        /// Which value.
        field: &'static str,
        /// What is wrong.
        message: String,
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
            | Self::Act { .. }
            | Self::Retire { .. }
            | Self::DropGoal { .. } => Ok(()),
            Self::Inject { action, actor, target } => {
                if !action.is_interaction() {
                    return Err(CommandError::NotInteraction(*action));
                }
                if actor == target {
                    return Err(CommandError::NoRelationship { from: *actor, to: *target });
                }
                Ok(())
            }
            Self::Narrate { text } => {
                if text.trim().is_empty() || text.len() > NARRATE_BYTES_MAX {
                    let message = format!("must be 1 to {NARRATE_BYTES_MAX} bytes, found {}", text.len());
                    return Err(CommandError::Invalid { field: "text", message });
                }
                Ok(())
            }
            Self::Spawn { name, personality, mood, bonds } => {
                let ok_byte = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-';
                if name.is_empty() || name.len() > SPAWN_ID_BYTES_MAX || !name.bytes().all(ok_byte) {
                    let message = format!("{name:?} must be 1 to {SPAWN_ID_BYTES_MAX} bytes of [a-z0-9_-]");
                    return Err(CommandError::Invalid { field: "name", message });
                }
                if bonds.len() > SPAWN_BONDS_MAX {
                    let message = format!("{} bonds; at most {SPAWN_BONDS_MAX}", bonds.len());
                    return Err(CommandError::Invalid { field: "bonds", message });
                }
                Self::SetPersonality { character: CharacterId(0), personality: *personality }.check()?;
                if let Some(m) = mood {
                    Self::SetMood { character: CharacterId(0), mood: *m }.check()?;
                }
                for (other, bond) in bonds {
                    Self::SetBond { from: CharacterId(0), to: *other, bond: *bond }.check()?;
                }
                Ok(())
            }
            Self::SetGoal { goal, target, priority, .. } => {
                if *goal != GoalKind::GainStatus && target.is_none() {
                    let message = format!("a {goal:?} goal needs a target");
                    return Err(CommandError::Invalid { field: "target", message });
                }
                unit("priority", *priority, 0.0)
            }
            Self::SetParam { name, .. } => {
                if !SETTABLE_PARAMS.contains(&name.as_str()) {
                    let message =
                        format!("{name:?} cannot be set while running; one of {}", SETTABLE_PARAMS.join(", "));
                    return Err(CommandError::Invalid { field: "name", message });
                }
                Ok(())
            }
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
