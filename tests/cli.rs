//! End-to-end tests of the `aion` binary: the files `aion run` writes, determinism across runs,
//! thread counts and snapshot resumption, error reporting, `aion check` and `aion bench`.
//!
//! How the tests find the binary: see `common::aion_bin`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `aion` binary, built on first use.
fn aion() -> Command {
    let mut cmd = Command::new(common::aion_bin());
    cmd.env_remove("RUST_LOG");
    cmd
}

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)
}

/// Runs `aion` with `args`, asserting success; returns stdout.
fn ok(args: &[&str]) -> String {
    let out = aion().args(args).output().expect("aion starts");
    assert!(
        out.status.success(),
        "aion {args:?} failed ({:?}):\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("stdout is UTF-8")
}

/// Runs `aion` with `args`, asserting a clean failure: a non-zero exit that is not a panic (101).
fn fails(args: &[&str]) -> Output {
    let out = aion().args(args).output().expect("aion starts");
    let code = out.status.code();
    assert!(code.is_some_and(|c| c != 0 && c != 101), "aion {args:?} should fail cleanly, got {code:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "aion {args:?} panicked:\n{stderr}");
    out
}

/// `aion run SCENARIO --ticks N --out DIR [extra]`; returns the hash of the last stdout line.
fn run(scenario_file: &str, ticks: u32, out: &Path, extra: &[&str]) -> String {
    let path = scenario(scenario_file);
    let ticks = ticks.to_string();
    let mut args = vec!["run", path.to_str().unwrap(), "--ticks", &ticks, "--out", out.to_str().unwrap()];
    args.extend(extra);
    last_hash(&ok(&args))
}

/// The hash in the last stdout line, which must be exactly `world hash: <16 hex digits>`.
fn last_hash(stdout: &str) -> String {
    let last = stdout.lines().last().unwrap_or_default();
    let hash = last.strip_prefix("world hash: ").unwrap_or_else(|| panic!("last line: {last:?}"));
    assert!(hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{last:?}");
    hash.to_owned()
}

fn read(path: impl AsRef<Path>) -> String {
    let path = path.as_ref();
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Events of a `events.jsonl` after `tick`, as lines.
fn events_after(events: &str, tick: u64) -> Vec<&str> {
    events
        .lines()
        .filter(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["tick"].as_u64().unwrap() > tick)
        .collect()
}

#[test]
fn run_writes_every_file_and_ends_with_the_world_hash() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("harbor");
    let hash = run("harbor_town.toml", 50, &out, &["--snapshot-every", "20"]);
    let metrics = read(out.join("metrics.csv"));
    let rows: Vec<&str> = metrics.lines().collect();
    assert_eq!(
        rows[0],
        "tick,interactions,mean_pleasure,mean_arousal,mean_dominance,mean_affinity,mean_trust,events,world_hash"
    );
    assert_eq!(rows.len(), 1 + 50, "one row per tick");
    assert!(rows[50].starts_with("50,"));
    assert_eq!(rows[50].rsplit(',').next(), Some(hash.as_str()), "stdout hash = last metrics row's");

    let events = read(out.join("events.jsonl"));
    let parsed: Vec<serde_json::Value> = events.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(parsed[0]["kind"]["world_started"].is_object());
    let talk = parsed.iter().find(|e| e["kind"]["interaction_resolved"].is_object()).expect("people talk");
    assert!(talk["text"].as_str().is_some_and(|t| t.contains('"')), "{talk}");
    let per_tick: u64 = rows[1..].iter().map(|r| r.split(',').nth(7).unwrap().parse::<u64>().unwrap()).sum();
    assert_eq!(parsed.len() as u64, per_tick + 1, "every event logged (world_started + per-tick counts)");

    let summary: serde_json::Value = serde_json::from_str(&read(out.join("summary.json"))).unwrap();
    assert_eq!(summary["end_tick"], 50);
    assert_eq!(summary["world_hash"], hash.as_str());
    assert_eq!(summary["events"], parsed.len() as u64);
    assert!(std::fs::metadata(out.join("final.snapshot")).unwrap().len() > 0);
    for t in [20, 40] {
        assert!(out.join(format!("snapshots/tick-{t}.snapshot")).is_file());
    }
}

#[test]
fn same_seed_same_run_other_seed_other_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b, c) = (tmp.path().join("a"), tmp.path().join("b"), tmp.path().join("c"));
    let ha = run("manor_mystery.toml", 40, &a, &["--seed", "7"]);
    let hb = run("manor_mystery.toml", 40, &b, &["--seed", "7"]);
    let hc = run("manor_mystery.toml", 40, &c, &["--seed", "8"]);
    assert_eq!(ha, hb);
    assert_eq!(read(a.join("events.jsonl")), read(b.join("events.jsonl")));
    assert_eq!(read(a.join("metrics.csv")), read(b.join("metrics.csv")));
    assert_ne!(ha, hc, "the seed matters");
}

#[test]
fn one_and_two_threads_give_identical_runs() {
    // 10k characters: above the engine's parallel threshold, so two threads really split the work.
    let tmp = tempfile::tempdir().unwrap();
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    let h1 = run("crowd_10k.toml", 8, &one, &["--threads", "1"]);
    let h2 = run("crowd_10k.toml", 8, &two, &["--threads", "2"]);
    assert_eq!(h1, h2);
    assert_eq!(read(one.join("metrics.csv")), read(two.join("metrics.csv")));
    assert_eq!(read(one.join("events.jsonl")), read(two.join("events.jsonl")));
}

#[test]
fn resuming_a_snapshot_continues_the_same_history() {
    let tmp = tempfile::tempdir().unwrap();
    let (full, first, second) = (tmp.path().join("full"), tmp.path().join("first"), tmp.path().join("second"));
    let whole = run("harbor_town.toml", 60, &full, &[]);
    run("harbor_town.toml", 30, &first, &[]);
    let snap = first.join("final.snapshot");
    let resumed = last_hash(&ok(&[
        "run",
        "--from-snapshot",
        snap.to_str().unwrap(),
        "--ticks",
        "30",
        "--out",
        second.to_str().unwrap(),
    ]));
    assert_eq!(whole, resumed);
    let (all, rest) = (read(full.join("events.jsonl")), read(second.join("events.jsonl")));
    assert!(!rest.is_empty());
    assert_eq!(events_after(&all, 30), rest.lines().collect::<Vec<_>>());
    let tail: Vec<String> = read(full.join("metrics.csv")).lines().skip(31).map(str::to_owned).collect();
    let again: Vec<String> = read(second.join("metrics.csv")).lines().skip(1).map(str::to_owned).collect();
    assert_eq!(tail, again);
}

#[test]
fn invalid_scenarios_name_file_line_and_key() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.toml");
    let text = "format = \"aion.scenario/1\"\n\
                [world]\n\
                name = \"Bad\"\n\
                seed = 1\n\
                [[character]]\n\
                id = \"ann\"\n\
                personality = { openness = 5.0 }\n";
    std::fs::write(&bad, text).unwrap();
    let out = fails(&["run", bad.to_str().unwrap(), "--ticks", "5", "--out", tmp.path().join("o").to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.toml:7:"), "file and line:\n{stderr}");
    assert!(stderr.contains("openness"), "key:\n{stderr}");

    let out = fails(&["check", bad.to_str().unwrap(), scenario("harbor_town.toml").to_str().unwrap()]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("ok: ") && stdout.contains("harbor_town.toml"), "{stdout}");
    assert!(stderr.contains("bad.toml:7:") && stderr.contains("openness"), "{stderr}");

    let missing = tmp.path().join("missing.toml");
    let out = fails(&["run", missing.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing.toml"));
}

#[test]
fn damaged_snapshots_are_refused_with_a_message() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    run("harbor_town.toml", 5, &out, &[]);
    let bytes = std::fs::read(out.join("final.snapshot")).unwrap();
    let cut = tmp.path().join("cut.snapshot");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let again = tmp.path().join("again");
    let out = fails(&["run", "--from-snapshot", cut.to_str().unwrap(), "--out", again.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cut.snapshot") && stderr.contains("truncated"), "{stderr}");
    assert!(!again.join("events.jsonl").exists(), "nothing is written for a refused snapshot");
}

#[test]
fn unwritable_output_directories_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    let out = fails(&["run", scenario("harbor_town.toml").to_str().unwrap(), "--out", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not-a-dir"));
}

#[test]
fn check_accepts_every_shipped_scenario() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(scenario(""))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let mut args = vec!["check"];
    args.extend(files.iter().map(|p| p.to_str().unwrap()));
    let stdout = ok(&args);
    assert_eq!(stdout.lines().filter(|l| l.starts_with("ok: ")).count(), files.len(), "{stdout}");
    assert!(stdout.contains("relationships after expansion"));
}

#[test]
fn bench_prints_its_tables() {
    let stdout = ok(&["bench", "--characters", "1000", "--ticks", "5"]);
    let header = stdout.lines().find(|l| l.trim_start().starts_with("characters")).expect("a header");
    for column in ["relationships", "threads", "ticks/s", "ms/tick", "needs", "spread", "measure", "B/char"] {
        assert!(header.contains(column), "{column} in {header}");
    }
    assert!(stdout.lines().any(|l| l.trim_start().starts_with("1000 ")), "{stdout}");

    let tmp = tempfile::tempdir().unwrap();
    let json = tmp.path().join("peer.json");
    let stdout =
        ok(&["bench", "--workload", "peer", "--characters", "1000", "--ticks", "5", "--json", json.to_str().unwrap()]);
    assert!(stdout.contains("not measured in this run"), "{stdout}");
    let doc: serde_json::Value = serde_json::from_str(&read(&json)).unwrap();
    assert_eq!(doc["rows"][0]["agents"], 1000);

    let stdout = ok(&["bench", "--workload", "contagion", "--characters", "1000", "--ticks", "3"]);
    assert!(stdout.contains("plain_csr") && stdout.contains("random"), "{stdout}");
}

#[test]
fn run_writes_a_chronicle_and_stories_lists_and_filters_them() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("wedding");
    run("summer_wedding.toml", 600, &out, &[]);
    let chronicle = read(out.join("chronicle.md"));
    assert!(chronicle.starts_with("# Chronicle of "), "{chronicle}");
    assert!(chronicle.contains("## romance"), "no romance in the wedding's chronicle:\n{chronicle}");
    let doc: serde_json::Value = serde_json::from_str(&read(out.join("stories.json"))).unwrap();
    let arcs = doc["arcs"].as_array().expect("arcs");
    assert!(!arcs.is_empty());
    // Every beat cites an event that is in events.jsonl with the same tick.
    let events = read(out.join("events.jsonl"));
    let ticks: std::collections::BTreeMap<u64, u64> = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .map(|e| (e["seq"].as_u64().unwrap(), e["tick"].as_u64().unwrap()))
        .collect();
    for a in arcs {
        for b in a["beats"].as_array().unwrap() {
            assert_eq!(ticks.get(&b["seq"].as_u64().unwrap()), Some(&b["tick"].as_u64().unwrap()), "{b}");
        }
    }
    let all = ok(&["stories", out.to_str().unwrap()]);
    let romance = ok(&["stories", out.to_str().unwrap(), "--kind", "romance"]);
    assert!(romance.lines().count() < all.lines().count() || arcs.iter().all(|a| a["kind"] == "romance"));
    assert!(romance.lines().skip(1).all(|l| l.contains("romance")), "{romance}");
    let none = ok(&["stories", out.to_str().unwrap(), "--kind", "no-such-kind"]);
    assert!(none.starts_with(&format!("{}: 0 of", doc["world"].as_str().unwrap())), "{none}");
    fails(&["stories", tmp.path().join("missing").to_str().unwrap()]);
    fails(&["stories", out.to_str().unwrap(), "--character", "nobody"]);
}

#[test]
fn inputs_replay_and_forks() {
    let tmp = tempfile::tempdir().unwrap();
    let p = |name: &str| tmp.path().join(name).to_str().unwrap().to_owned();
    // A plain run to tick 20, then a continuation with an input log.
    run("harbor_town.toml", 20, &tmp.path().join("a"), &[]);
    let snap = p("a/final.snapshot");
    std::fs::write(
        p("inputs.jsonl"),
        concat!(
            r#"{"tick": 25, "command": {"set_genre": {"genre": "mystery"}}}"#,
            "\n",
            r#"{"tick": 30, "command": {"set_mood": {"character": 3, "mood": {"p": -0.9, "a": 0.9, "d": -0.9}}}}"#,
            "\n"
        ),
    )
    .unwrap();
    let b = ok(&["run", "--from-snapshot", &snap, "--ticks", "20", "--inputs", &p("inputs.jsonl"), "--out", &p("b")]);
    let hash = last_hash(&b);
    assert_eq!(read(p("b/inputs.jsonl")).lines().count(), 2);
    assert!(read(p("b/events.jsonl")).contains("genre_changed"));

    // Replaying the snapshot with the log reproduces every hash of the continuation.
    let stdout = ok(&["replay", &snap, &p("b/inputs.jsonl"), "--expect", &p("b/metrics.csv")]);
    assert!(stdout.contains("20 hash(es) matched"), "{stdout}");
    assert_eq!(last_hash(&stdout), hash);
    // Without the inputs the replay diverges, and says where.
    std::fs::write(p("empty.jsonl"), "").unwrap();
    let err = fails(&["replay", &snap, &p("empty.jsonl"), "--expect", &p("b/metrics.csv")]);
    let stderr = String::from_utf8_lossy(&err.stderr);
    assert!(stderr.contains("diverged at tick 25"), "{stderr}");
    // A malformed input line is reported with its line number.
    std::fs::write(p("bad.jsonl"), "{\"tick\": 50, \"command\": {\"set_genre\": {\"genre\": \"western\"}}}\n").unwrap();
    let err = fails(&["run", "--from-snapshot", &snap, "--ticks", "1", "--inputs", &p("bad.jsonl"), "--out", &p("x")]);
    let stderr = String::from_utf8_lossy(&err.stderr);
    assert!(stderr.contains("bad.jsonl:1"), "{stderr}");

    // A fork with the run's own seed continues it exactly; another seed diverges.
    let cont = last_hash(&ok(&["run", "--from-snapshot", &snap, "--ticks", "10", "--out", &p("c")]));
    let summary: serde_json::Value = serde_json::from_str(&read(p("a/summary.json"))).unwrap();
    let own = summary["seed"].as_u64().unwrap().to_string();
    let same = last_hash(&ok(&["fork", &snap, "--seed", &own, "--ticks", "10", "--out", &p("s")]));
    let other = last_hash(&ok(&["fork", &snap, "--seed", "424242", "--ticks", "10", "--out", &p("o")]));
    assert_eq!(same, cont);
    assert_ne!(other, cont);

    // diff names the first tick where the branches part and what differs at the end.
    let report = ok(&["diff", &p("c"), &p("o")]);
    assert!(report.contains("hashes first differ at tick 21"), "{report}");
    assert!(
        report.contains("bonds:") && report.contains("alliances:") && report.contains("stories by kind"),
        "{report}"
    );
    let same_report = ok(&["diff", &p("c"), &p("s")]);
    assert!(same_report.contains("hashes agree on every tick") && same_report.contains("moods: 0 of"), "{same_report}");
}

#[test]
fn sweeps_write_one_row_per_run_and_bad_experiments_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let sc = tmp.path().join("sweep.toml");
    std::fs::write(
        &sc,
        "format = \"aion.scenario/1\"\n[world]\nname = \"sweep\"\nseed = 3\n[population]\ncount = 60\ndegree = 4\n\
         [experiment]\nrepetitions = 2\nticks = 20\n\
         vary = { contagion_rate = [0.0, 0.2], capacity_per_tick = { first = 1, step = 1, last = 2 } }\n\
         metrics = [\"interactions\", \"mean_affinity\"]\n",
    )
    .unwrap();
    let csv = tmp.path().join("a.csv");
    ok(&["sweep", sc.to_str().unwrap(), "--out", csv.to_str().unwrap()]);
    let text = read(&csv);
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(
        rows[0],
        "run,combination,repetition,seed,contagion_rate,capacity_per_tick,interactions,mean_affinity,world_hash"
    );
    assert_eq!(rows.len(), 1 + 2 * 2 * 2, "{text}");
    // Repetitions get their own seeds; the same sweep gives the same table.
    assert_ne!(rows[1].split(',').nth(3), rows[2].split(',').nth(3));
    let again = tmp.path().join("b.csv");
    ok(&["sweep", sc.to_str().unwrap(), "--out", again.to_str().unwrap()]);
    assert_eq!(read(&again), text);
    // Capacity 1 allows fewer interactions than capacity 2 (same seeds, same contagion rate).
    let interactions = |row: &str| row.split(',').nth(6).unwrap().parse::<u32>().unwrap();
    assert!(interactions(rows[1]) < interactions(rows[3]), "{text}");

    let bad = tmp.path().join("bad.toml");
    std::fs::write(
        &bad,
        "format = \"aion.scenario/1\"\n[world]\nname = \"bad\"\n[experiment]\nvary = { nope = [1, 2] }\nmetrics = [\"joy\"]\n",
    )
    .unwrap();
    let err = fails(&["sweep", bad.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&err.stderr);
    assert!(stderr.contains("bad.toml:5") && stderr.contains("experiment.vary.nope"), "{stderr}");
    assert!(stderr.contains("bad.toml:6") && stderr.contains("experiment.metrics[0]"), "{stderr}");
    let none = fails(&["sweep", scenario("harbor_town.toml").to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&none.stderr).contains("no [experiment]"));
}
