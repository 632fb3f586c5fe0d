//! The peer model: the small social model that Mesa and numpy/scipy also implement
//! (`shared/bench/peers/`), written as a fast Aion workload so `aion bench --workload peer` can
//! compare against them on one machine in one run.
//!
//! N agents sit on a uniform random graph of mean degree `degree`; every undirected tie has a weight
//! in [0, 1]. One tick:
//!
//! 1. **Contagion** (synchronous, double-buffered): `m_i' = (1 - DECAY) (m_i + ALPHA (mean_i - m_i))`
//!    where `mean_i` is the weighted mean of the neighbours' moods (`m_i` itself without neighbours).
//! 2. **Interaction**: every agent with a neighbour picks one at random (one draw, the key of the
//!    stream [`rng::stream_key`]`(seed, tick, agent, Purpose::Workload)`); the shared weight of that tie moves by
//!    `+WEIGHT_STEP` if the two new moods differ by less than [`SIMILAR_BELOW`], else by
//!    `-WEIGHT_STEP`, clamped to [0, 1]. A tie chosen from both ends moves twice.
//!
//! Data layout follows PERFORMANCE.md: a CSR with interleaved `(partner, weight)` entries, rows
//! summed sequentially and split across threads (rule 3), and a `mirror` index from every entry to
//! the entry of the same tie in the partner's row, so both directions are written together and stay
//! equal.
//!
//! **Architecture invariant:** results do not depend on the thread count. Contagion writes only the
//! agent's own slot. In the interaction phase every entry has exactly one writer, by the owner rule:
//! the tie `{i, j}` chosen by `i` alone is written by `i`, chosen by `j` alone by `j`, chosen by both
//! by the lower id (with both moves at once). The value written depends only on the weights and moods
//! from before the phase, so no write order can change it.

use std::sync::atomic::{AtomicU32, Ordering};

use rand::Rng;
use rayon::prelude::*;

use crate::graph::NONE;
use crate::rng::{self, Purpose, mix64};

/// Share of the gap to the neighbours' weighted mean a mood closes per tick.
pub const ALPHA: f32 = 0.1;
/// Share of its mood an agent loses per tick (pull toward 0).
pub const DECAY: f32 = 0.02;
/// How far one interaction moves a tie's weight.
pub const WEIGHT_STEP: f32 = 0.01;
/// Moods closer than this count as similar (the tie strengthens), otherwise it weakens.
pub const SIMILAR_BELOW: f32 = 0.5;
/// Moods smaller than this in magnitude are set to zero. Without neighbours pulling them apart,
/// moods decay geometrically toward 0 and would become subnormal floats after about 4,300 ticks,
/// which x86 processors handle some 100x slower (a long benchmark ran 5x slower); the flushed value
/// is off by less than this.
pub const MOOD_FLUSH_BELOW: f32 = 1e-30;
/// Most agents a model may have: ids and CSR offsets are `u32`, and `NONE` is reserved.
pub const AGENTS_MAX: usize = 1 << 30;
/// Agents per parallel task: big enough to amortise rayon's task cost, small enough to balance two
/// to a few dozen threads from 100k agents up.
const ROWS_PER_TASK: usize = 4096;
/// Random pairs drawn per generation task (each task has its own stream, so the graph does not
/// depend on how tasks are scheduled).
const PAIRS_PER_TASK: usize = 1 << 16;
/// Stream-id bit that separates graph-generation streams from per-agent streams.
const GRAPH_STREAM: u64 = 1 << 63;

/// One CSR entry: the partner and the tie's weight (`f32` bits).
///
/// The weight is an atomic so the interaction phase can write ties in other agents' rows from any
/// thread without `unsafe`; relaxed loads and stores compile to plain moves. Determinism does not
/// rest on the atomics but on the owner rule (module docs): every entry has one writer per phase.
#[derive(Debug)]
#[repr(C)]
struct Entry {
    partner: u32,
    weight: AtomicU32,
}

impl Entry {
    #[inline]
    fn weight(&self) -> f32 {
        f32::from_bits(self.weight.load(Ordering::Relaxed))
    }

    #[inline]
    fn set_weight(&self, w: f32) {
        self.weight.store(w.to_bits(), Ordering::Relaxed);
    }
}

/// The peer model: agents, moods and the weighted tie graph.
#[derive(Debug)]
pub struct PeerModel {
    /// Base seed of every stream.
    seed: u64,
    /// Ticks completed.
    tick: u64,
    /// Row starts; row `i` is `offsets[i]..offsets[i + 1]`.
    offsets: Vec<u32>,
    /// Interleaved partner and weight, rows sorted by partner.
    entries: Vec<Entry>,
    /// Index of the same tie's entry in the partner's row.
    mirror: Vec<u32>,
    /// Moods in [-1, 1] after the last tick.
    mood: Vec<f32>,
    /// Contagion output buffer (swapped with `mood`).
    next: Vec<f32>,
    /// The tie each agent chose to interact through this tick.
    choice: Vec<Pick>,
}

impl PeerModel {
    /// Builds `n` agents with moods uniform in [-1, 1) on a random graph of `n * degree / 2` uniform
    /// random pairs (self-pairs dropped, repeated pairs merged, as in the numpy peer), so the mean
    /// degree is just under `degree`; tie weights are uniform in [0, 1). A pure function of
    /// `(n, degree, seed)`; uses the current rayon pool.
    ///
    /// Panics if `n` exceeds [`AGENTS_MAX`] or the graph would need more than `u32::MAX` entries.
    pub fn new(n: usize, degree: u32, seed: u64) -> Self {
        assert!(n <= AGENTS_MAX, "{n} agents; the peer model holds at most {AGENTS_MAX}");
        let ties = random_ties(n, degree, seed);
        assert!(ties.len() * 2 < NONE as usize, "{} ties overflow u32 entry indices", ties.len());
        let (offsets, entries, mirror) = csr(n, &ties, seed);
        let mood = (0..n as u64)
            .into_par_iter()
            .map(|i| 2.0 * rng::unit_f32(&mut rng::stream(seed, 0, i, Purpose::Workload)) - 1.0)
            .collect();
        Self { seed, tick: 0, offsets, entries, mirror, mood, next: vec![0.0; n], choice: vec![Pick::NOBODY; n] }
    }

    /// Advances one tick. With `parallel`, rows are split across the current rayon pool (call it
    /// inside `ThreadPool::install` to choose the pool); the result is identical either way.
    pub fn step(&mut self, parallel: bool) {
        self.tick += 1;
        self.spread_and_choose(parallel);
        std::mem::swap(&mut self.mood, &mut self.next);
        self.interact(parallel);
    }

    /// Ticks completed.
    pub fn tick(&self) -> u64 {
        self.tick
    }

    /// Number of agents.
    pub fn n_agents(&self) -> usize {
        self.mood.len()
    }

    /// Number of directed entries (twice the number of ties).
    pub fn n_entries(&self) -> usize {
        self.entries.len()
    }

    /// Moods by agent id.
    pub fn moods(&self) -> &[f32] {
        &self.mood
    }

    /// Population variance of the moods.
    pub fn mood_variance(&self) -> f64 {
        let n = self.mood.len().max(1) as f64;
        let mean = self.mood.iter().map(|&m| m as f64).sum::<f64>() / n;
        self.mood.iter().map(|&m| (m as f64 - mean).powi(2)).sum::<f64>() / n
    }

    /// Weight of the tie between `a` and `b` as seen from `a`'s row, if they are tied.
    pub fn weight(&self, a: u32, b: u32) -> Option<f32> {
        let row = &self.entries[self.row(a as usize)];
        row.binary_search_by_key(&b, |e| e.partner).ok().map(|k| row[k].weight())
    }

    /// Digest of the tick, every mood and every weight (bit patterns, fixed order).
    pub fn checksum(&self) -> u64 {
        let moods = self.mood.iter().fold(mix64(self.tick), |h, m| mix64(h ^ u64::from(m.to_bits())));
        self.entries
            .iter()
            .fold(moods, |h, e| mix64(h ^ (u64::from(e.partner) << 32 | u64::from(e.weight.load(Ordering::Relaxed)))))
    }

    fn row(&self, i: usize) -> std::ops::Range<usize> {
        self.offsets[i] as usize..self.offsets[i + 1] as usize
    }

    /// Phase 1: new moods into `next` and each agent's interaction choice into `choice`. The choice
    /// needs no mood, so it is made while the agent's row is in cache anyway.
    fn spread_and_choose(&mut self, parallel: bool) {
        let (offsets, entries, mood) = (&self.offsets, &self.entries, &self.mood);
        let (seed, tick) = (self.seed, self.tick);
        let rows = |(chunk, (next, choice)): (usize, (&mut [f32], &mut [Pick]))| {
            let first = chunk * ROWS_PER_TASK;
            for (k, (out, pick)) in next.iter_mut().zip(choice.iter_mut()).enumerate() {
                let i = first + k;
                let (start, end) = (offsets[i], offsets[i + 1]);
                let m = mood[i];
                let mean = weighted_mean(&entries[start as usize..end as usize], mood).unwrap_or(m);
                let new = flush((1.0 - DECAY) * (m + ALPHA * (mean - m)));
                *out = new;
                *pick = if end > start {
                    let entry = start + below(draw(seed, tick, i), end - start);
                    let e = &entries[entry as usize];
                    Pick { entry, partner: e.partner, weight: e.weight(), mood: new }
                } else {
                    Pick::NOBODY
                };
            }
        };
        let (next, choice) = (&mut self.next, &mut self.choice);
        if parallel {
            next.par_chunks_mut(ROWS_PER_TASK).zip(choice.par_chunks_mut(ROWS_PER_TASK)).enumerate().for_each(rows);
        } else {
            next.chunks_mut(ROWS_PER_TASK).zip(choice.chunks_mut(ROWS_PER_TASK)).enumerate().for_each(rows);
        }
    }

    /// Phase 2: move the chosen ties' weights, each entry written by its single owner.
    fn interact(&self, parallel: bool) {
        let (entries, mirror, choice) = (&self.entries, &self.mirror, &self.choice);
        let agent = |i: usize| {
            let Pick { entry, partner: j, weight, mood } = choice[i];
            if entry == NONE {
                return;
            }
            let j = j as usize;
            let other = choice[j];
            let mutual = other.partner as usize == i;
            if mutual && j < i {
                return; // the lower id applies both moves
            }
            let step = if (mood - other.mood).abs() < SIMILAR_BELOW { WEIGHT_STEP } else { -WEIGHT_STEP };
            let moves = if mutual { 2.0 } else { 1.0 };
            let w = (weight + moves * step).clamp(0.0, 1.0);
            entries[entry as usize].set_weight(w);
            // The mirror is read here, in a tight loop with many agents in flight, rather than in
            // phase 1, where one miss per row stalled the long gather loop.
            entries[mirror[entry as usize] as usize].set_weight(w);
        };
        let n = self.mood.len();
        if parallel {
            (0..n).into_par_iter().with_min_len(ROWS_PER_TASK).for_each(agent);
        } else {
            (0..n).for_each(agent);
        }
    }
}

/// One agent's interaction choice in one tick, with what phase 2 needs from the agent's side:
/// recorded in phase 1, where it is in cache, so phase 2 reads one random cache line per partner.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Pick {
    /// The chosen entry in the agent's own row, or `NONE` for an agent without ties.
    entry: u32,
    /// Its partner.
    partner: u32,
    /// The tie's weight before the interaction phase (phase 1 writes no weights, and in phase 2
    /// only the entry's single owner writes it, after reading this).
    weight: f32,
    /// The agent's new mood.
    mood: f32,
}

impl Pick {
    /// No choice (an agent without ties).
    const NOBODY: Pick = Pick { entry: NONE, partner: NONE, weight: 0.0, mood: 0.0 };
}

/// A mood with magnitudes below [`MOOD_FLUSH_BELOW`] set to zero.
#[inline]
fn flush(m: f32) -> f32 {
    if m.abs() < MOOD_FLUSH_BELOW { 0.0 } else { m }
}

/// Weighted mean of the partners' moods over one row, `None` if the weights sum to zero. Four
/// partial sums break the floating-point add chain (the loop is otherwise bound by add latency,
/// not memory); their order is fixed, so the result is the same on any thread.
#[inline]
fn weighted_mean(row: &[Entry], mood: &[f32]) -> Option<f32> {
    let (mut sum, mut wsum) = ([0.0f32; 4], [0.0f32; 4]);
    let quads = row.chunks_exact(4);
    let rest = quads.remainder();
    for q in quads {
        for l in 0..4 {
            let w = q[l].weight();
            sum[l] += w * mood[q[l].partner as usize];
            wsum[l] += w;
        }
    }
    for (l, e) in rest.iter().enumerate() {
        let w = e.weight();
        sum[l] += w * mood[e.partner as usize];
        wsum[l] += w;
    }
    let wsum = (wsum[0] + wsum[1]) + (wsum[2] + wsum[3]);
    (wsum > 0.0).then(|| ((sum[0] + sum[1]) + (sum[2] + sum[3])) / wsum)
}

/// The random draw of one agent in one tick: the key of its stream
/// [`rng::stream`]`(seed, tick, agent, Purpose::Workload)`, a well-mixed 64-bit hash. One value is
/// all an agent needs, and seeding a `Pcg32` from the key costs more than the draw itself (15 ns
/// against 4 ns per agent and tick, measured), as much as the rest of the interaction phase.
#[inline]
fn draw(seed: u64, tick: u64, agent: usize) -> u64 {
    rng::stream_key(seed, tick, agent as u64, Purpose::Workload)
}

/// Uniform in `0..n` from a 64-bit draw (multiply-shift on its high 32 bits).
#[inline]
fn below(draw: u64, n: u32) -> u32 {
    (((draw >> 32) * u64::from(n)) >> 32) as u32
}

/// Undirected ties `lo << 32 | hi`, sorted and unique: `n * degree / 2` uniform random pairs drawn
/// in fixed-size tasks, each from its own stream, self-pairs dropped, repeats merged.
fn random_ties(n: usize, degree: u32, seed: u64) -> Vec<u64> {
    if n < 2 {
        return Vec::new();
    }
    let pairs = n * degree as usize / 2;
    let n32 = n as u32;
    let mut ties: Vec<u64> = (0..pairs.div_ceil(PAIRS_PER_TASK))
        .into_par_iter()
        .flat_map_iter(|task| {
            let mut rng = rng::stream(seed, 0, GRAPH_STREAM | task as u64, Purpose::Workload);
            let len = PAIRS_PER_TASK.min(pairs - task * PAIRS_PER_TASK);
            (0..len).filter_map(move |_| {
                let (a, b) = (below(rng.next_u64(), n32), below(rng.next_u64(), n32));
                (a != b).then(|| u64::from(a.min(b)) << 32 | u64::from(a.max(b)))
            })
        })
        .collect();
    ties.par_sort_unstable();
    ties.dedup();
    ties
}

/// The CSR of sorted unique ties: offsets, entries (weights derived from the tie and the seed, so
/// both directions start equal) and the mirror index.
fn csr(n: usize, ties: &[u64], seed: u64) -> (Vec<u32>, Vec<Entry>, Vec<u32>) {
    let mut offsets = vec![0u32; n + 1];
    for &t in ties {
        offsets[(t >> 32) as usize + 1] += 1;
        offsets[(t as u32) as usize + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut fill: Vec<u32> = offsets[..n].to_vec();
    let mut partner = vec![0u32; ties.len() * 2];
    let mut weight = vec![0.0f32; ties.len() * 2];
    let mut mirror = vec![0u32; ties.len() * 2];
    // Ties are sorted by (lo, hi): row `v` receives its lower partners (as `hi`) in ascending order
    // before its higher ones (as `lo`), so every row comes out sorted by partner.
    for &t in ties {
        let (lo, hi) = ((t >> 32) as usize, (t as u32) as usize);
        let w = (mix64(t ^ mix64(seed)) >> 40) as f32 * (1.0 / (1u32 << 24) as f32);
        let (a, b) = (fill[lo], fill[hi]);
        fill[lo] += 1;
        fill[hi] += 1;
        (partner[a as usize], weight[a as usize], mirror[a as usize]) = (hi as u32, w, b);
        (partner[b as usize], weight[b as usize], mirror[b as usize]) = (lo as u32, w, a);
    }
    let entries = partner
        .into_iter()
        .zip(weight)
        .map(|(p, w)| Entry { partner: p, weight: AtomicU32::new(w.to_bits()) })
        .collect();
    (offsets, entries, mirror)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_in_pool(threads: usize, n: usize, ticks: u32) -> (u64, Vec<u64>) {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool starts");
        pool.install(|| {
            let mut m = PeerModel::new(n, 20, 7);
            let mut sums = Vec::new();
            for _ in 0..ticks {
                m.step(threads > 1);
                sums.push(m.checksum());
            }
            (m.checksum(), sums)
        })
    }

    #[test]
    fn one_and_two_threads_give_identical_checksums() {
        // 20k agents span several tasks, so two threads really split the rows.
        let one = run_in_pool(1, 20_000, 15);
        let two = run_in_pool(2, 20_000, 15);
        assert_eq!(one, two);
        assert_ne!(one.1[0], one.1[1], "the state changes from tick to tick");
    }

    #[test]
    fn same_seed_same_model_other_seed_other_model() {
        assert_eq!(PeerModel::new(500, 20, 1).checksum(), PeerModel::new(500, 20, 1).checksum());
        assert_ne!(PeerModel::new(500, 20, 1).checksum(), PeerModel::new(500, 20, 2).checksum());
    }

    #[test]
    fn graph_is_symmetric_without_self_ties_and_near_the_mean_degree() {
        let m = PeerModel::new(2_000, 20, 3);
        let mean_degree = m.n_entries() as f64 / m.n_agents() as f64;
        assert!((19.0..=20.0).contains(&mean_degree), "{mean_degree}");
        for i in 0..m.n_agents() {
            for k in m.row(i) {
                let e = &m.entries[k];
                assert_ne!(e.partner as usize, i);
                assert_eq!(m.entries[m.mirror[k] as usize].partner as usize, i);
                assert_eq!(m.weight(e.partner, i as u32), Some(e.weight()));
            }
        }
    }

    #[test]
    fn moods_converge_and_weights_stay_symmetric_and_bounded() {
        let mut m = PeerModel::new(5_000, 20, 11);
        let before = m.mood_variance();
        for _ in 0..30 {
            m.step(false);
        }
        let after = m.mood_variance();
        assert!(after < 0.5 * before, "variance {before} -> {after}");
        for (k, e) in m.entries.iter().enumerate() {
            let w = e.weight();
            assert!((0.0..=1.0).contains(&w), "{w}");
            assert_eq!(w.to_bits(), m.entries[m.mirror[k] as usize].weight.load(Ordering::Relaxed));
        }
    }

    #[test]
    fn every_chosen_tie_moves_once_per_chooser_and_no_other_tie_moves() {
        let mut m = PeerModel::new(300, 20, 21);
        m.step(false);
        let before: Vec<f32> = m.entries.iter().map(Entry::weight).collect();
        m.step(false);
        let mut moved = 0;
        for i in 0..m.n_agents() {
            for k in m.row(i) {
                let j = m.entries[k].partner as usize;
                let choosers =
                    usize::from(m.choice[i].entry == k as u32) + usize::from(m.choice[j].entry == m.mirror[k]);
                let expected = if choosers == 0 {
                    before[k]
                } else {
                    moved += 1;
                    let similar = (m.mood[i] - m.mood[j]).abs() < SIMILAR_BELOW;
                    let step = if similar { WEIGHT_STEP } else { -WEIGHT_STEP };
                    (before[k] + choosers as f32 * step).clamp(0.0, 1.0)
                };
                assert_eq!(m.entries[k].weight(), expected, "tie {i}-{j}");
            }
        }
        assert!(moved > m.n_agents(), "each agent's tie moved in both rows ({moved})");
    }

    #[test]
    fn moods_never_become_subnormal() {
        let mut m = PeerModel::new(100, 20, 4);
        // 0.98^4700 is about 5e-42: without the flush, moods would be subnormal by now.
        for _ in 0..4_700 {
            m.step(false);
        }
        assert!(m.moods().iter().all(|x| *x == 0.0 || x.is_normal()), "{:?}", &m.moods()[..5]);
    }

    #[test]
    fn similar_moods_strengthen_ties() {
        // Two agents, one tie: both always choose it (mutual), and their moods stay close.
        let mut m = (0..)
            .map(|seed| PeerModel::new(2, 2, seed))
            .find(|m| m.n_entries() == 2)
            .expect("some seed draws the pair");
        let w0 = m.weight(0, 1).expect("the pair is tied");
        m.mood = vec![0.1, 0.2];
        m.step(false);
        assert!((m.weight(0, 1).unwrap() - (w0 + 2.0 * WEIGHT_STEP).min(1.0)).abs() < 1e-6);
        assert_eq!(m.weight(0, 1), m.weight(1, 0));
    }
}
