//! A simulation: the ECS world, its tick schedule and its own thread pool.
//!
//! [`Sim`] is the engine's entry point: build one from a scenario or a snapshot, `step` it, read its
//! metrics, events and hash, save it. Everything it does is a function of (scenario, seed, inputs).

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::autonomy::Action;
use crate::autonomy::Intent;
use crate::bonds::{Bond, Relationship};
use crate::command::{AutonomyLevel, Command, CommandError, Control, Input};
use crate::contagion::ContagionBuffers;
use crate::director::{self, Decision, Director, Forced, Names, Program, Runtime, Source};
use crate::drama::Drama;
use crate::emotion::Emotions;
use crate::events::{EventKind, EventLog};
use crate::exec::Parallelism;
use crate::goals::{Goal, GoalChange, Goals};
use crate::gossip::Beliefs;
use crate::graph::{EdgeInput, SocialGraph};
use crate::ids::{CharacterId, Name, Slot};
use crate::interaction::ResolveScratch;
use crate::learning::Preferences;
use crate::memory::{Memory, Trauma};
use crate::metrics::{MeasureScratch, SlowDigest, TickMetrics};
use crate::mood::{Mood, MoodBaseline};
use crate::needs::{Needs, SocialEnergy};
use crate::params::Params;
use crate::personality::Personality;
use crate::plot::{self, Pattern};
use crate::scenario::{Genre, Scenario, WorldSeed};
use crate::snapshot::{self, CharacterState, RelationshipState, SnapshotError, WorldState};
use crate::social::{Feuds, Groups, Publicity, Status};
use crate::story::{Stories, StoriesState, StoryArc};
use crate::tick::{self, Probe, StageTimings};
use crate::trust::EdgeHistory;
use crate::user::{Presence, Role, User};

/// Ticks completed so far. The systems of tick `t` see `tick == t` (the first tick is 1).
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickClock {
    /// Current tick.
    pub tick: u64,
}

/// World-wide identity and settings.
#[derive(Resource, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorldInfo {
    /// World name.
    pub name: String,
    /// Base seed of every random stream.
    pub seed: u64,
    /// Current genre.
    pub genre: Genre,
}

/// The short history of a relationship (betrayals, grudges, secrets, alliances); mirrored from the
/// graph index by [`Sim::sync_bonds`] like the `Bond`.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BondHistory(pub EdgeHistory);

/// Inputs waiting for their tick, and the log of those applied.
#[derive(Resource, Clone, Debug, Default)]
pub struct Inputs {
    /// Queued, in submission order.
    pub pending: Vec<Input>,
    /// Applied, oldest first (bounded by [`crate::command::INPUT_LOG_MAX`]).
    pub applied: std::collections::VecDeque<Input>,
}

impl Inputs {
    fn record(&mut self, input: Input) {
        if self.applied.len() == crate::command::INPUT_LOG_MAX {
            self.applied.pop_front();
        }
        self.applied.push_back(input);
    }
}

/// A snapshot's plot-detector state, kept until [`Sim::set_patterns`] supplies the patterns.
#[derive(Resource, Clone, Debug, Default)]
pub struct PendingStories(pub Option<StoriesState>);

/// Free-form tags of a character (from its scenario), for scripts and patterns.
#[derive(Component, Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tags(pub Vec<String>);

/// Why a world could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The thread pool could not start.
    #[error("cannot start {threads} worker thread(s): {reason}")]
    Threads {
        /// Requested threads.
        threads: usize,
        /// Cause.
        reason: String,
    },
    /// A snapshot could not be read.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// The director's program could not be loaded.
    #[error("director: {0}")]
    Director(#[from] director::LoadError),
}

/// A running world.
pub struct Sim {
    world: World,
    schedule: Schedule,
    pool: rayon::ThreadPool,
    /// The director's compiled program (rebuilt from the world's [`Director`] state).
    director: Option<Runtime>,
}

impl Sim {
    /// Builds the world a scenario describes, with `seed` overriding the scenario's when given.
    pub fn from_scenario(s: &Scenario, seed: Option<u64>, threads: usize) -> Result<Self, BuildError> {
        let seed = seed.unwrap_or(s.world.seed);
        let info = WorldInfo { name: s.world.name.clone(), seed, genre: s.world.genre };
        let mut sim = Self::from_seed(s.expand(seed), info, s.params.clone(), threads)?;
        sim.set_director(s.director.clone())?;
        Ok(sim)
    }

    /// Installs a director program (scenario `[[event]]`s, `[[trigger]]`s, `[director]` script) with
    /// fresh firing records. Used on a new world; a snapshot carries its program and state.
    pub fn set_director(&mut self, program: Program) -> Result<(), director::LoadError> {
        let runtime = if program.is_empty() { None } else { Some(Runtime::build(&program, self.name_map())?) };
        let mut d = self.world.resource_mut::<Director>();
        d.triggers = vec![Default::default(); program.triggers.len()];
        d.script = vec![Default::default(); runtime.as_ref().map_or(0, Runtime::n_script)];
        d.program = program;
        self.director = runtime;
        self.refresh();
        Ok(())
    }

    /// Recomputes the derived per-tick state (metrics, hash, publicity) after a change between ticks.
    fn refresh(&mut self) {
        let mut refresh = tick::refresh_schedule();
        let world = &mut self.world;
        self.pool.install(|| refresh.run(world));
    }

    /// Scenario ids to stable ids of every character (retired ones too).
    pub fn name_map(&self) -> Names {
        let mut q = self.world.try_query::<(&CharacterId, &Name)>().expect("characters are registered");
        q.iter(&self.world).map(|(id, n)| (n.key.clone(), *id)).collect()
    }

    /// Whether a condition (the `when` language of triggers) holds for the world now.
    pub fn holds(&self, condition: &director::Expr) -> bool {
        let names = self.name_map();
        condition.holds(&director::WorldEnv { world: &self.world, names: &names })
    }

    /// Builds a world from expanded characters and relationships (used by `aion bench` too).
    pub fn from_seed(seed: WorldSeed, info: WorldInfo, params: Params, threads: usize) -> Result<Self, BuildError> {
        let characters = seed
            .characters
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let name = Name { key: c.id, display: c.name };
                CharacterState::fresh(CharacterId(i as u32), name, c.tags, c.personality, c.mood)
            })
            .collect();
        let relationships = with_reverses(seed.relationships)
            .into_iter()
            .map(|(s, t, bond)| RelationshipState {
                source: CharacterId(s),
                target: CharacterId(t),
                bond,
                history: EdgeHistory::default(),
            })
            .collect();
        let state = WorldState::new(info, params, characters, relationships);
        let mut sim = Self::from_state(state, threads)?;
        let (nc, nr) = {
            let g = sim.world.resource::<SocialGraph>();
            (g.n_characters() as u32, g.n_relationships() as u32)
        };
        let info = sim.world.resource::<WorldInfo>().clone();
        sim.world.resource_mut::<EventLog>().push(
            0,
            EventKind::WorldStarted { name: info.name, seed: info.seed, n_characters: nc, n_relationships: nr },
        );
        sim.world.resource_mut::<MeasureScratch>().seq_at_tick_start = 1;
        Ok(sim)
    }

    /// Rebuilds a world from its state (a loaded snapshot or a freshly expanded scenario).
    pub fn from_state(state: WorldState, threads: usize) -> Result<Self, BuildError> {
        let threads = threads.max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("aion-worker-{i}"))
            .build()
            .map_err(|e| BuildError::Threads { threads, reason: e.to_string() })?;
        let mut world = World::new();
        let WorldState {
            info,
            params,
            tick,
            characters,
            relationships,
            events,
            next_seq,
            users,
            groups,
            next_group_id,
            feuds,
            stories,
            pending_inputs,
            drama,
            director: director_state,
            ..
        } = state;
        let chars: Vec<(CharacterId, Entity)> = characters
            .into_iter()
            .map(|c| {
                let e = world
                    .spawn((
                        c.id,
                        c.name,
                        Tags(c.tags),
                        c.personality,
                        Mood(c.mood),
                        MoodBaseline(c.baseline),
                        c.emotions,
                        c.needs,
                        SocialEnergy(c.energy),
                        Intent::default(),
                        c.memory,
                        c.beliefs,
                        c.trauma,
                        (Status(c.status), SlowDigest::default(), c.preferences, c.goals, c.control),
                    ))
                    .id();
                (c.id, e)
            })
            .collect();
        let rels: Vec<EdgeInput> = relationships
            .into_iter()
            .map(|r| {
                let rel = Relationship { source: r.source, target: r.target };
                let entity = world.spawn((rel, r.bond, BondHistory(r.history))).id();
                EdgeInput { source: r.source, target: r.target, entity, bond: r.bond, history: r.history }
            })
            .collect();
        let mut graph = SocialGraph::build(&chars, &rels);
        let pers: Vec<Personality> = graph
            .slot_entity
            .iter()
            .map(|&e| *world.get::<Personality>(e).expect("characters have a personality"))
            .collect();
        graph.set_compat(None, |s| pers[s as usize]);
        for (slot, &e) in graph.slot_entity.iter().enumerate() {
            world.entity_mut(e).insert(Slot(slot as u32));
        }
        for u in users {
            world.spawn((u.user, u.role, u.presence));
        }
        let graph_n = graph.n_characters();
        let mut public = Publicity::default();
        public.resize(graph_n);
        for c in world.query::<(&Slot, &Status)>().iter(&world) {
            public.status[c.0.0 as usize] = c.1.0;
        }
        for (i, grp) in groups.iter().enumerate() {
            for m in &grp.members {
                if let Some(s) = graph.slot_of(*m) {
                    public.group[s as usize] = i as u32;
                }
            }
        }
        let mut group_res = Groups::restore(groups.clone(), next_group_id);
        for grp in groups {
            let id = grp.id;
            group_res.set_entity(id, world.spawn(grp).id());
        }
        world.insert_resource(group_res);
        world.insert_resource(Feuds::restore(feuds));
        world.insert_resource(PendingStories(stories));
        world.insert_resource(Inputs { pending: pending_inputs, ..Default::default() });
        world.insert_resource(drama);
        let program = director_state.program.clone();
        world.insert_resource(director_state);
        world.init_resource::<Forced>();
        world.insert_resource(graph);
        world.insert_resource(TickClock { tick });
        world.insert_resource(info);
        world.insert_resource(params);
        world.insert_resource(Parallelism { threads });
        world.insert_resource(EventLog::restore(events, next_seq));
        world.insert_resource(MeasureScratch { seq_at_tick_start: next_seq, ..Default::default() });
        world.insert_resource(public);
        world.init_resource::<TickMetrics>();
        world.init_resource::<ResolveScratch>();
        world.init_resource::<ContagionBuffers>();
        world.init_resource::<StageTimings>();
        let mut schedule = tick::schedule();
        schedule.initialize(&mut world).expect("the tick schedule is valid (tested: no ambiguities, no cycles)");
        let mut refresh = tick::refresh_schedule();
        pool.install(|| refresh.run(&mut world));
        let mut sim = Self { world, schedule, pool, director: None };
        if !program.is_empty() {
            sim.director = Some(Runtime::build(&program, sim.name_map())?);
        }
        Ok(sim)
    }

    /// Loads a snapshot written by [`Sim::snapshot`].
    pub fn from_snapshot(bytes: &[u8], threads: usize) -> Result<Self, BuildError> {
        Self::from_state(snapshot::decode(bytes)?, threads)
    }

    /// Queues an input for the tick it names (applied before that tick runs, in submission order).
    /// A command that fails its range checks or names a tick already run is refused.
    pub fn submit(&mut self, input: Input) -> Result<(), CommandError> {
        input.command.check()?;
        let now = self.tick();
        if input.tick <= now {
            return Err(CommandError::Late { tick: input.tick, now });
        }
        self.world.resource_mut::<Inputs>().pending.push(input);
        Ok(())
    }

    /// Inputs queued for ticks still to run (a snapshot carries them).
    pub fn pending_inputs(&self) -> &[Input] {
        &self.world.resource::<Inputs>().pending
    }

    /// Inputs applied so far (the most recent [`crate::command::INPUT_LOG_MAX`]), oldest first.
    pub fn input_log(&self) -> impl Iterator<Item = &Input> {
        self.world.resource::<Inputs>().applied.iter()
    }

    /// Applies a command to the world now, between ticks (as an external input).
    pub fn apply(&mut self, command: &Command) -> Result<(), CommandError> {
        self.apply_by(command, Source::Input, "")
    }

    /// Applies a command on behalf of `by` (`label` names the trigger, event or script), logging
    /// the director's hand: `injected`, `narrated`, `character_spawned`, `character_retired`, or
    /// `directed` for the other commands of a director source.
    pub fn apply_by(&mut self, command: &Command, by: Source, label: &str) -> Result<(), CommandError> {
        command.check()?;
        for c in named(command) {
            if self.world.resource::<Director>().is_retired(c) {
                return Err(CommandError::Retired(c));
            }
        }
        let entity_of = |sim: &Self, c: CharacterId| {
            let g = sim.graph();
            g.slot_of(c).map(|s| g.slot_entity[s as usize]).ok_or(CommandError::UnknownCharacter(c))
        };
        let when = self.tick() + 1;
        let mut logged = false;
        match command {
            Command::SetGenre { genre } => self.set_genre(*genre),
            Command::SetPersonality { character, personality } => {
                if !self.set_personality(*character, *personality) {
                    return Err(CommandError::UnknownCharacter(*character));
                }
            }
            Command::SetBond { from, to, bond } => {
                let g = self.graph();
                let s = g.slot_of(*from).ok_or(CommandError::UnknownCharacter(*from))?;
                let t = g.slot_of(*to).ok_or(CommandError::UnknownCharacter(*to))?;
                let e = g.edge(s, t).ok_or(CommandError::NoRelationship { from: *from, to: *to })?;
                let mut graph = self.world.resource_mut::<SocialGraph>();
                let hist = graph.history()[e];
                graph.set_edge(e, *bond, hist);
            }
            Command::SetMood { character, mood } => {
                let e = entity_of(self, *character)?;
                self.world.entity_mut(e).insert(Mood(*mood));
            }
            Command::SetAutonomy { character, level } => {
                let e = entity_of(self, *character)?;
                if let Some(mut c) = self.world.get_mut::<Control>(e) {
                    c.level = *level;
                }
            }
            Command::Possess { character, user } => {
                let e = entity_of(self, *character)?;
                if let Some(mut c) = self.world.get_mut::<Control>(e) {
                    (c.level, c.possessed_by) = (AutonomyLevel::Off, Some(*user));
                }
            }
            Command::Release { character } => {
                let e = entity_of(self, *character)?;
                if let Some(mut c) = self.world.get_mut::<Control>(e) {
                    (c.level, c.possessed_by) = (AutonomyLevel::Full, None);
                }
            }
            Command::Act { character, action, target } => {
                let e = entity_of(self, *character)?;
                if action.is_interaction() || *action == Action::Avoid {
                    let t = target.ok_or(CommandError::NoRelationship { from: *character, to: *character })?;
                    let g = self.graph();
                    let (s, ts) = (g.slot_of(*character), g.slot_of(t).ok_or(CommandError::UnknownCharacter(t))?);
                    if s.and_then(|s| g.edge(s, ts)).is_none() {
                        return Err(CommandError::NoRelationship { from: *character, to: t });
                    }
                }
                if let Some(mut c) = self.world.get_mut::<Control>(e) {
                    c.queued = Some((*action, *target));
                }
            }
            Command::Feel { character, emotion, intensity } => {
                let e = entity_of(self, *character)?;
                if let Some(mut emo) = self.world.get_mut::<Emotions>(e) {
                    emo.feel(*emotion, *intensity);
                }
            }
            Command::Inject { actor, action, target } => {
                let e = entity_of(self, *actor)?;
                let g = self.graph();
                let (s, t) = (g.slot_of(*actor), g.slot_of(*target).ok_or(CommandError::UnknownCharacter(*target))?);
                if s.and_then(|s| g.edge(s, t)).is_none() {
                    return Err(CommandError::NoRelationship { from: *actor, to: *target });
                }
                if let Some(mut c) = self.world.get_mut::<Control>(e) {
                    c.queued = Some((*action, Some(*target)));
                }
                self.world.resource_mut::<Director>().forced.push(*actor);
                let ev = EventKind::Injected { by, actor: *actor, target: *target, action: *action };
                self.world.resource_mut::<EventLog>().push(when, ev);
                logged = true;
            }
            Command::Narrate { text } => {
                let ev = EventKind::Narrated { by, text: text.clone() };
                self.world.resource_mut::<EventLog>().push(when, ev);
                logged = true;
            }
            Command::Spawn { name, personality, mood, bonds } => {
                let mut id = CharacterId(0);
                self.rebuild(|st| {
                    id = spawn_into(st, name, personality, *mood, bonds)?;
                    Ok(())
                })?;
                let ev = EventKind::CharacterSpawned { by, character: id, name: name.clone() };
                self.world.resource_mut::<EventLog>().push(when, ev);
                logged = true;
            }
            Command::Retire { character } => {
                let c = *character;
                entity_of(self, c)?;
                self.rebuild(|st| {
                    retire_in(st, c);
                    Ok(())
                })?;
                let ev = EventKind::CharacterRetired { by, character: c };
                self.world.resource_mut::<EventLog>().push(when, ev);
                logged = true;
            }
            Command::SetGoal { character, goal, target, priority } => {
                let e = entity_of(self, *character)?;
                if let Some(t) = target {
                    entity_of(self, *t)?;
                }
                let g = Goal { kind: *goal, target: *target, priority: *priority, since: self.tick() };
                if let Some(mut goals) = self.world.get_mut::<Goals>(e) {
                    goals.list.retain(|x| !(x.kind == g.kind && x.target == g.target));
                    goals.list.push(g);
                    goals.list.sort_by(|a, b| b.priority.total_cmp(&a.priority));
                    goals.list.truncate(crate::goals::GOALS_MAX);
                }
                let ev = EventKind::GoalChanged {
                    character: *character,
                    change: GoalChange::Adopted,
                    kind: *goal,
                    target: *target,
                };
                self.world.resource_mut::<EventLog>().push(when, ev);
            }
            Command::DropGoal { character, goal, target } => {
                let e = entity_of(self, *character)?;
                let mut dropped = Vec::new();
                if let Some(mut goals) = self.world.get_mut::<Goals>(e) {
                    let matches = |x: &Goal| x.kind == *goal && target.is_none_or(|t| x.target == Some(t));
                    dropped = goals.list.iter().copied().filter(matches).collect();
                    if !dropped.is_empty() {
                        goals.list.retain(|x| !matches(x));
                    }
                }
                for g in dropped {
                    let ev = EventKind::GoalChanged {
                        character: *character,
                        change: GoalChange::Abandoned,
                        kind: g.kind,
                        target: g.target,
                    };
                    self.world.resource_mut::<EventLog>().push(when, ev);
                }
            }
            Command::SetParam { name, value } => {
                let params = self.world.resource::<Params>();
                let next = crate::scenario::with_param(params, name, *value)
                    .map_err(|message| CommandError::Invalid { field: "value", message })?;
                self.world.insert_resource(next);
            }
        }
        if by != Source::Input && !logged {
            let command = command_name(command).to_owned();
            let ev = EventKind::Directed { by, command, label: label.to_owned() };
            self.world.resource_mut::<EventLog>().push(when, ev);
        }
        Ok(())
    }

    /// Rebuilds the world from its state with `edit` applied (spawn, retire): the one builder,
    /// [`Sim::from_state`], so a changed world is built exactly as a loaded snapshot would be.
    /// Story sifting, the timing probe and the tick's event count carry over.
    fn rebuild(&mut self, edit: impl FnOnce(&mut WorldState) -> Result<(), CommandError>) -> Result<(), CommandError> {
        let mut state = self.state();
        edit(&mut state)?;
        let fail = |message: String| CommandError::Invalid { field: "world", message };
        let patterns = self.world.get_resource::<Stories>().map(|s| s.patterns().to_vec());
        let threads = self.world.resource::<Parallelism>().threads;
        let mut next = Self::from_state(state, threads).map_err(|e| fail(e.to_string()))?;
        if let Some(p) = patterns {
            next.set_patterns(p).map_err(|e| fail(e.to_string()))?;
        }
        let (probe, total) = {
            let mut t = self.world.resource_mut::<StageTimings>();
            (t.probe.take(), t.total_ns)
        };
        {
            let mut t = next.world.resource_mut::<StageTimings>();
            (t.probe, t.total_ns) = (probe, total);
        }
        let seq_start = self.world.resource::<MeasureScratch>().seq_at_tick_start;
        next.world.resource_mut::<MeasureScratch>().seq_at_tick_start = seq_start;
        *self = next;
        Ok(())
    }

    /// The director's turn at the boundary before the next tick: timed events, triggers, the
    /// script and the drama manager's queued injections decide on the world after the last tick;
    /// their commands are applied in priority order, then declaration order (see [`director`]).
    fn direct(&mut self) {
        let queued = std::mem::take(&mut self.world.resource_mut::<Director>().queued);
        let Some(mut rt) = self.director.take() else {
            if !queued.is_empty() {
                self.apply_decisions(drama_decisions(queued, 0));
            }
            return;
        };
        let next = self.tick() + 1;
        let seed = self.info().seed;
        let mut firings = self.world.resource::<Director>().triggers.clone();
        firings.resize(rt.program.triggers.len(), Default::default());
        let mut decisions = {
            let env = director::WorldEnv { world: &self.world, names: &rt.names };
            rt.decide_toml(&env, &mut firings, next)
        };
        if self.world.resource::<Director>().triggers != firings {
            self.world.resource_mut::<Director>().triggers = firings;
        }
        if let Some(script) = rt.script.as_mut() {
            let (more, errors) = script.decide(&mut self.world, seed, next, decisions.len() as u64);
            decisions.extend(more);
            for e in errors {
                let ev = EventKind::DirectorError { script: e.file, line: e.line, message: e.message };
                self.world.resource_mut::<EventLog>().push(next, ev);
            }
        }
        let base = decisions.len() as u64;
        decisions.extend(drama_decisions(queued, base));
        self.director = Some(rt);
        self.apply_decisions(decisions);
    }

    fn apply_decisions(&mut self, mut decisions: Vec<Decision>) {
        let next = self.tick() + 1;
        director::order(&mut decisions);
        for d in decisions {
            let result = d.command.and_then(|c| self.apply_by(&c, d.by, &d.label).map_err(|e| e.to_string()));
            if let Err(message) = result {
                tracing::debug!(tick = next, "director command refused: {message}");
                let ev = EventKind::DirectorError { script: d.label, line: 0, message };
                self.world.resource_mut::<EventLog>().push(next, ev);
            }
        }
    }

    /// Applies the queued inputs due before the next tick, in submission order, and logs them. A
    /// queued input the world refuses (an unknown character) is dropped with a warning; it never
    /// stops the world.
    fn apply_due(&mut self) {
        let next = self.tick() + 1;
        let pending = std::mem::take(&mut self.world.resource_mut::<Inputs>().pending);
        let (due, later): (Vec<Input>, Vec<Input>) = pending.into_iter().partition(|i| i.tick == next);
        self.world.resource_mut::<Inputs>().pending = later;
        for input in due {
            match self.apply(&input.command) {
                Ok(()) => self.world.resource_mut::<Inputs>().record(input),
                Err(e) => tracing::warn!(tick = next, "input refused: {e}"),
            }
        }
    }

    /// Advances the world by one tick: the director's commands, then the inputs due, then the
    /// tick's stages.
    pub fn step(&mut self) {
        let _span = tracing::trace_span!("tick").entered();
        self.direct();
        self.apply_due();
        self.world.resource_mut::<TickClock>().tick += 1;
        let (world, schedule) = (&mut self.world, &mut self.schedule);
        self.pool.install(|| schedule.run(world));
    }

    /// Ticks completed.
    pub fn tick(&self) -> u64 {
        self.world.resource::<TickClock>().tick
    }

    /// Aggregates of the last tick, including its world hash.
    pub fn metrics(&self) -> TickMetrics {
        *self.world.resource::<TickMetrics>()
    }

    /// Hash of all simulation state after the last tick (0 before the first tick).
    pub fn world_hash(&self) -> u64 {
        self.metrics().world_hash
    }

    /// The event log.
    pub fn events(&self) -> &EventLog {
        self.world.resource::<EventLog>()
    }

    /// World identity.
    pub fn info(&self) -> &WorldInfo {
        self.world.resource::<WorldInfo>()
    }

    /// The relationship index.
    pub fn graph(&self) -> &SocialGraph {
        self.world.resource::<SocialGraph>()
    }

    /// Names by stable id (index = id).
    pub fn names(&self) -> Vec<Name> {
        let mut v: Vec<(CharacterId, Name)> = self
            .world
            .iter_entities()
            .filter_map(|e| Some((*e.get::<CharacterId>()?, e.get::<Name>()?.clone())))
            .collect();
        v.sort_by_key(|(id, _)| *id);
        v.into_iter().map(|(_, n)| n).collect()
    }

    /// Read access to the ECS world (queries, inspection), with `Bond` components brought up to date.
    pub fn world(&mut self) -> &World {
        self.sync_bonds();
        &self.world
    }

    /// Write access to the ECS world, for tests and tools; a running server sends commands instead.
    pub fn world_mut(&mut self) -> &mut World {
        self.sync_bonds();
        &mut self.world
    }

    /// Changes a character's personality between ticks (a director's edit): its cached
    /// compatibilities are recomputed; the baseline follows on the next tick. Returns false for an
    /// unknown id.
    pub fn set_personality(&mut self, id: CharacterId, p: Personality) -> bool {
        let Some(slot) = self.graph().slot_of(id) else { return false };
        let entity = self.graph().slot_entity[slot as usize];
        self.world.entity_mut(entity).insert(p);
        self.world.resource_scope(|world, mut graph: Mut<SocialGraph>| {
            let ents = graph.slot_entity.clone();
            graph.set_compat(Some(&[slot]), |s| {
                *world.get::<Personality>(ents[s as usize]).expect("characters have a personality")
            });
        });
        true
    }

    /// Turns on story sifting with these patterns. A world loaded from a snapshot that was sifting
    /// resumes its partial matches and arcs (the patterns must be the same ones); otherwise sifting
    /// starts with the next event.
    pub fn set_patterns(&mut self, patterns: Vec<Pattern>) -> Result<(), plot::RestoreError> {
        let pending = self.world.resource_mut::<PendingStories>().0.take();
        let stories = match pending {
            Some(state) => Stories::restore(patterns, &state)?,
            None => Stories::new(patterns, self.events().next_seq()),
        };
        let arcs: Vec<StoryArc> = stories.arcs.values().cloned().collect();
        self.world.insert_resource(stories);
        for arc in arcs {
            let id = arc.id;
            let e = self.world.spawn(arc).id();
            self.world.resource_mut::<Stories>().set_entity(id, e);
        }
        // The world hash covers the stories: measure again so it is right before the next tick too
        // (a restored world's hash must equal the saved one's).
        let mut refresh = tick::refresh_schedule();
        let (world, pool) = (&mut self.world, &self.pool);
        pool.install(|| refresh.run(world));
        Ok(())
    }

    /// Whether this world came from a snapshot of a world that was sifting stories (so replaying it
    /// needs [`Sim::set_patterns`] with the same patterns to reproduce its hashes).
    pub fn was_sifting(&self) -> bool {
        self.world.resource::<PendingStories>().0.is_some() || self.stories().is_some()
    }

    /// The plot detector, when patterns are loaded.
    pub fn stories(&self) -> Option<&Stories> {
        self.world.get_resource::<Stories>()
    }

    /// Turns this world into a branch with another seed: every random stream from the next tick on
    /// differs (a fork with the same seed continues exactly like the original).
    pub fn set_seed(&mut self, seed: u64) {
        self.world.resource_mut::<WorldInfo>().seed = seed;
    }

    /// Switches the world's genre between ticks (action weights, primary patterns); logged.
    pub fn set_genre(&mut self, genre: Genre) {
        let from = self.world.resource::<WorldInfo>().genre;
        if from != genre {
            self.world.resource_mut::<WorldInfo>().genre = genre;
            let tick = self.tick();
            self.world.resource_mut::<EventLog>().push(tick, EventKind::GenreChanged { from, to: genre });
        }
    }

    /// Copies bonds written during ticks from the graph index into their `Bond` components.
    ///
    /// Inside a tick, bond values are read and written through [`SocialGraph`] only (a component
    /// lookup per relationship in a hot loop costs ~20x, PERFORMANCE.md); every way of observing
    /// the world from outside (`world`, `world_mut`, `state`, `snapshot`) flushes first, so the
    /// components are never seen stale.
    pub fn sync_bonds(&mut self) {
        let dirty = self.world.resource_mut::<SocialGraph>().take_dirty();
        if dirty.is_empty() {
            return;
        }
        self.world.resource_scope(|world, graph: Mut<SocialGraph>| {
            let mut q = world.query::<(&mut Bond, &mut BondHistory)>();
            for e in dirty {
                if let Ok((mut b, mut h)) = q.get_mut(world, graph.relationship[e as usize]) {
                    *b = graph.bonds()[e as usize];
                    h.0 = graph.history()[e as usize];
                }
            }
        });
    }

    /// Installs a clock for per-stage timing (tools only; the engine never reads the wall clock).
    pub fn set_probe(&mut self, probe: Option<Probe>) {
        let mut t = self.world.resource_mut::<StageTimings>();
        t.probe = probe;
        t.reset();
    }

    /// Nanoseconds per stage summed since the probe was installed, in [`tick::TickSystems::ALL`] order.
    pub fn stage_ns(&self) -> [u64; 9] {
        self.world.resource::<StageTimings>().total_ns
    }

    /// The whole world as plain data, in stable-id order.
    pub fn state(&mut self) -> WorldState {
        self.sync_bonds();
        let mut characters: Vec<CharacterState> = self
            .world
            .query::<(
                (&CharacterId, &Name, &Tags, &Personality, &Mood, &MoodBaseline, &Emotions, &Needs, &SocialEnergy),
                (&Memory, &Beliefs, &Trauma, &Status, &Preferences, &Goals, &Control),
            )>()
            .iter(&self.world)
            .map(|((id, name, tags, p, m, b, e, n, en), (memory, beliefs, trauma, status, prefs, goals, control))| {
                CharacterState {
                    id: *id,
                    name: name.clone(),
                    tags: tags.0.clone(),
                    personality: *p,
                    mood: m.0,
                    baseline: b.0,
                    emotions: *e,
                    needs: *n,
                    energy: en.0,
                    memory: memory.clone(),
                    beliefs: beliefs.clone(),
                    trauma: trauma.clone(),
                    status: status.0,
                    preferences: prefs.clone(),
                    goals: goals.clone(),
                    control: control.clone(),
                }
            })
            .collect();
        characters.sort_by_key(|c| c.id);
        let mut relationships: Vec<RelationshipState> = self
            .world
            .query::<(&Relationship, &Bond, &BondHistory)>()
            .iter(&self.world)
            .map(|(r, b, h)| RelationshipState { source: r.source, target: r.target, bond: *b, history: h.0 })
            .collect();
        relationships.sort_by_key(|r| (r.source, r.target));
        let mut users: Vec<crate::user::UserState> = self
            .world
            .query::<(&User, &Role, &Presence)>()
            .iter(&self.world)
            .map(|(u, r, p)| crate::user::UserState { user: u.clone(), role: *r, presence: p.clone() })
            .collect();
        users.sort_by_key(|u| u.user.account);
        let log = self.world.resource::<EventLog>();
        let mut state = WorldState::new(
            self.world.resource::<WorldInfo>().clone(),
            self.world.resource::<Params>().clone(),
            characters,
            relationships,
        );
        state.tick = self.tick();
        state.events = log.iter().cloned().collect();
        state.next_seq = log.next_seq();
        state.users = users;
        let groups = self.world.resource::<Groups>();
        state.groups = groups.groups.clone();
        state.next_group_id = groups.next_id;
        state.feuds = self.world.resource::<Feuds>().iter().map(|(k, f)| (*k, *f)).collect();
        state.pending_inputs = self.world.resource::<Inputs>().pending.clone();
        state.drama = self.world.resource::<Drama>().clone();
        state.director = self.world.resource::<Director>().clone();
        state.stories = match self.world.get_resource::<Stories>() {
            Some(s) => Some(s.state()),
            None => self.world.resource::<PendingStories>().0.clone(),
        };
        state
    }

    /// The world as a versioned binary snapshot.
    pub fn snapshot(&mut self) -> Vec<u8> {
        snapshot::encode(&self.state())
    }
}

/// The characters a command names (each must not have retired).
fn named(c: &Command) -> Vec<CharacterId> {
    match c {
        Command::SetPersonality { character, .. }
        | Command::SetMood { character, .. }
        | Command::SetAutonomy { character, .. }
        | Command::Possess { character, .. }
        | Command::Release { character }
        | Command::Feel { character, .. }
        | Command::Retire { character }
        | Command::DropGoal { character, .. } => vec![*character],
        Command::SetBond { from, to, .. } => vec![*from, *to],
        Command::Act { character, target, .. } => std::iter::once(*character).chain(*target).collect(),
        Command::Inject { actor, target, .. } => vec![*actor, *target],
        Command::SetGoal { character, target, .. } => std::iter::once(*character).chain(*target).collect(),
        Command::Spawn { bonds, .. } => bonds.iter().map(|b| b.0).collect(),
        Command::SetGenre { .. } | Command::Narrate { .. } | Command::SetParam { .. } => Vec::new(),
    }
}

/// The command's name as written in scenarios and input logs.
fn command_name(c: &Command) -> &'static str {
    match c {
        Command::SetGenre { .. } => "set_genre",
        Command::SetPersonality { .. } => "set_personality",
        Command::SetBond { .. } => "set_bond",
        Command::SetMood { .. } => "set_mood",
        Command::SetAutonomy { .. } => "set_autonomy",
        Command::Possess { .. } => "possess",
        Command::Release { .. } => "release",
        Command::Act { .. } => "act",
        Command::Feel { .. } => "feel",
        Command::Inject { .. } => "inject",
        Command::Narrate { .. } => "narrate",
        Command::Spawn { .. } => "spawn",
        Command::Retire { .. } => "retire",
        Command::SetGoal { .. } => "set_goal",
        Command::DropGoal { .. } => "drop_goal",
        Command::SetParam { .. } => "set_param",
    }
}

/// The drama manager's queued injections as decisions (after everything else, in queue order).
fn drama_decisions(queued: Vec<Command>, base: u64) -> Vec<Decision> {
    queued
        .into_iter()
        .enumerate()
        .map(|(i, c)| Decision {
            priority: 0,
            order: base + i as u64,
            by: Source::Drama,
            label: "drama".into(),
            command: Ok(c),
        })
        .collect()
}

/// Adds a new character to a world state with the next stable id; returns the id.
fn spawn_into(
    st: &mut WorldState,
    name: &str,
    personality: &Personality,
    mood: Option<crate::mood::Pad>,
    bonds: &[(CharacterId, Bond)],
) -> Result<CharacterId, CommandError> {
    if st.characters.iter().any(|c| c.name.key == name) {
        return Err(CommandError::Invalid { field: "name", message: format!("{name:?} is already taken") });
    }
    let id = CharacterId(st.characters.last().map_or(0, |c| c.id.0 + 1));
    let mut others: Vec<CharacterId> = bonds.iter().map(|b| b.0).collect();
    others.sort();
    if others.windows(2).any(|w| w[0] == w[1]) {
        return Err(CommandError::Invalid { field: "bonds", message: "a character is listed twice".into() });
    }
    for o in &others {
        if st.characters.binary_search_by_key(o, |c| c.id).is_err() {
            return Err(CommandError::UnknownCharacter(*o));
        }
    }
    let name = Name { key: name.to_owned(), display: name.to_owned() };
    st.characters.push(CharacterState::fresh(id, name, Vec::new(), *personality, mood));
    for (other, bond) in bonds {
        let h = EdgeHistory::default();
        st.relationships.push(RelationshipState { source: id, target: *other, bond: *bond, history: h });
        st.relationships.push(RelationshipState { source: *other, target: id, bond: *bond, history: h });
    }
    st.relationships.sort_by_key(|r| (r.source, r.target));
    Ok(id)
}

/// Removes a character's relationships and its own say in what it does; its id stays taken.
fn retire_in(st: &mut WorldState, c: CharacterId) {
    st.relationships.retain(|r| r.source != c && r.target != c);
    if let Some(ch) = st.characters.iter_mut().find(|x| x.id == c) {
        ch.control = Control { level: AutonomyLevel::Off, ..Control::default() };
    }
    let d = &mut st.director;
    d.forced.retain(|x| *x != c);
    if let Err(at) = d.retired.binary_search(&c) {
        d.retired.insert(at, c);
    }
}

/// Adds the missing reverse of every relationship (a default bond with the same familiarity), so
/// every bond has a counterpart for the target's feelings. Output sorted by (source, target).
pub fn with_reverses(mut rels: Vec<(u32, u32, Bond)>) -> Vec<(u32, u32, Bond)> {
    rels.sort_by_key(|r| (r.0, r.1));
    let missing: Vec<(u32, u32, Bond)> = rels
        .iter()
        .filter(|r| rels.binary_search_by_key(&(r.1, r.0), |x| (x.0, x.1)).is_err())
        .map(|r| (r.1, r.0, Bond { familiarity: r.2.familiarity, ..Default::default() }))
        .collect();
    rels.extend(missing);
    rels.sort_by_key(|r| (r.0, r.1));
    rels
}
