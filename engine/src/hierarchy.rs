//! Status from respect flows: weighted PageRank over the respect graph (MECHANICS.md, "Groups,
//! conflicts, hierarchy": "Status: PageRank (damping 0.85) over the respect graph").
//!
//! Respect is given from `s` to `t`, so status flows along the edge to `t`: being respected by
//! well-respected people counts for more (Brin & Page 1998, "The anatomy of a large-scale hypertextual
//! Web search engine"; weighted transitions as in Xing & Ghorbani 2004, "Weighted PageRank
//! algorithm", here simply proportional to respect). Pure functions; the ECS side builds the respect
//! CSR, calls [`pagerank`] every K ticks, maps ranks to [`status_scores`] and reports
//! [`status_changes`].
//!
//! **Determinism.** The iteration pulls along the transposed graph ([`InIndex`], every in-row in
//! source-slot order; built per call by [`pagerank`], or kept by the caller across recomputations on
//! an unchanged topology). Each iteration computes a node's new rank as a sequential `f64` sum over
//! its in-edges, rows split into fixed chunks of [`ROWS_PER_TASK`] across threads (PERFORMANCE.md
//! rule 3); the global sums (dangling mass, residual, total) are per-chunk partial sums combined in
//! chunk order. The chunking never depends on the thread count, so `parallel` true and false give
//! bit-identical ranks.

use rayon::prelude::*;

/// PageRank damping: the probability the "random respecter" follows a respect edge rather than
/// jumping anywhere (Brin & Page's 0.85, as MECHANICS.md asks).
pub const DAMPING: f32 = 0.85;
/// A good default residual at which to stop. The residual is the L1 change of the rank vector and
/// the mean rank is `1/n`, so this is a mean relative change of 1e-5 per person per iteration: far
/// below any status difference that matters (status events fire at a few percent), and reached in
/// at most ~70 iterations at damping 0.85 (`0.85^k` decay), usually far fewer.
pub const TOLERANCE: f32 = 1e-5;
/// Most iterations per call, whatever `iterations_max` asks: power iteration converges at rate
/// `damping^k`, so 1,000 iterations reach any `f32` tolerance for damping up to 0.98; the cap bounds
/// the cost of one recomputation.
pub const ITERATIONS_MAX: usize = 1000;
/// Most nodes per graph: slots and CSR offsets are `u32`.
pub const NODES_MAX: usize = u32::MAX as usize;
/// Rank, as a multiple of the uniform share `1/n`, that maps to status +1; its inverse maps to -1.
/// It is `1 / (1 - DAMPING)`: the least rank PageRank gives anyone is `(1 - damping) / n` (nobody
/// respects them), so at the default damping the floor is exactly -1 and the scale is symmetric in log.
pub const STATUS_RATIO_MAX: f64 = 1.0 / (1.0 - DAMPING as f64);
/// Rows per chunk: the unit of parallel work and of the fixed-order reductions. Never depends on the
/// thread count, so results do not either.
pub const ROWS_PER_TASK: usize = 4096;

/// Below this many nodes the iteration stays on the calling thread even when `parallel` is asked:
/// waking workers costs more than the work (PERFORMANCE.md). Results are identical either way.
const PARALLEL_MIN: usize = 2 * ROWS_PER_TASK;

/// PageRank with its convergence record.
#[derive(Clone, Debug, PartialEq)]
pub struct PageRank {
    /// Rank per slot, summing to 1; positive whenever damping < 1.
    pub ranks: Vec<f32>,
    /// Iterations run.
    pub iterations: usize,
    /// L1 change of the rank vector in the last iteration (the stop criterion).
    pub residual: f32,
}

/// Weighted PageRank of every node of a directed CSR graph. See [`pagerank_with_stats`].
pub fn pagerank(
    offsets: &[u32],
    partners: &[u32],
    weights: &[f32],
    damping: f32,
    iterations_max: usize,
    tolerance: f32,
    parallel: bool,
) -> Vec<f32> {
    pagerank_with_stats(offsets, partners, weights, damping, iterations_max, tolerance, parallel).ranks
}

/// Weighted PageRank, with the number of iterations and the final residual.
///
/// Row `s` of the CSR (`partners[offsets[s]..offsets[s + 1]]`, `weights` alongside) lists the nodes
/// `s` respects. Node `s` passes its rank to its targets in proportion to the weights; only weights
/// `> 0` count (zero, negative and NaN edges pass nothing), and self-loops are ignored. A node that
/// respects nobody ("dangling") spreads its rank uniformly, the usual fix. Each iteration:
/// `r'(t) = (1 - d)/n + d * (sum over s -> t of r(s) w(s,t) / W(s) + D/n)`, with `W(s)` the out-weight
/// of `s` and `D` the dangling nodes' total rank. Starts from uniform ranks; stops when the L1 change
/// falls below `tolerance` or after `iterations_max` iterations (capped at [`ITERATIONS_MAX`]); ranks
/// are then normalised to sum 1. `damping` is clamped to [0, 1] (NaN means [`DAMPING`]).
///
/// With `parallel`, rows are split across the current rayon pool; the result is bit-identical either
/// way (module docs). Builds an [`InIndex`] each call (`O(E)`, sequential): a caller that recomputes
/// status on an unchanged topology should keep the index and call [`pagerank_indexed`], which can also
/// warm-start from the previous ranks.
pub fn pagerank_with_stats(
    offsets: &[u32],
    partners: &[u32],
    weights: &[f32],
    damping: f32,
    iterations_max: usize,
    tolerance: f32,
    parallel: bool,
) -> PageRank {
    let index = InIndex::new(offsets, partners);
    pagerank_indexed(&index, weights, None, damping, iterations_max, tolerance, parallel)
}

/// The respect graph's topology, transposed: for each target, the edges pointing at it (source slot
/// and the edge's index in the forward CSR), in source-slot order. Depends on the topology only, so
/// it survives respect changes; rebuild it when the graph is rebuilt.
#[derive(Clone, Debug, Default)]
pub struct InIndex {
    /// The forward CSR's row starts, kept to sum each row's out-weight.
    out_offsets: Vec<u32>,
    /// Row starts of the transposed CSR; length `n + 1`.
    in_offsets: Vec<u32>,
    /// Per in-edge: `(source slot, forward edge index)`.
    in_edges: Vec<(u32, u32)>,
    /// Forward edge indices of self-loops, sorted (usually empty): they pass no rank.
    loops: Vec<u32>,
}

impl InIndex {
    /// Transposes a directed CSR (`offsets` of length `n + 1`, `partners` the targets), leaving out
    /// self-loops. `O(E)`, sequential (a counting sort); the in-rows come out in source order.
    ///
    /// Panics if the graph has more than [`NODES_MAX`] nodes or `offsets` does not end at
    /// `partners.len()`.
    pub fn new(offsets: &[u32], partners: &[u32]) -> Self {
        let n = offsets.len().saturating_sub(1);
        assert!(n <= NODES_MAX, "{n} nodes; PageRank takes at most {NODES_MAX}");
        assert_eq!(offsets.last().map_or(0, |&o| o as usize), partners.len(), "offsets end at the edge count");
        let row = |s: usize| offsets[s] as usize..offsets[s + 1] as usize;
        let mut in_offsets = vec![0u32; n + 1];
        for s in 0..n {
            for &t in &partners[row(s)] {
                if t as usize != s {
                    in_offsets[t as usize + 1] += 1;
                }
            }
        }
        for t in 0..n {
            in_offsets[t + 1] += in_offsets[t];
        }
        let mut fill = in_offsets.clone();
        let mut in_edges = vec![(0u32, 0u32); in_offsets[n] as usize];
        let mut loops = Vec::new();
        for s in 0..n {
            for e in row(s) {
                let t = partners[e] as usize;
                if t == s {
                    loops.push(e as u32);
                } else {
                    in_edges[fill[t] as usize] = (s as u32, e as u32);
                    fill[t] += 1;
                }
            }
        }
        Self { out_offsets: offsets.to_vec(), in_offsets, in_edges, loops }
    }

    /// Number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.in_offsets.len().saturating_sub(1)
    }
}

/// Weighted PageRank over a prebuilt [`InIndex`] and this call's `weights` (one per forward edge, in
/// the CSR order the index was built from), optionally warm-started from earlier ranks.
///
/// Same model and guarantees as [`pagerank_with_stats`]. `start` (one rank per node, rescaled to a
/// sum of one) lets a periodic recomputation begin from the last result, which converges in a few
/// iterations when respect changed little; without it, or if it has the wrong length or a
/// non-positive sum, the iteration starts from uniform ranks. Per call: out-weights and in-edge shares (`O(E)`, parallel with
/// `parallel`), then `O(E)` per iteration.
pub fn pagerank_indexed(
    index: &InIndex,
    weights: &[f32],
    start: Option<&[f32]>,
    damping: f32,
    iterations_max: usize,
    tolerance: f32,
    parallel: bool,
) -> PageRank {
    let n = index.n_nodes();
    let n_edges = index.out_offsets.last().map_or(0, |&o| o as usize);
    assert_eq!(n_edges, weights.len(), "one weight per edge of the indexed graph");
    if n == 0 {
        return PageRank { ranks: Vec::new(), iterations: 0, residual: 0.0 };
    }
    let parallel = parallel && n >= PARALLEL_MIN;
    let d = if damping.is_nan() { DAMPING } else { damping.clamp(0.0, 1.0) } as f64;
    let g = Shares::new(index, weights, parallel);
    let uniform = 1.0 / n as f64;
    let mut rank = initial_ranks(start, n);
    let mut next = vec![0.0f64; n];
    let mut dangling_mass: f64 = rank.chunks(ROWS_PER_TASK).enumerate().map(|(c, r)| g.dangling_sum(c, r)).sum::<f64>();
    let (mut iterations, mut residual) = (0, f64::INFINITY);
    while iterations < iterations_max.min(ITERATIONS_MAX) && residual >= tolerance as f64 {
        let base = (1.0 - d) * uniform + d * dangling_mass * uniform;
        let sums = step(&g, &rank, &mut next, base, d, parallel);
        (dangling_mass, residual) = (sums.dangling, sums.delta);
        std::mem::swap(&mut rank, &mut next);
        iterations += 1;
    }
    let total: f64 = rank.chunks(ROWS_PER_TASK).map(|c| c.iter().sum::<f64>()).sum();
    let ranks = rank.iter().map(|&r| (r / total) as f32).collect();
    PageRank { ranks, iterations, residual: if iterations == 0 { 0.0 } else { residual as f32 } }
}

/// Status in [-1, 1] from ranks: `ln(r * n) / ln(STATUS_RATIO_MAX)`, clamped.
///
/// A log scale relative to the uniform share `1/n`, not a percentile: 0 is "as respected as the
/// average person", +1 is [`STATUS_RATIO_MAX`] (about 6.7) times that or more, and the least
/// respected (rank `(1 - d)/n`) sit at -1 for the default damping. Unlike percentiles it keeps an
/// egalitarian group at ~0 instead of stretching tiny rank differences over the whole range, and it
/// does not depend on how many people there are. Monotone non-decreasing in rank; non-positive or NaN
/// ranks map to -1. The ECS side uses it to shift dominance and to weight gossip.
pub fn status_scores(ranks: &[f32]) -> Vec<f32> {
    let n = ranks.len() as f64;
    let span = STATUS_RATIO_MAX.ln();
    ranks.iter().map(|&r| if r > 0.0 { ((r as f64 * n).ln() / span).clamp(-1.0, 1.0) as f32 } else { -1.0 }).collect()
}

/// Entries whose status moved by more than `threshold`: `(index, old, new)`, in index order, for
/// `StatusChanged` events.
///
/// `old` and `new` must be indexed alike (slots of one graph, or stable ids: slots are renumbered
/// when the graph is rebuilt). Entries beyond `old`'s length are newcomers, compared with a neutral
/// 0; entries beyond `new`'s length are gone and not reported. NaN never counts as a move.
pub fn status_changes(old: &[f32], new: &[f32], threshold: f32) -> Vec<(usize, f32, f32)> {
    new.iter()
        .enumerate()
        .map(|(i, &s)| (i, old.get(i).copied().unwrap_or(0.0), s))
        .filter(|&(_, before, after)| (after - before).abs() > threshold)
        .collect()
}

/// This call's transposed graph: per target, `(source, share)` with `share = w(s,t) / W(s)` (0 for
/// edges that pass nothing), and which nodes respect nobody.
struct Shares<'a> {
    offsets: &'a [u32],
    edges: Vec<(u32, f32)>,
    dangling: Vec<bool>,
}

impl<'a> Shares<'a> {
    fn new(index: &'a InIndex, weights: &[f32], parallel: bool) -> Self {
        let n = index.n_nodes();
        let passes =
            |e: usize| weights[e] > 0.0 && (index.loops.is_empty() || index.loops.binary_search(&(e as u32)).is_err());
        // Per source: 1 / out-weight (0 when it respects nobody), each row summed in row order.
        let inverse = |s: usize| {
            let row = index.out_offsets[s] as usize..index.out_offsets[s + 1] as usize;
            let w: f64 = row.filter(|&e| passes(e)).map(|e| weights[e].min(f32::MAX) as f64).sum();
            if w > 0.0 { 1.0 / w } else { 0.0 }
        };
        let inv_out: Vec<f64> = if parallel {
            (0..n).into_par_iter().with_min_len(ROWS_PER_TASK).map(inverse).collect()
        } else {
            (0..n).map(inverse).collect()
        };
        let share = |&(s, e): &(u32, u32)| {
            let w = weights[e as usize];
            (s, if w > 0.0 { (w.min(f32::MAX) as f64 * inv_out[s as usize]) as f32 } else { 0.0 })
        };
        let edges = if parallel {
            index.in_edges.par_iter().with_min_len(ROWS_PER_TASK).map(share).collect()
        } else {
            index.in_edges.iter().map(share).collect()
        };
        let dangling = inv_out.iter().map(|&x| x == 0.0).collect();
        Self { offsets: &index.in_offsets, edges, dangling }
    }

    /// Total rank of the dangling nodes among chunk `c`'s rows (`rank` is that chunk).
    fn dangling_sum(&self, c: usize, rank: &[f64]) -> f64 {
        let first = c * ROWS_PER_TASK;
        rank.iter().enumerate().filter(|&(i, _)| self.dangling[first + i]).map(|(_, &r)| r).sum()
    }
}

/// Starting ranks: `start` rescaled to sum 1 when usable, else uniform.
fn initial_ranks(start: Option<&[f32]>, n: usize) -> Vec<f64> {
    if let Some(r) = start.filter(|r| r.len() == n) {
        let total: f64 = r.chunks(ROWS_PER_TASK).map(|c| c.iter().map(|&x| x.max(0.0) as f64).sum::<f64>()).sum();
        if total > 0.0 && total.is_finite() {
            return r.iter().map(|&x| x.max(0.0) as f64 / total).collect();
        }
    }
    vec![1.0 / n as f64; n]
}

/// Global sums of one iteration, each combined over chunks in chunk order.
#[derive(Clone, Copy, Default)]
struct Sums {
    /// New rank of dangling nodes: next iteration's `D`.
    dangling: f64,
    /// L1 change.
    delta: f64,
}

/// One power-iteration step from `rank` into `next`.
fn step(g: &Shares, rank: &[f64], next: &mut [f64], base: f64, d: f64, parallel: bool) -> Sums {
    let chunk = |(c, out): (usize, &mut [f64])| {
        let mut sums = Sums::default();
        let first = c * ROWS_PER_TASK;
        for (i, slot) in out.iter_mut().enumerate() {
            let t = first + i;
            let mut acc = 0.0f64;
            for &(s, share) in &g.edges[g.offsets[t] as usize..g.offsets[t + 1] as usize] {
                acc += rank[s as usize] * share as f64;
            }
            let v = base + d * acc;
            *slot = v;
            sums.delta += (v - rank[t]).abs();
            if g.dangling[t] {
                sums.dangling += v;
            }
        }
        sums
    };
    let parts: Vec<Sums> = if parallel {
        next.par_chunks_mut(ROWS_PER_TASK).enumerate().map(chunk).collect()
    } else {
        next.chunks_mut(ROWS_PER_TASK).enumerate().map(chunk).collect()
    };
    parts.iter().fold(Sums::default(), |a, p| Sums { dangling: a.dangling + p.dangling, delta: a.delta + p.delta })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::mix64;
    use proptest::prelude::*;

    /// Directed CSR over `n` slots from `(source, target, weight)` edges.
    fn csr(n: usize, edges: &[(u32, u32, f32)]) -> (Vec<u32>, Vec<u32>, Vec<f32>) {
        let mut sorted = edges.to_vec();
        sorted.sort_by_key(|e| (e.0, e.1));
        let mut offsets = vec![0u32; n + 1];
        for e in &sorted {
            offsets[e.0 as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        (offsets, sorted.iter().map(|e| e.1).collect(), sorted.iter().map(|e| e.2).collect())
    }

    /// `n` nodes, each respecting `degree` pseudo-random others with weights in (0, 1]; every 10th
    /// node respects nobody (dangling).
    fn random_graph(n: u32, degree: u32, seed: u64) -> (Vec<u32>, Vec<u32>, Vec<f32>) {
        let mut edges = Vec::new();
        for s in (0..n).filter(|s| s % 10 != 3) {
            for k in 0..degree {
                let h = mix64(seed ^ (s as u64) << 32 ^ k as u64);
                // Skewed targets so ranks are far from uniform.
                let t = ((h % n as u64) * ((h >> 40) % n as u64) / n as u64) as u32;
                edges.push((s, t, ((h >> 20) & 0xff) as f32 / 255.0 + 0.01));
            }
        }
        csr(n as usize, &edges)
    }

    fn run(g: &(Vec<u32>, Vec<u32>, Vec<f32>), parallel: bool) -> PageRank {
        pagerank_with_stats(&g.0, &g.1, &g.2, DAMPING, 200, TOLERANCE, parallel)
    }

    fn total(ranks: &[f32]) -> f64 {
        ranks.iter().map(|&r| r as f64).sum()
    }

    #[test]
    fn the_centre_of_a_star_ranks_first() {
        let g = csr(6, &(1..6).map(|s| (s, 0, 1.0)).collect::<Vec<_>>());
        let ranks = pagerank(&g.0, &g.1, &g.2, DAMPING, 100, TOLERANCE, false);
        assert!(ranks[1..].iter().all(|&r| r < ranks[0]), "{ranks:?}");
        assert!(ranks[1..].iter().all(|&r| r == ranks[1]), "the leaves are symmetric");
        assert!((total(&ranks) - 1.0).abs() < 1e-6);
        let status = status_scores(&ranks);
        assert!(status[0] > 0.5 && status[1] < 0.0, "{status:?}");
    }

    #[test]
    fn status_flows_along_a_chain_and_weights_split_it() {
        // 0 -> 1 -> 2: respect given is status received, passed on.
        let chain = csr(3, &[(0, 1, 1.0), (1, 2, 1.0)]);
        let r = pagerank(&chain.0, &chain.1, &chain.2, DAMPING, 200, 1e-9, false);
        assert!(r[0] < r[1] && r[1] < r[2], "{r:?}");
        // 0 respects 1 three times as much as 2.
        let split = csr(3, &[(0, 1, 0.75), (0, 2, 0.25), (1, 0, 1.0), (2, 0, 1.0)]);
        let r = pagerank(&split.0, &split.1, &split.2, DAMPING, 200, 1e-9, false);
        assert!(r[1] > r[2], "{r:?}");
    }

    #[test]
    fn no_respect_means_equal_status() {
        let g = csr(4, &[(0, 1, 0.0), (1, 2, -1.0), (2, 2, 1.0), (3, 0, f32::NAN)]);
        let ranks = pagerank(&g.0, &g.1, &g.2, DAMPING, 50, TOLERANCE, false);
        assert_eq!(ranks, [0.25; 4]);
        assert_eq!(status_scores(&ranks), [0.0; 4]);
        assert!(pagerank(&[0], &[], &[], DAMPING, 50, TOLERANCE, true).is_empty());
        assert!(pagerank(&[], &[], &[], DAMPING, 50, TOLERANCE, true).is_empty());
    }

    #[test]
    fn parallel_equals_sequential_bit_for_bit() {
        let g = random_graph(20_000, 10, 7);
        let one = run(&g, false);
        let two = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap().install(|| run(&g, true));
        assert_eq!(one.iterations, two.iterations);
        assert!(one.ranks.iter().zip(&two.ranks).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert_eq!(one.residual.to_bits(), two.residual.to_bits());
    }

    #[test]
    fn converges_within_the_iteration_budget_on_a_random_graph() {
        let g = random_graph(5_000, 8, 3);
        let pr = run(&g, false);
        assert!(
            pr.iterations < 200 && pr.residual < TOLERANCE,
            "{} iterations, residual {}",
            pr.iterations,
            pr.residual
        );
        assert!((total(&pr.ranks) - 1.0).abs() < 1e-5);
        let (min, max) = pr.ranks.iter().fold((f32::MAX, 0.0f32), |(lo, hi), &r| (lo.min(r), hi.max(r)));
        assert!(min >= (1.0 - DAMPING) / 5_000.0 * 0.999 && max > 4.0 / 5_000.0, "{min} {max}");
        // More iterations do not move a converged answer by more than the tolerance.
        let more = pagerank_with_stats(&g.0, &g.1, &g.2, DAMPING, 1000, 1e-12, false);
        let l1: f64 = pr.ranks.iter().zip(&more.ranks).map(|(&a, &b)| (a as f64 - b as f64).abs()).sum();
        assert!(l1 < 1e-5, "{l1}");
        // An iteration cap is honoured.
        assert_eq!(pagerank_with_stats(&g.0, &g.1, &g.2, DAMPING, 3, 0.0, false).iterations, 3);
    }

    #[test]
    fn a_kept_index_and_a_warm_start_give_the_same_status_faster() {
        let g = random_graph(12_000, 8, 5);
        let index = InIndex::new(&g.0, &g.1);
        assert_eq!(index.n_nodes(), 12_000);
        let cold = pagerank_indexed(&index, &g.2, None, DAMPING, 200, 1e-7, true);
        assert_eq!(cold, pagerank_with_stats(&g.0, &g.1, &g.2, DAMPING, 200, 1e-7, true));
        // Respect shifts a little; the old ranks are a good start.
        let shifted: Vec<f32> = g.2.iter().enumerate().map(|(e, &w)| if e % 17 == 0 { w * 1.5 } else { w }).collect();
        let fresh = pagerank_indexed(&index, &shifted, None, DAMPING, 200, 1e-7, false);
        let warm = pagerank_indexed(&index, &shifted, Some(&cold.ranks), DAMPING, 200, 1e-7, false);
        assert!(warm.iterations < fresh.iterations, "{} vs {}", warm.iterations, fresh.iterations);
        let l1: f64 = warm.ranks.iter().zip(&fresh.ranks).map(|(&a, &b)| (a as f64 - b as f64).abs()).sum();
        assert!(l1 < 1e-5, "{l1}");
        // An unusable start falls back to uniform.
        let bad = pagerank_indexed(&index, &shifted, Some(&[0.0; 3]), DAMPING, 200, 1e-7, false);
        assert_eq!(bad, fresh);
    }

    #[test]
    fn status_changes_report_moves_beyond_the_threshold() {
        let old = [0.0, 0.5, -0.2];
        let new = [0.05, 0.1, -0.2, 0.3, 0.01];
        assert_eq!(status_changes(&old, &new, 0.1), [(1, 0.5, 0.1), (3, 0.0, 0.3)]);
        assert!(status_changes(&new, &old, 1.0).is_empty());
        assert!(status_changes(&[0.0], &[f32::NAN], 0.1).is_empty());
    }

    fn arb_graph() -> impl Strategy<Value = (usize, Vec<(u32, u32, f32)>)> {
        (1usize..60).prop_flat_map(|n| {
            let edge = (0..n as u32, 0..n as u32, prop_oneof![Just(1.0f32), 0.0f32..3.0, Just(-1.0f32)]);
            (Just(n), prop::collection::vec(edge, 0..n * 5))
        })
    }

    proptest! {
        #[test]
        fn ranks_are_positive_and_sum_to_one((n, edges) in arb_graph(), damping in 0.0f32..0.99) {
            let g = csr(n, &edges);
            let ranks = pagerank(&g.0, &g.1, &g.2, damping, ITERATIONS_MAX, 1e-7, false);
            prop_assert_eq!(ranks.len(), n);
            prop_assert!(ranks.iter().all(|&r| r > 0.0));
            prop_assert!((total(&ranks) - 1.0).abs() < 1e-5);
        }

        #[test]
        fn status_scores_are_monotone_in_rank(ranks in prop::collection::vec(0.0f32..0.1, 1..100)) {
            let status = status_scores(&ranks);
            let mut order: Vec<usize> = (0..ranks.len()).collect();
            order.sort_by(|&a, &b| ranks[a].total_cmp(&ranks[b]));
            for w in order.windows(2) {
                prop_assert!(status[w[0]] <= status[w[1]]);
            }
            prop_assert!(status.iter().all(|s| (-1.0..=1.0).contains(s)));
        }
    }

    /// 100k nodes in debug: the chunked parallel path at scale.
    #[test]
    fn a_hundred_thousand_nodes() {
        let g = random_graph(100_000, 5, 1);
        let pr = pagerank_with_stats(&g.0, &g.1, &g.2, DAMPING, 20, 0.0, true);
        assert_eq!(pr.iterations, 20);
        assert!((total(&pr.ranks) - 1.0).abs() < 1e-4);
    }
}
