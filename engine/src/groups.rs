//! Alliances and feuds: communities in the graph of mutual positive ties, group ids that survive
//! recomputation, cohesion, leaders, shared enemies, and the conflict escalation ladder
//! (MECHANICS.md, "Groups, conflicts, hierarchy").
//!
//! Pure functions over plain slices and closures; the ECS systems that call them live elsewhere.
//!
//! # Communities
//! [`detect_communities`] is label propagation (Raghavan, Albert & Kumara 2007, "Near linear time
//! algorithm to detect community structures in large-scale networks") made deterministic and
//! order-free:
//! - **Schedule.** Semi-synchronous by colour classes (Cordasco & Gargano 2010, "Community detection via
//!   semi-synchronous label propagation algorithms"): a greedy colouring in stable-id order splits the
//!   nodes into classes with no tie inside a class; classes update one after another (so it behaves
//!   like asynchronous LPA and does not oscillate the way synchronous LPA does on bipartite parts),
//!   and the nodes of one class update at once from the same labels, so a class runs in parallel and
//!   its result cannot depend on thread count or on processing order.
//! - **Tie-breaks.** A node takes the label of highest total tie strength among its neighbours; when
//!   its current label is among the best it keeps it (Cordasco & Gargano's rule, which makes the
//!   semi-synchronous schedule converge), otherwise the smallest label wins. Labels are stable-id
//!   ranks, so "smallest" means "smallest stable id".
//! - **Exact sums.** Tie strengths are fixed-point integers, so a label's total is the same whatever
//!   order a row lists its partners in: results depend on the stable ids and the graph only, never on
//!   slot numbering (a property test permutes slots).
//! - **Triangle reinforcement.** Each tie counts `strength * (1 + common neighbours)`, after Radicchi
//!   et al. (2004, "Defining and identifying communities in networks"): ties inside a community close
//!   many triangles, bridges between communities close few. Without it, the first round (all labels
//!   distinct, all ties equal) lets a bridge node copy the smallest label across the bridge and one
//!   label floods a ring of cliques ("monster communities").
//! - **Connectivity.** A label class that ended up split in two is split into connected parts
//!   (petgraph's union-find), and every community is labelled by its smallest stable id.
//! - **Cost.** Triangles are counted once per pair, by the endpoint with more ties scanning the other's
//!   row against a bitset of its own neighbours. Propagation re-evaluates a node only when its
//!   neighbours' label changes add up to more than its last winning margin, which provably cannot
//!   change its label (exact pruning, not a heuristic).
//!
//! # Feuds
//! A [`Feud`] climbs the escalation ladder of [`ConflictLevel`] one rung per hostile act when enough
//! heat has built up (after Glasl's 1982 stage model of conflict escalation, reduced to the five rungs
//! of MECHANICS.md); heat cools at a fixed rate and drops with apologies, mediation by someone both
//! sides respect, or a shared external threat.

use std::ops::Range;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::Ordering::Relaxed;

use petgraph::unionfind::UnionFind;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Most label-propagation rounds per call, whatever `max_rounds` asks. Semi-synchronous LPA settles
/// in a handful of rounds on social graphs (a few dozen at worst); the cap bounds the cost of one
/// recomputation if a pathological graph keeps relabelling.
pub const ROUNDS_MAX: usize = 100;
/// Most nodes per graph: labels are `u32` ranks and `u32::MAX` marks "none".
pub const NODES_MAX: usize = u32::MAX as usize - 1;
/// Strongest tie weight counted; stronger ties are clamped. Weights are expected in (0, 1]; the cap
/// keeps a quantised weight within 16 bits, so that a tie's triangle-reinforced strength only reaches
/// its own cap (2^27) past 2,000 common neighbours even at full weight (it saturates there,
/// deterministically).
pub const TIE_STRENGTH_MAX: f32 = 16.0;
/// Most shared enemies reported per group: a group at odds with hundreds of outsiders is at war with
/// everyone, and the ECS side turns each shared enemy into a group feud. When more qualify, those
/// disliked by the most members are kept (ties: smaller id).
pub const SHARED_ENEMIES_MAX: usize = 64;

/// Fixed-point scale of tie weights: ties weaker than 2^-12 count as 2^-12.
const STRENGTH_SCALE: f32 = 4096.0;
/// Largest reinforced tie strength (a tie of weight 1 reaches it past 32,000 common neighbours): 32 of
/// them still sum within a `u32`, which keeps the tally of short rows in 32-bit lanes.
const STRENGTH_CAP: u32 = (1 << 27) - 1;
/// Rows up to this long tally labels with a branch-free all-pairs sum in 32-bit lanes; longer rows
/// sort their labels instead, so a hub costs `d log d`, not `d^2`.
const SHORT_ROW_MAX: usize = 32;
const _: () = assert!(SHORT_ROW_MAX.is_multiple_of(8), "short rows are tallied in vectors of 8");
/// Marker for "no colour / no row" in scratch arrays.
const NONE: u32 = u32::MAX;
/// Nodes (or rows) below which a pass stays on the calling thread: waking workers costs more than
/// the work (PERFORMANCE.md). A quarter of it for a colour class in a propagation round, whose nodes
/// cost more each. Results are identical either way.
const PARALLEL_MIN: usize = 4096;
/// Rows per parallel task of the row passes (compaction, triangles); a quarter of it is the least
/// work per task in a propagation round. Fixed, so the split never depends on the thread count.
const ROWS_PER_TASK: usize = 2048;

/// Community label of every node of an undirected weighted graph: the smallest stable id among the
/// node's community.
///
/// The graph is CSR over `n = offsets.len() - 1` dense slots: row `s` is
/// `partners[offsets[s]..offsets[s + 1]]` with `weights` alongside; every tie appears in both rows;
/// `ids[s]` is slot `s`'s stable id (unique). Only weights `> 0` count (zero, negative and NaN
/// entries are ignored, as are self-loops). `max_rounds` is capped at [`ROUNDS_MAX`]; with 0 rounds
/// every node is its own community. See the module docs for the algorithm and why it is
/// deterministic; asymmetric input still gives a deterministic, if unspecified, partition.
///
/// Cost: a compaction and a triangle pass (at most `sum of degree^2 / 2`, parallel over rows), a
/// greedy colouring (`O(E)`, sequential), a few propagation rounds (`O(E)` at most each, parallel
/// within a colour class; later rounds only revisit nodes whose label could change) and a union-find
/// pass (`O(E)`, sequential). Uses the current rayon pool; small graphs stay on the calling thread.
///
/// Panics if the slices disagree in length or the ids are not unique.
pub fn detect_communities(
    offsets: &[u32],
    partners: &[u32],
    weights: &[f32],
    ids: &[u32],
    max_rounds: usize,
) -> Vec<u32> {
    let n = offsets.len().saturating_sub(1);
    assert!(n <= NODES_MAX, "{n} nodes; community detection takes at most {NODES_MAX}");
    assert_eq!(ids.len(), n, "one stable id per node");
    assert_eq!(partners.len(), weights.len(), "one weight per edge");
    assert_eq!(offsets.last().map_or(0, |&o| o as usize), partners.len(), "offsets end at the edge count");
    if n == 0 {
        return Vec::new();
    }
    // Independent steps run side by side on big graphs (each is deterministic on its own): the id
    // order beside the compaction, then the colouring (topology only) beside the triangle pass
    // (strengths only).
    let parallel = n >= PARALLEL_MIN;
    let (order, g) = join(parallel, || id_order(ids), || Ties::compact(offsets, partners, weights));
    let (classes, ()) = join(parallel, || colour_classes(&g, &order), || g.reinforce_by_triangles());
    let mut label = vec![0u32; n];
    for (r, &s) in order.iter().enumerate() {
        label[s as usize] = r as u32;
    }
    propagate(&g, &classes, &mut label, max_rounds.min(ROUNDS_MAX));
    connected_labels(&g, &label, ids)
}

/// `(a(), b())`, side by side on the current rayon pool when `parallel`.
fn join<A: Send, B: Send>(parallel: bool, a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    if parallel { rayon::join(a, b) } else { (a(), b()) }
}

/// Slots sorted by stable id. Panics if two slots share an id.
fn id_order(ids: &[u32]) -> Vec<u32> {
    let mut order: Vec<u32> = (0..ids.len() as u32).collect();
    order.sort_unstable_by_key(|&s| ids[s as usize]);
    assert!(order.windows(2).all(|w| ids[w[0] as usize] < ids[w[1] as usize]), "stable ids are unique");
    order
}

/// Members of each community from [`detect_communities`]' labels: stable ids, each list sorted, lists
/// ordered by label (their smallest member). The input shape of [`match_groups`].
pub fn community_members(labels: &[u32], ids: &[u32]) -> Vec<Vec<u32>> {
    assert_eq!(labels.len(), ids.len(), "one label per node");
    let mut pairs: Vec<(u32, u32)> = labels.iter().zip(ids).map(|(&l, &id)| (l, id)).collect();
    pairs.sort_unstable();
    pairs.chunk_by(|a, b| a.0 == b.0).map(|run| run.iter().map(|p| p.1).collect()).collect()
}

/// A group (alliance) as kept between recomputations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRecord {
    /// Stable group id: kept while the community persists (matched by overlap), never reused.
    pub id: u64,
    /// Members' stable character ids, sorted ascending, unique.
    pub members: Vec<u32>,
    /// Tick at which the group first formed; kept across membership changes.
    pub formed_tick: u64,
}

/// What happened to one group in a recomputation, for the event log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupChange {
    /// A new group appeared with these members (sorted stable ids).
    Formed {
        /// The fresh group id.
        id: u64,
        /// Its members.
        members: Vec<u32>,
    },
    /// A group no longer matches any community.
    Dissolved {
        /// The group's id (not reused).
        id: u64,
        /// Its members at its last recomputation.
        members: Vec<u32>,
    },
    /// A group persisted with a different membership.
    Changed {
        /// The group's id.
        id: u64,
        /// Members who joined (sorted stable ids).
        joined: Vec<u32>,
        /// Members who left (sorted stable ids).
        left: Vec<u32>,
    },
}

impl GroupChange {
    /// The id of the group this change is about.
    pub fn id(&self) -> u64 {
        match self {
            Self::Formed { id, .. } | Self::Dissolved { id, .. } | Self::Changed { id, .. } => *id,
        }
    }
}

/// Matches freshly detected communities to the previous groups so group ids stay stable.
///
/// Communities smaller than `min_size` (at least 1) are not groups. Every (community, old group)
/// pair that shares a member is a candidate, scored by Jaccard overlap `|A ∩ B| / |A ∪ B|`
/// (compared exactly, as fractions). Candidates are taken greedily, best overlap first (ties: the
/// older, i.e. smaller, group id; then the community whose sorted member list is smallest), one-to-one,
/// if the overlap is at least `min_jaccard`. A matched community keeps the old id and `formed_tick`
/// (and reports `Changed` if its members differ); an unmatched one gets `*next_id` (raised first above
/// every old id, so ids are never reused) and reports `Formed`; an unmatched old group reports
/// `Dissolved`. Fresh ids are handed out in the order of the communities' sorted member lists, so the
/// result does not depend on the order of `communities`. Records and changes are sorted by id.
///
/// `old` members and each community must be sorted and duplicate-free.
pub fn match_groups(
    old: &[GroupRecord],
    communities: &[Vec<u32>],
    min_size: usize,
    min_jaccard: f32,
    next_id: &mut u64,
    tick: u64,
) -> (Vec<GroupRecord>, Vec<GroupChange>) {
    let mut fresh: Vec<&Vec<u32>> = communities.iter().filter(|c| c.len() >= min_size.max(1)).collect();
    fresh.sort_unstable();
    debug_assert!(fresh.iter().all(|c| c.is_sorted()) && old.iter().all(|g| g.members.is_sorted()));
    if let Some(max_old) = old.iter().map(|g| g.id).max() {
        *next_id = (*next_id).max(max_old + 1);
    }

    let mut candidates = overlaps(old, &fresh);
    candidates.sort_unstable_by(|a, b| {
        (b.shared * a.union)
            .cmp(&(a.shared * b.union))
            .then(old[a.old].id.cmp(&old[b.old].id))
            .then(a.fresh.cmp(&b.fresh))
    });
    let mut fresh_match = vec![None; fresh.len()];
    let mut old_taken = vec![false; old.len()];
    for c in &candidates {
        let good = c.shared as f64 / c.union as f64 >= min_jaccard as f64;
        if good && fresh_match[c.fresh].is_none() && !old_taken[c.old] {
            fresh_match[c.fresh] = Some(c.old);
            old_taken[c.old] = true;
        }
    }

    let mut records = Vec::with_capacity(fresh.len());
    let mut changes = Vec::new();
    for (members, matched) in fresh.iter().zip(&fresh_match) {
        let record = match *matched {
            Some(j) => {
                let prev = &old[j];
                let (joined, left) = (difference(members, &prev.members), difference(&prev.members, members));
                if !joined.is_empty() || !left.is_empty() {
                    changes.push(GroupChange::Changed { id: prev.id, joined, left });
                }
                GroupRecord { id: prev.id, members: members.to_vec(), formed_tick: prev.formed_tick }
            }
            None => {
                let id = *next_id;
                *next_id += 1;
                changes.push(GroupChange::Formed { id, members: members.to_vec() });
                GroupRecord { id, members: members.to_vec(), formed_tick: tick }
            }
        };
        records.push(record);
    }
    for (g, _) in old.iter().zip(&old_taken).filter(|(_, taken)| !**taken) {
        changes.push(GroupChange::Dissolved { id: g.id, members: g.members.clone() });
    }
    records.sort_unstable_by_key(|r| r.id);
    changes.sort_by_key(GroupChange::id);
    (records, changes)
}

/// Cohesion of a group: the mean directed affinity over the relationships that exist between its
/// members (0 when there are none). MECHANICS.md: "Cohesion = mean internal affinity".
///
/// `members` are slots; `out_edges(slot)` yields that slot's relationships as `(partner slot,
/// affinity)`, e.g. `|s| g.row(s).map(|e| (g.edges[e].partner, g.bonds()[e].affinity))`. Only existing
/// ties count, so a group of strangers is not "neutral but cohesive"; self-loops are skipped. Cost
/// `O(sum of member degrees * log members)`; the sum runs in member-slot then row order in `f64`.
pub fn cohesion<I>(members: &[u32], out_edges: impl Fn(u32) -> I) -> f32
where
    I: IntoIterator<Item = (u32, f32)>,
{
    let sorted = sorted_unique(members);
    let (mut sum, mut count) = (0.0f64, 0u64);
    for &m in sorted.iter() {
        for (p, affinity) in out_edges(m) {
            if p != m && sorted.binary_search(&p).is_ok() {
                sum += affinity as f64;
                count += 1;
            }
        }
    }
    if count == 0 { 0.0 } else { (sum / count as f64) as f32 }
}

/// The leader of a group: its highest-status member (MECHANICS.md), ties to the smallest stable id.
///
/// `members` are slots; returns the leader's slot, or `None` for an empty group. NaN status counts
/// as lowest.
pub fn leader(members: &[u32], status: impl Fn(u32) -> f32, id_of: impl Fn(u32) -> u32) -> Option<u32> {
    let key = |s: u32| {
        let st = status(s);
        (if st.is_nan() { f32::NEG_INFINITY } else { st }, id_of(s))
    };
    members
        .iter()
        .copied()
        .map(|s| (s, key(s)))
        .reduce(|best, c| {
            let better = c.1.0.total_cmp(&best.1.0).then(best.1.1.cmp(&c.1.1)).is_gt();
            if better { c } else { best }
        })
        .map(|(s, _)| s)
}

/// Shared enemies of a group: characters outside it toward whom at least half the members (rounded
/// up) have affinity below `threshold` (`bonds::ENEMY_AFFINITY`, -0.5, is the natural choice: the
/// bond standing that already counts as enmity). Returns their stable ids, sorted ascending, at most
/// [`SHARED_ENEMIES_MAX`] (see there for which are kept).
///
/// `members` are slots; `out_edges(slot)` yields `(partner slot, affinity)`; `id_of` maps a slot to
/// its stable id. A member with no relationship to someone does not count against them.
pub fn shared_enemies<I>(
    members: &[u32],
    out_edges: impl Fn(u32) -> I,
    threshold: f32,
    id_of: impl Fn(u32) -> u32,
) -> Vec<u32>
where
    I: IntoIterator<Item = (u32, f32)>,
{
    let sorted = sorted_unique(members);
    let mut hated: Vec<(u32, u32)> = Vec::new(); // (target slot, member slot)
    for &m in sorted.iter() {
        for (p, affinity) in out_edges(m) {
            if affinity < threshold && sorted.binary_search(&p).is_err() {
                hated.push((p, m));
            }
        }
    }
    hated.sort_unstable();
    hated.dedup();
    let quorum = sorted.len().div_ceil(2).max(1);
    let mut enemies: Vec<(usize, u32)> = hated
        .chunk_by(|a, b| a.0 == b.0)
        .filter(|run| run.len() >= quorum)
        .map(|run| (run.len(), id_of(run[0].0)))
        .collect();
    if enemies.len() > SHARED_ENEMIES_MAX {
        enemies.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        enemies.truncate(SHARED_ENEMIES_MAX);
    }
    let mut ids: Vec<u32> = enemies.into_iter().map(|e| e.1).collect();
    ids.sort_unstable();
    ids
}

/// Rungs of the conflict escalation ladder (MECHANICS.md), in order of severity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictLevel {
    /// A grudge over a slight: cold shoulders, no open hostility yet.
    Slight,
    /// Open verbal hostility.
    Insult,
    /// Threats of harm.
    Threat,
    /// Covert harm: undermining, stealing, spreading lies.
    Sabotage,
    /// Open, declared conflict.
    OpenConflict,
}

impl ConflictLevel {
    /// Every level, lowest first.
    pub const ALL: [Self; 5] = [Self::Slight, Self::Insult, Self::Threat, Self::Sabotage, Self::OpenConflict];

    /// Heat at which this level is reached. The bands widen as the ladder climbs (1, 1.5, 2, 2.5):
    /// each rung takes more repeated hostility than the last, as in Glasl's model where later stages
    /// need sustained commitment. With [`HEAT_PER_ACT`] 1.5, acts of full severity climb one rung each
    /// until the bands outgrow them.
    pub const fn min_heat(self) -> f32 {
        match self {
            Self::Slight => 0.0,
            Self::Insult => 1.0,
            Self::Threat => 2.5,
            Self::Sabotage => 4.5,
            Self::OpenConflict => 7.0,
        }
    }

    /// The highest level whose [`Self::min_heat`] is at most `heat`.
    pub fn for_heat(heat: f32) -> Self {
        Self::ALL.into_iter().rev().find(|l| heat >= l.min_heat()).unwrap_or(Self::Slight)
    }

    /// The next rung up (the top rung stays).
    pub const fn next(self) -> Self {
        match self {
            Self::Slight => Self::Insult,
            Self::Insult => Self::Threat,
            Self::Threat => Self::Sabotage,
            Self::Sabotage | Self::OpenConflict => Self::OpenConflict,
        }
    }
}

/// Most heat a feud holds: bounds how long an untended open conflict takes to cool
/// (`HEAT_MAX / HEAT_DECAY_PER_TICK` = 1,000 ticks) however many acts fed it.
pub const HEAT_MAX: f32 = 10.0;
/// Heat added by a hostile act of severity 1 (severity is in [0, 1]).
pub const HEAT_PER_ACT: f32 = 1.5;
/// Heat lost per tick without new acts: linear, so it is exact in any float environment; a feud
/// left alone drops one unit (about one rung) per 100 ticks.
pub const HEAT_DECAY_PER_TICK: f32 = 0.01;
/// Heat at or below which a feud is over (see [`is_resolved`]).
pub const RESOLVED_HEAT: f32 = 0.25;

/// A feud between two characters or two groups: who, how far up the ladder, how hot.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Feud {
    /// Smaller party id (a stable character id, or a group id for group feuds; the ECS side keeps the
    /// two kinds in separate tables). `u64` so group ids fit.
    pub a: u64,
    /// Larger party id.
    pub b: u64,
    /// Current rung; rises at most one per act, falls as heat falls below its band.
    pub level: ConflictLevel,
    /// Accumulated hostility in [0, [`HEAT_MAX`]] as of `last_tick`.
    pub heat: f32,
    /// Tick of the last update; cooling since then is applied lazily.
    pub last_tick: u64,
}

impl Feud {
    /// A new, cold feud between `x` and `y` (stored with `a < b`).
    pub fn new(x: u64, y: u64, tick: u64) -> Self {
        Self { a: x.min(y), b: x.max(y), level: ConflictLevel::Slight, heat: 0.0, last_tick: tick }
    }

    /// Heat at `tick` after cooling since the last update (earlier ticks give the stored heat).
    pub fn heat_at(&self, tick: u64) -> f32 {
        let dt = tick.saturating_sub(self.last_tick) as f64;
        (self.heat as f64 - dt * HEAT_DECAY_PER_TICK as f64).max(0.0) as f32
    }
}

/// Why a feud cools down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// One side apologised; strength = how sincere / accepted (the ECS side decides).
    Apology,
    /// A third party mediated; strength = [`mediation_strength`], the respect both sides hold for them.
    Mediation,
    /// Both sides face a common enemy or disaster; strength = how grave the threat is.
    SharedThreat,
    /// Long quiet contact without incident, beyond plain cooling; strength = how long / how friendly.
    TimeHealed,
}

impl Resolution {
    /// Heat removed at strength 1. An apology is worth about one rung, mediation one and a half, a
    /// shared threat three (it "resolves faster": MECHANICS.md), time alone half a rung.
    pub const fn relief(self) -> f32 {
        match self {
            Self::Apology => 2.0,
            Self::Mediation => 3.0,
            Self::SharedThreat => 6.0,
            Self::TimeHealed => 1.0,
        }
    }
}

/// Cools a feud to `tick`: lowers its heat by [`HEAT_DECAY_PER_TICK`] per elapsed tick and its level
/// to what the heat supports. Returns the new level if it fell.
pub fn cool(feud: &mut Feud, tick: u64) -> Option<ConflictLevel> {
    let before = feud.level;
    feud.heat = feud.heat_at(tick);
    feud.last_tick = feud.last_tick.max(tick);
    feud.level = feud.level.min(ConflictLevel::for_heat(feud.heat));
    (feud.level < before).then_some(feud.level)
}

/// A hostile act of `severity` in [0, 1] (clamped; NaN counts as 0) between the two parties at `tick`.
///
/// The feud first cools to `tick` (see [`cool`]), then gains `severity * HEAT_PER_ACT` heat (capped at
/// [`HEAT_MAX`]); if the heat now reaches a higher band the level climbs one rung, never more: the
/// ladder is climbed step by step, however violent one act. Returns the new level if the act raised
/// it above where it stood before the call.
pub fn escalate(feud: &mut Feud, severity: f32, tick: u64) -> Option<ConflictLevel> {
    let before = feud.level;
    cool(feud, tick);
    let severity = if severity.is_nan() { 0.0 } else { severity.clamp(0.0, 1.0) };
    feud.heat = (feud.heat + severity * HEAT_PER_ACT).min(HEAT_MAX);
    if ConflictLevel::for_heat(feud.heat) > feud.level {
        feud.level = feud.level.next();
    }
    (feud.level > before).then_some(feud.level)
}

/// De-escalation by `cause` with `strength` in [0, 1] (clamped; NaN counts as 0) at `tick`: cools the
/// feud to `tick`, removes `strength * cause.relief()` heat, and lowers the level to what the heat
/// supports (several rungs at once if the relief is large). Returns the new level if it fell.
pub fn deescalate(feud: &mut Feud, cause: Resolution, strength: f32, tick: u64) -> Option<ConflictLevel> {
    let before = feud.level;
    cool(feud, tick);
    let strength = if strength.is_nan() { 0.0 } else { strength.clamp(0.0, 1.0) };
    feud.heat = (feud.heat - strength * cause.relief()).max(0.0);
    feud.level = feud.level.min(ConflictLevel::for_heat(feud.heat));
    (feud.level < before).then_some(feud.level)
}

/// Whether the feud is over at `tick`: its cooled heat is at most [`RESOLVED_HEAT`]. The ECS side
/// drops resolved feuds.
pub fn is_resolved(feud: &Feud, tick: u64) -> bool {
    feud.heat_at(tick) <= RESOLVED_HEAT
}

/// Strength of a mediation: the respect each side holds for the mediator, the smaller of the two, in
/// [0, 1]. A mediator only one side respects achieves nothing (MECHANICS.md: "mediation by a third
/// party respected by both").
pub fn mediation_strength(respect_from_a: f32, respect_from_b: f32) -> f32 {
    if respect_from_a.is_nan() || respect_from_b.is_nan() {
        0.0
    } else {
        respect_from_a.min(respect_from_b).clamp(0.0, 1.0)
    }
}

/// The ties that count, compacted: row `s` is `ties[offsets[s]..offsets[s + 1]]`, partner and
/// strength interleaved (PERFORMANCE.md found pairs 1.6x faster than separate arrays).
struct Ties {
    offsets: Vec<u32>,
    ties: Vec<Tie>,
}

/// One counting tie. The strength (fixed point, >= 1) is atomic only so that the triangle pass can
/// write both directions of a pair from the pair's one owner; every access is `Relaxed`, which
/// compiles to plain loads and stores, and no element ever has two writers.
#[derive(Default)]
struct Tie {
    partner: u32,
    strength: AtomicU32,
}

impl Tie {
    fn strength(&self) -> u32 {
        self.strength.load(Relaxed)
    }
}

impl Ties {
    fn row(&self, s: usize) -> &[Tie] {
        &self.ties[self.offsets[s] as usize..self.offsets[s + 1] as usize]
    }

    /// Keeps the edges with weight > 0 that are not self-loops, quantised (not yet reinforced: see
    /// [`Self::reinforce_by_triangles`]). Parallel over fixed row chunks for large graphs.
    fn compact(offsets: &[u32], partners: &[u32], weights: &[f32]) -> Self {
        let n = offsets.len() - 1;
        let counts = |e: usize, s: usize| weights[e] > 0.0 && partners[e] as usize != s;
        let lens: Vec<u32> =
            map_rows(n, |s| (offsets[s]..offsets[s + 1]).filter(|&e| counts(e as usize, s)).count() as u32);
        let mut kept = Vec::with_capacity(n + 1);
        kept.push(0u32);
        for l in lens {
            kept.push(kept[kept.len() - 1] + l);
        }
        let mut ties = Vec::with_capacity(kept[n] as usize);
        ties.resize_with(kept[n] as usize, Tie::default);
        for_row_chunks(&kept, &mut ties, |_: &mut (), rows, out| {
            let edges =
                rows.flat_map(|s| (offsets[s] as usize..offsets[s + 1] as usize).filter(move |&e| counts(e, s)));
            for (tie, e) in out.iter_mut().zip(edges) {
                let q = (weights[e].min(TIE_STRENGTH_MAX) * STRENGTH_SCALE) as u32;
                *tie = Tie { partner: partners[e], strength: AtomicU32::new(q.max(1)) };
            }
        });
        Self { offsets: kept, ties }
    }

    /// Multiplies each tie's strength by `1 + common neighbours` (capped at [`STRENGTH_CAP`]).
    ///
    /// Each pair is counted once, by its endpoint with the larger `(degree, slot)`: it marks its own
    /// neighbours in a per-task bitset (n bits, cache-resident), scans the other endpoint's (shorter)
    /// row, and scales both directions of the tie. Integer counts, so the result is the same for any
    /// split of the work.
    fn reinforce_by_triangles(&self) {
        let n = self.offsets.len() - 1;
        let owns = |u: usize, v: usize| (self.row(u).len(), u) > (self.row(v).len(), v);
        let scale = |tie: &Tie, m: u32| {
            let s = (tie.strength() as u64 * m as u64).min(STRENGTH_CAP as u64);
            tie.strength.store(s as u32, Relaxed);
        };
        let chunk = |bits: &mut Vec<u64>, c: usize| {
            if bits.is_empty() {
                bits.resize(n.div_ceil(64), 0);
            }
            for u in c * ROWS_PER_TASK..((c + 1) * ROWS_PER_TASK).min(n) {
                let row = self.row(u);
                for t in row {
                    bits[t.partner as usize / 64] |= 1 << (t.partner % 64);
                }
                for tie in row.iter().filter(|t| owns(u, t.partner as usize)) {
                    let v = tie.partner as usize;
                    let (mut common, mut reverse) = (0u32, None);
                    for t in self.row(v) {
                        common += (bits[t.partner as usize / 64] >> (t.partner % 64)) as u32 & 1;
                        if t.partner as usize == u {
                            reverse = Some(t);
                        }
                    }
                    scale(tie, common + 1);
                    if let Some(back) = reverse {
                        scale(back, common + 1);
                    }
                }
                for t in row {
                    bits[t.partner as usize / 64] = 0;
                }
            }
        };
        let chunks = n.div_ceil(ROWS_PER_TASK);
        if n >= PARALLEL_MIN {
            (0..chunks).into_par_iter().for_each_init(Vec::new, chunk);
        } else {
            let mut bits = Vec::new();
            (0..chunks).for_each(|c| chunk(&mut bits, c));
        }
    }
}

/// `f(row)` for every row, in parallel over fixed chunks when there are many.
fn map_rows<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    if n >= PARALLEL_MIN {
        (0..n).into_par_iter().with_min_len(ROWS_PER_TASK).map(f).collect()
    } else {
        (0..n).map(f).collect()
    }
}

/// Runs `f(scratch, rows, out)` over chunks of [`ROWS_PER_TASK`] rows, where `out` is the part of the
/// per-edge array `edges` (indexed by `offsets`) that belongs to those rows. Parallel for large
/// graphs, each worker with its own scratch; each chunk writes only its own rows.
fn for_row_chunks<T: Send, S: Default>(
    offsets: &[u32],
    edges: &mut [T],
    f: impl Fn(&mut S, Range<usize>, &mut [T]) + Sync + Send,
) {
    let n = offsets.len() - 1;
    let mut parts = Vec::with_capacity(n.div_ceil(ROWS_PER_TASK));
    let mut rest = edges;
    for first in (0..n).step_by(ROWS_PER_TASK) {
        let last = (first + ROWS_PER_TASK).min(n);
        let (head, tail) = rest.split_at_mut((offsets[last] - offsets[first]) as usize);
        parts.push((first..last, head));
        rest = tail;
    }
    if n >= PARALLEL_MIN {
        parts.into_par_iter().for_each_init(S::default, |scratch, (rows, out)| f(scratch, rows, out));
    } else {
        let mut scratch = S::default();
        parts.into_iter().for_each(|(rows, out)| f(&mut scratch, rows, out));
    }
}

/// Greedy colouring in stable-id order (`order`): each node takes the smallest colour none of its
/// already coloured neighbours has. Returns the classes, each in slot order: the nodes of a class
/// update independently, so their order does not matter for the result, and slot order walks memory
/// forward.
fn colour_classes(g: &Ties, order: &[u32]) -> Vec<Vec<u32>> {
    let mut colour = vec![NONE; order.len()];
    let mut taken_by: Vec<u32> = Vec::new(); // taken_by[c] == s: a neighbour of s has colour c
    for &s in order {
        for t in g.row(s as usize) {
            let c = colour[t.partner as usize];
            if c != NONE {
                taken_by[c as usize] = s;
            }
        }
        let c = taken_by.iter().position(|&by| by != s).unwrap_or(taken_by.len());
        if c == taken_by.len() {
            taken_by.push(NONE);
        }
        colour[s as usize] = c as u32;
    }
    let mut classes = vec![Vec::new(); taken_by.len()];
    for (s, &c) in colour.iter().enumerate() {
        classes[c as usize].push(s as u32);
    }
    classes
}

/// Semi-synchronous label propagation: rounds of colour classes in order; a class's new labels are
/// all computed from the same labels, then written. Returns the number of rounds run.
///
/// Exact pruning: a node's evaluation also yields its margin (best total minus the best other label's
/// total). A neighbour changing label moves any such difference by at most twice its tie strength,
/// so while the neighbours' changes sum to no more than the margin the node would keep its label
/// (its label stays among the best, and a node keeps its label on a tie) and is not re-evaluated.
/// Exact for symmetric strengths (the documented input); deterministic in any case.
fn propagate(g: &Ties, classes: &[Vec<u32>], label: &mut [u32], max_rounds: usize) -> usize {
    // Margin left before a node must be re-evaluated; negative = re-evaluate.
    let mut slack = vec![-1i64; label.len()];
    let mut todo: Vec<u32> = Vec::new();
    for round in 0..max_rounds {
        let mut changed = false;
        for class in classes {
            todo.clear();
            todo.extend(class.iter().copied().filter(|&s| slack[s as usize] < 0));
            let next: Vec<(u32, u64)> = {
                let label = &*label;
                let eval = |tally: &mut Vec<(u32, u64)>, &s: &u32| {
                    best_label(g.row(s as usize), label[s as usize], label, tally)
                };
                if todo.len() >= PARALLEL_MIN / 4 {
                    todo.par_iter().with_min_len(ROWS_PER_TASK / 4).map_init(Vec::new, eval).collect()
                } else {
                    let mut tally = Vec::new();
                    todo.iter().map(|s| eval(&mut tally, s)).collect()
                }
            };
            for (&s, &(l, margin)) in todo.iter().zip(&next) {
                let s = s as usize;
                slack[s] = margin.min(i64::MAX as u64) as i64;
                if l != label[s] {
                    label[s] = l;
                    changed = true;
                    for t in g.row(s) {
                        let t_slack = &mut slack[t.partner as usize];
                        *t_slack = t_slack.saturating_sub(2 * t.strength() as i64);
                    }
                }
            }
        }
        if !changed {
            return round + 1;
        }
    }
    max_rounds
}

/// The label a node with ties `row` and label `current` adopts, and its margin over the best other
/// label: highest total strength among its neighbours' labels; `current` if that is among the best;
/// else the smallest best label. A node without ties keeps its label (margin 0).
fn best_label(row: &[Tie], current: u32, label: &[u32], tally: &mut Vec<(u32, u64)>) -> (u32, u64) {
    if row.len() <= SHORT_ROW_MAX {
        return best_label_short(row, current, label);
    }
    tally.clear();
    tally.extend(row.iter().map(|t| (label[t.partner as usize], t.strength() as u64)));
    tally.sort_unstable_by_key(|c| c.0);
    tally.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 += later.1;
        }
        same
    });
    let Some(best) = tally.iter().map(|c| c.1).max() else { return (current, 0) };
    let pick = if tally.iter().any(|c| c.0 == current && c.1 == best) {
        current
    } else {
        tally.iter().filter(|c| c.1 == best).map(|c| c.0).min().unwrap_or(current)
    };
    let other = tally.iter().filter(|c| c.0 != pick).map(|c| c.1).max().unwrap_or(0);
    (pick, best - other)
}

/// [`best_label`] for rows of at most [`SHORT_ROW_MAX`] ties, on fixed arrays and without branches
/// that depend on the data: every pass runs over whole vectors of 8 lanes, the padding (label NONE,
/// weight and total 0) never wins and never counts as another label's total.
fn best_label_short(row: &[Tie], current: u32, label: &[u32]) -> (u32, u64) {
    let (mut ls, mut ws) = ([NONE; SHORT_ROW_MAX], [0u32; SHORT_ROW_MAX]);
    for (k, t) in row.iter().enumerate() {
        (ls[k], ws[k]) = (label[t.partner as usize], t.strength());
    }
    let lanes = row.len().next_multiple_of(8);
    let (ls, ws) = (&ls[..lanes], &ws[..lanes]);
    // Each entry's label total, all pairs. Sums fit: at most 32 ties of < 2^27.
    let mut totals = [0u32; SHORT_ROW_MAX];
    for (total, &l) in totals.iter_mut().zip(ls).take(row.len()) {
        *total = ls.iter().zip(ws).map(|(&m, &w)| if m == l { w } else { 0 }).sum();
    }
    let totals = &totals[..lanes];
    let best = totals.iter().copied().fold(0, u32::max);
    if best == 0 {
        return (current, 0);
    }
    let (mut keep, mut smallest) = (false, NONE);
    for (&l, &t) in ls.iter().zip(totals) {
        keep |= t == best && l == current;
        smallest = smallest.min(if t == best { l } else { NONE });
    }
    let pick = if keep { current } else { smallest };
    let other = ls.iter().zip(totals).map(|(&l, &t)| if l != pick { t } else { 0 }).fold(0, u32::max);
    (pick, (best - other) as u64)
}

/// Splits every label class into its connected parts and labels each part by its smallest stable id.
/// Each tie is taken from its lower slot's row (ties appear in both rows).
fn connected_labels(g: &Ties, label: &[u32], ids: &[u32]) -> Vec<u32> {
    let n = label.len();
    let mut parts = UnionFind::<u32>::new(n);
    for s in 0..n {
        for t in g.row(s).iter().filter(|t| t.partner as usize > s) {
            if label[s] == label[t.partner as usize] {
                parts.union(s as u32, t.partner);
            }
        }
    }
    let root: Vec<u32> = (0..n as u32).map(|s| parts.find_mut(s)).collect();
    let mut min_id = vec![u32::MAX; n];
    for (s, &r) in root.iter().enumerate() {
        min_id[r as usize] = min_id[r as usize].min(ids[s]);
    }
    root.iter().map(|&r| min_id[r as usize]).collect()
}

/// One (community, old group) pair sharing `shared` members out of `union`.
struct Overlap {
    fresh: usize,
    old: usize,
    shared: u128,
    union: u128,
}

/// Every (community, old group) pair with at least one shared member.
fn overlaps(old: &[GroupRecord], fresh: &[&Vec<u32>]) -> Vec<Overlap> {
    let mut member_of: Vec<(u32, u32)> =
        old.iter().enumerate().flat_map(|(j, g)| g.members.iter().map(move |&m| (m, j as u32))).collect();
    member_of.sort_unstable();
    let mut out = Vec::new();
    let mut hits: Vec<u32> = Vec::new();
    for (i, members) in fresh.iter().enumerate() {
        hits.clear();
        for &m in members.iter() {
            let lo = member_of.partition_point(|p| p.0 < m);
            hits.extend(member_of[lo..].iter().take_while(|p| p.0 == m).map(|p| p.1));
        }
        hits.sort_unstable();
        for run in hits.chunk_by(|a, b| a == b) {
            let j = run[0] as usize;
            let shared = run.len();
            let union = (members.len() + old[j].members.len()).saturating_sub(shared).max(1);
            out.push(Overlap { fresh: i, old: j, shared: shared as u128, union: union as u128 });
        }
    }
    out
}

/// Elements of sorted `a` not in sorted `b`.
fn difference(a: &[u32], b: &[u32]) -> Vec<u32> {
    a.iter().copied().filter(|x| b.binary_search(x).is_err()).collect()
}

/// `members` sorted and deduplicated, borrowing when it already is.
fn sorted_unique(members: &[u32]) -> std::borrow::Cow<'_, [u32]> {
    if members.windows(2).all(|w| w[0] < w[1]) {
        std::borrow::Cow::Borrowed(members)
    } else {
        let mut v = members.to_vec();
        v.sort_unstable();
        v.dedup();
        std::borrow::Cow::Owned(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::mix64;
    use proptest::prelude::*;

    /// Undirected CSR over `n` slots from `(u, v, weight)` ties (both directions added), rows sorted.
    fn csr(n: usize, ties: &[(u32, u32, f32)]) -> (Vec<u32>, Vec<u32>, Vec<f32>) {
        let mut dir: Vec<(u32, u32, f32)> = ties.iter().flat_map(|&(u, v, w)| [(u, v, w), (v, u, w)]).collect();
        dir.sort_by_key(|d| (d.0, d.1));
        let mut offsets = vec![0u32; n + 1];
        for &(u, _, _) in &dir {
            offsets[u as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        (offsets, dir.iter().map(|d| d.1).collect(), dir.iter().map(|d| d.2).collect())
    }

    /// Labels with slot = id.
    fn communities(n: usize, ties: &[(u32, u32, f32)]) -> Vec<u32> {
        let (o, p, w) = csr(n, ties);
        detect_communities(&o, &p, &w, &(0..n as u32).collect::<Vec<_>>(), 50)
    }

    fn clique(first: u32, size: u32, w: f32) -> Vec<(u32, u32, f32)> {
        (first..first + size).flat_map(|u| (u + 1..first + size).map(move |v| (u, v, w))).collect()
    }

    /// A planted-partition graph: `k` blocks of `size`, dense strong ties inside (half the pairs), and
    /// about one weak tie per node across blocks.
    fn planted(k: u32, size: u32, seed: u64) -> Vec<(u32, u32, f32)> {
        let n = k * size;
        let mut ties = Vec::new();
        for u in 0..n {
            let h = |x: u64| mix64(seed ^ (u as u64) << 32 ^ x);
            for v in u + 1..(u / size + 1) * size {
                if h(v as u64) & 1 == 0 {
                    ties.push((u, v, 0.5 + (h(v as u64) >> 40) as f32 / (1u64 << 25) as f32));
                }
            }
            let far = (h(u64::MAX) % n as u64) as u32;
            if far / size != u / size {
                ties.push((u, far, 0.2));
            }
        }
        ties.sort_by_key(|t| (t.0.min(t.1), t.0.max(t.1)));
        ties.dedup_by_key(|t| (t.0.min(t.1), t.0.max(t.1)));
        ties
    }

    #[test]
    fn two_tight_clusters_joined_weakly_are_two_communities() {
        let mut ties = clique(0, 6, 1.0);
        ties.extend(clique(6, 6, 0.9));
        ties.extend([(0, 6, 0.1), (2, 9, 0.1), (5, 11, 0.05)]);
        let labels = communities(12, &ties);
        assert_eq!(labels, [0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6]);

        let apart = communities(12, &[clique(0, 6, 1.0), clique(6, 6, 1.0)].concat());
        assert_eq!(apart, labels);
    }

    #[test]
    fn a_ring_of_cliques_gives_one_community_per_clique() {
        let (k, size) = (8u32, 5u32);
        let mut ties: Vec<_> = (0..k).flat_map(|c| clique(c * size, size, 1.0)).collect();
        for c in 0..k {
            ties.push((c * size + size - 1, ((c + 1) % k) * size, 1.0));
        }
        let labels = communities((k * size) as usize, &ties);
        let expect: Vec<u32> = (0..k * size).map(|v| v / size * size).collect();
        assert_eq!(labels, expect);
    }

    #[test]
    fn isolated_nodes_and_non_positive_ties_stay_alone() {
        let labels = communities(5, &[(0, 1, 1.0), (1, 2, 0.0), (2, 3, -1.0), (3, 4, f32::NAN)]);
        assert_eq!(labels, [0, 0, 2, 3, 4]);
        assert!(communities(0, &[]).is_empty());
        let (o, p, w) = csr(3, &[(0, 1, 1.0), (1, 2, 1.0)]);
        assert_eq!(detect_communities(&o, &p, &w, &[9, 4, 7], 0), [9, 4, 7], "zero rounds: singletons");
    }

    #[test]
    fn labels_are_the_smallest_member_id() {
        let (o, p, w) = csr(6, &[clique(0, 3, 1.0), clique(3, 3, 1.0)].concat());
        let ids = [50, 20, 30, 7, 90, 8];
        let labels = detect_communities(&o, &p, &w, &ids, 20);
        assert_eq!(labels, [20, 20, 20, 7, 7, 7]);
        assert_eq!(community_members(&labels, &ids), [vec![7, 8, 90], vec![20, 30, 50]]);
    }

    #[test]
    fn planted_partitions_are_recovered_and_runs_repeat() {
        let ties = planted(6, 30, 3);
        let labels = communities(180, &ties);
        let expect: Vec<u32> = (0..180).map(|v| v / 30 * 30).collect();
        assert_eq!(labels, expect);
        assert_eq!(communities(180, &ties), labels);
    }

    #[test]
    fn parallel_pool_gives_the_same_labels() {
        // Sparse enough for colour classes above the parallel threshold, with one hub (a long row).
        let n = 40_000;
        let mut ties = villages(n, 40, 3);
        ties.extend((1..200).map(|k| (0, k * 150, 0.3)));
        let (o, p, w) = csr(n as usize, &ties);
        let ids: Vec<u32> = (0..n).map(|i| i * 3 + 1).collect();
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let a = one.install(|| detect_communities(&o, &p, &w, &ids, 50));
        let b = two.install(|| detect_communities(&o, &p, &w, &ids, 50));
        assert_eq!(a, b);
        assert!(community_members(&a, &ids).len() >= 1000);
    }

    fn record(id: u64, members: &[u32], formed_tick: u64) -> GroupRecord {
        GroupRecord { id, members: members.to_vec(), formed_tick }
    }

    #[test]
    fn group_ids_survive_a_member_leaving_and_joining() {
        let old = vec![record(1, &[1, 2, 3, 4, 5], 10), record(2, &[10, 11, 12, 13], 20)];
        let mut next = 3;
        let communities = vec![vec![10, 11, 12, 13, 14], vec![1, 2, 3, 4]];
        let (groups, changes) = match_groups(&old, &communities, 3, 0.5, &mut next, 100);
        assert_eq!(groups, [record(1, &[1, 2, 3, 4], 10), record(2, &[10, 11, 12, 13, 14], 20)]);
        assert_eq!(
            changes,
            [
                GroupChange::Changed { id: 1, joined: vec![], left: vec![5] },
                GroupChange::Changed { id: 2, joined: vec![14], left: vec![] },
            ]
        );
        assert_eq!(next, 3);
        let (again, none) = match_groups(&groups, &communities, 3, 0.5, &mut next, 200);
        assert_eq!((again, none), (groups, vec![]));
    }

    #[test]
    fn dissolved_formed_and_too_small_groups_are_reported() {
        let old = vec![record(4, &[1, 2, 3], 0), record(7, &[20, 21, 22], 0)];
        let mut next = 5;
        let communities = vec![vec![1, 2, 3], vec![20, 30], vec![40, 41, 42], vec![21, 22, 50, 51, 52, 53]];
        let (groups, changes) = match_groups(&old, &communities, 3, 0.4, &mut next, 9);
        // {21, 22, 50..53} overlaps group 7 with Jaccard 2/7 < 0.4: a new group, and 7 dissolves.
        assert_eq!(next, 10, "fresh ids start above every old id");
        assert_eq!(groups.iter().map(|g| g.id).collect::<Vec<_>>(), [4, 8, 9]);
        assert_eq!(groups[1], record(8, &[21, 22, 50, 51, 52, 53], 9));
        assert_eq!(groups[2], record(9, &[40, 41, 42], 9));
        assert_eq!(
            changes,
            [
                GroupChange::Dissolved { id: 7, members: vec![20, 21, 22] },
                GroupChange::Formed { id: 8, members: vec![21, 22, 50, 51, 52, 53] },
                GroupChange::Formed { id: 9, members: vec![40, 41, 42] },
            ]
        );
    }

    #[test]
    fn a_split_group_keeps_its_id_in_the_larger_half_and_ties_go_to_the_older_group() {
        let old = vec![record(3, &[1, 2, 3, 4, 5, 6], 0)];
        let mut next = 4;
        let (groups, _) = match_groups(&old, &[vec![1, 2], vec![3, 4, 5, 6]], 2, 0.3, &mut next, 1);
        assert_eq!(groups, [record(3, &[3, 4, 5, 6], 0), record(4, &[1, 2], 1)]);

        // A merge of two equal halves inherits the older id; the other dissolves.
        let old = vec![record(9, &[5, 6], 0), record(2, &[7, 8], 0)];
        let (groups, changes) = match_groups(&old, &[vec![5, 6, 7, 8]], 2, 0.3, &mut next, 1);
        assert_eq!(groups, [record(2, &[5, 6, 7, 8], 0)]);
        assert_eq!(changes[1], GroupChange::Dissolved { id: 9, members: vec![5, 6] });
    }

    #[test]
    fn group_change_serialises_snake_case() {
        let json = serde_json::to_string(&GroupChange::Formed { id: 1, members: vec![2] }).unwrap();
        assert_eq!(json, r#"{"formed":{"id":1,"members":[2]}}"#);
        assert_eq!(serde_json::to_string(&ConflictLevel::OpenConflict).unwrap(), r#""open_conflict""#);
    }

    /// Directed affinities as `(source slot, target slot, affinity)`.
    fn rows(edges: &[(u32, u32, f32)]) -> impl Fn(u32) -> Vec<(u32, f32)> + '_ {
        move |s| edges.iter().filter(|e| e.0 == s).map(|e| (e.1, e.2)).collect()
    }

    #[test]
    fn cohesion_is_the_mean_internal_affinity() {
        let edges = [(0, 1, 0.8), (1, 0, 0.4), (1, 2, -0.3), (2, 5, 1.0), (0, 0, 1.0)];
        assert!((cohesion(&[2, 1, 0], rows(&edges)) - 0.3).abs() < 1e-6);
        assert_eq!(cohesion(&[3, 4], rows(&edges)), 0.0);
        assert_eq!(cohesion(&[], rows(&edges)), 0.0);
    }

    #[test]
    fn the_leader_has_the_highest_status_then_the_smallest_id() {
        let status = [0.2, 0.9, 0.9, f32::NAN];
        let ids = [5, 8, 3, 1];
        let lead = |m: &[u32]| leader(m, |s| status[s as usize], |s| ids[s as usize]);
        assert_eq!(lead(&[0, 1, 2, 3]), Some(2));
        assert_eq!(lead(&[0, 3]), Some(0));
        assert_eq!(lead(&[]), None);
    }

    #[test]
    fn shared_enemies_need_half_the_members() {
        // Members 0..4; outsiders 4, 5, 6. Outsider 4 is hated by 2 of 4, 5 by 1, 6 by 3 (one of
        // them twice over duplicate edges, counted once).
        let edges = [
            (0, 4, -0.9),
            (1, 4, -0.6),
            (2, 4, 0.5),
            (0, 5, -0.9),
            (0, 6, -0.9),
            (1, 6, -0.7),
            (2, 6, -0.8),
            (2, 6, -0.8),
            (3, 1, -0.9),
        ];
        let ids = [0, 1, 2, 3, 40, 50, 60];
        let enemies = shared_enemies(&[0, 1, 2, 3], rows(&edges), -0.5, |s| ids[s as usize]);
        assert_eq!(enemies, [40, 60]);
        assert_eq!(shared_enemies(&[0], rows(&edges), -0.5, |s| ids[s as usize]), [40, 50, 60]);
    }

    #[test]
    fn shared_enemies_keep_the_most_hated_when_capped() {
        let n = SHARED_ENEMIES_MAX as u32 + 10;
        let mut edges: Vec<(u32, u32, f32)> = (0..n).map(|t| (0, 100 + t, -1.0)).collect();
        edges.extend((0..5).map(|t| (1, 100 + n - 1 - t, -1.0)));
        let enemies = shared_enemies(&[0, 1], rows(&edges), -0.5, |s| s);
        assert_eq!(enemies.len(), SHARED_ENEMIES_MAX);
        assert!(enemies.contains(&(100 + n - 1)) && enemies.contains(&100) && !enemies.contains(&(100 + 60)));
        assert!(enemies.is_sorted());
    }

    #[test]
    fn repeated_insults_climb_the_ladder_one_rung_at_a_time() {
        let mut f = Feud::new(9, 4, 0);
        assert_eq!((f.a, f.b), (4, 9));
        let mut seen = vec![f.level];
        for t in 1..=12 {
            let before = f.level;
            let rose = escalate(&mut f, 0.7, t);
            assert!(f.level <= before.next() && f.level >= before);
            assert_eq!(rose.is_some(), f.level > before);
            if rose.is_some() {
                seen.push(f.level);
            }
        }
        assert_eq!(seen, ConflictLevel::ALL);
        assert!(f.heat <= HEAT_MAX);
        // One act of full severity on a cold feud climbs one rung only.
        let mut g = Feud { heat: 9.0, ..Feud::new(1, 2, 0) };
        assert_eq!(escalate(&mut g, 1.0, 0), Some(ConflictLevel::Insult));
    }

    #[test]
    fn feuds_cool_with_time() {
        let mut f = Feud::new(1, 2, 0);
        for t in 0..4 {
            escalate(&mut f, 1.0, t);
        }
        assert_eq!(f.level, ConflictLevel::Sabotage);
        assert!(!is_resolved(&f, 3));
        assert_eq!(cool(&mut f, 203), Some(ConflictLevel::Threat));
        let resolved_at = 203 + ((f.heat - RESOLVED_HEAT) / HEAT_DECAY_PER_TICK).ceil() as u64 + 1;
        assert!(is_resolved(&f, resolved_at) && !is_resolved(&f, resolved_at - 30));
        // Spaced-out slights never build up.
        let mut g = Feud::new(1, 2, 0);
        for t in (0..5000).step_by(200) {
            assert_eq!(escalate(&mut g, 1.0, t), None.or((t == 0).then_some(ConflictLevel::Insult)));
        }
    }

    #[test]
    fn apology_mediation_and_shared_threat_lower_a_feud() {
        let hot = || {
            let mut f = Feud::new(1, 2, 0);
            for _ in 0..5 {
                escalate(&mut f, 1.0, 0);
            }
            f
        };
        assert_eq!(hot().level, ConflictLevel::OpenConflict);

        let mut apology = hot();
        assert_eq!(deescalate(&mut apology, Resolution::Apology, 1.0, 0), Some(ConflictLevel::Sabotage));
        let mut mediated = hot();
        let respected = mediation_strength(0.9, 0.8);
        assert_eq!(deescalate(&mut mediated, Resolution::Mediation, respected, 0), Some(ConflictLevel::Sabotage));
        assert!(mediated.heat < apology.heat);
        let mut partisan = hot();
        assert_eq!(deescalate(&mut partisan, Resolution::Mediation, mediation_strength(0.9, -0.4), 0), None);
        assert_eq!(mediation_strength(f32::NAN, 0.9), 0.0);
        assert_eq!(partisan, hot());

        let mut threat = hot();
        assert_eq!(deescalate(&mut threat, Resolution::SharedThreat, 1.0, 0), Some(ConflictLevel::Insult));
        let mut steps = 0;
        let mut slow = hot();
        while !is_resolved(&slow, 0) {
            deescalate(&mut slow, Resolution::Apology, 1.0, 0);
            steps += 1;
        }
        let mut fast = hot();
        let mut fast_steps = 0;
        while !is_resolved(&fast, 0) {
            deescalate(&mut fast, Resolution::SharedThreat, 1.0, 0);
            fast_steps += 1;
        }
        assert!(fast_steps < steps, "{fast_steps} vs {steps}");
        assert_eq!(fast.level, ConflictLevel::Slight);
        let mut same = hot();
        assert_eq!(deescalate(&mut same, Resolution::Apology, f32::NAN, 0), None);
    }

    /// Villages of `size`: four strong ties per node inside its village, and one weak tie to a random
    /// node for every fifth node.
    fn villages(n: u32, size: u32, seed: u64) -> Vec<(u32, u32, f32)> {
        let mut ties = Vec::new();
        for u in 0..n {
            for k in 1..=4u32 {
                ties.push((u, u / size * size + (u % size + k * 7) % size, 1.0));
            }
            let far = (mix64(seed ^ u as u64) % n as u64) as u32;
            if u % 5 == 0 {
                ties.push((u, far, 0.05));
            }
        }
        ties.retain(|t| t.0 != t.1);
        ties
    }

    /// 100k nodes in debug: a sanity check of the scale path.
    #[test]
    fn a_hundred_thousand_nodes_in_villages() {
        let (n, size) = (100_000u32, 50u32);
        let labels = communities(n as usize, &villages(n, size, 1));
        let groups = community_members(&labels, &(0..n).collect::<Vec<_>>());
        assert!(groups.len() >= (n / size) as usize, "{} communities", groups.len());
        assert!(groups.iter().all(|g| g.len() <= 2 * size as usize));
    }

    /// Reference propagation without pruning: every node is re-evaluated in every round.
    fn propagate_unpruned(g: &Ties, classes: &[Vec<u32>], label: &mut [u32], max_rounds: usize) -> usize {
        let mut tally = Vec::new();
        for round in 0..max_rounds {
            let mut changed = false;
            for class in classes {
                let next: Vec<u32> = class
                    .iter()
                    .map(|&s| best_label(g.row(s as usize), label[s as usize], label, &mut tally).0)
                    .collect();
                for (&s, &l) in class.iter().zip(&next) {
                    changed |= label[s as usize] != l;
                    label[s as usize] = l;
                }
            }
            if !changed {
                return round + 1;
            }
        }
        max_rounds
    }

    /// A random graph with some community structure over `n` nodes, as `(u, v, w)` ties.
    fn arb_graph() -> impl Strategy<Value = (usize, Vec<(u32, u32, f32)>)> {
        (2usize..40).prop_flat_map(|n| {
            let tie = (0..n as u32, 0..n as u32, prop_oneof![Just(1.0f32), Just(0.5f32), 0.01f32..2.0]);
            (Just(n), prop::collection::vec(tie, 0..n * 4))
        })
    }

    proptest! {
        #[test]
        fn labels_do_not_depend_on_slot_order((n, ties) in arb_graph(), seed in any::<u64>()) {
            let mut ties = ties;
            ties.retain(|t| t.0 != t.1);
            ties.sort_by_key(|t| (t.0.min(t.1), t.0.max(t.1)));
            ties.dedup_by(|a, b| (a.0.min(a.1), a.0.max(a.1)) == (b.0.min(b.1), b.0.max(b.1)));
            let ids: Vec<u32> = (0..n as u32).map(|i| i * 10 + 3).collect();
            let (o, p, w) = csr(n, &ties);
            let base = detect_communities(&o, &p, &w, &ids, 30);

            // Slot of node i is perm[i].
            let mut perm: Vec<u32> = (0..n as u32).collect();
            perm.sort_by_key(|&i| mix64(seed ^ i as u64));
            let moved: Vec<_> = ties.iter().map(|&(u, v, w)| (perm[u as usize], perm[v as usize], w)).collect();
            let mut moved_ids = vec![0; n];
            for i in 0..n {
                moved_ids[perm[i] as usize] = ids[i];
            }
            let (o2, p2, w2) = csr(n, &moved);
            let labels = detect_communities(&o2, &p2, &w2, &moved_ids, 30);
            for i in 0..n {
                prop_assert_eq!(labels[perm[i] as usize], base[i]);
            }
        }

        #[test]
        fn rings_of_cliques_split_into_their_cliques_whatever_the_id_order(
            k in 3u32..12, size in 3u32..7, seed in any::<u64>(),
        ) {
            let n = (k * size) as usize;
            let mut ties: Vec<_> = (0..k).flat_map(|c| clique(c * size, size, 1.0)).collect();
            ties.extend((0..k).map(|c| (c * size + size - 1, ((c + 1) % k) * size, 1.0)));
            let mut ids: Vec<u32> = (0..n as u32).collect();
            ids.sort_by_key(|&i| mix64(seed ^ i as u64));
            let (o, p, w) = csr(n, &ties);
            let labels = detect_communities(&o, &p, &w, &ids, 50);
            let groups = community_members(&labels, &ids);
            prop_assert_eq!(groups.len(), k as usize);
            for v in 0..n {
                prop_assert_eq!(labels[v], labels[v / size as usize * size as usize]);
            }
        }

        #[test]
        fn pruned_propagation_equals_evaluating_everyone((n, ties) in arb_graph()) {
            let mut ties = ties;
            ties.retain(|t| t.0 != t.1);
            ties.sort_by_key(|t| (t.0.min(t.1), t.0.max(t.1)));
            ties.dedup_by_key(|t| (t.0.min(t.1), t.0.max(t.1)));
            let (o, p, w) = csr(n, &ties);
            let g = Ties::compact(&o, &p, &w);
            g.reinforce_by_triangles();
            let order: Vec<u32> = (0..n as u32).collect();
            let classes = colour_classes(&g, &order);
            let (mut pruned, mut full) = (order.clone(), order.clone());
            let rounds = propagate(&g, &classes, &mut pruned, 30);
            prop_assert_eq!(rounds, propagate_unpruned(&g, &classes, &mut full, 30));
            prop_assert_eq!(pruned, full);
        }

        #[test]
        fn communities_are_connected_and_labelled_by_their_smallest_id((n, ties) in arb_graph()) {
            let (o, p, w) = csr(n, &ties);
            let ids: Vec<u32> = (0..n as u32).rev().collect();
            let labels = detect_communities(&o, &p, &w, &ids, 30);
            for members in community_members(&labels, &ids) {
                let label = labels[ids.iter().position(|&x| x == members[0]).unwrap()];
                prop_assert_eq!(label, members[0]);
                // Connected through positive ties inside the community: a BFS from one member reaches all.
                let slots: Vec<usize> = members.iter().map(|m| ids.iter().position(|x| x == m).unwrap()).collect();
                let mut seen = vec![slots[0]];
                let mut i = 0;
                while i < seen.len() {
                    let s = seen[i];
                    for e in o[s] as usize..o[s + 1] as usize {
                        let t = p[e] as usize;
                        if w[e] > 0.0 && labels[t] == label && !seen.contains(&t) {
                            seen.push(t);
                        }
                    }
                    i += 1;
                }
                prop_assert_eq!(seen.len(), slots.len());
            }
        }

        #[test]
        fn matching_gives_unique_sorted_ids_and_every_big_community_once(
            old_sizes in prop::collection::vec(1usize..8, 0..6),
            new_sizes in prop::collection::vec(1usize..8, 0..6),
            shift in 0u32..6,
            min_size in 1usize..4,
        ) {
            // Consecutive blocks of ids; the new partition is the old one shifted.
            let blocks = |sizes: &[usize], start: u32| {
                let mut next = start;
                sizes.iter().map(|&k| { let b: Vec<u32> = (next..next + k as u32).collect(); next += k as u32; b })
                    .collect::<Vec<_>>()
            };
            let old: Vec<GroupRecord> = blocks(&old_sizes, 0).into_iter().enumerate()
                .map(|(i, m)| record(i as u64 * 2 + 1, &m, 0)).collect();
            let communities = blocks(&new_sizes, shift);
            let mut next = 0;
            let (groups, changes) = match_groups(&old, &communities, min_size, 0.3, &mut next, 5);
            prop_assert!(groups.windows(2).all(|w| w[0].id < w[1].id));
            prop_assert!(changes.windows(2).all(|w| w[0].id() < w[1].id()));
            prop_assert_eq!(groups.len(), communities.iter().filter(|c| c.len() >= min_size).count());
            prop_assert!(groups.iter().all(|g| g.id < next));
            let (again, none) = match_groups(&groups, &communities, min_size, 0.3, &mut next, 6);
            prop_assert_eq!(again, groups);
            prop_assert!(none.is_empty());
        }

        #[test]
        fn feud_heat_stays_bounded_and_levels_follow_the_ladder(
            acts in prop::collection::vec((0u64..300, -0.5f32..1.5, 0u8..5), 0..60),
        ) {
            let mut f = Feud::new(3, 1, 0);
            let mut tick = 0;
            for (dt, x, kind) in acts {
                tick += dt;
                let before = f.level;
                let causes = [Resolution::Apology, Resolution::Mediation, Resolution::SharedThreat, Resolution::TimeHealed];
                if kind == 4 {
                    escalate(&mut f, x, tick);
                    prop_assert!(f.level <= before.next());
                } else {
                    deescalate(&mut f, causes[kind as usize], x, tick);
                    prop_assert!(f.level <= before);
                }
                prop_assert!((0.0..=HEAT_MAX).contains(&f.heat));
                prop_assert!(f.level <= ConflictLevel::for_heat(f.heat).max(before.next()));
            }
        }
    }
}
