//! Criterion benchmarks: the full tick at 1k and 10k characters, and the contagion stage against a
//! plain CSR loop over the same data (the practical limit it is compared with).

use std::hint::black_box;

use aion_engine::Sim;
use aion_engine::contagion::{self, ContagionBuffers, Receiver};
use aion_engine::mood::Pad;
use aion_engine::params::Params;
use aion_engine::scenario::{self, Genre};
use aion_engine::world::WorldInfo;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const DEGREE: u32 = 20;

fn world(n: u32, threads: usize) -> Sim {
    let ws = scenario::generate(n, DEGREE, 0.1, 0.35, 1);
    let info = WorldInfo { name: "bench".into(), seed: 1, genre: Genre::Drama };
    let mut sim = Sim::from_seed(ws, info, Params::default(), threads).expect("bench world builds");
    for _ in 0..5 {
        sim.step();
    }
    sim
}

fn full_tick(c: &mut Criterion) {
    let mut g = c.benchmark_group("tick");
    for n in [1_000u32, 10_000] {
        for threads in [1usize, 2] {
            let mut sim = world(n, threads);
            g.throughput(Throughput::Elements(n as u64));
            g.bench_with_input(BenchmarkId::new(format!("{threads}t"), n), &n, |b, _| b.iter(|| sim.step()));
        }
    }
    g.finish();
}

fn contagion_stage(c: &mut Criterion) {
    let mut g = c.benchmark_group("contagion");
    for n in [10_000u32, 100_000] {
        let sim = world(n, 1);
        let graph = sim.graph();
        let n = graph.n_characters();
        let mut bufs = ContagionBuffers {
            send: (0..n).map(|i| [0.5, 0.4, 0.6, 0.3 + (i % 7) as f32 / 10.0]).collect(),
            recv: (0..n)
                .map(|i| (Receiver { susceptibility: 0.6, bias: 0.5 }, Pad::new(0.1 * (i % 5) as f32, 0.0, 0.0)))
                .collect(),
            out: vec![Pad::default(); n],
        };
        let params = Params { contagion_threshold: 0.0, ..Params::default() };
        g.throughput(Throughput::Elements(graph.n_relationships() as u64));
        g.bench_with_input(BenchmarkId::new("ascribe", n), &n, |b, _| {
            b.iter(|| contagion::spread(graph, black_box(&mut bufs), &params, false))
        });
        let input: Vec<f32> = (0..n).map(|i| (i % 11) as f32 / 11.0).collect();
        let mut out = vec![0.0f32; n];
        g.bench_with_input(BenchmarkId::new("plain_csr", n), &n, |b, _| {
            b.iter(|| contagion::plain_csr_step(&graph.offsets, &graph.edges, black_box(&input), &mut out, 0.1))
        });
    }
    g.finish();
}

criterion_group!(benches, full_tick, contagion_stage);
criterion_main!(benches);
