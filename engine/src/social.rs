//! The Socialize stage: what characters can see of each other (publicity), alliances and conflicts
//! between groups, and status from respect flows.
//!
//! Periodic graph analytics (communities, PageRank) run every [`ANALYTICS_EVERY`] ticks at fixed
//! offsets, so their cost is amortised and never depends on wall time.

use std::collections::BTreeMap;

use bevy_ecs::prelude::*;
use serde::{Deserialize, Serialize};

use crate::events::{EventKind, EventLog, Party};
use crate::graph::{NONE, SocialGraph};
use crate::groups::{self, ConflictLevel, Feud, GroupChange, GroupRecord, Resolution};
use crate::hierarchy;
use crate::ids::{CharacterId, Slot};
use crate::rng::mix64;
use crate::trust;
use crate::world::TickClock;

/// Ticks between recomputations of alliances and of status.
pub const ANALYTICS_EVERY: u64 = 20;

/// Public facts about each character, by slot, as of the end of the last tick: what others can see
/// without asking (how distressed someone looks, who their enemy is, their standing and group).
///
/// Written in Measure (`publish`) and Socialize (status, groups); read by autonomy next tick.
#[derive(Resource, Clone, Debug, Default)]
pub struct Publicity {
    /// Visible distress in [0, 1] (negative emotion load, clamped).
    pub distress: Vec<f32>,
    /// Slot of the most hostile partner when hostility exceeds [`ENEMY_HOSTILITY`], else [`NONE`].
    pub enemy: Vec<u32>,
    /// Status in [-1, 1] from the last ranking (0 before the first).
    pub status: Vec<f32>,
    /// Index into `Groups::records` of the character's alliance, or [`NONE`].
    pub group: Vec<u32>,
}

/// Hostility above which a partner counts as someone's enemy in [`Publicity`].
pub const ENEMY_HOSTILITY: f32 = 0.5;

impl Publicity {
    /// Resizes every buffer for `n` characters, keeping what is there.
    pub fn resize(&mut self, n: usize) {
        self.distress.resize(n, 0.0);
        self.enemy.resize(n, NONE);
        self.status.resize(n, 0.0);
        self.group.resize(n, NONE);
    }
}

/// Each character's worst enemy from its row (pure; parallel-safe per row).
pub fn enemy_of(graph: &SocialGraph, slot: u32) -> u32 {
    let row = graph.row(slot);
    let (mut best, mut best_h) = (NONE, ENEMY_HOSTILITY);
    for e in row {
        let h = graph.appeal[e].hostility;
        if h > best_h {
            (best, best_h) = (graph.edges[e].partner, h);
        }
    }
    best
}

/// Measure stage: publish what others will see of each character next tick.
pub fn publish(
    graph: Res<SocialGraph>,
    par: Res<crate::exec::Parallelism>,
    scratch: Res<crate::metrics::MeasureScratch>,
    mut public: ResMut<Publicity>,
) {
    use rayon::prelude::*;
    let n = graph.n_characters();
    public.resize(n);
    let g = &*graph;
    let rows = |(chunk, out): (usize, &mut [u32])| {
        for (i, o) in out.iter_mut().enumerate() {
            *o = enemy_of(g, (chunk * PUBLISH_CHUNK + i) as u32);
        }
    };
    if par.parallel(n) {
        public.enemy.par_chunks_mut(PUBLISH_CHUNK).enumerate().for_each(rows);
    } else {
        public.enemy.chunks_mut(PUBLISH_CHUNK).enumerate().for_each(rows);
    }
    public.distress.copy_from_slice(&scratch.distress);
}

/// Rows per parallel task in [`publish`].
const PUBLISH_CHUNK: usize = 4096;

/// Ticks between fades of grudges and guilt (applied as `(1 - decay)^ANALYTICS_EVERY` at once).
pub const FADE_EVERY: u64 = ANALYTICS_EVERY;
/// Mutual affinity above which a tie counts toward an alliance.
pub const ALLY_AFFINITY: f32 = 0.3;
/// Mutual trust above which a tie counts toward an alliance.
pub const ALLY_TRUST: f32 = 0.1;
/// Smallest alliance.
pub const GROUP_MIN_SIZE: usize = 3;
/// Jaccard overlap needed to keep a group's id across recomputations.
pub const GROUP_MIN_JACCARD: f32 = 0.3;
/// Cohesion (mean internal affinity) below which an alliance dissolves.
pub const GROUP_MIN_COHESION: f32 = 0.2;
/// Mean affinity between two alliances below which they are in conflict.
pub const GROUP_HOSTILITY: f32 = -0.2;
/// Cross-group ties needed before two alliances can be in conflict.
pub const GROUP_CONFLICT_TIES_MIN: u32 = 3;
/// Label-propagation rounds per recomputation.
pub const COMMUNITY_ROUNDS: usize = 30;
/// PageRank damping (Brin & Page 1998).
pub const PAGERANK_DAMPING: f32 = 0.85;
/// Most PageRank iterations per recomputation.
pub const PAGERANK_ITERATIONS: usize = 30;
/// PageRank stops when the L1 change of the rank vector falls below this (status only needs
/// percentiles, so this is far tighter than it needs to be).
pub const PAGERANK_TOLERANCE: f32 = 1e-4;
/// Status change that is worth an event.
pub const STATUS_EVENT_DELTA: f32 = 0.25;
/// How much status raises resting dominance.
pub const STATUS_DOMINANCE: f32 = 0.2;

/// Affinity below which a member counts an outsider as an enemy of its alliance.
pub const ENEMY_AFFINITY: f32 = -0.3;

/// Live feuds between characters and between alliances, keyed by the ordered pair of parties.
/// Bounded by [`FEUDS_MAX`]: when full, a new feud replaces the coolest one.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct Feuds {
    map: BTreeMap<(Party, Party), Feud>,
}

/// Most feuds tracked at once.
pub const FEUDS_MAX: usize = 1 << 20;

impl Feuds {
    /// The canonical (ordered) key of a pair.
    pub fn key(a: Party, b: Party) -> (Party, Party) {
        if a <= b { (a, b) } else { (b, a) }
    }

    /// Restores feuds from a snapshot.
    pub fn restore(entries: Vec<((Party, Party), Feud)>) -> Self {
        Self { map: entries.into_iter().collect() }
    }

    /// Every feud, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&(Party, Party), &Feud)> {
        self.map.iter()
    }

    /// The feud between two parties, if any.
    pub fn get(&self, a: Party, b: Party) -> Option<&Feud> {
        self.map.get(&Self::key(a, b))
    }

    /// A hostile act between `a` and `b`; returns the new level if the feud climbed a rung.
    pub fn escalate(&mut self, a: Party, b: Party, severity: f32, tick: u64) -> Option<ConflictLevel> {
        let key = Self::key(a, b);
        if !self.map.contains_key(&key) && self.map.len() >= FEUDS_MAX {
            let coolest =
                self.map.iter().min_by(|x, y| x.1.heat_at(tick).total_cmp(&y.1.heat_at(tick))).map(|(k, _)| *k);
            if let Some(k) = coolest {
                self.map.remove(&k);
            }
        }
        let feud = self.map.entry(key).or_insert_with(|| Feud::new(code(key.0), code(key.1), tick));
        groups::escalate(feud, severity, tick)
    }

    /// De-escalation between `a` and `b`; returns true when it ends the feud (which is dropped).
    pub fn deescalate(&mut self, a: Party, b: Party, how: Resolution, strength: f32, tick: u64) -> bool {
        let key = Self::key(a, b);
        let Some(feud) = self.map.get_mut(&key) else { return false };
        groups::deescalate(feud, how, strength, tick);
        let over = groups::is_resolved(feud, tick);
        if over {
            self.map.remove(&key);
        }
        over
    }

    /// Drops feuds that cooled off by themselves; returns their keys.
    pub fn cool_all(&mut self, tick: u64) -> Vec<(Party, Party)> {
        let done: Vec<(Party, Party)> =
            self.map.iter().filter(|(_, f)| groups::is_resolved(f, tick)).map(|(k, _)| *k).collect();
        for k in &done {
            self.map.remove(k);
        }
        for f in self.map.values_mut() {
            groups::cool(f, tick);
        }
        done
    }

    /// Digest of every feud, for the world hash.
    pub fn digest(&self) -> u64 {
        self.map.iter().fold(0x51_7cc1_b727_220a, |h, ((a, b), f)| {
            let x =
                code(*a) ^ code(*b).rotate_left(32) ^ (f.level as u64) << 60 ^ f.heat.to_bits() as u64 ^ f.last_tick;
            mix64(h ^ x)
        })
    }
}

fn code(p: Party) -> u64 {
    match p {
        Party::Character(c) => c.0 as u64,
        Party::Group(g) => g | 1 << 63,
    }
}

/// An alliance as an entity: who is in it, how close they are, who leads.
///
/// Spawned, updated and despawned by `form_alliances` (Socialize); the records in [`Groups`] are the
/// source of truth.
#[derive(Component, Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Group {
    /// Stable group id (kept across recomputations by membership overlap).
    pub id: u64,
    /// Members by stable id, sorted.
    pub members: Vec<CharacterId>,
    /// Mean internal affinity.
    pub cohesion: f32,
    /// Highest-status member.
    pub leader: CharacterId,
    /// Outsiders at least half the members dislike (affinity below [`ENEMY_AFFINITY`]), sorted.
    pub enemies: Vec<CharacterId>,
    /// Tick the alliance formed.
    pub formed_tick: u64,
}

/// All alliances: records by id, the next id, and their entities.
#[derive(Resource, Clone, Debug, Default)]
pub struct Groups {
    /// Current alliances, sorted by id.
    pub groups: Vec<Group>,
    /// Next fresh group id.
    pub next_id: u64,
    entities: BTreeMap<u64, Entity>,
}

impl Groups {
    /// Restores groups from a snapshot (entities are spawned by the caller).
    pub fn restore(groups: Vec<Group>, next_id: u64) -> Self {
        Self { groups, next_id, entities: BTreeMap::new() }
    }

    /// Records the entity of a group.
    pub fn set_entity(&mut self, id: u64, e: Entity) {
        self.entities.insert(id, e);
    }

    /// Digest of every group, for the world hash.
    pub fn digest(&self) -> u64 {
        self.groups.iter().fold(self.next_id, |h, g| {
            let m = g.members.iter().fold(g.id, |x, c| mix64(x ^ c.0 as u64));
            let m = g.enemies.iter().fold(m, |x, c| mix64(x ^ (c.0 as u64) << 32));
            mix64(h ^ m ^ g.cohesion.to_bits() as u64 ^ (g.leader.0 as u64) << 32 ^ g.formed_tick.rotate_left(17))
        })
    }
}

/// Socialize stage: every [`ANALYTICS_EVERY`] ticks, alliances are recomputed from mutual positive
/// bonds (label propagation), matched to the previous ones by overlap so ids stay stable, given
/// cohesion and leaders, and dissolved when they fall apart; alliances that dislike each other are in
/// conflict, and members facing a common enemy settle their own feuds (shared threat).
pub fn form_alliances(
    clock: Res<TickClock>,
    graph: Res<SocialGraph>,
    mut public: ResMut<Publicity>,
    mut groups: ResMut<Groups>,
    mut feuds: ResMut<Feuds>,
    mut log: ResMut<EventLog>,
    mut commands: Commands,
) {
    let tick = clock.tick;
    if !tick.is_multiple_of(ANALYTICS_EVERY) {
        return;
    }
    let g = &*graph;
    let n = g.n_characters();
    let (offsets, partners, weights) = mutual_ties(g);
    let ids: Vec<u32> = g.slot_id.iter().map(|c| c.0).collect();
    let labels = groups::detect_communities(&offsets, &partners, &weights, &ids, COMMUNITY_ROUNDS);
    let communities = groups::community_members(&labels, &ids);
    let old: Vec<GroupRecord> = groups
        .groups
        .iter()
        .map(|x| GroupRecord { id: x.id, members: x.members.iter().map(|c| c.0).collect(), formed_tick: x.formed_tick })
        .collect();
    let mut next_id = groups.next_id;
    let (records, changes) =
        groups::match_groups(&old, &communities, GROUP_MIN_SIZE, GROUP_MIN_JACCARD, &mut next_id, tick);
    groups.next_id = next_id;
    let slot = |id: u32| g.slot_of(CharacterId(id)).expect("group members are characters of this world");
    let out_edges = |s: u32| g.row(s).map(move |e| (g.edges[e].partner, g.bonds()[e].affinity));
    let mut kept = Vec::with_capacity(records.len());
    let mut dissolved_by_cohesion = Vec::new();
    for r in &records {
        let slots: Vec<u32> = r.members.iter().map(|&m| slot(m)).collect();
        let cohesion = groups::cohesion(&slots, out_edges);
        let leader = groups::leader(&slots, |s| public.status[s as usize], |s| g.slot_id[s as usize].0)
            .map_or(CharacterId(r.members[0]), |s| g.slot_id[s as usize]);
        let members: Vec<CharacterId> = r.members.iter().map(|&m| CharacterId(m)).collect();
        let enemies = groups::shared_enemies(&slots, out_edges, ENEMY_AFFINITY, |s| g.slot_id[s as usize].0)
            .into_iter()
            .map(CharacterId)
            .collect();
        let group = Group { id: r.id, members, cohesion, leader, enemies, formed_tick: r.formed_tick };
        if cohesion < GROUP_MIN_COHESION {
            dissolved_by_cohesion.push(group);
        } else {
            kept.push(group);
        }
    }
    for c in &changes {
        let ev = match c {
            GroupChange::Formed { id, members } => match kept.iter().find(|k| k.id == *id) {
                Some(k) => EventKind::AllianceFormed { group: *id, members: to_ids(members), leader: k.leader },
                None => continue,
            },
            GroupChange::Changed { id, joined, left } => {
                if !kept.iter().any(|k| k.id == *id) {
                    continue;
                }
                EventKind::AllianceChanged { group: *id, joined: to_ids(joined), left: to_ids(left) }
            }
            GroupChange::Dissolved { id, members } => {
                EventKind::AllianceDissolved { group: *id, members: to_ids(members), reason: "membership".into() }
            }
        };
        log.push(tick, ev);
    }
    for d in &dissolved_by_cohesion {
        if old.iter().any(|o| o.id == d.id) {
            let ev =
                EventKind::AllianceDissolved { group: d.id, members: d.members.clone(), reason: "cohesion".into() };
            log.push(tick, ev);
        }
    }
    public.resize(n);
    public.group.fill(NONE);
    for (i, k) in kept.iter().enumerate() {
        for m in &k.members {
            public.group[slot(m.0) as usize] = i as u32;
        }
    }
    group_conflicts(g, &public, &kept, &mut feuds, &mut log, tick);
    sync_group_entities(&mut groups, kept, &mut commands);
}

fn to_ids(v: &[u32]) -> Vec<CharacterId> {
    v.iter().map(|&i| CharacterId(i)).collect()
}

/// The undirected graph of mutual positive ties, as CSR over slots: `(offsets, partners, weights)`.
fn mutual_ties(g: &SocialGraph) -> (Vec<u32>, Vec<u32>, Vec<f32>) {
    let n = g.n_characters();
    let (mut offsets, mut partners, mut weights) = (Vec::with_capacity(n + 1), Vec::new(), Vec::new());
    offsets.push(0u32);
    for s in 0..n as u32 {
        for e in g.row(s) {
            let r = g.reverse[e] as usize;
            let (b, back) = (&g.bonds()[e], &g.bonds()[r]);
            let mutual = b.affinity > ALLY_AFFINITY
                && back.affinity > ALLY_AFFINITY
                && b.trust > ALLY_TRUST
                && back.trust > ALLY_TRUST;
            if mutual {
                let bonus = if g.history()[e].allied { 0.5 } else { 0.0 };
                partners.push(g.edges[e].partner);
                weights.push(b.affinity.min(back.affinity) + bonus);
            }
        }
        offsets.push(partners.len() as u32);
    }
    (offsets, partners, weights)
}

/// Alliances whose members dislike each other are in conflict; a conflict with another alliance is a
/// shared threat that settles feuds inside each alliance.
fn group_conflicts(
    g: &SocialGraph,
    public: &Publicity,
    kept: &[Group],
    feuds: &mut Feuds,
    log: &mut EventLog,
    tick: u64,
) {
    let mut cross: BTreeMap<(u32, u32), (f64, u32)> = BTreeMap::new();
    for s in 0..g.n_characters() as u32 {
        let gs = public.group[s as usize];
        if gs == NONE {
            continue;
        }
        for e in g.row(s) {
            let gt = public.group[g.edges[e].partner as usize];
            if gt != NONE && gt != gs {
                let entry = cross.entry((gs.min(gt), gs.max(gt))).or_insert((0.0, 0));
                entry.0 += g.bonds()[e].affinity as f64;
                entry.1 += 1;
            }
        }
    }
    let mut threatened = vec![false; kept.len()];
    for (&(x, y), &(sum, count)) in &cross {
        let mean = (sum / count as f64) as f32;
        if count >= GROUP_CONFLICT_TIES_MIN && mean < GROUP_HOSTILITY {
            let (a, b) = (Party::Group(kept[x as usize].id), Party::Group(kept[y as usize].id));
            if let Some(level) = feuds.escalate(a, b, (-mean).min(1.0), tick) {
                let (a, b) = Feuds::key(a, b);
                log.push(tick, EventKind::ConflictEscalated { a, b, level, cause: 0 });
            }
            threatened[x as usize] = true;
            threatened[y as usize] = true;
        }
    }
    let internal: Vec<(Party, Party)> = feuds
        .iter()
        .filter_map(|(&(a, b), _)| match (a, b) {
            (Party::Character(x), Party::Character(y)) => {
                let (gx, gy) =
                    (g.slot_of(x).map(|s| public.group[s as usize]), g.slot_of(y).map(|s| public.group[s as usize]));
                (gx == gy && gx.is_some_and(|k| k != NONE && threatened[k as usize])).then_some((a, b))
            }
            _ => None,
        })
        .collect();
    for (a, b) in internal {
        if feuds.deescalate(a, b, Resolution::SharedThreat, 0.5, tick) {
            log.push(tick, EventKind::ConflictResolved { a, b, how: Resolution::SharedThreat, cause: 0 });
        }
    }
}

fn sync_group_entities(groups: &mut Groups, kept: Vec<Group>, commands: &mut Commands) {
    let alive: Vec<u64> = kept.iter().map(|k| k.id).collect();
    let gone: Vec<u64> = groups.entities.keys().copied().filter(|id| alive.binary_search(id).is_err()).collect();
    for id in gone {
        if let Some(e) = groups.entities.remove(&id) {
            commands.entity(e).despawn();
        }
    }
    for k in &kept {
        match groups.entities.get(&k.id) {
            Some(&e) => {
                commands.entity(e).insert(k.clone());
            }
            None => {
                let e = commands.spawn(k.clone()).id();
                groups.entities.insert(k.id, e);
            }
        }
    }
    groups.groups = kept;
}

/// Socialize stage: feuds cool, grudges and guilt fade (every [`FADE_EVERY`] ticks).
pub fn tend_feuds(
    clock: Res<TickClock>,
    mut graph: ResMut<SocialGraph>,
    mut feuds: ResMut<Feuds>,
    mut log: ResMut<EventLog>,
) {
    let tick = clock.tick;
    if !tick.is_multiple_of(FADE_EVERY) {
        return;
    }
    for (a, b) in feuds.cool_all(tick) {
        log.push(tick, EventKind::ConflictResolved { a, b, how: Resolution::TimeHealed, cause: 0 });
    }
    let (keep_grudge, keep_guilt) = (
        (1.0 - trust::GRUDGE_DECAY).powi(FADE_EVERY as i32),
        (1.0 - 2.0 * trust::GRUDGE_DECAY).powi(FADE_EVERY as i32),
    );
    for e in 0..graph.n_relationships() {
        let h = graph.history()[e];
        if h.grudge > 0.0 || h.guilt > 0.0 {
            let mut h2 = h;
            h2.grudge = if h.grudge * keep_grudge < 1e-3 { 0.0 } else { h.grudge * keep_grudge };
            h2.guilt = if h.guilt * keep_guilt < 1e-3 { 0.0 } else { h.guilt * keep_guilt };
            let b = graph.bonds()[e];
            graph.set_edge(e, b, h2);
        }
    }
}

/// The transposed respect topology, kept between rankings (derived; rebuilt when the graph changes).
#[derive(Default)]
pub struct RankCache {
    key: (usize, usize, u64),
    index: Option<hierarchy::InIndex>,
}

/// Status of a character in [-1, 1] from the respect ranking.
///
/// Written by `rank_status` (Socialize) every [`ANALYTICS_EVERY`] ticks.
#[derive(Component, Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Status(pub f32);

/// Socialize stage: every [`ANALYTICS_EVERY`] ticks (offset by half a period from alliances), status
/// is recomputed as PageRank over the respect graph (respect flows from who gives it to who gets
/// it); marked moves are events. Status raises resting dominance and the weight of one's gossip.
pub fn rank_status(
    mut cache: Local<RankCache>,
    clock: Res<TickClock>,
    graph: Res<SocialGraph>,
    par: Res<crate::exec::Parallelism>,
    mut public: ResMut<Publicity>,
    mut log: ResMut<EventLog>,
    mut q: Query<(&Slot, &mut Status)>,
) {
    let tick = clock.tick;
    if tick % ANALYTICS_EVERY != ANALYTICS_EVERY / 2 {
        return;
    }
    let g = &*graph;
    let n = g.n_characters();
    // The transposed topology only changes with the graph's shape; keep it between rankings.
    let key = (n, g.n_relationships(), g.digest_topology());
    if cache.key != key || cache.index.is_none() {
        let partners: Vec<u32> = g.edges.iter().map(|e| e.partner).collect();
        cache.index = Some(hierarchy::InIndex::new(&g.offsets, &partners));
        cache.key = key;
    }
    let index = cache.index.as_ref().expect("built above");
    let weights: Vec<f32> = g.bonds().iter().map(|b| b.respect.max(0.0)).collect();
    let (damping, iterations, tolerance) = (PAGERANK_DAMPING, PAGERANK_ITERATIONS, PAGERANK_TOLERANCE);
    let ranks =
        hierarchy::pagerank_indexed(index, &weights, None, damping, iterations, tolerance, par.parallel(n)).ranks;
    let scores = hierarchy::status_scores(&ranks);
    public.resize(n);
    for (slot, from, to) in hierarchy::status_changes(&public.status, &scores, STATUS_EVENT_DELTA) {
        log.push(tick, EventKind::StatusChanged { character: g.slot_id[slot], from, to });
    }
    public.status.copy_from_slice(&scores);
    for (slot, mut status) in &mut q {
        let s = scores[slot.0 as usize];
        if status.0 != s {
            status.0 = s;
        }
    }
}
