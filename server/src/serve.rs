//! `aion serve`: the HTTP/WebSocket server. Opens the database (an embedded SQLite file unless
//! `DATABASE_URL` names PostgreSQL), resumes every stored session from its latest snapshot, starts a
//! public default session on a fresh database, serves the REST API, the observatory WebSocket and the
//! page, saves every session periodically, and on Ctrl-C / SIGTERM saves every session and exits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use aion_engine::Sim;
use aion_engine::scenario::Scenario;
use anyhow::{Context, Result, bail};
use axum::extract::DefaultBodyLimit;
use clap::Args;

use crate::app::{App, Limits, Meters};
use crate::auth::{self, AuthConfig};
use crate::live::protocol::Rate;
use crate::live::runner::{Saved, Start};
use crate::live::{self, Registry};
use crate::shipped;
use crate::store::{NewSession, SessionRow, SnapshotRow, Store};

/// Arguments of `aion serve`.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Directory for the SQLite database (and the dev-mode secret).
    #[arg(long, default_value = "aion-data")]
    pub data: PathBuf,
    /// Database URL [default: $DATABASE_URL, else sqlite://DATA/aion.db].
    #[arg(long)]
    pub database_url: Option<String>,
    /// Development mode: without AION_JWT_SECRET, use a secret generated once and kept in DATA.
    /// Outside dev mode the server refuses to start without a strong AION_JWT_SECRET.
    #[arg(long)]
    pub dev: bool,
    /// Worker threads per session world [default: available cores].
    #[arg(long)]
    pub threads: Option<usize>,
    /// Seconds between periodic saves of every session.
    #[arg(long, default_value_t = 30)]
    pub save_every: u64,
    /// Do not create the public default session on a fresh database.
    #[arg(long)]
    pub no_default_session: bool,
    /// Most characters in one session's world.
    #[arg(long, default_value_t = Limits::default().characters_max)]
    pub characters_max: usize,
    /// Commands per second per user (sustained).
    #[arg(long, default_value_t = Limits::default().commands_per_second)]
    pub commands_per_second: f64,
    /// WebSocket connections per user.
    #[arg(long, default_value_t = Limits::default().connections_per_user)]
    pub connections_per_user: u32,
    /// Frames queued per WebSocket client before it is resynced from a snapshot.
    #[arg(long, default_value_t = Limits::default().client_queue, value_parser = parse_queue)]
    pub client_queue: usize,
}

fn parse_queue(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=1_000_000).contains(&n) => Ok(n),
        _ => Err(format!("{s:?} is not a queue length in 1..=1000000")),
    }
}

/// Runs the server until Ctrl-C or SIGTERM.
pub fn serve(args: &ServeArgs) -> Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the runtime")?;
    rt.block_on(run(args.clone()))
}

/// Characters a scenario's world will hold.
pub fn scenario_size(s: &Scenario) -> usize {
    s.characters.len() + s.population.as_ref().map_or(0, |p| p.count as usize)
}

/// Parses and checks a scenario for the server (size limit included); errors name file, line and key.
pub fn check_scenario(toml: &str, name: &str, limits: &Limits) -> Result<Scenario, String> {
    let s = crate::shipped::parse_scenario(toml, name).map_err(|e| e.to_string())?;
    let n = scenario_size(&s);
    if n > limits.characters_max {
        return Err(format!("{name}: {n} characters; this server runs at most {}", limits.characters_max));
    }
    Ok(s)
}

/// Builds a stored session's world (from its latest snapshot, else its scenario) and starts it.
pub async fn start(app: &App, row: &SessionRow, snapshot: Option<SnapshotRow>) -> Result<()> {
    let (threads, row2) = (app.threads, row.clone());
    let (sim, epoch) = tokio::task::spawn_blocking(move || -> Result<(Sim, u64)> {
        match snapshot {
            Some(s) => {
                let mut sim = Sim::from_snapshot(&s.bytes, threads).context("restoring the snapshot")?;
                restore_patterns(&mut sim)?;
                Ok((sim, s.epoch + 1))
            }
            None => {
                let sc = crate::shipped::parse_scenario(&row2.scenario_toml, &row2.scenario_name)?;
                let mut sim = Sim::from_scenario(&sc, Some(row2.seed), threads)?;
                sim.set_patterns(shipped::patterns()?)?;
                Ok((sim, 1))
            }
        }
    })
    .await??;
    start_sim(app, row, sim, epoch).await
}

/// Re-attaches the shipped patterns to a restored world whose sifter was saved (or starts sifting).
fn restore_patterns(sim: &mut Sim) -> Result<()> {
    sim.set_patterns(shipped::patterns()?).context("the snapshot's story patterns differ from the shipped ones")
}

/// Starts a session thread around a built world.
pub async fn start_sim(app: &App, row: &SessionRow, sim: Sim, epoch: u64) -> Result<()> {
    let rate: Rate = serde_json::from_str(&row.rate).unwrap_or(Rate::Realtime { ticks_per_second: 10.0 });
    let rate = if row.state == "paused" { Rate::Paused } else { rate };
    let handle = live::spawn(Start { id: row.id, name: row.name.clone(), sim, epoch, rate })?;
    app.live.insert(handle);
    Ok(())
}

/// Saves a running session to storage.
pub async fn save(app: &App, id: i64) -> Result<Saved> {
    let h = app.live.get(id).context("the session is not running")?;
    let s = h.save().await?;
    app.store.save_snapshot(id, s.tick, s.world_hash, s.epoch, &s.bytes, &s.inputs_jsonl).await?;
    Ok(s)
}

/// The signing secret in dev mode: AION_JWT_SECRET if set, else one generated once and kept in
/// `DATA/dev-jwt-secret` (so tokens survive a restart of a dev server).
fn dev_secret(data: &std::path::Path) -> Result<String> {
    let path = data.join("dev-jwt-secret");
    if let Ok(s) = std::fs::read_to_string(&path)
        && s.trim().len() >= 32
    {
        return Ok(s.trim().to_owned());
    }
    let mut raw = [0u8; 32];
    rand::fill(&mut raw);
    let s: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    crate::output::write_atomic(data, "dev-jwt-secret", s.as_bytes())?;
    Ok(s)
}

async fn run(args: ServeArgs) -> Result<()> {
    std::fs::create_dir_all(&args.data).with_context(|| format!("creating {}", args.data.display()))?;
    let env_secret = std::env::var("AION_JWT_SECRET").ok();
    let secret = match (&env_secret, args.dev) {
        (Some(s), _) => Some(s.clone()),
        (None, true) => Some(dev_secret(&args.data)?),
        (None, false) => None,
    };
    let auth = AuthConfig::from_lookup(args.dev, |k| match k {
        "AION_JWT_SECRET" => secret.clone(),
        other => std::env::var(other).ok(),
    })
    .map_err(|e| anyhow::anyhow!("{e} (or run with --dev for a local development server)"))?;
    let url = args
        .database_url
        .clone()
        .or_else(|| std::env::var("DATABASE_URL").ok().filter(|u| !u.is_empty()))
        .unwrap_or_else(|| format!("sqlite://{}", args.data.join("aion.db").display()));
    let store = Store::open(&url).await.with_context(|| format!("opening the database {}", redact(&url)))?;
    let limits = Limits {
        characters_max: args.characters_max,
        commands_per_second: args.commands_per_second,
        connections_per_user: args.connections_per_user,
        client_queue: args.client_queue,
        ..Limits::default()
    };
    let threads = args.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1);
    let app = App {
        store: store.clone(),
        tokens: auth.tokens.clone(),
        live: Registry::default(),
        limits: Arc::new(limits),
        meters: Arc::new(Meters::default()),
        threads,
        next_conn: Arc::default(),
    };
    let rows = store.list_sessions().await?;
    for row in rows.iter().filter(|r| r.state != "stopped") {
        let snap = store.latest_snapshot(row.id).await?;
        if let Err(e) = start(&app, row, snap).await {
            tracing::error!(session = row.id, "could not resume: {e:#}");
            eprintln!("warning: session {} ({}) could not be resumed: {e:#}", row.id, row.name);
        }
    }
    if rows.is_empty() && !args.no_default_session {
        default_session(&app).await?;
    }
    let router = crate::api::routes()
        .merge(crate::page::routes())
        .layer(DefaultBodyLimit::max(app.limits.body_bytes))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(app.clone());
    let listener = tokio::net::TcpListener::bind(args.addr).await.with_context(|| format!("binding {}", args.addr))?;
    let addr = listener.local_addr()?;
    say!("aion serve: listening on http://{addr}/ ({} sessions, database {})", app.live.all().len(), redact(&url));
    let saver = tokio::spawn(save_periodically(app.clone(), Duration::from_secs(args.save_every.max(1))));
    axum::serve(listener, router).with_graceful_shutdown(shutdown_signal()).await.context("serving")?;
    saver.abort();
    say!("aion serve: shutting down, saving {} sessions", app.live.all().len());
    for h in app.live.all() {
        match h.stop().await {
            Ok(s) => {
                store.save_snapshot(h.id, s.tick, s.world_hash, s.epoch, &s.bytes, &s.inputs_jsonl).await?;
                say!("saved session {} at tick {} (world hash {})", h.id, s.tick, crate::output::hex(s.world_hash));
            }
            Err(e) => eprintln!("warning: session {} could not be saved: {e}", h.id),
        }
    }
    store.close().await;
    Ok(())
}

/// Creates the system account and a public Harbor Town session, so a fresh server has something
/// to watch.
async fn default_session(app: &App) -> Result<()> {
    let mut raw = [0u8; 32];
    rand::fill(&mut raw);
    let unusable: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let hash = auth::hash_password_async(unusable).await?;
    let owner = match app.store.user_by_name("aion").await? {
        Some(u) => u.user,
        None => app.store.create_user("aion", &hash).await?,
    };
    let toml = shipped::scenario("harbor_town").context("harbor_town is shipped")?;
    let sc = crate::shipped::parse_scenario(toml, "harbor_town")?;
    let row = app
        .store
        .create_session(&NewSession {
            name: "Harbor Town".into(),
            owner: owner.id,
            scenario_name: "harbor_town".into(),
            scenario_toml: toml.into(),
            seed: sc.world.seed,
            threads: app.threads as u32,
            rate: serde_json::to_string(&Rate::Realtime { ticks_per_second: 2.0 })?,
            public: true,
        })
        .await?;
    start(app, &row, None).await
}

async fn save_periodically(app: App, every: Duration) {
    let mut t = tokio::time::interval(every);
    t.tick().await;
    loop {
        t.tick().await;
        for h in app.live.all() {
            if let Err(e) = save(&app, h.id).await {
                tracing::warn!(session = h.id, "periodic save failed: {e:#}");
            }
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// A database URL without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Refuses arguments that cannot work.
pub fn validate(args: &ServeArgs) -> Result<()> {
    if args.threads == Some(0) {
        bail!("--threads must be at least 1");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_the_log() {
        assert_eq!(redact("postgres://aion:s3cret@localhost:5432/aion"), "postgres://aion:***@localhost:5432/aion");
        assert_eq!(redact("sqlite://aion-data/aion.db"), "sqlite://aion-data/aion.db");
    }
}
