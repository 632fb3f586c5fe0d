//! The relationship graph as a compact CSR index: the hot path of every neighbour loop.
//!
//! Relationship entities ([`crate::bonds::Relationship`] + [`Bond`]) are the source of truth. This
//! resource indexes them by dense character slot, with interleaved `(partner, weight)` pairs for the
//! contagion kernel (PERFORMANCE.md: interleaving beat separate arrays 1.6x) and a hot copy of each
//! bond for autonomy. Slots come from a locality renumbering (BFS from the lowest stable id, partners
//! in id order), so neighbours sit near each other in memory whatever order ids were declared in.
//!
//! The slot order is a pure function of the graph and the stable ids, so a world rebuilt from a
//! snapshot gets the same slots, the same row order and therefore bit-identical float sums.

use std::collections::VecDeque;

use bevy_ecs::prelude::*;

use crate::bonds::Bond;
use crate::ids::CharacterId;
use crate::personality::{Personality, compatibility};
use crate::trust::EdgeHistory;

/// Marker for "no such slot / no such edge".
pub const NONE: u32 = u32::MAX;

/// One CSR entry: the partner's slot and the contagion channel strength of the bond toward it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
#[repr(C)]
pub struct Edge {
    /// Dense slot of the target character.
    pub partner: u32,
    /// ASCRIBE channel strength alpha in [0, 1], from [`Bond::channel_strength`].
    pub weight: f32,
}

/// A relationship as given to [`SocialGraph::build`].
#[derive(Clone, Copy, Debug)]
pub struct EdgeInput {
    /// Source character.
    pub source: CharacterId,
    /// Target character.
    pub target: CharacterId,
    /// The relationship entity.
    pub entity: Entity,
    /// Its bond.
    pub bond: Bond,
    /// Its history.
    pub history: EdgeHistory,
}

/// CSR index of the relationship graph, rows by source slot, each row sorted by partner slot.
#[derive(Resource, Clone, Debug, Default)]
pub struct SocialGraph {
    /// Row starts: row `s` is `offsets[s]..offsets[s + 1]`; length `n + 1`.
    pub offsets: Vec<u32>,
    /// Interleaved partner and channel weight per edge.
    pub edges: Vec<Edge>,
    /// Live bond values per edge: written only through [`SocialGraph::set_bond`], which keeps the
    /// digests, sums and the dirty list in step; flushed to `Bond` components by `Sim::sync_bonds`.
    bonds: Vec<Bond>,
    /// Live history per edge (betrayals, grudges, secrets, alliances), written with the bond.
    history: Vec<EdgeHistory>,
    /// Edges written since the last flush to the `Bond` components, and a mark per edge.
    dirty: Vec<u32>,
    dirty_mark: Vec<bool>,
    /// Order-independent digest of every bond (wrapping sum of per-edge digests).
    bond_digest: u64,
    /// Digest of the topology (rows and partners), fixed at build.
    topology_digest: u64,
    /// Sums of affinity and trust in fixed point ([`FIXED_ONE`] = 1.0): exact, drift-free means.
    sum_affinity: i64,
    sum_trust: i64,
    /// The relationship entity of each edge.
    pub relationship: Vec<Entity>,
    /// Per edge: `(warmth, hostility, allure, guilt)` of the source toward the target, cached from
    /// the bond, history and compatibility for autonomy's partner choice (see
    /// [`crate::autonomy::warmth`]).
    pub appeal: Vec<Appeal>,
    /// Per edge: personality compatibility of the two ends in [-1, 1] (MECHANICS.md), cached;
    /// recomputed for a character's edges when its personality changes ([`SocialGraph::set_compat`]).
    compat: Vec<f32>,
    /// Edge index of the reverse direction, or [`NONE`].
    pub reverse: Vec<u32>,
    /// Character entity per slot.
    pub slot_entity: Vec<Entity>,
    /// Stable id per slot.
    pub slot_id: Vec<CharacterId>,
    /// Slot per stable id (`NONE` for ids not in the world).
    pub id_slot: Vec<u32>,
}

impl SocialGraph {
    /// Number of characters.
    pub fn n_characters(&self) -> usize {
        self.slot_id.len()
    }

    /// Number of directed relationships.
    pub fn n_relationships(&self) -> usize {
        self.edges.len()
    }

    /// Edge range of a slot's row.
    pub fn row(&self, slot: u32) -> std::ops::Range<usize> {
        self.offsets[slot as usize] as usize..self.offsets[slot as usize + 1] as usize
    }

    /// Edge index of `source -> target` (slots), if that relationship exists.
    pub fn edge(&self, source: u32, target: u32) -> Option<usize> {
        let r = self.row(source);
        self.edges[r.clone()].binary_search_by_key(&target, |e| e.partner).ok().map(|i| r.start + i)
    }

    /// Source slot of edge `e` (binary search over the row offsets).
    pub fn row_of(&self, e: usize) -> u32 {
        (self.offsets.partition_point(|&o| o as usize <= e) - 1) as u32
    }

    /// Slot of a stable id.
    pub fn slot_of(&self, id: CharacterId) -> Option<u32> {
        self.id_slot.get(id.0 as usize).copied().filter(|&s| s != NONE)
    }

    /// Live bond values, by edge index.
    pub fn bonds(&self) -> &[Bond] {
        &self.bonds
    }

    /// Cached compatibility of the two ends of edge `e`.
    pub fn compat(&self, e: usize) -> f32 {
        self.compat[e]
    }

    /// Recomputes the cached compatibility (and appeal) of every edge touching the given slots, or
    /// of all edges when `slots` is `None`. `personality` gives a slot's current personality.
    pub fn set_compat(&mut self, slots: Option<&[u32]>, personality: impl Fn(u32) -> Personality) {
        let mut edges: Vec<usize> = match slots {
            None => (0..self.edges.len()).collect(),
            Some(list) => list
                .iter()
                .flat_map(|&s| self.row(s).flat_map(|e| [e, self.reverse[e] as usize]).collect::<Vec<_>>())
                .filter(|&e| e != NONE as usize)
                .collect(),
        };
        edges.sort_unstable();
        edges.dedup();
        for e in edges {
            let (s, t) = (self.row_of(e), self.edges[e].partner);
            self.compat[e] = compatibility(&personality(s), &personality(t));
            self.appeal[e] = appeal(&self.bonds[e], &self.history[e], self.compat[e], self.appeal[e].back_affinity);
        }
    }

    /// Live edge histories, by edge index.
    pub fn history(&self) -> &[EdgeHistory] {
        &self.history
    }

    /// Writes a new bond value for edge `e`, keeping its history.
    pub fn set_bond(&mut self, e: usize, bond: Bond) {
        self.set_edge(e, bond, self.history[e]);
    }

    /// Writes a new bond and history for edge `e`: refreshes its channel weight, appeal, the digests
    /// and sums, and marks it for the next flush to its components.
    pub fn set_edge(&mut self, e: usize, bond: Bond, history: EdgeHistory) {
        let (old, old_h) = (self.bonds[e], self.history[e]);
        self.bond_digest =
            self.bond_digest.wrapping_sub(edge_digest(e, &old, &old_h)).wrapping_add(edge_digest(e, &bond, &history));
        self.sum_affinity += fixed(bond.affinity) - fixed(old.affinity);
        self.sum_trust += fixed(bond.trust) - fixed(old.trust);
        self.bonds[e] = bond;
        self.history[e] = history;
        self.edges[e].weight = bond.channel_strength();
        self.appeal[e] = appeal(&bond, &history, self.compat[e], self.appeal[e].back_affinity);
        let r = self.reverse[e];
        if r != NONE {
            self.appeal[r as usize].back_affinity = bond.affinity;
        }
        if !self.dirty_mark[e] {
            self.dirty_mark[e] = true;
            self.dirty.push(e as u32);
        }
    }

    /// Edges written since the last call, each once, in first-write order; clears the list.
    pub fn take_dirty(&mut self) -> Vec<u32> {
        for &e in &self.dirty {
            self.dirty_mark[e as usize] = false;
        }
        std::mem::take(&mut self.dirty)
    }

    /// Digest of topology and every bond value; O(1), maintained incrementally.
    pub fn digest(&self) -> u64 {
        crate::rng::mix64(self.topology_digest ^ self.bond_digest)
    }

    /// Digest of the topology alone (rows and partners); changes only when relationships do.
    pub fn digest_topology(&self) -> u64 {
        self.topology_digest
    }

    /// Mean affinity and mean trust over all directed relationships (exact fixed-point sums).
    pub fn mean_affinity_trust(&self) -> (f64, f64) {
        let n = self.bonds.len().max(1) as f64 * FIXED_ONE as f64;
        (self.sum_affinity as f64 / n, self.sum_trust as f64 / n)
    }

    /// Builds the index. `characters` are `(id, entity)` in any order; ids must be unique and every
    /// relationship's ends must be among them (the caller guarantees both; violations panic).
    pub fn build(characters: &[(CharacterId, Entity)], relationships: &[EdgeInput]) -> Self {
        let mut chars: Vec<(CharacterId, Entity)> = characters.to_vec();
        chars.sort_unstable_by_key(|c| c.0);
        let n = chars.len();
        let max_id = chars.last().map_or(0, |c| c.0.0 as usize + 1);
        let mut id_pos = vec![NONE; max_id];
        for (i, c) in chars.iter().enumerate() {
            id_pos[c.0.0 as usize] = i as u32;
        }
        let pos = |id: CharacterId| id_pos[id.0 as usize] as usize;

        // Adjacency by id-sorted position, used only to compute the locality order.
        let mut rels: Vec<EdgeInput> = relationships.to_vec();
        rels.sort_unstable_by_key(|r| (pos(r.source), pos(r.target)));
        // BFS order gathers neighbours of an arbitrarily numbered graph, but on small worlds its
        // frontier jumps along the shortcuts; keep declaration order when that is already more local.
        let bfs = locality_order(n, &rels, pos);
        let identity: Vec<u32> = (0..n as u32).collect();
        let order = if locality(&bfs, &rels, &pos) > locality(&identity, &rels, &pos) { bfs } else { identity };
        let mut pos_slot = vec![0u32; n];
        for (slot, &p) in order.iter().enumerate() {
            pos_slot[p as usize] = slot as u32;
        }

        let mut g = SocialGraph {
            offsets: vec![0; n + 1],
            slot_entity: order.iter().map(|&p| chars[p as usize].1).collect(),
            slot_id: order.iter().map(|&p| chars[p as usize].0).collect(),
            id_slot: vec![NONE; max_id],
            ..Default::default()
        };
        for (slot, id) in g.slot_id.iter().enumerate() {
            g.id_slot[id.0 as usize] = slot as u32;
        }
        let mut keyed: Vec<(u32, u32, usize)> =
            rels.iter().enumerate().map(|(i, r)| (pos_slot[pos(r.source)], pos_slot[pos(r.target)], i)).collect();
        keyed.sort_unstable();
        for &(s, _, _) in &keyed {
            g.offsets[s as usize + 1] += 1;
        }
        for s in 0..n {
            g.offsets[s + 1] += g.offsets[s];
        }
        g.edges = keyed.iter().map(|&(_, t, i)| Edge { partner: t, weight: rels[i].bond.channel_strength() }).collect();
        g.bonds = keyed.iter().map(|&(_, _, i)| rels[i].bond).collect();
        g.relationship = keyed.iter().map(|&(_, _, i)| rels[i].entity).collect();
        g.reverse = keyed.iter().map(|&(s, t, _)| g.edge(t, s).map_or(NONE, |e| e as u32)).collect();
        g.dirty_mark = vec![false; g.bonds.len()];
        g.history = keyed.iter().map(|&(_, _, i)| rels[i].history).collect();
        g.compat = vec![0.0; g.bonds.len()];
        g.appeal = g
            .bonds
            .iter()
            .zip(&g.history)
            .zip(&g.reverse)
            .map(|((b, h), &r)| appeal(b, h, 0.0, if r == NONE { 0.0 } else { g.bonds[r as usize].affinity }))
            .collect();
        g.bond_digest = g
            .bonds
            .iter()
            .zip(&g.history)
            .enumerate()
            .fold(0u64, |h, (e, (b, x))| h.wrapping_add(edge_digest(e, b, x)));
        g.sum_affinity = g.bonds.iter().map(|b| fixed(b.affinity)).sum();
        g.sum_trust = g.bonds.iter().map(|b| fixed(b.trust)).sum();
        let mut t = 0u64;
        for (slot, id) in g.slot_id.iter().enumerate() {
            t = crate::rng::mix64(t ^ ((id.0 as u64) << 32 | g.row(slot as u32).len() as u64));
            for e in g.row(slot as u32) {
                t = crate::rng::mix64(t ^ g.slot_id[g.edges[e].partner as usize].0 as u64);
            }
        }
        g.topology_digest = t;
        g
    }
}

fn appeal(b: &Bond, h: &EdgeHistory, compat: f32, back_affinity: f32) -> Appeal {
    Appeal {
        warmth: (crate::autonomy::warmth(b) + crate::autonomy::COMPAT_WARMTH * compat).max(0.01),
        hostility: crate::autonomy::hostility(b),
        allure: crate::autonomy::allure(b),
        guilt: h.guilt,
        affinity: b.affinity,
        back_affinity,
    }
}

/// What autonomy and witnesses need of an edge, cached densely so a scan of a row touches one array.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Appeal {
    /// Warmth toward the partner (friendly actions), see [`crate::autonomy::warmth`].
    pub warmth: f32,
    /// Hostility toward the partner (insult, avoid, threaten).
    pub hostility: f32,
    /// Romantic pull (flirt, confess).
    pub allure: f32,
    /// Guilt toward the partner (apologise).
    pub guilt: f32,
    /// The source's affinity toward the partner.
    pub affinity: f32,
    /// The partner's affinity toward the source (from the reverse edge; 0 when there is none).
    pub back_affinity: f32,
}

/// Fixed-point scale of the bond sums.
pub const FIXED_ONE: i64 = 1 << 32;

fn fixed(x: f32) -> i64 {
    (x as f64 * FIXED_ONE as f64) as i64
}

/// Digest of one edge's bond, keyed by its index: three independent multiply lanes and one final
/// mix, cheap enough to run twice per bond write.
fn edge_digest(e: usize, b: &Bond, h: &EdgeHistory) -> u64 {
    let bits = |x: f32| x.to_bits() as u64;
    let l0 = (bits(b.affinity) | bits(b.trust) << 32).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let l1 = (bits(b.respect) | bits(b.attraction) << 32).wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
    let l2 = (bits(b.familiarity) | (e as u64) << 32).wrapping_mul(0x1656_67b1_9e37_79f9);
    let flags = h.betrayals as u64
        | (h.knows_secret as u64) << 8
        | (h.allied as u64) << 9
        | (h.confided as u64) << 10
        | (h.declared as u64) << 11;
    let l3 = (bits(h.trust_peak) | bits(h.grudge) << 32).wrapping_mul(0xff51_afd7_ed55_8ccd);
    let l4 = (bits(h.guilt) | flags << 32).wrapping_mul(0xc4ce_b9fe_1a85_ec53) ^ h.last_tick;
    crate::rng::mix64(l0 ^ l1.rotate_left(21) ^ l2.rotate_left(42) ^ l3.rotate_left(11) ^ l4.rotate_left(53))
}

/// Slot distance within which a partner counts as near (its mood likely shares a cache page).
pub const NEAR_SLOTS: u32 = 1024;

/// Number of relationships whose ends land within [`NEAR_SLOTS`] of each other under `order`.
fn locality(order: &[u32], rels: &[EdgeInput], pos: &impl Fn(CharacterId) -> usize) -> usize {
    let mut slot = vec![0u32; order.len()];
    for (i, &p) in order.iter().enumerate() {
        slot[p as usize] = i as u32;
    }
    rels.iter().filter(|r| slot[pos(r.source)].abs_diff(slot[pos(r.target)]) <= NEAR_SLOTS).count()
}

/// BFS order over the undirected view of the graph, starting from the lowest unvisited id each time,
/// visiting partners in id order. Returns id-sorted positions in their new order.
fn locality_order(n: usize, rels: &[EdgeInput], pos: impl Fn(CharacterId) -> usize) -> Vec<u32> {
    let mut deg = vec![0u32; n + 1];
    for r in rels {
        deg[pos(r.source) + 1] += 1;
        deg[pos(r.target) + 1] += 1;
    }
    for i in 0..n {
        deg[i + 1] += deg[i];
    }
    let mut fill = deg.clone();
    let mut adj = vec![0u32; deg[n] as usize];
    for r in rels {
        let (s, t) = (pos(r.source), pos(r.target));
        adj[fill[s] as usize] = t as u32;
        fill[s] += 1;
        adj[fill[t] as usize] = s as u32;
        fill[t] += 1;
    }
    for i in 0..n {
        adj[deg[i] as usize..deg[i + 1] as usize].sort_unstable();
    }
    let mut seen = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut queue = VecDeque::new();
    for start in 0..n {
        if seen[start] {
            continue;
        }
        seen[start] = true;
        queue.push_back(start as u32);
        while let Some(v) = queue.pop_front() {
            order.push(v);
            for &w in &adj[deg[v as usize] as usize..deg[v as usize + 1] as usize] {
                if !seen[w as usize] {
                    seen[w as usize] = true;
                    queue.push_back(w);
                }
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ent(i: u32) -> Entity {
        Entity::from_raw_u32(i + 1).expect("nonzero index")
    }

    #[test]
    fn index_finds_every_relationship_and_its_reverse() {
        let chars: Vec<_> = (0..5).map(|i| (CharacterId(i), ent(i))).collect();
        let pairs = [(0, 1), (1, 0), (1, 2), (3, 4), (4, 3), (2, 0)];
        let rels: Vec<_> = pairs
            .iter()
            .enumerate()
            .map(|(k, &(s, t))| EdgeInput {
                source: CharacterId(s),
                target: CharacterId(t),
                entity: ent(100 + k as u32),
                bond: Bond { affinity: k as f32 / 10.0, ..Default::default() },
                history: EdgeHistory::default(),
            })
            .collect();
        let g = SocialGraph::build(&chars, &rels);
        assert_eq!(g.n_relationships(), pairs.len());
        for (k, &(s, t)) in pairs.iter().enumerate() {
            let e = g.edge(g.slot_of(CharacterId(s)).unwrap(), g.slot_of(CharacterId(t)).unwrap()).unwrap();
            assert_eq!(g.relationship[e], ent(100 + k as u32));
            assert_eq!(g.bonds()[e].affinity, k as f32 / 10.0);
            let has_reverse = pairs.contains(&(t, s));
            assert_eq!(g.reverse[e] != NONE, has_reverse);
        }
    }

    #[test]
    fn renumbering_is_independent_of_input_order() {
        let chars: Vec<_> = (0..6).map(|i| (CharacterId(i), ent(i))).collect();
        let mut rels: Vec<_> = [(0, 5), (5, 0), (5, 3), (3, 1), (1, 2), (2, 4)]
            .iter()
            .map(|&(s, t)| EdgeInput {
                source: CharacterId(s),
                target: CharacterId(t),
                entity: ent(50),
                bond: Bond::default(),
                history: EdgeHistory::default(),
            })
            .collect();
        let a = SocialGraph::build(&chars, &rels);
        rels.reverse();
        let mut rev_chars = chars.clone();
        rev_chars.reverse();
        let b = SocialGraph::build(&rev_chars, &rels);
        assert_eq!(a.slot_id, b.slot_id);
        assert_eq!(a.offsets, b.offsets);
    }
}
