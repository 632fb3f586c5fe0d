//! Story arcs: what the plot detector finds, as entities with beats, tension and status; their
//! evaluation as story seeds (interest, coherence); and the chronicle that tells them.
//!
//! The Sift stage feeds this tick's events to the incremental [`Sifter`] (patterns from
//! `scenarios/patterns/`), turns its reports into [`StoryArc`]s and logs an [`EventKind::ArcAdvanced`]
//! each time an arc opens, advances, climaxes, resolves or is abandoned.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::bonds::{Bond, Standing};
use crate::events::{Event, EventKind, EventLog, Party};
use crate::graph::SocialGraph;
use crate::ids::{CharacterId, Name};
use crate::mood::{Mood, Pad};
use crate::personality::Personality;
use crate::plot::{self, Fact, MatchEvent, Pattern, SiftState, Sifter, StateView};
use crate::scenario::Genre;
use crate::social::Publicity;
use crate::world::{TickClock, WorldInfo};

/// Points kept on an arc's tension curve (oldest dropped first).
pub const TENSION_POINTS_MAX: usize = 64;
/// Arcs kept in memory; when full, the oldest finished arc is dropped (and despawned).
pub const ARCS_MAX: usize = 4096;
/// Facts in a tick from which patterns are matched in parallel.
pub const SIFT_PARALLEL_FACTS: usize = 512;
/// Beats kept per arc (later beats of very long arcs replace the last one).
pub const BEATS_MAX: usize = 32;

/// Where an arc stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArcStatus {
    /// Some stages reached, not yet every required one.
    Open,
    /// Every required stage reached; optional later stages may still come.
    Climaxed,
    /// Finished: its last stage came, or its optional stages will not.
    Resolved,
    /// Died before its required stages were reached.
    Abandoned,
}

/// One beat of an arc: the events that matched a stage's clause.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArcBeat {
    /// Stage index.
    pub stage: usize,
    /// Stage name.
    pub stage_name: String,
    /// Clause (beat) name.
    pub beat: String,
    /// Tick of the event.
    pub tick: u64,
    /// `seq` of the event (the evidence).
    pub seq: u64,
    /// What happened, in words (rendered when the beat was found).
    pub text: String,
    /// Emotional intensity of the event in [0, 1].
    pub intensity: f32,
    /// Characters involved in the event.
    pub actors: Vec<CharacterId>,
    /// `seq` of the event that caused this one, when it says.
    pub cause: Option<u64>,
    /// Moods of the arc's characters at this beat.
    pub moods: Vec<(CharacterId, Pad)>,
}

/// A story the plot detector found.
///
/// Spawned and updated by `sift_stories` (Sift); [`Stories`] holds the index.
#[derive(Component, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoryArc {
    /// Stable arc id (the match id of its first report).
    pub id: u64,
    /// Pattern name.
    pub pattern: String,
    /// Arc kind (romance, betrayal, feud, ...).
    pub kind: String,
    /// Variable bindings: who plays which part.
    pub roles: Vec<(String, Party)>,
    /// Last stage reached.
    pub stage: usize,
    /// Its name.
    pub stage_name: String,
    /// Stages in the pattern.
    pub stages_total: usize,
    /// Status.
    pub status: ArcStatus,
    /// Beats, in order.
    pub beats: Vec<ArcBeat>,
    /// Tension over time `(tick, tension in [0, 1])`.
    pub tension: Vec<(u64, f32)>,
    /// Tick it opened (first beat).
    pub opened: u64,
    /// Tick of the last change.
    pub updated: u64,
    /// Interest as a story seed in [0, 1] (rarity, intensity, centrality, stakes).
    pub interest: f32,
    /// Coherence in [0, 1]: consecutive beats linked by shared characters or causes.
    pub coherence: f32,
    /// Whether the pattern is primary for the world's genre.
    pub primary: bool,
    /// The sifter's id of the arc's latest match (what its next report extends).
    pub head: u64,
}

impl StoryArc {
    /// The characters in the arc, sorted.
    pub fn characters(&self) -> Vec<CharacterId> {
        let mut v: Vec<CharacterId> = self
            .roles
            .iter()
            .filter_map(|(_, p)| match p {
                Party::Character(c) => Some(*c),
                Party::Group(_) => None,
            })
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

/// The plot detector: the sifter, the arcs and their index.
#[derive(Resource)]
pub struct Stories {
    sifter: Sifter,
    /// Arcs by id.
    pub arcs: BTreeMap<u64, StoryArc>,
    /// Sifter match id -> arc id, for the latest match of each arc.
    heads: BTreeMap<u64, u64>,
    /// Arcs found so far by kind (rarity).
    pub counts: BTreeMap<String, u32>,
    /// `seq` of the next event to feed.
    pub next_seq: u64,
    entities: BTreeMap<u64, Entity>,
}

/// Everything the plot detector keeps, for snapshots.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoriesState {
    /// The sifter's partial matches.
    pub sift: SiftState,
    /// Arcs.
    pub arcs: Vec<StoryArc>,
    /// Sifter match id -> arc id.
    pub heads: Vec<(u64, u64)>,
    /// Arcs by kind.
    pub counts: Vec<(String, u32)>,
    /// Next event to feed.
    pub next_seq: u64,
}

impl Stories {
    /// A plot detector with these patterns, starting at event `next_seq`.
    pub fn new(patterns: Vec<Pattern>, next_seq: u64) -> Self {
        Self {
            sifter: Sifter::new(patterns),
            arcs: BTreeMap::new(),
            heads: BTreeMap::new(),
            counts: BTreeMap::new(),
            next_seq,
            entities: BTreeMap::new(),
        }
    }

    /// Restores a plot detector from a snapshot, with the same patterns.
    pub fn restore(patterns: Vec<Pattern>, state: &StoriesState) -> Result<Self, plot::RestoreError> {
        let sifter = Sifter::restore(patterns, plot::Limits::default(), &state.sift)?;
        Ok(Self {
            sifter,
            arcs: state.arcs.iter().map(|a| (a.id, a.clone())).collect(),
            heads: state.heads.iter().copied().collect(),
            counts: state.counts.iter().cloned().collect(),
            next_seq: state.next_seq,
            entities: BTreeMap::new(),
        })
    }

    /// Plain-data state for snapshots.
    pub fn state(&self) -> StoriesState {
        StoriesState {
            sift: self.sifter.state(),
            arcs: self.arcs.values().cloned().collect(),
            heads: self.heads.iter().map(|(k, v)| (*k, *v)).collect(),
            counts: self.counts.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            next_seq: self.next_seq,
        }
    }

    /// Records the entity of an arc (used when arcs are restored from a snapshot).
    pub fn set_entity(&mut self, id: u64, e: Entity) {
        self.entities.insert(id, e);
    }

    /// The patterns.
    pub fn patterns(&self) -> &[Pattern] {
        self.sifter.patterns()
    }

    /// Open and climaxed arcs ranked as story seeds (interest x coherence, primary genre first),
    /// best first; what a director would develop.
    pub fn seeds(&self, k: usize) -> Vec<&StoryArc> {
        let mut open: Vec<&StoryArc> =
            self.arcs.values().filter(|a| matches!(a.status, ArcStatus::Open | ArcStatus::Climaxed)).collect();
        let score = |a: &StoryArc| a.interest * (0.5 + 0.5 * a.coherence) * if a.primary { 1.5 } else { 1.0 };
        open.sort_by(|a, b| score(b).total_cmp(&score(a)).then(a.id.cmp(&b.id)));
        open.truncate(k);
        open
    }

    /// Digest of the arcs, for the world hash.
    pub fn digest(&self) -> u64 {
        self.arcs.values().fold(self.next_seq, |h, a| {
            let x = a.id ^ (a.stage as u64) << 48 ^ (a.status as u64) << 56 ^ a.beats.len() as u64 ^ a.updated << 20;
            crate::rng::mix64(h ^ x ^ a.interest.to_bits() as u64)
        })
    }
}

/// A view of the world for `when` conditions: bonds from the graph, traits and moods by query.
struct WorldView<'a, 'w, 's> {
    graph: &'a SocialGraph,
    chars: &'a Query<'w, 's, (&'static Personality, &'static Mood)>,
}

impl StateView for WorldView<'_, '_, '_> {
    fn bond(&self, a: u32, b: u32) -> Option<Bond> {
        let g = self.graph;
        let (sa, sb) = (g.slot_of(CharacterId(a))?, g.slot_of(CharacterId(b))?);
        g.edge(sa, sb).map(|e| g.bonds()[e])
    }
    fn personality(&self, c: u32) -> Option<Personality> {
        let s = self.graph.slot_of(CharacterId(c))?;
        self.chars.get(self.graph.slot_entity[s as usize]).ok().map(|(p, _)| *p)
    }
    fn mood(&self, c: u32) -> Option<Pad> {
        let s = self.graph.slot_of(CharacterId(c))?;
        self.chars.get(self.graph.slot_entity[s as usize]).ok().map(|(_, m)| m.0)
    }
}

/// Sift stage: feed this tick's events to the sifter; open, advance, resolve and abandon arcs.
#[expect(clippy::too_many_arguments, reason = "a system's parameters are its declared data access")]
pub fn sift_stories(
    clock: Res<TickClock>,
    info: Res<WorldInfo>,
    graph: Res<SocialGraph>,
    public: Res<Publicity>,
    par: Res<crate::exec::Parallelism>,
    stories: Option<ResMut<Stories>>,
    mut log: ResMut<EventLog>,
    chars: Query<(&'static Personality, &'static Mood)>,
    names: Query<&'static Name>,
    mut commands: Commands,
) {
    let Some(mut stories) = stories else { return };
    let tick = clock.tick;
    let facts: Vec<Fact> = log.since(stories.next_seq).map(plot::fact_of).collect();
    stories.next_seq = log.next_seq();
    let view = WorldView { graph: &graph, chars: &chars };
    let mut reports = stories.sifter.feed(&facts, &view, par.threads > 1 && facts.len() >= SIFT_PARALLEL_FACTS);
    reports.extend(stories.sifter.advance(tick + 1));
    if reports.is_empty() {
        return;
    }
    let mut updates = Vec::new();
    {
        let names = Names { graph: &graph, names: &names };
        let ctx = Ctx { graph: &graph, public: &public, chars: &chars, names: &names, log: &log, genre: info.genre };
        for r in reports {
            if let Some(u) = apply_report(&mut stories, &ctx, &r, tick) {
                updates.push(u);
            }
        }
    }
    for (arc, ev) in updates {
        {
            log.push(tick, ev);
            let arc = stories.arcs[&arc].clone();
            match stories.entities.get(&arc.id) {
                Some(&e) => {
                    commands.entity(e).insert(arc);
                }
                None => {
                    let id = arc.id;
                    let e = commands.spawn(arc).id();
                    stories.entities.insert(id, e);
                }
            }
        }
    }
    trim_arcs(&mut stories, &mut commands);
}

struct Ctx<'a, 'w, 's> {
    graph: &'a SocialGraph,
    public: &'a Publicity,
    chars: &'a Query<'w, 's, (&'static Personality, &'static Mood)>,
    names: &'a Names<'a, 'w, 's>,
    log: &'a EventLog,
    genre: Genre,
}

fn apply_report(stories: &mut Stories, ctx: &Ctx, r: &MatchEvent, tick: u64) -> Option<(u64, EventKind)> {
    let pattern = &stories.sifter.patterns()[r.pattern];
    let (kind, name, stages_total) = (pattern.kind.clone(), pattern.name.clone(), pattern.stages.len());
    let primary = pattern.genres.contains(&ctx.genre);
    let last_required = pattern.last_required();
    if r.abandoned.is_some() {
        let arc_id = *stories.heads.get(&r.id.0)?;
        let arc = stories.arcs.get_mut(&arc_id)?;
        if matches!(arc.status, ArcStatus::Resolved | ArcStatus::Abandoned) {
            return None;
        }
        arc.status = if r.completed { ArcStatus::Resolved } else { ArcStatus::Abandoned };
        arc.updated = tick;
        push_tension(arc, tick, 0.1);
        return Some((arc_id, arc_event(arc)));
    }
    let parent_arc = r.parent.and_then(|p| stories.heads.get(&p.0).copied());
    let roles: Vec<(String, Party)> =
        r.bindings.iter().filter_map(|(v, val)| val.party().map(|p| (v.to_string(), p))).collect();
    // The same cast in the same pattern, already unfolding: another match of one story, not a new one.
    let same_story = stories
        .arcs
        .values()
        .filter(|a| matches!(a.status, ArcStatus::Open | ArcStatus::Climaxed))
        .find(|a| a.pattern == name && a.roles == roles && a.stage <= r.stage)
        .map(|a| a.id);
    let arc_id = match (parent_arc, same_story) {
        (Some(a), _) if stories.arcs.get(&a).is_some_and(|x| x.head == r.parent.map_or(0, |p| p.0)) => a,
        (_, Some(a)) => a,
        _ => {
            *stories.counts.entry(kind.clone()).or_default() += 1;
            let roles = r.bindings.iter().filter_map(|(v, val)| val.party().map(|p| (v.to_string(), p))).collect();
            let arc = StoryArc {
                id: r.id.0,
                pattern: name,
                kind,
                roles,
                stage: 0,
                stage_name: String::new(),
                stages_total,
                status: ArcStatus::Open,
                beats: Vec::new(),
                tension: Vec::new(),
                opened: tick,
                updated: tick,
                interest: 0.0,
                coherence: 1.0,
                primary,
                head: r.id.0,
            };
            stories.arcs.insert(arc.id, arc);
            r.id.0
        }
    };
    let rarity = 1.0 / (1.0 + stories.counts.get(&stories.arcs[&arc_id].kind).copied().unwrap_or(1) as f32).sqrt();
    let arc = stories.arcs.get_mut(&arc_id)?;
    stories.heads.remove(&arc.head);
    arc.head = r.id.0;
    stories.heads.insert(r.id.0, arc_id);
    let known: Vec<u64> = arc.beats.iter().map(|b| b.seq).collect();
    for b in &r.beats {
        if known.contains(&b.seq) {
            continue;
        }
        let stage = pattern.stage_of(b.clause);
        let beat =
            make_beat(ctx, arc, b.seq, stage, pattern.stages[stage].name.clone(), pattern.beat(b.clause).to_string());
        if arc.beats.len() == BEATS_MAX {
            arc.beats.pop();
        }
        arc.beats.push(beat);
    }
    arc.opened = arc.beats.iter().map(|b| b.tick).min().unwrap_or(arc.opened);
    arc.stage = r.stage;
    arc.stage_name = pattern.stages[r.stage].name.clone();
    arc.updated = tick;
    arc.status = if r.stage + 1 >= stages_total {
        ArcStatus::Resolved
    } else if r.completed || r.stage >= last_required {
        ArcStatus::Climaxed
    } else {
        ArcStatus::Open
    };
    evaluate(arc, ctx, rarity);
    let progress = (r.stage + 1) as f32 / stages_total.max(1) as f32;
    let intensity = arc.beats.last().map_or(0.0, |b| b.intensity);
    let tension = if arc.status == ArcStatus::Resolved { 0.3 * intensity } else { 0.4 * progress + 0.6 * intensity };
    push_tension(arc, tick, tension);
    Some((arc_id, arc_event(arc)))
}

fn arc_event(arc: &StoryArc) -> EventKind {
    EventKind::ArcAdvanced {
        arc: arc.id,
        kind: arc.kind.clone(),
        stage: arc.stage_name.clone(),
        status: arc.status,
        characters: arc.characters(),
    }
}

fn push_tension(arc: &mut StoryArc, tick: u64, t: f32) {
    if arc.tension.len() == TENSION_POINTS_MAX {
        arc.tension.remove(0);
    }
    arc.tension.push((tick, t.clamp(0.0, 1.0)));
}

fn make_beat(ctx: &Ctx, arc: &StoryArc, seq: u64, stage: usize, stage_name: String, beat: String) -> ArcBeat {
    let ev = ctx.log.get(seq);
    let (text, intensity, actors, cause) =
        ev.map_or((String::from("(event no longer in memory)"), 0.0, vec![], None), |e| describe(e, ctx.names));
    let moods = arc
        .characters()
        .into_iter()
        .filter_map(|c| {
            let s = ctx.graph.slot_of(c)?;
            ctx.chars.get(ctx.graph.slot_entity[s as usize]).ok().map(|(_, m)| (c, m.0))
        })
        .collect();
    ArcBeat { stage, stage_name, beat, tick: ev.map_or(0, |e| e.tick), seq, text, intensity, actors, cause, moods }
}

/// Interest (rarity, emotional intensity, centrality of the characters, stakes between them) and
/// coherence (consecutive beats sharing a character or linked by cause).
fn evaluate(arc: &mut StoryArc, ctx: &Ctx, rarity: f32) {
    let n = arc.beats.len().max(1) as f32;
    let intensity = arc.beats.iter().map(|b| b.intensity).sum::<f32>() / n;
    let chars = arc.characters();
    let g = ctx.graph;
    let slots: Vec<u32> = chars.iter().filter_map(|c| g.slot_of(*c)).collect();
    let centrality = if slots.is_empty() {
        0.0
    } else {
        slots.iter().map(|&s| 0.5 + 0.5 * ctx.public.status.get(s as usize).copied().unwrap_or(0.0)).sum::<f32>()
            / slots.len() as f32
    };
    let mut stakes = 0.0f32;
    let mut pairs = 0;
    for &a in &slots {
        for &b in &slots {
            if let Some(e) = (a != b).then(|| g.edge(a, b)).flatten() {
                let bond = g.bonds()[e];
                stakes += (bond.affinity.abs() + bond.trust.abs() + bond.attraction.max(0.0)) / 3.0;
                pairs += 1;
            }
        }
    }
    let stakes = if pairs == 0 { 0.0 } else { stakes / pairs as f32 };
    arc.interest = (0.3 * rarity + 0.3 * intensity + 0.2 * centrality + 0.2 * stakes).clamp(0.0, 1.0);
    let links = arc
        .beats
        .windows(2)
        .filter(|w| w[1].cause.is_some_and(|c| c == w[0].seq) || w[1].actors.iter().any(|x| w[0].actors.contains(x)))
        .count();
    arc.coherence = if arc.beats.len() < 2 { 1.0 } else { links as f32 / (arc.beats.len() - 1) as f32 };
}

/// Display names looked up by stable id through the graph (only for the few characters a beat names).
struct Names<'a, 'w, 's> {
    graph: &'a SocialGraph,
    names: &'a Query<'w, 's, &'static Name>,
}

impl Names<'_, '_, '_> {
    fn get(&self, c: &u32) -> Option<String> {
        let slot = self.graph.slot_of(CharacterId(*c))?;
        self.names.get(self.graph.slot_entity[slot as usize]).ok().map(|n| n.display.clone())
    }
}

fn name(names: &Names, c: CharacterId) -> String {
    names.get(&c.0).unwrap_or_else(|| format!("#{}", c.0))
}

/// A short text, intensity, actors and cause of an event, for beats.
fn describe(e: &Event, names: &Names) -> (String, f32, Vec<CharacterId>, Option<u64>) {
    let n = |c: CharacterId| name(names, c);
    match &e.kind {
        EventKind::InteractionResolved { initiator, target, action, valence, line, about, .. } => {
            let third = about.map(n).unwrap_or_else(|| "them".into());
            let text = crate::dialogue::render_about(*line, *action, &n(*initiator), &n(*target), &third, *valence);
            (text, valence.abs(), vec![*initiator, *target], None)
        }
        EventKind::BondCrossed { source, target, to, cause, .. } => {
            let what = match to {
                Standing::Friend => "a friend",
                Standing::Lover => "a lover",
                Standing::Enemy => "an enemy",
                Standing::Neutral => "no one special",
            };
            (format!("{} now sees {} as {what}.", n(*source), n(*target)), 0.6, vec![*source, *target], Some(*cause))
        }
        EventKind::TrustBroken { victim, betrayer, kind, cause, .. } => (
            format!("{} betrayed {} ({kind:?}).", n(*betrayer), n(*victim)),
            0.9,
            vec![*victim, *betrayer],
            Some(*cause),
        ),
        EventKind::TrustRepaired { victim, betrayer, cause, .. } => {
            (format!("{} forgave {}.", n(*victim), n(*betrayer)), 0.6, vec![*victim, *betrayer], Some(*cause))
        }
        EventKind::RumorSpread { teller, hearer, subject, opinion, cause, .. } => {
            let tone = if *opinion < 0.0 { "ill" } else { "well" };
            (
                format!("{} told {} {tone} of {}.", n(*teller), n(*hearer), n(*subject)),
                opinion.abs(),
                vec![*teller, *hearer, *subject],
                Some(*cause),
            )
        }
        EventKind::ConflictEscalated { a, b, level, cause } => (
            format!("The conflict between {} and {} rose to {level:?}.", party(names, *a), party(names, *b)),
            0.7,
            actors(&[*a, *b]),
            Some(*cause),
        ),
        EventKind::ConflictResolved { a, b, how, cause } => (
            format!("The conflict between {} and {} ended ({how:?}).", party(names, *a), party(names, *b)),
            0.5,
            actors(&[*a, *b]),
            Some(*cause),
        ),
        EventKind::AllianceFormed { members, .. } => {
            let who: Vec<String> = members.iter().map(|m| n(*m)).collect();
            (format!("An alliance formed: {}.", who.join(", ")), 0.5, members.clone(), None)
        }
        EventKind::AllianceDissolved { members, reason, .. } => {
            let who: Vec<String> = members.iter().map(|m| n(*m)).collect();
            (format!("The alliance of {} fell apart ({reason}).", who.join(", ")), 0.6, members.clone(), None)
        }
        EventKind::TraumaFormed { character, by, cause, .. } => {
            let by = by.map(|b| format!(" at the hands of {}", n(b))).unwrap_or_default();
            (format!("{} was scarred{by}.", n(*character)), 0.9, vec![*character], Some(*cause))
        }
        EventKind::TraumaHealed { character } => (format!("{} healed.", n(*character)), 0.5, vec![*character], None),
        EventKind::StatusChanged { character, from, to } => (
            format!("{}'s standing moved from {from:.2} to {to:.2}.", n(*character)),
            (to - from).abs(),
            vec![*character],
            None,
        ),
        other => (format!("{other:?}"), 0.3, Vec::new(), None),
    }
}

fn party(names: &Names, p: Party) -> String {
    match p {
        Party::Character(c) => name(names, c),
        Party::Group(g) => format!("alliance #{g}"),
    }
}

fn actors(parties: &[Party]) -> Vec<CharacterId> {
    parties
        .iter()
        .filter_map(|p| match p {
            Party::Character(c) => Some(*c),
            Party::Group(_) => None,
        })
        .collect()
}

fn trim_arcs(stories: &mut Stories, commands: &mut Commands) {
    while stories.arcs.len() > ARCS_MAX {
        let victim = stories
            .arcs
            .values()
            .filter(|a| matches!(a.status, ArcStatus::Resolved | ArcStatus::Abandoned))
            .min_by_key(|a| (a.updated, a.id))
            .or_else(|| stories.arcs.values().min_by_key(|a| (a.updated, a.id)))
            .map(|a| (a.id, a.head));
        let Some((id, head)) = victim else { break };
        stories.arcs.remove(&id);
        stories.heads.remove(&head);
        if let Some(e) = stories.entities.remove(&id) {
            commands.entity(e).despawn();
        }
    }
}

/// The chronicle: every arc in the order it opened, with its beats, the characters' moods at them
/// and the evidence events, as Markdown.
pub fn chronicle(world: &str, arcs: &[StoryArc], names: &[Name]) -> String {
    let n = |c: CharacterId| names.get(c.0 as usize).map_or_else(|| format!("#{}", c.0), |x| x.display.clone());
    let mut out = format!("# Chronicle of {world}\n\n");
    let mut sorted: Vec<&StoryArc> = arcs.iter().collect();
    sorted.sort_by_key(|a| (a.opened, a.id));
    let _ = writeln!(out, "{} stories.\n", sorted.len());
    for a in sorted {
        let who: Vec<String> = a
            .roles
            .iter()
            .map(|(role, p)| match p {
                Party::Character(c) => format!("{} as {role}", n(*c)),
                Party::Group(g) => format!("alliance #{g} as {role}"),
            })
            .collect();
        let _ = writeln!(out, "## {} — {} ({:?})\n", a.kind, who.join(", "), a.status);
        let _ = writeln!(
            out,
            "Pattern `{}`, ticks {}–{}, stage {} of {} ({}), interest {:.2}, coherence {:.2}.\n",
            a.pattern,
            a.opened,
            a.updated,
            a.stage + 1,
            a.stages_total,
            a.stage_name,
            a.interest,
            a.coherence
        );
        for b in &a.beats {
            let moods: Vec<String> =
                b.moods.iter().map(|(c, m)| format!("{} P{:+.2} A{:+.2} D{:+.2}", n(*c), m.p, m.a, m.d)).collect();
            let _ = writeln!(
                out,
                "- **tick {}, {} / {}**: {} _(event #{}; moods: {})_",
                b.tick,
                b.stage_name,
                b.beat,
                b.text,
                b.seq,
                moods.join("; ")
            );
        }
        out.push('\n');
    }
    out
}
