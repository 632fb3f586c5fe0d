//! `aion bench --workload peer`: the peer model (`shared/bench/peers`) as an Aion workload, next to
//! the figures its Python and plain-Rust peers reached on a machine of this kind.

use std::time::Instant;

use aion_engine::exec::Parallelism;
use aion_engine::peer::PeerModel;
use anyhow::{Context, Result};
use serde::Serialize;

use super::{Setup, Table, num};
use crate::output;

/// Ticks/s of the peers at 1k / 10k / 100k / 1M agents, medians on a 2-core machine of this kind
/// (`shared/bench/peers/README.md`, `shared/PERFORMANCE.md`): `(agents, Mesa 3.3 idiomatic,
/// numpy/scipy, careful plain Rust)`. Not measured by this tool.
const REFERENCE: [(u32, Option<f64>, f64, f64); 4] = [
    (1_000, Some(172.0), 18_180.0, 76_900.0),
    (10_000, Some(6.75), 2_364.0, 5_465.0),
    (100_000, Some(0.256), 149.0, 420.0),
    (1_000_000, None, 9.5, 33.6),
];

/// One size's results.
#[derive(Serialize, Debug)]
pub struct Row {
    agents: u32,
    entries: usize,
    threads: usize,
    build_s: f64,
    ticks: u64,
    ticks_per_s: f64,
    ms_per_tick: f64,
    checksum: String,
    /// Reference ticks/s (not measured in this run), where the README has a figure for this size.
    mesa_reference: Option<f64>,
    numpy_reference: Option<f64>,
    plain_rust_reference: Option<f64>,
}

/// Times every size; prints the table as it goes.
pub fn bench(s: &Setup) -> Result<Vec<Row>> {
    say!("peer model (contagion + interaction, mean degree {}), {} thread(s)", s.degree, s.threads);
    let bar = output::progress_bar(s.sizes.len() as u64, "sizes");
    let headers = [
        "agents", "entries", "threads", "build s", "ticks", "ticks/s", "ms/tick", "Mesa*", "numpy*", "Rust*", "x Mesa",
        "x numpy",
    ];
    let table = Table::new(&bar, &headers, 7);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(s.threads)
        .build()
        .with_context(|| format!("cannot start {} worker thread(s)", s.threads))?;
    let mut rows = Vec::new();
    for &n in &s.sizes {
        bar.set_message(format!("{n} agents"));
        let row = pool.install(|| one(s, n));
        let opt = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), num);
        let ratio = |x: Option<f64>| x.map_or_else(|| "-".to_owned(), |r| format!("{}x", num(row.ticks_per_s / r)));
        table.print(
            &bar,
            vec![
                n.to_string(),
                row.entries.to_string(),
                row.threads.to_string(),
                format!("{:.2}", row.build_s),
                row.ticks.to_string(),
                num(row.ticks_per_s),
                num(row.ms_per_tick),
                opt(row.mesa_reference),
                opt(row.numpy_reference),
                opt(row.plain_rust_reference),
                ratio(row.mesa_reference),
                ratio(row.numpy_reference),
            ],
        );
        rows.push(row);
        bar.inc(1);
    }
    bar.finish_and_clear();
    say!(
        "* ticks/s: reference figures from shared/bench/peers, not measured in this run (Mesa 3.3 idiomatic, \
         numpy/scipy, careful plain Rust; 2-core machine of this kind)"
    );
    Ok(rows)
}

fn one(s: &Setup, n: u32) -> Row {
    let started = Instant::now();
    let mut model = PeerModel::new(n as usize, s.degree, s.seed);
    let build_s = started.elapsed().as_secs_f64();
    let parallel = Parallelism { threads: s.threads }.parallel(n as usize);
    let (ticks, elapsed) = s.budget.warm_and_time(|| model.step(parallel));
    let reference = REFERENCE.iter().find(|r| r.0 == n);
    Row {
        agents: n,
        entries: model.n_entries(),
        threads: s.threads,
        build_s,
        ticks,
        ticks_per_s: ticks as f64 / elapsed.as_secs_f64(),
        ms_per_tick: elapsed.as_secs_f64() * 1e3 / ticks as f64,
        checksum: output::hex(model.checksum()),
        mesa_reference: reference.and_then(|r| r.1),
        numpy_reference: reference.map(|r| r.2),
        plain_rust_reference: reference.map(|r| r.3),
    }
}
