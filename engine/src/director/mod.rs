//! The director: timed events, triggers and Rhai scripts that change a world through commands.
//!
//! **When it runs.** At the tick boundary, before the external inputs: `Sim::step` first asks the
//! director what to do given the world after tick `T` (its tick, moods, bonds, tension, the metrics
//! of tick `T`, open arcs), then applies those commands in a fixed order (priority, highest first,
//! then declaration order: TOML events, TOML triggers, script registrations, and within one the
//! order the commands were issued), then the inputs due before tick `T + 1`, then runs tick `T + 1`.
//! Director commands are *not* recorded as inputs: a replay (snapshot + input log) re-derives them,
//! because everything the director decides from is in the world state, including its own state
//! ([`Director`]: fire counts, last firings, disabled scripts, the script's persistent variables),
//! which travels in snapshots and is covered by the world hash. Each applied command is an event
//! (`injected`, `narrated`, `character_spawned`, `character_retired`, `genre_changed` or `directed`);
//! a refused command or a failing script is a `director_error` event and the world goes on.
//!
//! **Timed events** (`[[event]]`): `at = N` applies its commands before tick `N`; `every = n` before
//! ticks `from, from + n, ...` (`from` defaults to `n`) up to `until` (inclusive).
//!
//! **Triggers** (`[[trigger]]`): `when` (see [`cond`]) is tested on the world after each tick; when
//! it holds the commands apply before the next tick, unless the trigger is `once` and has fired, or
//! fired less than `cooldown` ticks ago.
//!
//! **Scripts**: see [`script`].

pub mod cond;
pub mod script;

use std::collections::BTreeMap;

use bevy_ecs::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::bonds::Bond;
use crate::command::Command;
use crate::drama::Drama;
use crate::emotion::{EmotionKind, Emotions};
use crate::graph::{NONE, SocialGraph};
use crate::ids::CharacterId;
use crate::interaction::View;
use crate::metrics::TickMetrics;
use crate::mood::{Mood, Pad};
use crate::rng::mix64;
use crate::story::{ArcStatus, Stories};
use crate::world::TickClock;

pub use cond::Expr;

/// Whose hand a directed change is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// An external input (a user, a tool), recorded in the input log.
    Input,
    /// A timed `[[event]]`.
    Event,
    /// A `[[trigger]]`.
    Trigger,
    /// A director script.
    Script,
    /// The drama manager.
    Drama,
}

impl Source {
    /// Lower-case name, as in events.
    pub fn name(self) -> &'static str {
        match self {
            Self::Input => "input",
            Self::Event => "event",
            Self::Trigger => "trigger",
            Self::Script => "script",
            Self::Drama => "drama",
        }
    }
}

/// A value of a snake-case serde enum (action, emotion, goal kind, genre) from its name.
pub fn from_name<T: DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

/// A timed event: commands applied before given ticks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimedEvent {
    /// Label for events and errors (`event[i]` unless named).
    pub name: String,
    /// Apply once, before this tick.
    pub at: Option<u64>,
    /// Apply every this many ticks.
    pub every: Option<u64>,
    /// First tick of an `every` (defaults to `every`).
    pub from: Option<u64>,
    /// Last tick of an `every` (inclusive).
    pub until: Option<u64>,
    /// Order among this boundary's commands (higher first).
    pub priority: i64,
    /// Commands as JSON objects in [`Command`]'s shape, characters named by their string ids.
    pub commands: Vec<String>,
}

impl TimedEvent {
    /// Whether it applies before tick `t`.
    pub fn due(&self, t: u64) -> bool {
        if self.at == Some(t) {
            return true;
        }
        let Some(n) = self.every.filter(|n| *n > 0) else { return false };
        let from = self.from.unwrap_or(n);
        t >= from && (t - from).is_multiple_of(n) && self.until.is_none_or(|u| t <= u)
    }
}

/// A trigger: commands applied when a condition holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// Label for events and errors.
    pub name: String,
    /// The condition text ([`cond`]).
    pub when: String,
    /// Fire at most once.
    pub once: bool,
    /// Order among this boundary's commands (higher first).
    pub priority: i64,
    /// Ticks after a firing during which it does not fire again.
    pub cooldown: u64,
    /// Commands as JSON objects (see [`TimedEvent::commands`]).
    pub commands: Vec<String>,
}

/// A director script: its file name (for messages) and source text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScriptSource {
    /// File name as given in the scenario (or `<inline>`).
    pub file: String,
    /// Line of the script's first line in that file (1 for a file; the line of `inline` otherwise).
    pub first_line: u32,
    /// Rhai source.
    pub text: String,
}

/// Everything a scenario tells the director.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Program {
    /// `[[event]]`s in declaration order.
    pub events: Vec<TimedEvent>,
    /// `[[trigger]]`s in declaration order.
    pub triggers: Vec<Trigger>,
    /// `[director] script` or `inline`.
    pub script: Option<ScriptSource>,
}

impl Program {
    /// Whether there is nothing to direct.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.triggers.is_empty() && self.script.is_none()
    }
}

/// How often a trigger or script registration has fired.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Firing {
    /// Times fired.
    pub count: u64,
    /// Tick before which it last fired.
    pub last: Option<u64>,
    /// Switched off after a script error.
    pub disabled: bool,
}

impl Firing {
    /// Whether a `once`/`cooldown` registration may fire before tick `t`.
    pub fn ready(&self, t: u64, once: bool, cooldown: u64) -> bool {
        !(self.disabled || once && self.count > 0) && self.last.is_none_or(|l| t >= l.saturating_add(cooldown.max(1)))
    }

    fn digest(&self) -> u64 {
        mix64(self.count ^ self.last.map_or(u64::MAX, |l| l.rotate_left(21)) ^ u64::from(self.disabled) << 63)
    }
}

/// A persistent script variable (`get`/`set`): plain values only, so it can be saved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Var {
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A flag.
    Bool(bool),
    /// A string.
    Str(String),
}

/// The director's state: its program and what it has done. Part of the world (snapshots, hash).
#[derive(Resource, Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Director {
    /// What to direct.
    pub program: Program,
    /// Per `[[trigger]]`, in order.
    pub triggers: Vec<Firing>,
    /// Per script registration (`at`, `every`, `when`), in registration order.
    pub script: Vec<Firing>,
    /// The script's persistent variables.
    pub vars: BTreeMap<String, Var>,
    /// Actors of `inject` commands for the coming tick (their proposals bypass capacity).
    pub forced: Vec<CharacterId>,
    /// Characters that have left the world, sorted.
    pub retired: Vec<CharacterId>,
    /// Commands the drama manager queued for the next boundary.
    pub queued: Vec<Command>,
}

impl Director {
    /// Digest for the world hash (the program itself is fixed for a world).
    pub fn digest(&self) -> u64 {
        let mut h = 0x6a09_e667_f3bc_c908u64;
        for f in self.triggers.iter().chain(&self.script) {
            h = mix64(h ^ f.digest());
        }
        for (k, v) in &self.vars {
            let vh = match v {
                Var::Int(i) => *i as u64,
                Var::Float(x) => x.to_bits() ^ 1,
                Var::Bool(b) => u64::from(*b) ^ 2,
                Var::Str(s) => xxhash_rust::xxh3::xxh3_64(s.as_bytes()) ^ 3,
            };
            h = mix64(h ^ xxhash_rust::xxh3::xxh3_64(k.as_bytes()) ^ vh.rotate_left(17));
        }
        for c in self.forced.iter().chain(&self.retired) {
            h = mix64(h ^ c.0 as u64);
        }
        for c in &self.queued {
            let json = serde_json::to_string(c).unwrap_or_default();
            h = mix64(h ^ xxhash_rust::xxh3::xxh3_64(json.as_bytes()));
        }
        h ^ (self.retired.len() as u64) << 40
    }

    /// Whether a character has retired.
    pub fn is_retired(&self, c: CharacterId) -> bool {
        self.retired.binary_search(&c).is_ok()
    }
}

/// Slots whose proposals this tick were injected (filled in Decide, read by Resolve).
#[derive(Resource, Clone, Debug, Default)]
pub struct Forced {
    /// Proposer slots, ascending.
    pub slots: Vec<u32>,
}

/// Decide stage, after autonomy: turns this tick's injected actors into slots for pairing.
pub fn collect_forced(mut director: ResMut<Director>, mut forced: ResMut<Forced>, graph: Res<SocialGraph>) {
    if director.forced.is_empty() {
        if !forced.slots.is_empty() {
            forced.slots.clear();
        }
        return;
    }
    let ids = std::mem::take(&mut director.forced);
    forced.slots = ids.iter().filter_map(|c| graph.slot_of(*c)).collect();
    forced.slots.sort_unstable();
    forced.slots.dedup();
}

/// Accepted proposer slots plus the injected ones whose intent is an interaction with a target
/// (they bypass the target's capacity), ascending.
pub fn with_forced(mut accepted: Vec<u32>, forced: &Forced, views: &[View]) -> Vec<u32> {
    if forced.slots.is_empty() {
        return accepted;
    }
    for &s in &forced.slots {
        let v = &views[s as usize];
        if v.intent.action.is_interaction() && v.intent.target != NONE && accepted.binary_search(&s).is_err() {
            let at = accepted.partition_point(|&x| x < s);
            accepted.insert(at, s);
        }
    }
    accepted
}

/// Character names (scenario ids) to stable ids.
pub type Names = BTreeMap<String, CharacterId>;

/// The world as conditions and scripts read it.
pub struct WorldEnv<'a> {
    /// The world.
    pub world: &'a World,
    /// Names to ids.
    pub names: &'a Names,
}

impl WorldEnv<'_> {
    fn entity(&self, who: &str) -> Option<Entity> {
        let id = *self.names.get(who)?;
        let g = self.world.resource::<SocialGraph>();
        g.slot_of(id).map(|s| g.slot_entity[s as usize])
    }

    /// The metrics of the last tick by name.
    pub fn metric_named(&self, name: &str) -> Option<f64> {
        cond::METRICS.iter().position(|m| *m == name).map(|i| cond::Env::metric(self, i))
    }

    /// Open and climaxed arcs, best story seeds first: `(id, kind, stage, characters)`.
    pub fn seeds(&self, k: usize) -> Vec<(u64, String, String, Vec<CharacterId>)> {
        self.world.get_resource::<Stories>().map_or_else(Vec::new, |s| {
            s.seeds(k).into_iter().map(|a| (a.id, a.kind.clone(), a.stage_name.clone(), a.characters())).collect()
        })
    }
}

impl cond::Env for WorldEnv<'_> {
    fn tick(&self) -> u64 {
        self.world.resource::<TickClock>().tick
    }

    fn tension(&self) -> f32 {
        self.world.resource::<Drama>().tension
    }

    fn arcs_open(&self) -> usize {
        self.world.get_resource::<Stories>().map_or(0, |s| {
            s.arcs.values().filter(|a| matches!(a.status, ArcStatus::Open | ArcStatus::Climaxed)).count()
        })
    }

    fn metric(&self, index: usize) -> f64 {
        let m = self.world.resource::<TickMetrics>();
        match index {
            0 => m.interactions as f64,
            1 => m.mean_pleasure,
            2 => m.mean_arousal,
            3 => m.mean_dominance,
            4 => m.mean_affinity,
            5 => m.mean_trust,
            6 => m.events as f64,
            _ => f64::NAN,
        }
    }

    fn mood(&self, who: &str) -> Option<Pad> {
        self.world.get::<Mood>(self.entity(who)?).map(|m| m.0)
    }

    fn emotion(&self, who: &str, kind: EmotionKind) -> Option<f32> {
        self.world.get::<Emotions>(self.entity(who)?).map(|e| e.intensity[kind as usize])
    }

    fn bond(&self, from: &str, to: &str) -> Option<Bond> {
        let g = self.world.resource::<SocialGraph>();
        let (a, b) = (g.slot_of(*self.names.get(from)?)?, g.slot_of(*self.names.get(to)?)?);
        g.edge(a, b).map(|e| g.bonds()[e])
    }
}

/// Fields of a command naming a character (turned from names into ids).
const CHARACTER_FIELDS: &[&str] = &["actor", "target", "character", "from", "to"];

/// A command written with character names (as in TOML) turned into a [`Command`].
pub fn resolve_command(json: &str, names: &Names) -> Result<Command, String> {
    let mut v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let lookup = |n: &serde_json::Value| -> Result<serde_json::Value, String> {
        match n.as_str() {
            Some(s) => names.get(s).map(|c| serde_json::json!(c.0)).ok_or_else(|| format!("unknown character {s:?}")),
            None => Ok(n.clone()),
        }
    };
    if let Some(body) = v.as_object_mut().and_then(|o| o.values_mut().next()).and_then(|b| b.as_object_mut()) {
        for f in CHARACTER_FIELDS {
            if let Some(x) = body.get_mut(*f) {
                *x = lookup(x)?;
            }
        }
        if let Some(list) = body.get_mut("bonds").and_then(|b| b.as_array_mut()) {
            for pair in list {
                if let Some(first) = pair.as_array_mut().and_then(|p| p.first_mut()) {
                    *first = lookup(first)?;
                }
            }
        }
    }
    let c: Command = serde_json::from_value(v).map_err(|e| e.to_string())?;
    c.check().map_err(|e| e.to_string())?;
    Ok(c)
}

/// One command the director decided on at a boundary, with its place in the order.
#[derive(Clone, Debug)]
pub struct Decision {
    /// Priority (higher first).
    pub priority: i64,
    /// Declaration order.
    pub order: u64,
    /// Whose hand.
    pub by: Source,
    /// Trigger, event or script label.
    pub label: String,
    /// The command, or why it could not be built.
    pub command: Result<Command, String>,
}

/// A director's compiled program: conditions parsed, commands resolved, the script loaded.
pub struct Runtime {
    /// The program (a copy of the world's, so a boundary does not clone it).
    pub program: Program,
    conds: Vec<Option<Expr>>,
    events: Vec<Vec<Result<Command, String>>>,
    triggers: Vec<Vec<Result<Command, String>>>,
    /// Names to ids at build time.
    pub names: Names,
    /// The loaded script, if any.
    pub script: Option<script::Script>,
}

/// Why a director program could not be loaded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LoadError {
    /// A trigger condition does not parse.
    #[error("trigger {name:?}: condition {column}: {message}")]
    Condition {
        /// Trigger label.
        name: String,
        /// Column in the condition.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// The script does not compile or its top level fails.
    #[error("{file}:{line}: {message}")]
    Script {
        /// Script file.
        file: String,
        /// 1-based line in that file.
        line: u32,
        /// What is wrong.
        message: String,
    },
}

impl Runtime {
    /// Compiles `program` for a world whose characters are `names`. `seed` feeds the script's
    /// random streams.
    pub fn build(program: &Program, names: Names) -> Result<Self, LoadError> {
        let mut conds = Vec::with_capacity(program.triggers.len());
        for t in &program.triggers {
            let e = Expr::parse_condition(&t.when).map_err(|e| LoadError::Condition {
                name: t.name.clone(),
                column: e.column,
                message: e.message,
            })?;
            conds.push(Some(e));
        }
        let resolve = |cmds: &[String]| cmds.iter().map(|c| resolve_command(c, &names)).collect::<Vec<_>>();
        let events = program.events.iter().map(|e| resolve(&e.commands)).collect();
        let triggers = program.triggers.iter().map(|t| resolve(&t.commands)).collect();
        let script = match &program.script {
            Some(s) => Some(script::Script::load(s, names.clone())?),
            None => None,
        };
        Ok(Self { program: program.clone(), conds, events, triggers, names, script })
    }

    /// Registrations of the script (0 without one).
    pub fn n_script(&self) -> usize {
        self.script.as_ref().map_or(0, |s| s.n_registrations())
    }

    /// What the timed events and triggers decide before tick `next`, given the world after the
    /// previous tick; updates the triggers' firing records.
    pub fn decide_toml(&self, env: &WorldEnv, state: &mut [Firing], next: u64) -> Vec<Decision> {
        let program = &self.program;
        let mut out = Vec::new();
        let mut order = 0u64;
        let mut push =
            |out: &mut Vec<Decision>, pri: i64, by: Source, label: &str, cmds: &[Result<Command, String>]| {
                for c in cmds {
                    out.push(Decision { priority: pri, order, by, label: label.to_owned(), command: c.clone() });
                    order += 1;
                }
            };
        for (e, cmds) in program.events.iter().zip(&self.events) {
            if e.due(next) {
                push(&mut out, e.priority, Source::Event, &e.name, cmds);
            }
        }
        for ((i, t), cmds) in program.triggers.iter().enumerate().zip(&self.triggers) {
            let f = &mut state[i];
            if !f.ready(next, t.once, t.cooldown) {
                continue;
            }
            if self.conds[i].as_ref().is_some_and(|c| c.holds(env)) {
                f.count += 1;
                f.last = Some(next);
                push(&mut out, t.priority, Source::Trigger, &t.name, cmds);
            }
        }
        out
    }
}

/// Sorts decisions into application order: priority (highest first), then declaration order.
pub fn order(decisions: &mut [Decision]) {
    decisions.sort_by(|a, b| b.priority.cmp(&a.priority).then(a.order.cmp(&b.order)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_repeats_between_from_and_until() {
        let e = TimedEvent {
            name: "e".into(),
            at: None,
            every: Some(5),
            from: Some(3),
            until: Some(14),
            priority: 0,
            commands: vec![],
        };
        let due: Vec<u64> = (0..30).filter(|t| e.due(*t)).collect();
        assert_eq!(due, [3, 8, 13]);
        let at = TimedEvent { at: Some(7), every: None, ..e };
        assert_eq!((0..30).filter(|t| at.due(*t)).collect::<Vec<_>>(), [7]);
    }

    #[test]
    fn once_and_cooldown_gate_firing() {
        let f = Firing { count: 1, last: Some(10), disabled: false };
        assert!(!f.ready(11, true, 0));
        assert!(!f.ready(14, false, 5));
        assert!(f.ready(15, false, 5));
        assert!(f.ready(11, false, 0));
        assert!(!Firing { disabled: true, ..Firing::default() }.ready(1, false, 0));
    }

    #[test]
    fn commands_name_characters() {
        let names: Names = [("alice".to_owned(), CharacterId(0)), ("bob".to_owned(), CharacterId(3))].into();
        let c = resolve_command(r#"{"inject":{"actor":"alice","action":"betray","target":"bob"}}"#, &names).unwrap();
        assert_eq!(
            c,
            Command::Inject { actor: CharacterId(0), action: crate::autonomy::Action::Betray, target: CharacterId(3) }
        );
        let e = resolve_command(r#"{"retire":{"character":"zed"}}"#, &names).unwrap_err();
        assert!(e.contains("unknown character \"zed\""), "{e}");
        let e = resolve_command(r#"{"narrate":{"text":""}}"#, &names).unwrap_err();
        assert!(e.contains("text"), "{e}");
    }
}
