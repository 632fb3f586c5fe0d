//! `aion bench --workload contagion`: the Spread kernel alone ([`contagion::spread`]) against a plain
//! CSR weighted average ([`contagion::plain_csr_step`]) on the same graph, in the engine's locality
//! order and in a random order, with PERFORMANCE.md's traffic model: 8 bytes per relationship
//! (partner index + weight) and 12 bytes per character per step.

use aion_engine::Sim;
use aion_engine::contagion::{self, ContagionBuffers};
use aion_engine::exec::Parallelism;
use aion_engine::graph::SocialGraph;
use aion_engine::params::Params;
use aion_engine::rng::mix64;
use aion_engine::scenario::{self, Genre};
use aion_engine::world::WorldInfo;
use anyhow::{Context, Result};
use rayon::ThreadPool;
use serde::Serialize;

use super::{Budget, Setup, Table, num};
use crate::output;

/// Compulsory bytes per relationship per step: partner index (u32) + weight (f32).
const BYTES_PER_RELATIONSHIP: f64 = 8.0;
/// Compulsory bytes per character per step (PERFORMANCE.md's model).
const BYTES_PER_CHARACTER: f64 = 12.0;
/// Slot distance counted as near in [`Row::near_share`]: 1,024 slots of 16-byte send records span
/// 16 KiB, a third of a core's L1 data cache here.
const NEAR_SLOTS: i64 = 1024;

/// One (size, kernel, order, threads) measurement.
#[derive(Serialize, Debug)]
pub struct Row {
    characters: u32,
    relationships: usize,
    kernel: &'static str,
    order: &'static str,
    threads: usize,
    steps: u64,
    ms_per_step: f64,
    edges_per_s: f64,
    gb_per_s: f64,
    /// Time relative to the same kernel and threads in locality order (1 for that order itself).
    vs_locality: f64,
    /// Share of relationships whose partner's slot is within [`NEAR_SLOTS`] of its own: how local
    /// the order is.
    near_share: f64,
}

/// The inputs of one kernel run.
struct Case {
    order: &'static str,
    graph: SocialGraph,
    bufs: ContagionBuffers,
    /// The pleasure axis of every mood, the plain kernel's input.
    input: Vec<f32>,
    /// [`near_share`] of the graph.
    near_share: f64,
}

/// Times every size; prints the table as it goes.
pub fn bench(s: &Setup) -> Result<Vec<Row>> {
    say!("contagion kernel; traffic model {BYTES_PER_RELATIONSHIP} B/relationship + {BYTES_PER_CHARACTER} B/character");
    let bar = output::progress_bar(s.sizes.len() as u64, "sizes");
    let headers = [
        "characters",
        "relationships",
        "kernel",
        "order",
        "threads",
        "steps",
        "ms/step",
        "G edges/s",
        "GB/s",
        "vs locality",
        "near",
    ];
    let table = Table::new(&bar, &headers, 9);
    let pool = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .with_context(|| format!("cannot start {threads} worker thread(s)"))
    };
    let pools: Vec<(usize, ThreadPool)> =
        if s.threads > 1 { vec![(1, pool(1)?), (s.threads, pool(s.threads)?)] } else { vec![(1, pool(1)?)] };
    let mut rows = Vec::new();
    for &n in &s.sizes {
        bar.set_message(format!("{n} characters: building"));
        let (mut ordered, params) = build(s, n)?;
        let mut shuffled = permuted(&ordered, s.seed);
        bar.set_message(format!("{n} characters: timing"));
        let locality = time_case(s, &mut ordered, &params, &pools);
        let mut random = time_case(s, &mut shuffled, &params, &pools);
        for (r, base) in random.iter_mut().zip(&locality) {
            r.vs_locality = r.ms_per_step / base.ms_per_step;
        }
        for r in locality.iter().chain(&random) {
            let cells = vec![
                n.to_string(),
                r.relationships.to_string(),
                r.kernel.to_owned(),
                r.order.to_owned(),
                r.threads.to_string(),
                r.steps.to_string(),
                num(r.ms_per_step),
                num(r.edges_per_s / 1e9),
                num(r.gb_per_s),
                format!("{:.2}x", r.vs_locality),
                format!("{:.0}%", 100.0 * r.near_share),
            ];
            table.print(&bar, cells);
        }
        rows.extend(locality.into_iter().chain(random));
        bar.inc(1);
    }
    bar.finish_and_clear();
    say!(
        "locality: the engine's BFS renumbering; random: the same graph with characters randomly permuted. \
         Bandwidth for reference (PERFORMANCE.md, not measured in this run): ~40 GB/s with 1 thread, ~77 GB/s with 2."
    );
    Ok(rows)
}

/// Times the Spread kernel on every pool and the plain kernel on one thread.
fn time_case(s: &Setup, case: &mut Case, params: &Params, pools: &[(usize, ThreadPool)]) -> Vec<Row> {
    let n = case.bufs.out.len() as u32;
    let mut rows = Vec::new();
    for (threads, pool) in pools {
        let parallel = Parallelism { threads: *threads }.parallel(n as usize);
        let (steps, t) = pool
            .install(|| s.budget.warm_and_time(|| contagion::spread(&case.graph, &mut case.bufs, params, parallel)));
        rows.push(row(n, case, "spread", *threads, steps, t.as_secs_f64()));
    }
    let (steps, t) = plain(case, params.contagion_rate, s.budget);
    rows.push(row(n, case, "plain_csr", 1, steps, t));
    rows
}

fn row(n: u32, case: &Case, kernel: &'static str, threads: usize, steps: u64, secs: f64) -> Row {
    let edges = case.graph.edges.len();
    let per_step = secs / steps as f64;
    let bytes = BYTES_PER_RELATIONSHIP * edges as f64 + BYTES_PER_CHARACTER * f64::from(n);
    Row {
        characters: n,
        relationships: edges,
        kernel,
        order: case.order,
        threads,
        steps,
        ms_per_step: per_step * 1e3,
        edges_per_s: edges as f64 / per_step,
        gb_per_s: bytes / per_step / 1e9,
        vs_locality: 1.0,
        near_share: case.near_share,
    }
}

/// Share of CSR entries whose partner is within [`NEAR_SLOTS`] of the row.
fn near_share(g: &SocialGraph) -> f64 {
    let near = (0..g.n_characters())
        .flat_map(|s| g.edges[g.offsets[s] as usize..g.offsets[s + 1] as usize].iter().map(move |e| (s, e.partner)))
        .filter(|&(s, p)| (i64::from(p) - s as i64).abs() < NEAR_SLOTS)
        .count();
    near as f64 / g.edges.len().max(1) as f64
}

/// Times the plain kernel (single-threaded by its signature), ping-ponging two buffers.
fn plain(case: &Case, rate: f32, budget: Budget) -> (u64, f64) {
    let mut a = case.input.clone();
    let mut b = vec![0.0f32; a.len()];
    let (steps, t) = budget.warm_and_time(|| {
        contagion::plain_csr_step(&case.graph.offsets, &case.graph.edges, &a, &mut b, rate);
        std::mem::swap(&mut a, &mut b);
    });
    (steps, t.as_secs_f64())
}

/// A generated world's CSR and Spread buffers after one tick, in the engine's own (locality) order.
fn build(s: &Setup, n: u32) -> Result<(Case, Params)> {
    let world = scenario::generate(n, s.degree, 0.1, 0.35, s.seed);
    let info = WorldInfo { name: format!("bench-{n}"), seed: s.seed, genre: Genre::default() };
    let mut sim = Sim::from_seed(world, info, Params::default(), s.threads)
        .with_context(|| format!("cannot build a world of {n} characters"))?;
    sim.step(); // fills the Spread buffers
    let graph = sim.graph().clone();
    let b = sim.world().resource::<ContagionBuffers>();
    let bufs = ContagionBuffers { send: b.send.clone(), recv: b.recv.clone(), out: b.out.clone() };
    let input = bufs.recv.iter().map(|r| r.1.p).collect();
    let params = sim.world().resource::<Params>().clone();
    let near_share = near_share(&graph);
    Ok((Case { order: "locality", graph, bufs, input, near_share }, params))
}

/// The same case with characters randomly renumbered: row `perm[s]` is old row `s` with partners
/// renamed, each row sorted by partner again, and the buffers moved along.
fn permuted(c: &Case, seed: u64) -> Case {
    let n = c.bufs.out.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by_key(|&i| mix64(seed ^ mix64(u64::from(i))));
    // `order[new] = old`; `perm[old] = new`.
    let mut perm = vec![0u32; n];
    for (new, &old) in order.iter().enumerate() {
        perm[old as usize] = new as u32;
    }
    // Only the CSR (`offsets`, `edges`) is renumbered: it is all the kernels read. The rest of the
    // clone keeps the locality order and must not be used.
    let mut graph = c.graph.clone();
    graph.offsets = Vec::with_capacity(n + 1);
    graph.edges = Vec::with_capacity(c.graph.edges.len());
    graph.offsets.push(0);
    for &old in &order {
        let row = &c.graph.edges[c.graph.offsets[old as usize] as usize..c.graph.offsets[old as usize + 1] as usize];
        let start = graph.edges.len();
        graph.edges.extend(
            row.iter().map(|e| aion_engine::graph::Edge { partner: perm[e.partner as usize], weight: e.weight }),
        );
        graph.edges[start..].sort_unstable_by_key(|e| e.partner);
        graph.offsets.push(graph.edges.len() as u32);
    }
    let moved = |v: usize| order[v] as usize;
    let bufs = ContagionBuffers {
        send: (0..n).map(|v| c.bufs.send[moved(v)]).collect(),
        recv: (0..n).map(|v| c.bufs.recv[moved(v)]).collect(),
        out: c.bufs.out.clone(),
    };
    let input = (0..n).map(|v| c.input[moved(v)]).collect();
    Case { order: "random", near_share: near_share(&graph), graph, bufs, input }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aion_engine::graph::Edge;
    use aion_engine::mood::Pad;

    #[test]
    fn permuting_renames_partners_and_keeps_each_step_the_same() {
        let offsets = vec![0, 2, 3, 4];
        let edges =
            [(1, 0.5), (2, 1.0), (0, 0.25), (0, 1.0)].map(|(partner, weight)| Edge { partner, weight }).to_vec();
        let input = vec![0.1, -0.4, 0.9];
        let bufs = ContagionBuffers {
            send: vec![[0.0; 4]; 3],
            recv: vec![Default::default(); 3],
            out: vec![Pad::default(); 3],
        };
        let mut graph = SocialGraph::default();
        (graph.offsets, graph.edges) = (offsets, edges);
        let case = Case { order: "locality", graph, bufs, input, near_share: 0.0 };
        let p = permuted(&case, 9);
        let step = |c: &Case| {
            let mut out = vec![0.0; 3];
            contagion::plain_csr_step(&c.graph.offsets, &c.graph.edges, &c.input, &mut out, 0.5);
            out
        };
        let (a, b) = (step(&case), step(&p));
        for (old, x) in case.input.iter().enumerate() {
            // Inputs are distinct, so they identify where each character went.
            let new = p.input.iter().position(|y| y == x).unwrap();
            assert_eq!(a[old], b[new]);
        }
        assert_ne!(p.input, case.input, "this seed moves someone");
        assert_eq!(p.graph.edges.len(), case.graph.edges.len());
        for r in 0..3 {
            let row = &p.graph.edges[p.graph.offsets[r] as usize..p.graph.offsets[r + 1] as usize];
            assert!(row.windows(2).all(|w| w[0].partner < w[1].partner));
        }
    }
}
