//! Typed events: everything that happens in a world, in order.
//!
//! Systems append to the [`EventLog`]; observers, the plot detector, the chronicle and replay read it.
//! The log is bounded: it keeps the last [`EVENT_LOG_MAX`] events (oldest dropped first) while `seq`
//! keeps counting, and [`EventLog::since`] lets a reader drain what is new since its last `seq`.

use std::collections::VecDeque;

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::autonomy::Action;
use crate::bonds::Standing;
use crate::dialogue::Line;
use crate::goals::{GoalChange, GoalKind};
use crate::groups::{ConflictLevel, Resolution};
use crate::ids::CharacterId;
use crate::scenario::Genre;
use crate::story::ArcStatus;
use crate::trust::BetrayalKind;

/// Events kept in memory. A reader that falls further behind than this loses the oldest events;
/// the CLI drains every tick, so only slow observers (the server, later) can hit it.
pub const EVENT_LOG_MAX: usize = 1 << 20;

/// One event with its place in the world's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the world's history, from 0, +1 per event; never reused.
    pub seq: u64,
    /// Tick in which it happened.
    pub tick: u64,
    /// What happened.
    pub kind: EventKind,
}

/// Why a proposed interaction did not happen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeclineReason {
    /// The target had no capacity left this tick.
    TargetBusy,
}

/// One side of a conflict: a character or an alliance.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// A character.
    Character(CharacterId),
    /// An alliance, by its stable group id.
    Group(u64),
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The world was created from a scenario.
    WorldStarted {
        /// World name.
        name: String,
        /// Base seed.
        seed: u64,
        /// Characters at start.
        n_characters: u32,
        /// Directed relationships at start.
        n_relationships: u32,
    },
    /// Two characters interacted.
    InteractionResolved {
        /// Who acted.
        initiator: CharacterId,
        /// Toward whom.
        target: CharacterId,
        /// What they did.
        action: Action,
        /// How the target took it, in [-1, 1].
        valence: f32,
        /// How it felt to the initiator, in [-1, 1].
        initiator_valence: f32,
        /// What was said.
        line: Line,
        /// The third party it was about (gossip's subject, mediation's other side).
        about: Option<CharacterId>,
    },
    /// A proposed interaction did not happen.
    InteractionDeclined {
        /// Who proposed.
        initiator: CharacterId,
        /// To whom.
        target: CharacterId,
        /// What was proposed.
        action: Action,
        /// Why not.
        reason: DeclineReason,
    },
    /// A character kept away from someone it dislikes or fears.
    Avoided {
        /// Who withdrew.
        character: CharacterId,
        /// From whom.
        target: CharacterId,
    },
    /// A bond crossed a named threshold (became friends, enemies, lovers, or fell back to neutral).
    BondCrossed {
        /// Who holds the feeling.
        source: CharacterId,
        /// About whom.
        target: CharacterId,
        /// Standing before.
        from: Standing,
        /// Standing after.
        to: Standing,
        /// `seq` of the event that caused it.
        cause: u64,
    },
    /// Someone betrayed a character who trusted them, was their ally, or confided in them.
    TrustBroken {
        /// Who was betrayed.
        victim: CharacterId,
        /// Who betrayed.
        betrayer: CharacterId,
        /// What made it a betrayal.
        kind: BetrayalKind,
        /// Trust before and after.
        trust_before: f32,
        /// Trust after.
        trust_after: f32,
        /// `seq` of the act.
        cause: u64,
    },
    /// A betrayed character forgave (its grudge fell away after amends).
    TrustRepaired {
        /// Who forgave.
        victim: CharacterId,
        /// Who was forgiven.
        betrayer: CharacterId,
        /// Trust after the repair.
        trust: f32,
        /// `seq` of the apology.
        cause: u64,
    },
    /// An opinion of a third party was passed on.
    RumorSpread {
        /// Who told.
        teller: CharacterId,
        /// Who heard.
        hearer: CharacterId,
        /// About whom.
        subject: CharacterId,
        /// The opinion as told, in [-1, 1].
        opinion: f32,
        /// Whether it was distorted in the telling.
        distorted: bool,
        /// `seq` of the gossip interaction.
        cause: u64,
    },
    /// An alliance formed (or re-formed) from mutual positive bonds.
    AllianceFormed {
        /// Stable group id.
        group: u64,
        /// Members (stable ids, sorted).
        members: Vec<CharacterId>,
        /// Leader (highest status).
        leader: CharacterId,
    },
    /// An alliance's membership changed.
    AllianceChanged {
        /// Stable group id.
        group: u64,
        /// Who joined.
        joined: Vec<CharacterId>,
        /// Who left.
        left: Vec<CharacterId>,
    },
    /// An alliance fell apart.
    AllianceDissolved {
        /// Stable group id.
        group: u64,
        /// Last members.
        members: Vec<CharacterId>,
        /// Why: `"cohesion"` (internal bonds too weak) or `"membership"` (no longer a community).
        reason: String,
    },
    /// A conflict rose a step on the escalation ladder.
    ConflictEscalated {
        /// One side.
        a: Party,
        /// The other side.
        b: Party,
        /// New level.
        level: ConflictLevel,
        /// `seq` of the act that escalated it (0 for group conflicts found by analysis).
        cause: u64,
    },
    /// A conflict ended.
    ConflictResolved {
        /// One side.
        a: Party,
        /// The other side.
        b: Party,
        /// How.
        how: Resolution,
        /// `seq` of the act that resolved it (0 when time healed it).
        cause: u64,
    },
    /// A character's standing moved markedly in the respect ranking.
    StatusChanged {
        /// Who.
        character: CharacterId,
        /// Status before, in [-1, 1].
        from: f32,
        /// Status after.
        to: f32,
    },
    /// A very intense negative event left a trauma.
    TraumaFormed {
        /// Who.
        character: CharacterId,
        /// Who caused it, if someone did.
        by: Option<CharacterId>,
        /// Intensity of the event.
        intensity: f32,
        /// `seq` of the event (0 when unknown).
        cause: u64,
    },
    /// A trauma healed.
    TraumaHealed {
        /// Who.
        character: CharacterId,
    },
    /// A story arc opened, advanced, climaxed, resolved or was abandoned.
    ArcAdvanced {
        /// Arc id.
        arc: u64,
        /// Arc kind (romance, betrayal, ...).
        kind: String,
        /// Stage reached.
        stage: String,
        /// Status now.
        status: ArcStatus,
        /// Characters in the arc.
        characters: Vec<CharacterId>,
    },
    /// A character adopted, achieved or abandoned a goal.
    GoalChanged {
        /// Whose goal.
        character: CharacterId,
        /// What happened to it.
        change: GoalChange,
        /// What the goal is.
        kind: GoalKind,
        /// Whom it is about.
        target: Option<CharacterId>,
    },
    /// The drama manager nudged the world toward its tension curve.
    DramaNudged {
        /// Measured tension (smoothed share of hostile interactions).
        tension: f32,
        /// The curve's target now.
        target: f32,
        /// Multiplier on hostile actions (inverse on reconciling ones).
        nudge: f32,
    },
    /// The world's genre changed (a director's choice).
    GenreChanged {
        /// Genre before.
        from: Genre,
        /// Genre now.
        to: Genre,
    },
    /// The director made an interaction happen (an `inject` command).
    Injected {
        /// Whose hand: an input, a timed event, a trigger, a script or the drama manager.
        by: crate::director::Source,
        /// Who was made to act.
        actor: CharacterId,
        /// Toward whom.
        target: CharacterId,
        /// What they did.
        action: Action,
    },
    /// A line of story text from the director.
    Narrated {
        /// Whose hand.
        by: crate::director::Source,
        /// The text.
        text: String,
    },
    /// A character joined the world.
    CharacterSpawned {
        /// Whose hand.
        by: crate::director::Source,
        /// Its new stable id.
        character: CharacterId,
        /// Its id string.
        name: String,
    },
    /// A character left the world (it keeps its stable id).
    CharacterRetired {
        /// Whose hand.
        by: crate::director::Source,
        /// Who.
        character: CharacterId,
    },
    /// The director changed the world's state (mood, bond, emotion, goal, parameter, ...).
    Directed {
        /// Whose hand.
        by: crate::director::Source,
        /// The command's name (`set_mood`, `set_goal`, ...).
        command: String,
        /// The trigger, timed event or script function that issued it.
        label: String,
    },
    /// A director script or command failed; the world went on without it.
    DirectorError {
        /// Script file (or `<inline>`), or the trigger/event label for a refused command.
        script: String,
        /// 1-based line in the script (0 when unknown).
        line: u32,
        /// What went wrong.
        message: String,
    },
    /// A character's plan toward a goal was formed, advanced a step, re-planned, completed or failed.
    PlanChanged {
        /// Whose plan.
        character: CharacterId,
        /// What happened to it.
        change: crate::plans::PlanChange,
        /// The goal it serves.
        goal: GoalKind,
        /// Index of the step concerned (0-based).
        step: u8,
        /// That step's action (the one done, for a finished step).
        action: Action,
        /// That step's target.
        target: Option<CharacterId>,
    },
}

/// The world's bounded event log.
#[derive(Resource, Clone, Debug, Default)]
pub struct EventLog {
    events: VecDeque<Event>,
    next_seq: u64,
}

impl EventLog {
    /// A log that continues from `next_seq` with `events` kept (used by snapshot load).
    pub fn restore(events: Vec<Event>, next_seq: u64) -> Self {
        Self { events: events.into(), next_seq }
    }

    /// Appends an event and returns its `seq`.
    pub fn push(&mut self, tick: u64, kind: EventKind) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.events.len() == EVENT_LOG_MAX {
            self.events.pop_front();
        }
        self.events.push_back(Event { seq, tick, kind });
        seq
    }

    /// `seq` the next event will get (= events ever logged).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Events with `seq >= from` still in memory, oldest first.
    pub fn since(&self, from: u64) -> impl Iterator<Item = &Event> {
        let first = self.events.front().map_or(self.next_seq, |e| e.seq);
        let skip = from.saturating_sub(first) as usize;
        self.events.iter().skip(skip)
    }

    /// The event with this `seq`, if still in memory.
    pub fn get(&self, seq: u64) -> Option<&Event> {
        let first = self.events.front()?.seq;
        self.events.get(seq.checked_sub(first)? as usize)
    }

    /// Every event in memory, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Event> {
        self.events.iter()
    }

    /// Events in memory.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether no event is in memory.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_returns_only_new_events() {
        let mut log = EventLog::default();
        for t in 0..5 {
            log.push(t, EventKind::Avoided { character: CharacterId(1), target: CharacterId(2) });
        }
        let new: Vec<u64> = log.since(3).map(|e| e.seq).collect();
        assert_eq!(new, vec![3, 4]);
        assert_eq!(log.next_seq(), 5);
    }
}
