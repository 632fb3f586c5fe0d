//! `aion loadtest`: N WebSocket observers, M director clients and one REST client against a live
//! session on loopback, reporting delta latency percentiles, drops, resyncs, command round trips and
//! API latency by route.
//!
//! By default it starts its own `aion serve --dev` child (this executable) on a free loopback port
//! with a temporary data directory; `--url` targets a running server instead. Latency is the
//! receiving wall clock minus the frame's `sent_ms` (the server's wall clock when the delta was
//! emitted), so client and server must share a clock: loopback only. `sent_ms` is whole
//! milliseconds, so every latency reads up to 1 ms high.
//!
//! The client parses only the header of a delta (the fields before `payload`), never the payload,
//! so that its own cost stays small next to the server's; it still checks per-topic `prev`/`seq`
//! continuity on every delta.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Arguments of `aion loadtest`.
#[derive(Args, Debug, Clone)]
pub struct LoadtestArgs {
    /// A running server (`http://HOST:PORT`); by default a fresh `aion serve --dev` child is started.
    #[arg(long)]
    pub url: Option<String>,
    /// Shipped scenario of the session under load.
    #[arg(long, default_value = "market_town_1000")]
    pub scenario: String,
    /// Ticks per second of the session.
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// WebSocket observers.
    #[arg(long, default_value_t = 1000)]
    pub observers: usize,
    /// Director clients, each its own user (commands are rate-limited per user).
    #[arg(long, default_value_t = 5)]
    pub directors: usize,
    /// Topics every observer subscribes to (comma-separated). The default is what the observatory
    /// page shows: the event feed, the relationship graph and the metrics.
    #[arg(long, default_value = "feed,graph,metrics")]
    pub topics: String,
    /// Milliseconds between two commands of one director.
    #[arg(long, default_value_t = 1000)]
    pub command_interval_ms: u64,
    /// Milliseconds between two requests of the REST client (routes taken in turn).
    #[arg(long, default_value_t = 100)]
    pub api_interval_ms: u64,
    /// Seconds measured (after the warm-up).
    #[arg(long, default_value_t = 30)]
    pub seconds: u64,
    /// Seconds of warm-up after every observer is connected, not measured.
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,
    /// Write the report as JSON to this file too.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// Step the observer count up (see --steps) and report the largest meeting p99 delta latency
    /// under 100 ms and API p99 under 200 ms.
    #[arg(long)]
    pub find_max: bool,
    /// Observer counts tried by --find-max, in order.
    #[arg(long, value_delimiter = ',', default_value = "250,500,1000,1500,2000,3000,4000,6000")]
    pub steps: Vec<usize>,
    /// Observers per user (against --url the server's connection limit applies; default 16 there).
    #[arg(long)]
    pub per_user: Option<usize>,
    /// Observers connecting at once while ramping up.
    #[arg(long, default_value_t = 64)]
    pub connect_concurrency: usize,
    /// `--threads` of the child server (worker threads of the session's world).
    #[arg(long)]
    pub server_threads: Option<usize>,
    /// Worker threads of the load tool's runtime [default: available cores].
    #[arg(long)]
    pub client_threads: Option<usize>,
}

/// Topics whose deltas arrive once per tick (the others are event-driven).
fn per_tick(topic: &str) -> bool {
    matches!(topic, "feed" | "graph" | "metrics") || topic.starts_with("character:")
}

/// Runs the load test and prints its report.
pub fn loadtest(args: &LoadtestArgs) -> Result<()> {
    if args.rate <= 0.0 || args.seconds == 0 {
        bail!("--rate and --seconds must be positive");
    }
    if args.find_max && args.steps.is_empty() {
        bail!("--find-max needs at least one --steps count");
    }
    let threads =
        args.client_threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let mut child = None;
    let addr = match &args.url {
        Some(u) => parse_url(u)?,
        None => {
            let c = ChildServer::start(args)?;
            let a = c.addr;
            child = Some(c);
            a
        }
    };
    let result = rt.block_on(drive(args, addr, child.as_ref().map(|c| c.pid)));
    rt.shutdown_timeout(Duration::from_secs(2));
    drop(child);
    let report = result?;
    say!("{}", report.table());
    if let Some(p) = &args.json {
        std::fs::write(p, serde_json::to_string_pretty(&report.json)?)
            .with_context(|| format!("writing {}", p.display()))?;
    }
    Ok(())
}

fn parse_url(u: &str) -> Result<SocketAddr> {
    let hostport = u.trim_start_matches("http://").trim_end_matches('/');
    use std::net::ToSocketAddrs;
    hostport
        .to_socket_addrs()
        .with_context(|| format!("--url {u}: expected http://HOST:PORT"))?
        .next()
        .ok_or_else(|| anyhow!("--url {u}: no address"))
}

/// `aion serve --dev` on a free loopback port with a temporary data directory; killed on drop.
struct ChildServer {
    child: std::process::Child,
    pid: u32,
    addr: SocketAddr,
    data: PathBuf,
}

impl ChildServer {
    fn start(args: &LoadtestArgs) -> Result<Self> {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let data = std::env::temp_dir().join(format!("aion-loadtest-{}-{nanos}", std::process::id()));
        let exe = std::env::current_exe().context("finding the aion executable")?;
        let mut cmd = std::process::Command::new(exe);
        cmd.args(["serve", "--dev", "--addr", "127.0.0.1:0", "--no-default-session", "--save-every", "3600"])
            .args(["--connections-per-user", "1000000", "--data"])
            .arg(&data)
            .env_remove("DATABASE_URL")
            .env_remove("AION_JWT_SECRET")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit());
        if let Some(t) = args.server_threads {
            cmd.arg("--threads").arg(t.to_string());
        }
        let mut child = cmd.spawn().context("starting aion serve")?;
        let stdout = child.stdout.take().context("piped stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let pid = child.id();
        let mut me = ChildServer { child, pid, addr: SocketAddr::from(([127, 0, 0, 1], 0)), data };
        let first = rx.recv_timeout(Duration::from_secs(60)).context("aion serve did not print its address")?;
        me.addr = first
            .split("http://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| anyhow!("no address in {first:?}"))?;
        Ok(me)
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP

/// One HTTP/1.1 request (`Connection: close`); returns the status and the body.
async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr).await.context("connecting")?;
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if method != "GET" {
        req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(&body);
    s.write_all(req.as_bytes()).await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").context("no header block")?;
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let status: u16 = head.split(' ').nth(1).and_then(|s| s.parse().ok()).context("no status")?;
    let mut body = buf[split + 4..].to_vec();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    Ok((status, body))
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..nl]).trim(), 16).unwrap_or(0);
        if n == 0 || b.len() < nl + 2 + n {
            break;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + n]);
        b = b.get(nl + 2 + n + 2..).unwrap_or_default();
    }
    out
}

/// A request whose answer must have `want` status; returns its JSON body.
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    want: u16,
) -> Result<Value> {
    let (status, b) = http(addr, method, path, token, body).await?;
    if status != want {
        bail!("{method} {path}: {status} {}", String::from_utf8_lossy(&b));
    }
    Ok(serde_json::from_slice(&b).unwrap_or(Value::Null))
}

/// A fresh account: (user id, token).
async fn account(addr: SocketAddr, name: &str) -> Result<(i64, String)> {
    let cred = json!({"username": name, "password": "load test password"});
    call(addr, "POST", "/api/v1/auth/register", None, Some(&cred), 201).await?;
    let r = call(addr, "POST", "/api/v1/auth/login", None, Some(&cred), 200).await?;
    let id = r["user"]["id"].as_i64().context("login has no user id")?;
    Ok((id, r["token"].as_str().context("login has no token")?.to_owned()))
}

// ---------------------------------------------------------------------------------------------
// Frames

/// The text of a frame before its payload (every header field comes first).
fn header(t: &str) -> &str {
    match t.find("\"payload\":") {
        Some(i) => &t[..i],
        None => t,
    }
}

/// A numeric header field.
fn num(h: &str, key: &str) -> Option<u64> {
    let pat = format!("\"{key}\":");
    let at = h.find(&pat)? + pat.len();
    let rest = &h[at..];
    let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// A string header field (no escapes: types and topics are plain names).
fn text<'a>(h: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":\"");
    let at = h.find(&pat)? + pat.len();
    let rest = &h[at..];
    Some(&rest[..rest.find('"')?])
}

fn now_us() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64)
}

/// Per-topic stream position of one client: checks `prev` continuity and `seq` order.
#[derive(Default, Debug)]
struct Stream {
    snapshot_seq: u64,
    last_seq: u64,
    last_on_topic: BTreeMap<String, u64>,
}

/// What a delta was, against the stream so far.
#[derive(Debug, PartialEq, Eq)]
enum Check {
    Ok,
    /// `prev` names a delta on this topic the client never saw.
    Gap,
    /// `seq` not after the last one seen.
    Duplicate,
}

impl Stream {
    fn snapshot(&mut self, seq: u64) {
        self.snapshot_seq = seq;
        self.last_seq = seq;
        self.last_on_topic.clear();
    }

    fn delta(&mut self, topic: &str, seq: u64, prev: u64) -> Check {
        if seq <= self.last_seq {
            return Check::Duplicate;
        }
        let ok = match self.last_on_topic.get(topic) {
            Some(last) => prev == *last,
            None => prev <= self.snapshot_seq,
        };
        self.last_seq = seq;
        match self.last_on_topic.get_mut(topic) {
            Some(v) => *v = seq,
            None => {
                self.last_on_topic.insert(topic.to_owned(), seq);
            }
        }
        if ok { Check::Ok } else { Check::Gap }
    }
}

// ---------------------------------------------------------------------------------------------
// Clients

/// What one observer saw while measuring.
#[derive(Default, Debug)]
struct ObsStats {
    latency_us: Vec<u32>,
    /// Per topic: (deltas, bytes).
    topics: BTreeMap<String, (u64, u64)>,
    gaps: u64,
    duplicates: u64,
    resyncs: u64,
    /// (tick, sent_ms) of the first and last delta seen while measuring: the server's tick rate
    /// on the server's own clock, whatever the client's delays.
    first: Option<(u64, u64)>,
    last: Option<(u64, u64)>,
}

/// One observer as the coordinator sees it.
struct Observer {
    stats: Arc<Mutex<ObsStats>>,
    /// Close code (or "gone") once the connection ended.
    ended: Arc<Mutex<Option<String>>>,
}

/// What everyone shares.
struct Shared {
    addr: SocketAddr,
    session: i64,
    measuring: AtomicBool,
    stop: watch::Receiver<bool>,
    /// Heartbeat in ms (`{"type":"ping"}` at a third of it).
    heartbeat_ms: AtomicU64,
}

type Ws = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>;

async fn connect(sh: &Shared, token: &str) -> Result<(Ws, Value)> {
    let url = format!("ws://{}/api/v1/sessions/{}/ws?token={token}", sh.addr, sh.session);
    let mut req = url.into_client_request()?;
    req.headers_mut().insert("Sec-WebSocket-Protocol", "aion.observatory.v1".parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.context("WebSocket handshake")?;
    let hello = match ws.next().await {
        Some(Ok(Message::Text(t))) => serde_json::from_str::<Value>(t.as_str())?,
        Some(Ok(Message::Close(f))) => bail!("closed before hello: {:?}", f.map(|f| u16::from(f.code))),
        other => bail!("no hello: {other:?}"),
    };
    if hello["type"] != "hello" {
        bail!("first frame is not hello: {}", header(&hello.to_string()));
    }
    if let Some(ms) = hello["payload"]["heartbeat_ms"].as_u64() {
        sh.heartbeat_ms.store(ms, Ordering::Relaxed);
    }
    Ok((ws, hello))
}

fn close_code(m: &Message) -> Option<String> {
    match m {
        Message::Close(Some(f)) => Some(u16::from(f.code).to_string()),
        Message::Close(None) => Some("close".into()),
        _ => None,
    }
}

/// One observer: connect, subscribe, report ready with the snapshot's size, then follow deltas.
async fn observer(
    sh: Arc<Shared>,
    token: String,
    topics: Vec<String>,
    me: Observer,
    ready: tokio::sync::oneshot::Sender<Result<usize>>,
) {
    let start = async {
        let (mut ws, _) = connect(&sh, &token).await?;
        ws.send(Message::Text(json!({"type": "subscribe", "topics": topics}).to_string().into())).await?;
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) => {
                    let h = header(t.as_str());
                    if text(h, "type") == Some("snapshot") {
                        return Ok((ws, num(h, "seq").unwrap_or(0), t.len()));
                    }
                }
                Some(Ok(m)) if close_code(&m).is_some() => {
                    bail!("closed {} before the snapshot", close_code(&m).unwrap_or_default())
                }
                Some(Ok(_)) => {}
                other => bail!("no snapshot: {other:?}"),
            }
        }
    };
    let (ws, seq, size) = match start.await {
        Ok(x) => x,
        Err(e) => {
            *me.ended.lock().unwrap_or_else(|p| p.into_inner()) = Some("connect failed".into());
            let _ = ready.send(Err(e));
            return;
        }
    };
    let _ = ready.send(Ok(size));
    let mut stream = Stream::default();
    stream.snapshot(seq);
    let (mut sink, mut rx) = ws.split();
    let mut stop = sh.stop.clone();
    let hb = Duration::from_millis(sh.heartbeat_ms.load(Ordering::Relaxed).max(300) / 3);
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + hb, hb);
    let ended = loop {
        tokio::select! {
            m = rx.next() => match m {
                Some(Ok(Message::Text(t))) => {
                    let received = now_us();
                    let t = t.as_str();
                    let h = header(t);
                    match text(h, "type") {
                        Some("delta") => {
                            let (Some(topic), Some(seq), Some(prev), Some(sent)) =
                                (text(h, "topic"), num(h, "seq"), num(h, "prev"), num(h, "sent_ms"))
                            else {
                                break "bad delta".to_owned();
                            };
                            let check = stream.delta(topic, seq, prev);
                            if sh.measuring.load(Ordering::Relaxed) {
                                let mut s = me.stats.lock().unwrap_or_else(|p| p.into_inner());
                                s.latency_us.push(received.saturating_sub(sent * 1000).min(u32::MAX as u64) as u32);
                                let at = (num(h, "tick").unwrap_or(0), sent);
                                s.first.get_or_insert(at);
                                s.last = Some(at);
                                match check {
                                    Check::Ok => {}
                                    Check::Gap => s.gaps += 1,
                                    Check::Duplicate => s.duplicates += 1,
                                }
                                match s.topics.get_mut(topic) {
                                    Some(e) => { e.0 += 1; e.1 += t.len() as u64; }
                                    None => { s.topics.insert(topic.to_owned(), (1, t.len() as u64)); }
                                }
                            }
                        }
                        Some("snapshot") => {
                            stream.snapshot(num(h, "seq").unwrap_or(0));
                            if sh.measuring.load(Ordering::Relaxed) {
                                me.stats.lock().unwrap_or_else(|p| p.into_inner()).resyncs += 1;
                            }
                        }
                        _ => {}
                    }
                }
                Some(Ok(m)) => if let Some(c) = close_code(&m) { break c },
                Some(Err(e)) => break format!("error: {e}"),
                None => break "gone".into(),
            },
            _ = ping.tick() => {
                if sink.send(Message::Text(r#"{"type":"ping"}"#.into())).await.is_err() {
                    break "gone".into();
                }
            }
            _ = stop.changed() => {
                let _ = sink.send(Message::Close(None)).await;
                return;
            }
        }
    };
    *me.ended.lock().unwrap_or_else(|p| p.into_inner()) = Some(ended);
}

/// What the directors saw while measuring.
#[derive(Default, Debug)]
struct DirStats {
    rtt_us: Vec<u32>,
    acks: u64,
    errors: BTreeMap<String, u64>,
    ended: BTreeMap<String, u64>,
}

/// A small deterministic generator (xorshift64*) for picking characters and moods.
struct Pick(u64);

impl Pick {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// A value in [-1, 1] on a 0.01 grid.
    fn unit(&mut self) -> f64 {
        (self.below(201) as f64 - 100.0) / 100.0
    }
}

fn set_mood(p: &mut Pick, characters: u64) -> Value {
    json!({"set_mood": {"character": p.below(characters), "mood": {"p": p.unit(), "a": p.unit(), "d": p.unit()}}})
}

/// One director: sends a `set_mood` command every interval over its WebSocket and times the `ack`.
async fn director(sh: Arc<Shared>, token: String, index: usize, interval: Duration, stats: Arc<Mutex<DirStats>>) {
    let (ws, hello) = match connect(&sh, &token).await {
        Ok(x) => x,
        Err(_) => {
            *stats.lock().unwrap_or_else(|p| p.into_inner()).ended.entry("connect failed".into()).or_default() += 1;
            return;
        }
    };
    let characters = hello["payload"]["characters"].as_u64().unwrap_or(1);
    let mut pick = Pick(0x9e37_79b9_7f4a_7c15 ^ (index as u64 + 1));
    let (mut sink, mut rx) = ws.split();
    let mut stop = sh.stop.clone();
    let mut tick = tokio::time::interval(interval);
    let mut pending: BTreeMap<String, Instant> = BTreeMap::new();
    let mut n = 0u64;
    let ended = loop {
        tokio::select! {
            _ = tick.tick() => {
                n += 1;
                let id = format!("d{index}-{n}");
                let msg = json!({"type": "command", "id": id, "command": set_mood(&mut pick, characters)});
                pending.insert(id, Instant::now());
                if sink.send(Message::Text(msg.to_string().into())).await.is_err() {
                    break "gone".to_owned();
                }
            }
            m = rx.next() => match m {
                Some(Ok(Message::Text(t))) => {
                    let Ok(v) = serde_json::from_str::<Value>(t.as_str()) else { continue };
                    let Some(at) = v["payload"]["id"].as_str().and_then(|id| pending.remove(id)) else { continue };
                    let measuring = sh.measuring.load(Ordering::Relaxed);
                    let mut s = stats.lock().unwrap_or_else(|p| p.into_inner());
                    match v["type"].as_str() {
                        Some("ack") if measuring => {
                            s.acks += 1;
                            s.rtt_us.push(at.elapsed().as_micros().min(u32::MAX as u128) as u32);
                        }
                        Some("error") if measuring => {
                            *s.errors.entry(v["payload"]["code"].as_str().unwrap_or("?").to_owned()).or_default() += 1;
                        }
                        _ => {}
                    }
                }
                Some(Ok(m)) => if let Some(c) = close_code(&m) { break c },
                Some(Err(e)) => break format!("error: {e}"),
                None => break "gone".into(),
            },
            _ = stop.changed() => {
                let _ = sink.send(Message::Close(None)).await;
                return;
            }
        }
    };
    *stats.lock().unwrap_or_else(|p| p.into_inner()).ended.entry(ended).or_default() += 1;
}

/// API latency by route while measuring, and non-2xx answers.
#[derive(Default, Debug)]
struct ApiStats {
    latency_us: BTreeMap<&'static str, Vec<u32>>,
    failures: BTreeMap<String, u64>,
}

/// The REST client: GET session, characters, metrics and POST a command, in turn.
async fn api_client(sh: Arc<Shared>, token: String, interval: Duration, stats: Arc<Mutex<ApiStats>>) {
    let mut stop = sh.stop.clone();
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pick = Pick(0x51_7cc1_b727_220a);
    let (id, mut last_tick, mut characters) = (sh.session, 0u64, 1u64);
    for n in 0u64.. {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let (route, method, path, body) = match n % 4 {
            0 => ("GET /sessions/{id}", "GET", format!("/api/v1/sessions/{id}"), None),
            1 => ("GET /sessions/{id}/characters", "GET", format!("/api/v1/sessions/{id}/characters"), None),
            2 => (
                "GET /sessions/{id}/metrics?since",
                "GET",
                format!("/api/v1/sessions/{id}/metrics?since={}", last_tick.saturating_sub(10)),
                None,
            ),
            _ => (
                "POST /sessions/{id}/commands",
                "POST",
                format!("/api/v1/sessions/{id}/commands"),
                Some(json!({"command": set_mood(&mut pick, characters)})),
            ),
        };
        let t0 = Instant::now();
        let r = http(sh.addr, method, &path, Some(&token), body.as_ref()).await;
        let us = t0.elapsed().as_micros().min(u32::MAX as u128) as u32;
        let measuring = sh.measuring.load(Ordering::Relaxed);
        match r {
            Ok((status, b)) if (200..300).contains(&status) => {
                if n % 4 == 0
                    && let Ok(v) = serde_json::from_slice::<Value>(&b)
                {
                    last_tick = v["live"]["tick"].as_u64().unwrap_or(last_tick);
                    characters = v["live"]["characters"].as_u64().unwrap_or(characters);
                }
                if measuring {
                    stats.lock().unwrap_or_else(|p| p.into_inner()).latency_us.entry(route).or_default().push(us);
                }
            }
            Ok((status, _)) if measuring => {
                *stats
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .failures
                    .entry(format!("{route} {status}"))
                    .or_default() += 1;
            }
            Err(e) if measuring => {
                *stats.lock().unwrap_or_else(|p| p.into_inner()).failures.entry(format!("{route} {e}")).or_default() +=
                    1;
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// CPU

/// CPU seconds per thread group of a process, from /proc/PID/task/*/stat (Linux; empty elsewhere).
fn cpu_by_thread(pid: u32) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return out };
    for e in dir.flatten() {
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else { continue };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else { continue };
        let comm = &stat[open + 1..close];
        let group = thread_group(comm);
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        // utime and stime are fields 14 and 15 of the line, 12 and 13 after the comm's ')'.
        let (Some(u), Some(s)) =
            (fields.get(11).and_then(|f| f.parse::<f64>().ok()), fields.get(12).and_then(|f| f.parse::<f64>().ok()))
        else {
            continue;
        };
        *out.entry(group).or_insert(0.0) += (u + s) / 100.0;
    }
    out
}

/// A thread's group: its name without trailing digits and separators (`tokio-runtime-w`, `session-`).
fn thread_group(comm: &str) -> String {
    if comm.starts_with("session-") {
        return "session thread (tick, deltas, fan-out)".into();
    }
    if comm.starts_with("tokio-") {
        return "tokio workers".into();
    }
    comm.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == ' ' || c == '(' || c == ')' || c == '#')
        .to_owned()
}

/// CPU seconds the whole machine spent busy (all cores), from /proc/stat: other processes on a
/// shared machine show up as busy time that is neither the server's nor the client's.
fn machine_busy() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/stat") else { return 0.0 };
    let Some(line) = stat.lines().next() else { return 0.0 };
    // cpu user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait.
    let v: Vec<f64> = line.split_whitespace().skip(1).filter_map(|f| f.parse().ok()).collect();
    let total: f64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0.0) + v.get(4).copied().unwrap_or(0.0);
    (total - idle) / 100.0
}

fn cpu_delta(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, secs: f64) -> BTreeMap<String, f64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), 100.0 * (v - before.get(k).copied().unwrap_or(0.0)) / secs))
        .filter(|(_, pct)| *pct >= 0.5)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Driving

/// Percentiles (p50, p95, p99, max) in ms of samples in µs.
fn percentiles(v: &mut [u32]) -> [f64; 4] {
    if v.is_empty() {
        return [0.0; 4];
    }
    v.sort_unstable();
    let at = |q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1] as f64 / 1000.0;
    [at(0.50), at(0.95), at(0.99), v[v.len() - 1] as f64 / 1000.0]
}

/// The outcome of one measured window.
struct Window {
    json: Value,
    p99_ms: f64,
    api_p99_ms: f64,
    alive: usize,
}

struct Run {
    sh: Arc<Shared>,
    observers: Vec<Observer>,
    tokens: Vec<String>,
    per_user: usize,
    owner: String,
    topics: Vec<String>,
    directors: Arc<Mutex<DirStats>>,
    api: Arc<Mutex<ApiStats>>,
    server_pid: Option<u32>,
    snapshot_bytes: usize,
    progress: Progress,
}

/// Progress on stderr: a spinner on a terminal, plain lines otherwise.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            b.enable_steady_tick(Duration::from_millis(200));
            b
        });
        Self { bar }
    }
    fn say(&self, m: impl Into<String>) {
        let m = m.into();
        match &self.bar {
            Some(b) => b.set_message(m),
            None => eprintln!("loadtest: {m}"),
        }
    }
    fn done(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

async fn drive(args: &LoadtestArgs, addr: SocketAddr, server_pid: Option<u32>) -> Result<Report> {
    let progress = Progress::new();
    let tag = format!("{:x}", SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis()) % 0xff_ffff);
    progress.say(format!("server at {addr}; creating a {} session", args.scenario));
    let (_, owner) = account(addr, &format!("lt{tag}-owner")).await?;
    let body = json!({"name": "loadtest", "scenario": args.scenario, "public": true,
        "rate": {"mode": "realtime", "ticks_per_second": args.rate}});
    let created = Instant::now();
    let s = call(addr, "POST", "/api/v1/sessions", Some(&owner), Some(&body), 201).await?;
    let session = s["id"].as_i64().context("session id")?;
    progress.say(format!("session {session} created in {:.1} s", created.elapsed().as_secs_f64()));
    let (stop_tx, stop) = watch::channel(false);
    let sh = Arc::new(Shared {
        addr,
        session,
        measuring: AtomicBool::new(false),
        stop,
        heartbeat_ms: AtomicU64::new(15_000),
    });
    // Directors and the API client: each its own user, made a director by the owner.
    let mut director_tokens = Vec::new();
    for i in 0..=args.directors {
        let (uid, token) = account(addr, &format!("lt{tag}-d{i}")).await?;
        call(addr, "POST", &format!("/api/v1/sessions/{session}/join"), Some(&token), None, 200).await?;
        let (st, b) = http(
            addr,
            "PUT",
            &format!("/api/v1/sessions/{session}/members/{uid}"),
            Some(&owner),
            Some(&json!({"role": "director"})),
        )
        .await?;
        if st != 204 {
            bail!("making user {uid} a director: {st} {}", String::from_utf8_lossy(&b));
        }
        director_tokens.push(token);
    }
    let api = Arc::new(Mutex::new(ApiStats::default()));
    let api_token = director_tokens.pop().context("the API client's token")?;
    tokio::spawn(api_client(sh.clone(), api_token, Duration::from_millis(args.api_interval_ms.max(1)), api.clone()));
    let directors = Arc::new(Mutex::new(DirStats::default()));
    for (i, t) in director_tokens.into_iter().enumerate() {
        tokio::spawn(director(
            sh.clone(),
            t,
            i,
            Duration::from_millis(args.command_interval_ms.max(1)),
            directors.clone(),
        ));
    }
    let per_user = args.per_user.unwrap_or(if args.url.is_some() { 16 } else { usize::MAX }).max(1);
    let topics: Vec<String> = args.topics.split(',').map(|t| t.trim().to_owned()).filter(|t| !t.is_empty()).collect();
    let mut run = Run {
        sh,
        observers: Vec::new(),
        tokens: Vec::new(),
        per_user,
        owner,
        topics,
        directors,
        api,
        server_pid,
        snapshot_bytes: 0,
        progress,
    };
    let steps = if args.find_max { args.steps.clone() } else { vec![args.observers] };
    let mut windows = Vec::new();
    let mut best: Option<usize> = None;
    for &n in &steps {
        run.grow(n, args, &tag).await?;
        run.progress.say(format!("{n} observers connected; warming up {} s", args.warmup));
        tokio::time::sleep(Duration::from_secs(args.warmup)).await;
        let w = run.window(args).await?;
        let ok = w.p99_ms < 100.0 && w.api_p99_ms < 200.0 && w.alive == n;
        run.progress
            .say(format!("{n} observers: p99 {:.1} ms, API p99 {:.1} ms, {} alive", w.p99_ms, w.api_p99_ms, w.alive));
        windows.push(w.json);
        if ok {
            best = Some(n);
        } else if args.find_max {
            break;
        }
    }
    let _ = stop_tx.send(true);
    tokio::time::sleep(Duration::from_millis(300)).await;
    run.progress.done();
    let machine = json!({
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "cpu_model": cpu_model(),
        "note": "the load tool and the server share these cores; client CPU is reported per window",
        "client_threads": args.client_threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get())),
    });
    let json = json!({
        "scenario": args.scenario, "rate": args.rate, "topics": run.topics, "directors": args.directors,
        "seconds": args.seconds, "warmup": args.warmup, "server": if args.url.is_some() { "external" } else { "child" },
        "snapshot_bytes": run.snapshot_bytes, "machine": machine, "windows": windows,
        "find_max": args.find_max.then(|| json!({"largest_passing": best, "criteria": "p99 delta latency < 100 ms, API p99 < 200 ms, no observer closed"})),
    });
    Ok(Report { json })
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_default()
}

impl Run {
    /// Connects observers until there are `n`.
    async fn grow(&mut self, n: usize, args: &LoadtestArgs, tag: &str) -> Result<()> {
        if n <= self.observers.len() {
            return Ok(());
        }
        let users = n.div_ceil(self.per_user);
        while self.tokens.len() < users {
            let (_, token) = account(self.sh.addr, &format!("lt{tag}-o{}", self.tokens.len())).await?;
            call(self.sh.addr, "POST", &format!("/api/v1/sessions/{}/join", self.sh.session), Some(&token), None, 200)
                .await?;
            self.tokens.push(token);
        }
        let started = Instant::now();
        let from = self.observers.len();
        self.progress.say(format!("connecting observers {from}..{n}"));
        let gate = Arc::new(Semaphore::new(args.connect_concurrency.max(1)));
        let mut readies = Vec::new();
        for i in from..n {
            let me = Observer { stats: Arc::default(), ended: Arc::default() };
            self.observers.push(Observer { stats: me.stats.clone(), ended: me.ended.clone() });
            let token = self.tokens[i / self.per_user].clone();
            let (tx, rx) = tokio::sync::oneshot::channel();
            // At most `connect_concurrency` observers between connecting and their snapshot.
            let permit = gate.clone().acquire_owned().await?;
            tokio::spawn(observer(self.sh.clone(), token, self.topics.clone(), me, tx));
            readies.push(tokio::spawn(async move {
                let r = rx.await;
                drop(permit);
                r
            }));
            if (i + 1) % 100 == 0 {
                self.progress.say(format!("connecting observers: {} of {n}", i + 1));
            }
        }
        for r in readies {
            self.ready(r.await?)?;
        }
        self.progress.say(format!("{} observers connected in {:.1} s", n - from, started.elapsed().as_secs_f64()));
        Ok(())
    }

    fn ready(&mut self, r: Result<Result<usize>, tokio::sync::oneshot::error::RecvError>) -> Result<()> {
        match r {
            Ok(Ok(bytes)) => {
                self.snapshot_bytes = self.snapshot_bytes.max(bytes);
                Ok(())
            }
            Ok(Err(e)) => Err(e.context("an observer could not connect")),
            Err(_) => bail!("an observer task ended before it connected"),
        }
    }

    async fn status(&self) -> Result<Value> {
        let v =
            call(self.sh.addr, "GET", &format!("/api/v1/sessions/{}", self.sh.session), Some(&self.owner), None, 200)
                .await?;
        Ok(v["live"].clone())
    }

    /// Measures `args.seconds` with everyone connected.
    async fn window(&mut self, args: &LoadtestArgs) -> Result<Window> {
        for o in &self.observers {
            *o.stats.lock().unwrap_or_else(|p| p.into_inner()) = ObsStats::default();
        }
        {
            let mut d = self.directors.lock().unwrap_or_else(|p| p.into_inner());
            d.rtt_us.clear();
            d.acks = 0;
            d.errors.clear();
        }
        *self.api.lock().unwrap_or_else(|p| p.into_inner()) = ApiStats::default();
        let closed_before =
            self.observers.iter().filter(|o| o.ended.lock().map(|e| e.is_some()).unwrap_or(true)).count();
        let server_cpu0 = self.server_pid.map(cpu_by_thread).unwrap_or_default();
        let client_cpu0 = cpu_by_thread(std::process::id());
        let busy0 = machine_busy();
        let t0 = Instant::now();
        self.sh.measuring.store(true, Ordering::Relaxed);
        for s in 0..args.seconds {
            self.progress.say(format!("{} observers: measuring {s}/{} s", self.observers.len(), args.seconds));
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        self.sh.measuring.store(false, Ordering::Relaxed);
        let secs = t0.elapsed().as_secs_f64();
        let server_cpu = self.server_pid.map(|p| cpu_delta(&server_cpu0, &cpu_by_thread(p), secs)).unwrap_or_default();
        let client_cpu = cpu_delta(&client_cpu0, &cpu_by_thread(std::process::id()), secs);
        let machine = 100.0 * (machine_busy() - busy0) / secs;
        let ours: f64 = server_cpu.values().chain(client_cpu.values()).sum();
        let s1 = self.status().await?;
        let mut lat = Vec::new();
        let (mut gaps, mut dups, mut resyncs, mut received) = (0u64, 0u64, 0u64, 0u64);
        let (mut first, mut last) = (None::<(u64, u64)>, None::<(u64, u64)>);
        let mut topics: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut ended: BTreeMap<String, u64> = BTreeMap::new();
        for o in &self.observers {
            let s = std::mem::take(&mut *o.stats.lock().unwrap_or_else(|p| p.into_inner()));
            lat.extend_from_slice(&s.latency_us);
            received += s.latency_us.len() as u64;
            gaps += s.gaps;
            dups += s.duplicates;
            resyncs += s.resyncs;
            first = match (first, s.first) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            last = last.max(s.last);
            for (t, (n, b)) in s.topics {
                let e = topics.entry(t).or_default();
                e.0 += n;
                e.1 += b;
            }
            if let Some(c) = o.ended.lock().unwrap_or_else(|p| p.into_inner()).clone() {
                *ended.entry(c).or_default() += 1;
            }
        }
        // Ticks in the window, and the rate on the server's clock (sent_ms of the first and last delta).
        let (ticks, tick_rate) = match (first, last) {
            (Some((t0, ms0)), Some((t1, ms1))) if ms1 > ms0 => {
                (t1 - t0 + 1, (t1 - t0) as f64 * 1000.0 / (ms1 - ms0) as f64)
            }
            _ => (0, 0.0),
        };
        let alive = self.observers.len() - ended.values().sum::<u64>() as usize;
        let per_tick_topics = self.topics.iter().filter(|t| per_tick(t)).count() as u64;
        let expected = ticks * per_tick_topics * (self.observers.len() - closed_before) as u64;
        let [p50, p95, p99, max] = percentiles(&mut lat);
        let d = {
            let mut d = self.directors.lock().unwrap_or_else(|p| p.into_inner());
            DirStats {
                rtt_us: std::mem::take(&mut d.rtt_us),
                acks: d.acks,
                errors: d.errors.clone(),
                ended: d.ended.clone(),
            }
        };
        let mut rtt = d.rtt_us.clone();
        let ack = percentiles(&mut rtt);
        let a = std::mem::take(&mut *self.api.lock().unwrap_or_else(|p| p.into_inner()));
        let mut all_api: Vec<u32> = a.latency_us.values().flatten().copied().collect();
        let api_all = percentiles(&mut all_api);
        let routes: BTreeMap<&str, Value> = a
            .latency_us
            .into_iter()
            .map(|(r, mut v)| {
                let n = v.len();
                let [p50, p95, p99, max] = percentiles(&mut v);
                (r, json!({"count": n, "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "max_ms": max}))
            })
            .collect();
        let topic_sizes: BTreeMap<String, Value> = topics
            .iter()
            .map(|(t, (n, b))| (t.clone(), json!({"deltas": n, "mean_bytes": if *n > 0 { b / n } else { 0 }})))
            .collect();
        let bytes: u64 = topics.values().map(|(_, b)| b).sum();
        let json = json!({
            "observers": self.observers.len(), "alive": alive, "seconds": secs,
            "ticks": ticks, "tick_rate": tick_rate, "tick_ms_mean": s1["tick_ms"],
            "delta_latency_ms": {"p50": p50, "p95": p95, "p99": p99, "max": max},
            "deltas": {"received": received, "expected": expected, "gaps": gaps, "duplicates": dups, "resyncs": resyncs},
            "received_mb_per_s": bytes as f64 / secs / 1e6,
            "topics": topic_sizes,
            "closed": ended,
            "server_dropped_total": s1["dropped"],
            "acks": {"count": d.acks, "errors": d.errors, "directors_closed": d.ended,
                "rtt_ms": {"p50": ack[0], "p95": ack[1], "p99": ack[2], "max": ack[3]}},
            "api": {"routes": routes, "failures": a.failures,
                "all_ms": {"p50": api_all[0], "p95": api_all[1], "p99": api_all[2], "max": api_all[3]}},
            "cpu_percent": {"server": server_cpu, "client": client_cpu, "machine": machine,
                "other_processes": if self.server_pid.is_some() { (machine - ours).max(0.0) } else { 0.0 }},
        });
        Ok(Window { json, p99_ms: p99, api_p99_ms: api_all[2], alive })
    }
}

/// The final report.
struct Report {
    json: Value,
}

impl Report {
    /// The report as a plain-text table.
    fn table(&self) -> String {
        let j = &self.json;
        let mut s = String::new();
        let f = |v: &Value| v.as_f64().unwrap_or(0.0);
        let u = |v: &Value| v.as_u64().unwrap_or(0);
        s.push_str(&format!(
            "aion loadtest: {} at {} ticks/s, topics {}, {} directors, {} s per window ({} s warm-up)\n",
            j["scenario"].as_str().unwrap_or(""),
            j["rate"],
            j["topics"]
                .as_array()
                .map(|t| t.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(","))
                .unwrap_or_default(),
            j["directors"],
            j["seconds"],
            j["warmup"]
        ));
        s.push_str(&format!(
            "machine: {} x {} ({}); client and server share these cores; first snapshot {} KB\n",
            j["machine"]["cpus"],
            j["machine"]["cpu_model"].as_str().unwrap_or("?"),
            j["server"].as_str().unwrap_or(""),
            j["snapshot_bytes"].as_u64().unwrap_or(0) / 1024
        ));
        s.push_str(&format!(
            "{:>9} {:>6} {:>7} {:>7} {:>7} {:>7} {:>9} {:>9} {:>5} {:>5} {:>6} {:>6} {:>7} {:>7} {:>7} {:>6} {:>6}\n",
            "observers",
            "alive",
            "p50ms",
            "p95ms",
            "p99ms",
            "maxms",
            "received",
            "expected",
            "gaps",
            "dups",
            "resync",
            "ticks/s",
            "ack99",
            "api99",
            "MB/s",
            "closed",
            "other%"
        ));
        for w in j["windows"].as_array().into_iter().flatten() {
            let l = &w["delta_latency_ms"];
            let closed: u64 = w["closed"].as_object().map_or(0, |m| m.values().filter_map(Value::as_u64).sum());
            s.push_str(&format!(
                "{:>9} {:>6} {:>7.1} {:>7.1} {:>7.1} {:>7.1} {:>9} {:>9} {:>5} {:>5} {:>6} {:>7.2} {:>7.1} {:>7.1} {:>7.1} {:>6} {:>6.0}\n",
                u(&w["observers"]), u(&w["alive"]), f(&l["p50"]), f(&l["p95"]), f(&l["p99"]), f(&l["max"]),
                u(&w["deltas"]["received"]), u(&w["deltas"]["expected"]), u(&w["deltas"]["gaps"]),
                u(&w["deltas"]["duplicates"]), u(&w["deltas"]["resyncs"]),
                f(&w["tick_rate"]), f(&w["acks"]["rtt_ms"]["p99"]), f(&w["api"]["all_ms"]["p99"]), f(&w["received_mb_per_s"]), closed, f(&w["cpu_percent"]["other_processes"])
            ));
        }
        if let Some(w) = j["windows"].as_array().and_then(|w| w.last()) {
            s.push_str(&format!("last window ({} observers):\n", w["observers"]));
            for (r, v) in w["api"]["routes"].as_object().into_iter().flatten() {
                s.push_str(&format!(
                    "  API {r:<36} n={:<5} p50 {:>6.1} ms  p95 {:>6.1} ms  p99 {:>6.1} ms\n",
                    v["count"],
                    f(&v["p50_ms"]),
                    f(&v["p95_ms"]),
                    f(&v["p99_ms"])
                ));
            }
            let a = &w["acks"];
            s.push_str(&format!(
                "  director acks: {}  rtt p50 {:.1} / p95 {:.1} / p99 {:.1} ms  errors {}\n",
                a["count"],
                f(&a["rtt_ms"]["p50"]),
                f(&a["rtt_ms"]["p95"]),
                f(&a["rtt_ms"]["p99"]),
                a["errors"]
            ));
            for (t, v) in w["topics"].as_object().into_iter().flatten() {
                s.push_str(&format!("  topic {t:<10} mean frame {:>8} bytes\n", v["mean_bytes"]));
            }
            s.push_str(&format!(
                "  session thread mean tick {:.1} ms; closed {}\n",
                f(&w["tick_ms_mean"]),
                w["closed"]
            ));
            let c = &w["cpu_percent"];
            s.push_str(&format!(
                "  machine busy {:.0}% of {}00% (other processes {:.0}%: figures are only clean when that is ~0)\n",
                f(&c["machine"]),
                j["machine"]["cpus"],
                f(&c["other_processes"])
            ));
            for side in ["server", "client"] {
                let cpu: Vec<String> = w["cpu_percent"][side]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| format!("{k} {:.0}%", f(v)))
                    .collect();
                if !cpu.is_empty() {
                    s.push_str(&format!("  {side} CPU (100% = one core): {}\n", cpu.join(", ")));
                }
            }
        }
        if let Some(m) = j["find_max"].as_object() {
            s.push_str(&format!(
                "largest passing observer count: {} ({})\n",
                m["largest_passing"],
                m["criteria"].as_str().unwrap_or("")
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_are_read_without_the_payload() {
        let f = r#"{"v":1,"type":"delta","topic":"feed","seq":42,"tick":7,"prev":39,"epoch":1,"sent_ms":1700000000123,"payload":{"seq":1,"type":"x"}}"#;
        let h = header(f);
        assert_eq!(text(h, "type"), Some("delta"));
        assert_eq!(text(h, "topic"), Some("feed"));
        assert_eq!(num(h, "seq"), Some(42));
        assert_eq!(num(h, "prev"), Some(39));
        assert_eq!(num(h, "sent_ms"), Some(1_700_000_000_123));
        assert_eq!(num(h, "world_hash"), None);
    }

    #[test]
    fn streams_count_gaps_and_duplicates_per_topic() {
        let mut s = Stream::default();
        s.snapshot(10);
        assert_eq!(s.delta("feed", 11, 8), Check::Ok);
        assert_eq!(s.delta("graph", 12, 9), Check::Ok);
        // A presence delta (not subscribed) took seq 13: no gap on feed.
        assert_eq!(s.delta("feed", 14, 11), Check::Ok);
        assert_eq!(s.delta("feed", 14, 11), Check::Duplicate);
        assert_eq!(s.delta("graph", 17, 15), Check::Gap, "graph 15 was never seen");
        s.snapshot(30);
        assert_eq!(s.delta("graph", 31, 29), Check::Ok);
        assert_eq!(s.delta("feed", 32, 31), Check::Gap, "feed's first delta after a snapshot points past it");
    }

    #[test]
    fn percentiles_are_ordered_nearest_ranks() {
        let mut v: Vec<u32> = (1..=1000).map(|i| i * 1000).collect();
        assert_eq!(percentiles(&mut v), [500.0, 950.0, 990.0, 1000.0]);
        assert_eq!(percentiles(&mut []), [0.0; 4]);
    }

    #[test]
    fn threads_are_grouped_by_role() {
        assert_eq!(thread_group("session-3"), "session thread (tick, deltas, fan-out)");
        assert_eq!(thread_group("tokio-rt-worker"), "tokio workers");
        assert_eq!(thread_group("Compute Task Pool (1)"), "Compute Task Pool");
    }
}
