//! A flat, name-addressed view of an [`Event`] for matching.
//!
//! Patterns name event fields (`initiator`, `victim`, `level`, …); [`FactKind::fields`] lists the
//! fields of each kind with their types, and [`Fact`] stores their values in fixed slots so that a
//! clause compiled against a kind reads a field with one array index. Building a fact allocates only
//! for alliance events (their member lists); every other event is copied into inline slots.

use crate::autonomy::Action;
use crate::bonds::Standing;
use crate::events::{DeclineReason, Event, EventKind, Party};
use crate::groups::{ConflictLevel, Resolution};
use crate::ids::CharacterId;
use crate::trust::BetrayalKind;

/// Most scalar fields an event kind has (`interaction_resolved` has seven).
pub const SCALARS_MAX: usize = 7;

/// The value of one field of a fact, or of a pattern variable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    /// A character, by stable id.
    Char(u32),
    /// An alliance, by stable group id.
    Group(u64),
    /// A quantity (valence, trust, intensity, status, count).
    Num(f32),
    /// A name from a closed set: an action, standing, conflict level, betrayal kind, resolution, reason.
    Sym(&'static str),
    /// A flag (`accepted`, `distorted`).
    Bool(bool),
}

impl Value {
    /// The character or group this value names, if it names one.
    pub fn party(self) -> Option<Party> {
        match self {
            Self::Char(c) => Some(Party::Character(CharacterId(c))),
            Self::Group(g) => Some(Party::Group(g)),
            _ => None,
        }
    }

    /// The value naming `p`.
    pub fn of_party(p: Party) -> Self {
        match p {
            Party::Character(c) => Self::Char(c.0),
            Party::Group(g) => Self::Group(g),
        }
    }
}

/// The kind of a fact: one per [`EventKind`] variant, named as in the event log's JSON (snake case).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[expect(missing_docs, reason = "each variant mirrors the EventKind variant of the same name")]
pub enum FactKind {
    WorldStarted,
    InteractionResolved,
    InteractionDeclined,
    Avoided,
    BondCrossed,
    TrustBroken,
    TrustRepaired,
    RumorSpread,
    AllianceFormed,
    AllianceChanged,
    AllianceDissolved,
    ConflictEscalated,
    ConflictResolved,
    StatusChanged,
    TraumaFormed,
    TraumaHealed,
    ArcAdvanced,
    GenreChanged,
    GoalChanged,
    DramaNudged,
    Injected,
    Narrated,
    CharacterSpawned,
    CharacterRetired,
    Directed,
    DirectorError,
    PlanChanged,
}

/// The type of a field, which decides what a pattern may do with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// A character: binds or checks a variable.
    Char,
    /// An alliance: binds or checks a variable.
    Group,
    /// A conflict side, character or alliance: binds or checks a variable of either type.
    Party,
    /// A number: compared in `when` conditions.
    Num,
    /// A flag: matched with `true`/`false`, or used as a condition.
    Bool,
    /// One name from the listed set: matched with a name or a list of names.
    Sym(&'static [&'static str]),
    /// A set of characters: `field = "?x"` requires `?x` in the set (binding it to each member if new).
    Chars,
    /// A set of conflict sides (characters or alliances), as [`FieldType::Chars`].
    Parties,
}

impl FieldType {
    /// Whether a variable can stand for this field (or for its members).
    pub fn takes_var(self) -> bool {
        matches!(self, Self::Char | Self::Group | Self::Party | Self::Chars | Self::Parties)
    }

    /// Whether the field is a set tested by membership.
    pub fn is_set(self) -> bool {
        matches!(self, Self::Chars | Self::Parties)
    }

    /// Short description for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Char => "a character",
            Self::Group => "an alliance",
            Self::Party => "a character or alliance",
            Self::Num => "a number",
            Self::Bool => "a flag",
            Self::Sym(_) => "a name",
            Self::Chars => "a set of characters",
            Self::Parties => "a set of characters or alliances",
        }
    }
}

/// Where a field's value lives in a [`Fact`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Slot {
    /// One scalar slot.
    Scalar(u8),
    /// A member list (0: `members`/`joined`, 1: `left`).
    List(u8),
    /// A two-element set made of two scalar slots (`parties`).
    Pair(u8, u8),
}

/// One field of a fact kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldSpec {
    /// Name used in patterns.
    pub name: &'static str,
    /// Type.
    pub ty: FieldType,
    pub(crate) slot: Slot,
}

/// Names of [`Action`]s, in [`Action::ALL`] order.
pub const ACTIONS: &[&str] = &[
    "chat",
    "help",
    "compliment",
    "insult",
    "confide",
    "avoid",
    "rest",
    "gossip",
    "apologize",
    "betray",
    "ally",
    "mediate",
    "threaten",
    "comfort",
    "flirt",
    "confess",
];
/// Names of [`Standing`]s.
pub const STANDINGS: &[&str] = &["neutral", "friend", "lover", "enemy"];
/// Names of [`BetrayalKind`]s.
pub const BETRAYAL_KINDS: &[&str] = &["broken_trust", "broken_alliance", "secret_revealed"];
/// Names of [`ConflictLevel`]s, lowest first.
pub const CONFLICT_LEVELS: &[&str] = &["slight", "insult", "threat", "sabotage", "open_conflict"];
/// Names of [`Resolution`]s.
pub const RESOLUTIONS: &[&str] = &["apology", "mediation", "shared_threat", "time_healed"];
/// Names of [`DeclineReason`]s.
pub const DECLINE_REASONS: &[&str] = &["target_busy"];
/// Reasons an alliance dissolves (`"other"` for any reason the engine adds later).
pub const DISSOLVE_REASONS: &[&str] = &["cohesion", "membership", "other"];

const fn field(name: &'static str, ty: FieldType, slot: Slot) -> FieldSpec {
    FieldSpec { name, ty, slot }
}

use FieldType as T;
use Slot::{List, Pair, Scalar as S};

const WORLD_STARTED: &[FieldSpec] = &[field("n_characters", T::Num, S(0)), field("n_relationships", T::Num, S(1))];
const INTERACTION_RESOLVED: &[FieldSpec] = &[
    field("initiator", T::Char, S(0)),
    field("target", T::Char, S(1)),
    field("action", T::Sym(ACTIONS), S(2)),
    field("valence", T::Num, S(3)),
    field("initiator_valence", T::Num, S(4)),
    field("about", T::Char, S(5)),
    field("accepted", T::Bool, S(6)),
    field("parties", T::Chars, Pair(0, 1)),
];
const INTERACTION_DECLINED: &[FieldSpec] = &[
    field("initiator", T::Char, S(0)),
    field("target", T::Char, S(1)),
    field("action", T::Sym(ACTIONS), S(2)),
    field("reason", T::Sym(DECLINE_REASONS), S(3)),
    field("parties", T::Chars, Pair(0, 1)),
];
const AVOIDED: &[FieldSpec] =
    &[field("character", T::Char, S(0)), field("target", T::Char, S(1)), field("parties", T::Chars, Pair(0, 1))];
const BOND_CROSSED: &[FieldSpec] = &[
    field("source", T::Char, S(0)),
    field("target", T::Char, S(1)),
    field("from", T::Sym(STANDINGS), S(2)),
    field("to", T::Sym(STANDINGS), S(3)),
    field("parties", T::Chars, Pair(0, 1)),
];
const TRUST_BROKEN: &[FieldSpec] = &[
    field("victim", T::Char, S(0)),
    field("betrayer", T::Char, S(1)),
    field("kind", T::Sym(BETRAYAL_KINDS), S(2)),
    field("trust_before", T::Num, S(3)),
    field("trust_after", T::Num, S(4)),
    field("parties", T::Chars, Pair(0, 1)),
];
const TRUST_REPAIRED: &[FieldSpec] = &[
    field("victim", T::Char, S(0)),
    field("betrayer", T::Char, S(1)),
    field("trust", T::Num, S(2)),
    field("parties", T::Chars, Pair(0, 1)),
];
const RUMOR_SPREAD: &[FieldSpec] = &[
    field("teller", T::Char, S(0)),
    field("hearer", T::Char, S(1)),
    field("subject", T::Char, S(2)),
    field("opinion", T::Num, S(3)),
    field("distorted", T::Bool, S(4)),
    field("parties", T::Chars, Pair(0, 1)),
];
const ALLIANCE_FORMED: &[FieldSpec] = &[
    field("group", T::Group, S(0)),
    field("leader", T::Char, S(1)),
    field("size", T::Num, S(2)),
    field("members", T::Chars, List(0)),
];
const ALLIANCE_CHANGED: &[FieldSpec] = &[
    field("group", T::Group, S(0)),
    field("n_joined", T::Num, S(1)),
    field("n_left", T::Num, S(2)),
    field("joined", T::Chars, List(0)),
    field("left", T::Chars, List(1)),
];
const ALLIANCE_DISSOLVED: &[FieldSpec] = &[
    field("group", T::Group, S(0)),
    field("reason", T::Sym(DISSOLVE_REASONS), S(1)),
    field("size", T::Num, S(2)),
    field("members", T::Chars, List(0)),
];
const CONFLICT_ESCALATED: &[FieldSpec] = &[
    field("a", T::Party, S(0)),
    field("b", T::Party, S(1)),
    field("level", T::Sym(CONFLICT_LEVELS), S(2)),
    field("parties", T::Parties, Pair(0, 1)),
];
const CONFLICT_RESOLVED: &[FieldSpec] = &[
    field("a", T::Party, S(0)),
    field("b", T::Party, S(1)),
    field("how", T::Sym(RESOLUTIONS), S(2)),
    field("parties", T::Parties, Pair(0, 1)),
];
const STATUS_CHANGED: &[FieldSpec] =
    &[field("character", T::Char, S(0)), field("from", T::Num, S(1)), field("to", T::Num, S(2))];
const TRAUMA_FORMED: &[FieldSpec] =
    &[field("character", T::Char, S(0)), field("by", T::Char, S(1)), field("intensity", T::Num, S(2))];
const TRAUMA_HEALED: &[FieldSpec] = &[field("character", T::Char, S(0))];
const ARC_ADVANCED: &[FieldSpec] = &[field("size", T::Num, S(0)), field("characters", T::Chars, List(0))];
const GOAL_CHANGED: &[FieldSpec] = &[
    field("character", T::Char, S(0)),
    field("target", T::Char, S(1)),
    field("change", T::Sym(GOAL_CHANGES), S(2)),
    field("goal", T::Sym(GOAL_KINDS), S(3)),
];
/// Goal changes.
pub const GOAL_CHANGES: &[&str] = &["adopted", "achieved", "abandoned"];
/// Goal kinds, in [`crate::goals::GoalKind`] order.
pub const GOAL_KINDS: &[&str] = &["win_affection", "revenge", "protect", "gain_status", "lead", "expose"];
const DRAMA_NUDGED: &[FieldSpec] =
    &[field("tension", T::Num, S(0)), field("target", T::Num, S(1)), field("nudge", T::Num, S(2))];
const GENRE_CHANGED: &[FieldSpec] = &[field("from", T::Sym(GENRES), S(0)), field("to", T::Sym(GENRES), S(1))];
/// Genre names.
pub const GENRES: &[&str] = &["drama", "romance", "mystery", "adventure"];
/// Director sources (whose hand made a directed event).
pub const SOURCES: &[&str] = &["input", "event", "trigger", "script", "drama"];
const INJECTED: &[FieldSpec] = &[
    field("actor", T::Char, S(0)),
    field("target", T::Char, S(1)),
    field("action", T::Sym(ACTIONS), S(2)),
    field("by", T::Sym(SOURCES), S(3)),
    field("parties", T::Chars, Pair(0, 1)),
];
const NARRATED: &[FieldSpec] = &[field("by", T::Sym(SOURCES), S(0))];
const CHARACTER_SPAWNED: &[FieldSpec] = &[field("character", T::Char, S(0)), field("by", T::Sym(SOURCES), S(1))];
const CHARACTER_RETIRED: &[FieldSpec] = &[field("character", T::Char, S(0)), field("by", T::Sym(SOURCES), S(1))];
const DIRECTED: &[FieldSpec] = &[field("by", T::Sym(SOURCES), S(0))];
const DIRECTOR_ERROR: &[FieldSpec] = &[field("line", T::Num, S(0))];
const PLAN_CHANGED: &[FieldSpec] = &[
    field("character", T::Char, S(0)),
    field("target", T::Char, S(1)),
    field("change", T::Sym(PLAN_CHANGES), S(2)),
    field("goal", T::Sym(GOAL_KINDS), S(3)),
    field("action", T::Sym(ACTIONS), S(4)),
    field("step", T::Num, S(5)),
];
/// Plan changes, in [`crate::plans::PlanChange`] order.
pub const PLAN_CHANGES: &[&str] = &["formed", "step_done", "replanned", "completed", "failed"];

impl FactKind {
    /// Every kind, in [`EventKind`] declaration order.
    pub const ALL: [Self; 27] = [
        Self::WorldStarted,
        Self::InteractionResolved,
        Self::InteractionDeclined,
        Self::Avoided,
        Self::BondCrossed,
        Self::TrustBroken,
        Self::TrustRepaired,
        Self::RumorSpread,
        Self::AllianceFormed,
        Self::AllianceChanged,
        Self::AllianceDissolved,
        Self::ConflictEscalated,
        Self::ConflictResolved,
        Self::StatusChanged,
        Self::TraumaFormed,
        Self::TraumaHealed,
        Self::ArcAdvanced,
        Self::GenreChanged,
        Self::GoalChanged,
        Self::DramaNudged,
        Self::Injected,
        Self::Narrated,
        Self::CharacterSpawned,
        Self::CharacterRetired,
        Self::Directed,
        Self::DirectorError,
        Self::PlanChanged,
    ];

    /// The name patterns use (`event = "trust_broken"`), as in the event log's JSON.
    pub fn name(self) -> &'static str {
        match self {
            Self::WorldStarted => "world_started",
            Self::InteractionResolved => "interaction_resolved",
            Self::InteractionDeclined => "interaction_declined",
            Self::Avoided => "avoided",
            Self::BondCrossed => "bond_crossed",
            Self::TrustBroken => "trust_broken",
            Self::TrustRepaired => "trust_repaired",
            Self::RumorSpread => "rumor_spread",
            Self::AllianceFormed => "alliance_formed",
            Self::AllianceChanged => "alliance_changed",
            Self::AllianceDissolved => "alliance_dissolved",
            Self::ConflictEscalated => "conflict_escalated",
            Self::ConflictResolved => "conflict_resolved",
            Self::StatusChanged => "status_changed",
            Self::TraumaFormed => "trauma_formed",
            Self::TraumaHealed => "trauma_healed",
            Self::ArcAdvanced => "arc_advanced",
            Self::GenreChanged => "genre_changed",
            Self::GoalChanged => "goal_changed",
            Self::DramaNudged => "drama_nudged",
            Self::Injected => "injected",
            Self::Narrated => "narrated",
            Self::CharacterSpawned => "character_spawned",
            Self::CharacterRetired => "character_retired",
            Self::Directed => "directed",
            Self::DirectorError => "director_error",
            Self::PlanChanged => "plan_changed",
        }
    }

    /// The kind named `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Bit of this kind in a `u32` set of kinds.
    pub(crate) fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// The fields a pattern may use, in slot order.
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            Self::WorldStarted => WORLD_STARTED,
            Self::InteractionResolved => INTERACTION_RESOLVED,
            Self::InteractionDeclined => INTERACTION_DECLINED,
            Self::Avoided => AVOIDED,
            Self::BondCrossed => BOND_CROSSED,
            Self::TrustBroken => TRUST_BROKEN,
            Self::TrustRepaired => TRUST_REPAIRED,
            Self::RumorSpread => RUMOR_SPREAD,
            Self::AllianceFormed => ALLIANCE_FORMED,
            Self::AllianceChanged => ALLIANCE_CHANGED,
            Self::AllianceDissolved => ALLIANCE_DISSOLVED,
            Self::ConflictEscalated => CONFLICT_ESCALATED,
            Self::ConflictResolved => CONFLICT_RESOLVED,
            Self::StatusChanged => STATUS_CHANGED,
            Self::TraumaFormed => TRAUMA_FORMED,
            Self::TraumaHealed => TRAUMA_HEALED,
            Self::ArcAdvanced => ARC_ADVANCED,
            Self::GenreChanged => GENRE_CHANGED,
            Self::GoalChanged => GOAL_CHANGED,
            Self::DramaNudged => DRAMA_NUDGED,
            Self::Injected => INJECTED,
            Self::Narrated => NARRATED,
            Self::CharacterSpawned => CHARACTER_SPAWNED,
            Self::CharacterRetired => CHARACTER_RETIRED,
            Self::Directed => DIRECTED,
            Self::DirectorError => DIRECTOR_ERROR,
            Self::PlanChanged => PLAN_CHANGED,
        }
    }

    /// The field named `name`, if this kind has it.
    pub fn field(self, name: &str) -> Option<FieldSpec> {
        self.fields().iter().copied().find(|f| f.name == name)
    }
}

/// An event flattened for matching: kind, position and field values in fixed slots.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    /// The event's `seq`.
    pub seq: u64,
    /// The event's tick.
    pub tick: u64,
    /// The event's kind.
    pub kind: FactKind,
    /// Scalar values in the slots of [`FactKind::fields`]; `None` for an absent optional field.
    values: [Option<Value>; SCALARS_MAX],
    /// Member lists (stable character ids): `members` or `joined` in 0, `left` in 1.
    lists: [Vec<u32>; 2],
}

impl Fact {
    /// A fact with no field set (fields are filled by [`fact_of`], or by tests).
    fn empty(seq: u64, tick: u64, kind: FactKind) -> Self {
        Self { seq, tick, kind, values: [None; SCALARS_MAX], lists: [Vec::new(), Vec::new()] }
    }

    /// The value of the scalar field `name`; `None` when this kind has no such field, the field is
    /// a set, or it is absent (`about`, `by`).
    pub fn get(&self, name: &str) -> Option<Value> {
        match self.kind.field(name)?.slot {
            Slot::Scalar(i) => self.values[usize::from(i)],
            Slot::List(_) | Slot::Pair(..) => None,
        }
    }

    /// Whether the set field `name` (`members`, `joined`, `left`, `parties`) contains `v`.
    pub fn contains(&self, name: &str, v: Value) -> bool {
        self.members(name).any(|m| m == v)
    }

    /// The members of the set field `name` (nothing when this kind has no such set field).
    pub fn members(&self, name: &str) -> impl Iterator<Item = Value> + '_ {
        let slot = self.kind.field(name).filter(|f| f.ty.is_set()).map(|f| f.slot);
        slot.into_iter().flat_map(move |s| self.members_of(s))
    }

    /// The value in a scalar slot.
    pub(crate) fn scalar(&self, slot: u8) -> Option<Value> {
        self.values[usize::from(slot)]
    }

    /// Members of a set field, in stored order, each once (member lists are sorted and unique in
    /// the engine's events).
    pub(crate) fn members_of(&self, slot: Slot) -> impl Iterator<Item = Value> + '_ {
        let (list, pair): (&[u32], [Option<Value>; 2]) = match slot {
            Slot::List(i) => (&self.lists[usize::from(i)], [None, None]),
            // A set: the same value on both sides is one member.
            Slot::Pair(x, y) => (&[], [self.scalar(x), self.scalar(y).filter(|v| Some(*v) != self.scalar(x))]),
            Slot::Scalar(x) => (&[], [self.scalar(x), None]),
        };
        list.iter().map(|&c| Value::Char(c)).chain(pair.into_iter().flatten())
    }
}

/// The fact of `event`. Allocates only for alliance events (their member lists).
pub fn fact_of(event: &Event) -> Fact {
    let mut f = Fact::empty(event.seq, event.tick, kind_of(&event.kind));
    let ch = |c: CharacterId| Some(Value::Char(c.0));
    let num = |x: f32| Some(Value::Num(x));
    let sym = |s: &'static str| Some(Value::Sym(s));
    let ids = |v: &[CharacterId]| v.iter().map(|c| c.0).collect::<Vec<u32>>();
    let v = &mut f.values;
    match &event.kind {
        EventKind::WorldStarted { n_characters, n_relationships, .. } => {
            *v = fill([num(*n_characters as f32), num(*n_relationships as f32)]);
        }
        EventKind::InteractionResolved { initiator, target, action, valence, initiator_valence, about, .. } => {
            *v = [
                ch(*initiator),
                ch(*target),
                sym(action_name(*action)),
                num(*valence),
                num(*initiator_valence),
                about.and_then(ch),
                Some(Value::Bool(*valence > 0.0)),
            ];
        }
        EventKind::InteractionDeclined { initiator, target, action, reason } => {
            *v = fill([ch(*initiator), ch(*target), sym(action_name(*action)), sym(decline_name(*reason))]);
        }
        EventKind::Avoided { character, target } => *v = fill([ch(*character), ch(*target)]),
        EventKind::BondCrossed { source, target, from, to, .. } => {
            *v = fill([ch(*source), ch(*target), sym(standing_name(*from)), sym(standing_name(*to))]);
        }
        EventKind::TrustBroken { victim, betrayer, kind, trust_before, trust_after, .. } => {
            let k = sym(betrayal_name(*kind));
            *v = fill([ch(*victim), ch(*betrayer), k, num(*trust_before), num(*trust_after)]);
        }
        EventKind::TrustRepaired { victim, betrayer, trust, .. } => {
            *v = fill([ch(*victim), ch(*betrayer), num(*trust)]);
        }
        EventKind::RumorSpread { teller, hearer, subject, opinion, distorted, .. } => {
            let d = Some(Value::Bool(*distorted));
            *v = fill([ch(*teller), ch(*hearer), ch(*subject), num(*opinion), d]);
        }
        EventKind::AllianceFormed { group, members, leader } => {
            *v = fill([Some(Value::Group(*group)), ch(*leader), num(members.len() as f32)]);
            f.lists[0] = ids(members);
        }
        EventKind::AllianceChanged { group, joined, left } => {
            *v = fill([Some(Value::Group(*group)), num(joined.len() as f32), num(left.len() as f32)]);
            f.lists = [ids(joined), ids(left)];
        }
        EventKind::AllianceDissolved { group, members, reason } => {
            let r = DISSOLVE_REASONS.iter().find(|r| **r == reason.as_str()).copied().unwrap_or("other");
            *v = fill([Some(Value::Group(*group)), sym(r), num(members.len() as f32)]);
            f.lists[0] = ids(members);
        }
        EventKind::ConflictEscalated { a, b, level, .. } => {
            *v = fill([Some(Value::of_party(*a)), Some(Value::of_party(*b)), sym(level_name(*level))]);
        }
        EventKind::ConflictResolved { a, b, how, .. } => {
            *v = fill([Some(Value::of_party(*a)), Some(Value::of_party(*b)), sym(resolution_name(*how))]);
        }
        EventKind::StatusChanged { character, from, to } => *v = fill([ch(*character), num(*from), num(*to)]),
        EventKind::TraumaFormed { character, by, intensity, .. } => {
            *v = fill([ch(*character), by.and_then(ch), num(*intensity)]);
        }
        EventKind::TraumaHealed { character } => *v = fill([ch(*character)]),
        EventKind::ArcAdvanced { characters, .. } => {
            *v = fill([num(characters.len() as f32)]);
            f.lists[0] = ids(characters);
        }
        EventKind::GenreChanged { from, to } => *v = fill([sym(genre_name(*from)), sym(genre_name(*to))]),
        EventKind::DramaNudged { tension, target, nudge } => *v = fill([num(*tension), num(*target), num(*nudge)]),
        EventKind::Injected { by, actor, target, action } => {
            *v = fill([ch(*actor), ch(*target), sym(action_name(*action)), sym(by.name())]);
        }
        EventKind::Narrated { by, .. } | EventKind::Directed { by, .. } => *v = fill([sym(by.name())]),
        EventKind::CharacterSpawned { by, character, .. } | EventKind::CharacterRetired { by, character } => {
            *v = fill([ch(*character), sym(by.name())]);
        }
        EventKind::DirectorError { line, .. } => *v = fill([num(*line as f32)]),
        EventKind::PlanChanged { character, change, goal, step, action, target } => {
            let (c, k) = (PLAN_CHANGES[*change as usize], GOAL_KINDS[*goal as usize]);
            *v = fill([
                ch(*character),
                target.and_then(ch),
                sym(c),
                sym(k),
                sym(action_name(*action)),
                num(*step as f32),
            ]);
        }
        EventKind::GoalChanged { character, change, kind, target } => {
            let c = match change {
                crate::goals::GoalChange::Adopted => "adopted",
                crate::goals::GoalChange::Achieved => "achieved",
                crate::goals::GoalChange::Abandoned => "abandoned",
            };
            let k = match kind {
                crate::goals::GoalKind::WinAffection => "win_affection",
                crate::goals::GoalKind::Revenge => "revenge",
                crate::goals::GoalKind::Protect => "protect",
                crate::goals::GoalKind::GainStatus => "gain_status",
                crate::goals::GoalKind::Lead => "lead",
                crate::goals::GoalKind::Expose => "expose",
            };
            *v = fill([ch(*character), target.and_then(ch), sym(c), sym(k)]);
        }
    }
    f
}

/// The kind of an event.
pub fn kind_of(kind: &EventKind) -> FactKind {
    match kind {
        EventKind::WorldStarted { .. } => FactKind::WorldStarted,
        EventKind::InteractionResolved { .. } => FactKind::InteractionResolved,
        EventKind::InteractionDeclined { .. } => FactKind::InteractionDeclined,
        EventKind::Avoided { .. } => FactKind::Avoided,
        EventKind::BondCrossed { .. } => FactKind::BondCrossed,
        EventKind::TrustBroken { .. } => FactKind::TrustBroken,
        EventKind::TrustRepaired { .. } => FactKind::TrustRepaired,
        EventKind::RumorSpread { .. } => FactKind::RumorSpread,
        EventKind::AllianceFormed { .. } => FactKind::AllianceFormed,
        EventKind::AllianceChanged { .. } => FactKind::AllianceChanged,
        EventKind::AllianceDissolved { .. } => FactKind::AllianceDissolved,
        EventKind::ConflictEscalated { .. } => FactKind::ConflictEscalated,
        EventKind::ConflictResolved { .. } => FactKind::ConflictResolved,
        EventKind::StatusChanged { .. } => FactKind::StatusChanged,
        EventKind::TraumaFormed { .. } => FactKind::TraumaFormed,
        EventKind::TraumaHealed { .. } => FactKind::TraumaHealed,
        EventKind::ArcAdvanced { .. } => FactKind::ArcAdvanced,
        EventKind::GenreChanged { .. } => FactKind::GenreChanged,
        EventKind::GoalChanged { .. } => FactKind::GoalChanged,
        EventKind::DramaNudged { .. } => FactKind::DramaNudged,
        EventKind::Injected { .. } => FactKind::Injected,
        EventKind::Narrated { .. } => FactKind::Narrated,
        EventKind::CharacterSpawned { .. } => FactKind::CharacterSpawned,
        EventKind::CharacterRetired { .. } => FactKind::CharacterRetired,
        EventKind::Directed { .. } => FactKind::Directed,
        EventKind::DirectorError { .. } => FactKind::DirectorError,
        EventKind::PlanChanged { .. } => FactKind::PlanChanged,
    }
}

fn genre_name(g: crate::scenario::Genre) -> &'static str {
    use crate::scenario::Genre;
    match g {
        Genre::Drama => "drama",
        Genre::Romance => "romance",
        Genre::Mystery => "mystery",
        Genre::Adventure => "adventure",
    }
}

/// The first `N` slots set, the rest empty.
fn fill<const N: usize>(head: [Option<Value>; N]) -> [Option<Value>; SCALARS_MAX] {
    let mut out = [None; SCALARS_MAX];
    out[..N].copy_from_slice(&head);
    out
}

fn action_name(a: Action) -> &'static str {
    ACTIONS[a as usize]
}

fn standing_name(s: Standing) -> &'static str {
    match s {
        Standing::Neutral => STANDINGS[0],
        Standing::Friend => STANDINGS[1],
        Standing::Lover => STANDINGS[2],
        Standing::Enemy => STANDINGS[3],
    }
}

fn betrayal_name(k: BetrayalKind) -> &'static str {
    match k {
        BetrayalKind::BrokenTrust => BETRAYAL_KINDS[0],
        BetrayalKind::BrokenAlliance => BETRAYAL_KINDS[1],
        BetrayalKind::SecretRevealed => BETRAYAL_KINDS[2],
    }
}

fn level_name(l: ConflictLevel) -> &'static str {
    CONFLICT_LEVELS[ConflictLevel::ALL.iter().position(|x| *x == l).unwrap_or(0)]
}

fn resolution_name(r: Resolution) -> &'static str {
    match r {
        Resolution::Apology => RESOLUTIONS[0],
        Resolution::Mediation => RESOLUTIONS[1],
        Resolution::SharedThreat => RESOLUTIONS[2],
        Resolution::TimeHealed => RESOLUTIONS[3],
    }
}

fn decline_name(r: DeclineReason) -> &'static str {
    match r {
        DeclineReason::TargetBusy => DECLINE_REASONS[0],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialogue::Line;

    #[test]
    fn names_follow_the_engine_enums() {
        for (i, a) in Action::ALL.into_iter().enumerate() {
            assert_eq!(ACTIONS[i], a.name());
        }
        for (i, l) in ConflictLevel::ALL.into_iter().enumerate() {
            assert_eq!(level_name(l), CONFLICT_LEVELS[i]);
        }
        // The JSON names of the event kinds are the fact kind names.
        let e = EventKind::TraumaHealed { character: CharacterId(1) };
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains(FactKind::TraumaHealed.name()), "{json}");
        let s = serde_json::to_string(&Standing::Lover).unwrap();
        assert_eq!(s, format!("\"{}\"", standing_name(Standing::Lover)));
    }

    #[test]
    fn every_kind_has_distinct_fields_and_slots_in_range() {
        for k in FactKind::ALL {
            assert_eq!(FactKind::from_name(k.name()), Some(k));
            let fields = k.fields();
            for (i, f) in fields.iter().enumerate() {
                assert!(fields[..i].iter().all(|g| g.name != f.name), "{} repeats {}", k.name(), f.name);
                if let Slot::Scalar(s) = f.slot {
                    assert!(usize::from(s) < SCALARS_MAX);
                }
            }
        }
    }

    #[test]
    fn an_interaction_reads_by_field_name() {
        let e = Event {
            seq: 7,
            tick: 3,
            kind: EventKind::InteractionResolved {
                initiator: CharacterId(1),
                target: CharacterId(2),
                action: Action::Confide,
                valence: -0.25,
                initiator_valence: 0.5,
                line: Line::default(),
                about: None,
            },
        };
        let f = fact_of(&e);
        assert_eq!((f.seq, f.tick, f.kind), (7, 3, FactKind::InteractionResolved));
        assert_eq!(f.get("initiator"), Some(Value::Char(1)));
        assert_eq!(f.get("action"), Some(Value::Sym("confide")));
        assert_eq!(f.get("valence"), Some(Value::Num(-0.25)));
        assert_eq!(f.get("accepted"), Some(Value::Bool(false)));
        assert_eq!(f.get("about"), None);
        assert_eq!(f.get("victim"), None);
        assert!(f.contains("parties", Value::Char(2)) && !f.contains("parties", Value::Char(3)));
    }

    #[test]
    fn alliances_and_conflicts_expose_sets_and_parties() {
        let members = vec![CharacterId(3), CharacterId(5)];
        let f = fact_of(&Event {
            seq: 1,
            tick: 1,
            kind: EventKind::AllianceDissolved { group: 9, members, reason: "schism".into() },
        });
        assert_eq!(f.get("reason"), Some(Value::Sym("other")));
        assert_eq!(f.get("size"), Some(Value::Num(2.0)));
        assert!(f.contains("members", Value::Char(5)));
        assert_eq!(f.members("members").collect::<Vec<_>>(), [Value::Char(3), Value::Char(5)]);
        assert_eq!(f.members("group").count(), 0);
        let f = fact_of(&Event {
            seq: 2,
            tick: 1,
            kind: EventKind::ConflictEscalated {
                a: Party::Group(4),
                b: Party::Character(CharacterId(2)),
                level: ConflictLevel::OpenConflict,
                cause: 0,
            },
        });
        assert_eq!(f.get("a"), Some(Value::Group(4)));
        assert_eq!(f.get("level"), Some(Value::Sym("open_conflict")));
        assert!(f.contains("parties", Value::Group(4)) && f.contains("parties", Value::Char(2)));
    }
}
