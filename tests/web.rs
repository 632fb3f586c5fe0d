//! The observatory page end to end: a real `aion serve` on loopback, Debian's Chromium driven by
//! Playwright (`web/e2e/observatory.spec.mjs`, run with `node`). The script signs a director and
//! an observer up in the page, watches live interactions and the graph, checks that the observer
//! has no controls, and has the director pause, narrate, inject an insult and step, with the
//! effect in both feeds. Screenshots go to `<target dir>/e2e-artifacts/`.
//!
//! From a fresh clone: `npm ci` in `web/` when its `node_modules` is missing, and
//! `web/e2e/install-chromium.sh` when Chromium is missing; without Chromium (not root, no apt) or
//! without Node.js 20+ the test says "skipped: ..." and passes.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::live::Server;

/// The browser the script drives.
const CHROMIUM: &str = "/usr/bin/chromium";
/// Longest the browser script may run.
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(240);

fn web_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("web")
}

/// `<target dir>/e2e-artifacts`, next to `debug/` (this test runs from `<target>/debug/deps/`).
fn artifacts_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let target = exe.ancestors().nth(3).map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("target"));
    target.join("e2e-artifacts")
}

/// Node's major version, if `node` runs.
fn node_major() -> Option<u32> {
    let out = Command::new("node").arg("--version").output().ok()?;
    let v = String::from_utf8_lossy(&out.stdout);
    v.trim().trim_start_matches('v').split('.').next()?.parse().ok()
}

/// Chromium's path (`AION_CHROMIUM` overrides), installing it with the project's script if needed.
fn chromium() -> Option<PathBuf> {
    let path = PathBuf::from(std::env::var("AION_CHROMIUM").unwrap_or_else(|_| CHROMIUM.to_owned()));
    if path.exists() {
        return Some(path);
    }
    let script = web_dir().join("e2e").join("install-chromium.sh");
    match Command::new("bash").arg(&script).stdin(Stdio::null()).output() {
        Ok(out) => println!("{}", String::from_utf8_lossy(&out.stdout).trim()),
        Err(e) => println!("could not run {}: {e}", script.display()),
    }
    path.exists().then_some(path)
}

/// Installs the page's npm packages (`npm ci`) when Playwright is not there yet.
fn npm_ci() {
    let web = web_dir();
    if web.join("node_modules").join("playwright-core").join("package.json").exists() {
        return;
    }
    println!("web/node_modules is missing: running npm ci in {}", web.display());
    let status = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(&web)
        .stdin(Stdio::null())
        .status()
        .expect("npm runs");
    assert!(status.success(), "npm ci in web/ failed");
}

#[test]
fn the_observatory_page_works_in_chromium() {
    let Some(major) = node_major() else {
        println!("skipped: Node.js not available");
        return;
    };
    if major < 20 {
        println!("skipped: Node.js {major} found, Playwright needs 20 or newer");
        return;
    }
    let Some(browser) = chromium() else {
        println!("skipped: Chromium not available");
        return;
    };
    npm_ci();

    let data = tempfile::tempdir().expect("temp dir");
    let server = Server::start(data.path(), &[], &[]);
    let base = format!("http://{}", server.addr);
    let artifacts = artifacts_dir();
    // A fresh directory, so that every screenshot checked below is from this run.
    let _ = std::fs::remove_dir_all(&artifacts);
    std::fs::create_dir_all(&artifacts).expect("artifact dir");
    println!("screenshots of this run: {}", artifacts.display());

    let log = artifacts.join("observatory.log");
    let out = std::fs::File::create(&log).expect("log file");
    let err = out.try_clone().expect("log file handle");
    let mut child = Command::new("node")
        .arg("e2e/observatory.spec.mjs")
        .arg(&base)
        .arg(&artifacts)
        .current_dir(web_dir())
        .env("AION_CHROMIUM", &browser)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .expect("node runs");
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for node") {
            break Some(s);
        }
        if start.elapsed() > SCRIPT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    println!("{output}");
    drop(server);
    let status = status.unwrap_or_else(|| panic!("the browser script ran over {SCRIPT_TIMEOUT:?}"));
    assert!(status.success(), "the browser script failed ({status}); screenshots in {}", artifacts.display());
    assert!(output.contains("all checks passed"), "the script did not finish its checks");
    for shot in ["01-sign-in", "03-observer", "05-observer-sees-narration", "06-character"] {
        assert!(artifacts.join(format!("{shot}.png")).exists(), "screenshot {shot}.png saved");
    }
}
