//! `aion loadtest` end to end: the load tool starts its own server, follows a small session with
//! observers and directors, and writes a JSON report whose figures are consistent.

mod common;

use std::process::Command;

use serde_json::Value;

#[test]
fn a_small_load_test_sees_every_delta_in_order_and_reports_ordered_percentiles() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.json");
    let run = Command::new(common::aion_bin())
        .args(["loadtest", "--observers", "20", "--directors", "2", "--seconds", "3", "--warmup", "1"])
        .args(["--scenario", "harbor_town", "--json"])
        .arg(&out)
        .env_remove("RUST_LOG")
        .output()
        .expect("aion loadtest runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "aion loadtest failed:\n{stdout}\n{}", String::from_utf8_lossy(&run.stderr));
    assert!(stdout.contains("p99ms"), "the report is a table on stdout:\n{stdout}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&out).expect("the JSON report")).unwrap();
    let w = &report["windows"][0];
    assert_eq!(w["observers"], 20);
    assert_eq!(w["alive"], 20, "no observer was closed: {}", w["closed"]);
    let d = &w["deltas"];
    assert!(d["received"].as_u64().unwrap() > 0, "deltas arrived: {d}");
    assert_eq!(d["gaps"], 0, "{d}");
    assert_eq!(d["duplicates"], 0, "{d}");
    assert_eq!(d["resyncs"], 0, "{d}");
    let l = &w["delta_latency_ms"];
    let p = |k: &str| l[k].as_f64().unwrap();
    assert!(p("p50") <= p("p95") && p("p95") <= p("p99") && p("p99") <= p("max"), "{l}");
    let topics: Vec<&str> = w["topics"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(topics, ["feed", "graph", "metrics"], "every default topic delivered deltas");
    assert!(w["acks"]["count"].as_u64().unwrap() > 0, "directors' commands were acknowledged: {}", w["acks"]);
    let routes = w["api"]["routes"].as_object().unwrap();
    assert!(routes.contains_key("POST /sessions/{id}/commands"), "the API client posted commands: {routes:?}");
    assert!(w["ticks"].as_u64().unwrap() > 0, "the session ticked during the window");
}
