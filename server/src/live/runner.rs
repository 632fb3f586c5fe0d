//! A live session: one world on its own OS thread. Messages (commands, subscriptions, reads) come in
//! over a bounded channel and are handled between ticks; after each tick the thread builds the
//! deltas once and hands them to the hub. Nothing else touches the world, so the session's deltas
//! have one writer and one order.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aion_engine::Sim;
use aion_engine::command::{Command, Control, Input};
use aion_engine::events::Event;
use aion_engine::ids::CharacterId;
use aion_engine::metrics::TickMetrics;
use aion_engine::user::{Focus, Presence, Role, User};
use axum::extract::ws::Utf8Bytes;
use bevy_ecs::entity::Entity;
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};

use super::hub::{Delta, Hub, Ring, Subscriber};
use super::protocol::{self, ControlOp, Position, Rate, Topic};
use super::view::{self, Tracker};
use crate::output::hex;

/// Messages a session's thread accepts before it counts as busy.
pub const INBOX: usize = 4096;
/// Most messages handled while a tick is due before the tick runs anyway.
pub const MESSAGES_PER_DUE_TICK: usize = 256;
/// Ticks between deltas that carry the world hash.
pub const HASH_EVERY: u64 = 10;
/// Ticks of metrics history kept for snapshots and the REST API.
pub const METRICS_KEPT: usize = 3600;
/// Chat lines kept in memory for snapshots.
pub const CHAT_KEPT: usize = 200;
/// Command ids remembered per session for idempotency.
pub const COMMAND_IDS_KEPT: usize = 8192;
/// How long a topic keeps being produced after its last subscriber left, so that a client that
/// reconnects within it resumes from the ring instead of a snapshot.
pub const RESUME_GRACE: Duration = Duration::from_secs(120);

/// What a REST read gets to look at.
pub struct ReadCtx<'a> {
    /// The world.
    pub sim: &'a mut Sim,
    /// Recent per-tick metrics, oldest first.
    pub metrics: &'a VecDeque<TickMetrics>,
}

/// A read of the world run on the session thread between ticks.
pub type ReadFn = Box<dyn FnOnce(ReadCtx<'_>) -> Value + Send>;

/// A saved world: what storage keeps to resume a session.
#[derive(Clone, Debug)]
pub struct Saved {
    /// Binary snapshot.
    pub bytes: Vec<u8>,
    /// Tick.
    pub tick: u64,
    /// World hash at that tick.
    pub world_hash: u64,
    /// Stream epoch when saved.
    pub epoch: u64,
    /// The applied input log as JSON lines (for `aion replay`).
    pub inputs_jsonl: String,
}

/// Attaching a connection: its first frames (a snapshot, or a `replay` marker and the missed deltas).
#[derive(Debug)]
pub struct Attached {
    /// Frames to send before anything from the queue.
    pub frames: Vec<Utf8Bytes>,
}

/// A message to a session thread.
pub enum Msg {
    /// Start sending deltas on `topics` to a connection.
    Attach {
        /// Connection id.
        conn: u64,
        /// Topics.
        topics: BTreeSet<Topic>,
        /// Where the client is, to resume without a snapshot.
        resume: Option<Position>,
        /// Its queue.
        tx: mpsc::Sender<Utf8Bytes>,
        /// Its overflow flag.
        lagging: Arc<AtomicBool>,
        /// First frames.
        reply: oneshot::Sender<Attached>,
    },
    /// Stop sending to a connection.
    Detach {
        /// Connection id.
        conn: u64,
    },
    /// Queue an engine command for the next tick boundary.
    Command {
        /// Issuing account.
        user: i64,
        /// Its role: below director, only its own character may be steered.
        role: Role,
        /// Idempotency key (a repeated key returns the first answer).
        key: Option<String>,
        /// The command.
        command: Command,
        /// The tick before which it applies, or why it was refused.
        reply: oneshot::Sender<Result<u64, String>>,
    },
    /// Change the clock.
    Control {
        /// What to do.
        op: ControlOp,
        /// The status after it.
        reply: oneshot::Sender<Result<LiveStatus, String>>,
    },
    /// Broadcast a chat line (already stored).
    Chat {
        /// The line as clients see it.
        line: Value,
    },
    /// A user connected, disconnected or changed focus.
    Presence {
        /// Account.
        user: i64,
        /// Display name.
        name: String,
        /// Role in the session.
        role: Role,
        /// Connections +1 / -1 / 0.
        delta: i32,
        /// New focus, if it changed.
        focus: Option<String>,
    },
    /// Read the world.
    Read {
        /// The read.
        f: ReadFn,
        /// Its result.
        reply: oneshot::Sender<Value>,
    },
    /// Save the world (snapshot + input log).
    Save {
        /// The saved world.
        reply: oneshot::Sender<Saved>,
    },
    /// Save and end the thread.
    Stop {
        /// The saved world.
        reply: oneshot::Sender<Saved>,
    },
}

/// What anyone may read about a session without asking its thread.
#[derive(Clone, Debug, Serialize)]
pub struct LiveStatus {
    /// Ticks run.
    pub tick: u64,
    /// Last delta's seq.
    pub seq: u64,
    /// Stream epoch.
    pub epoch: u64,
    /// Clock.
    pub rate: Rate,
    /// World hash after the last tick (hex).
    pub world_hash: String,
    /// Characters.
    pub characters: usize,
    /// Live subscribers.
    pub subscribers: usize,
    /// Subscribers dropped for falling behind, since start.
    pub dropped: u64,
    /// Mean milliseconds per tick over the last second of ticks.
    pub tick_ms: f64,
}

/// A running session as the rest of the server holds it.
#[derive(Clone)]
pub struct SessionHandle {
    /// Session id (storage row).
    pub id: i64,
    tx: SyncSender<Msg>,
    status: Arc<RwLock<LiveStatus>>,
}

/// The session thread is gone or its inbox is full.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Too many messages waiting.
    #[error("the session is busy; try again shortly")]
    Busy,
    /// The thread has stopped.
    #[error("the session has stopped")]
    Stopped,
}

impl SessionHandle {
    /// Sends a message without waiting.
    pub fn send(&self, msg: Msg) -> Result<(), SendError> {
        self.tx.try_send(msg).map_err(|e| match e {
            TrySendError::Full(_) => SendError::Busy,
            TrySendError::Disconnected(_) => SendError::Stopped,
        })
    }

    /// The latest status.
    pub fn status(&self) -> LiveStatus {
        self.status.read().map(|s| s.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    /// Runs `f` on the world between ticks and returns its result.
    pub async fn read(&self, f: impl FnOnce(ReadCtx<'_>) -> Value + Send + 'static) -> Result<Value, SendError> {
        let (reply, rx) = oneshot::channel();
        self.send(Msg::Read { f: Box::new(f), reply })?;
        rx.await.map_err(|_| SendError::Stopped)
    }

    /// Saves the world.
    pub async fn save(&self) -> Result<Saved, SendError> {
        let (reply, rx) = oneshot::channel();
        self.send(Msg::Save { reply })?;
        rx.await.map_err(|_| SendError::Stopped)
    }

    /// Saves the world and stops the thread (waits for room in the inbox).
    pub async fn stop(&self) -> Result<Saved, SendError> {
        let (reply, rx) = oneshot::channel();
        let tx = self.tx.clone();
        tokio::task::spawn_blocking(move || tx.send(Msg::Stop { reply }).map_err(|_| SendError::Stopped))
            .await
            .map_err(|_| SendError::Stopped)?
            .map_err(|_| SendError::Stopped)?;
        rx.await.map_err(|_| SendError::Stopped)
    }
}

/// Everything a session needs to start.
pub struct Start {
    /// Session id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// The world.
    pub sim: Sim,
    /// Stream epoch (bumped on every (re)start).
    pub epoch: u64,
    /// Clock.
    pub rate: Rate,
}

/// Starts a session's thread.
pub fn spawn(start: Start) -> std::io::Result<SessionHandle> {
    let (tx, rx) = std::sync::mpsc::sync_channel(INBOX);
    let mut sim = start.sim;
    let status = Arc::new(RwLock::new(LiveStatus {
        tick: sim.tick(),
        seq: 0,
        epoch: start.epoch,
        rate: start.rate,
        world_hash: hex(sim.world_hash()),
        characters: sim.graph().n_characters(),
        subscribers: 0,
        dropped: 0,
        tick_ms: 0.0,
    }));
    let mut tracker = Tracker::default();
    tracker.reset(&mut sim);
    let runner = Runner {
        id: start.id,
        name: start.name,
        sim,
        epoch: start.epoch,
        rate: start.rate,
        last_running: match start.rate {
            Rate::Paused => Rate::Realtime { ticks_per_second: 10.0 },
            r => r,
        },
        seq: 0,
        last_on_topic: BTreeMap::new(),
        gap_before: BTreeMap::new(),
        last_wanted: BTreeMap::new(),
        ring: Ring::default(),
        hub: Hub::default(),
        tracker,
        metrics: VecDeque::new(),
        chat: VecDeque::new(),
        presence: BTreeMap::new(),
        commands_seen: BTreeMap::new(),
        commands_order: VecDeque::new(),
        snapshot_cache: None,
        status: status.clone(),
        tick_times: VecDeque::new(),
    };
    std::thread::Builder::new().name(format!("session-{}", start.id)).spawn(move || runner.run(rx))?;
    Ok(SessionHandle { id: start.id, tx, status })
}

/// A user's presence as the session shows it.
#[derive(Clone, Debug)]
struct Seen {
    name: String,
    role: Role,
    connections: u32,
    focus: String,
    entity: Entity,
}

struct Runner {
    id: i64,
    name: String,
    sim: Sim,
    epoch: u64,
    rate: Rate,
    last_running: Rate,
    seq: u64,
    last_on_topic: BTreeMap<Topic, u64>,
    /// Per topic: a resume from a position before this seq may have missed changes (the topic was
    /// not produced for some tick because nobody watched it).
    gap_before: BTreeMap<Topic, u64>,
    /// When each topic last had a subscriber.
    last_wanted: BTreeMap<Topic, Instant>,
    ring: Ring,
    hub: Hub,
    tracker: Tracker,
    metrics: VecDeque<TickMetrics>,
    chat: VecDeque<Value>,
    presence: BTreeMap<i64, Seen>,
    commands_seen: BTreeMap<(i64, String), Result<u64, String>>,
    commands_order: VecDeque<(i64, String)>,
    /// The last snapshot built: (seq, tick, topics, frame).
    snapshot_cache: Option<(u64, u64, BTreeSet<Topic>, Utf8Bytes)>,
    status: Arc<RwLock<LiveStatus>>,
    tick_times: VecDeque<(Instant, Duration)>,
}

impl Runner {
    fn run(mut self, rx: Receiver<Msg>) {
        let _span = tracing::info_span!("session", id = self.id).entered();
        let mut next = Instant::now();
        // Messages handled since the last tick while one was due.
        let mut burst = 0;
        loop {
            let wait = match self.rate {
                Rate::Paused => None,
                Rate::Fast => Some(Duration::ZERO),
                Rate::Realtime { .. } => Some(next.saturating_duration_since(Instant::now())),
            };
            let msg = match wait {
                None => match rx.recv() {
                    Ok(m) => Some(m),
                    Err(_) => return,
                },
                Some(d) if d.is_zero() => match rx.try_recv() {
                    Ok(m) => Some(m),
                    Err(std::sync::mpsc::TryRecvError::Empty) => None,
                    Err(std::sync::mpsc::TryRecvError::Disconnected) => return,
                },
                Some(d) => match rx.recv_timeout(d) {
                    Ok(m) => Some(m),
                    Err(RecvTimeoutError::Timeout) => None,
                    Err(RecvTimeoutError::Disconnected) => return,
                },
            };
            if let Some(msg) = msg {
                if !self.handle(msg) {
                    return;
                }
                // A steady stream of messages must not starve a due tick.
                let due = wait.is_some_and(|d| d.is_zero()) && !matches!(self.rate, Rate::Paused);
                burst = if due { burst + 1 } else { 0 };
                if burst < MESSAGES_PER_DUE_TICK {
                    continue;
                }
            }
            burst = 0;
            self.tick();
            if let Rate::Realtime { ticks_per_second } = self.rate {
                let period = Duration::from_secs_f64(1.0 / ticks_per_second);
                next += period;
                let now = Instant::now();
                if next + period < now {
                    next = now;
                }
            }
        }
    }

    /// Handles one message; `false` ends the thread.
    fn handle(&mut self, msg: Msg) -> bool {
        match msg {
            Msg::Attach { conn, topics, resume, tx, lagging, reply } => {
                let frames = self.attach_frames(&topics, resume);
                self.hub.add(Subscriber { id: conn, topics, tx, lagging });
                let _ = reply.send(Attached { frames });
                self.publish_status();
            }
            Msg::Detach { conn } => {
                self.hub.remove(conn);
                self.publish_status();
            }
            Msg::Command { user, role, key, command, reply } => {
                let answer = self.command(user, role, key, command);
                let _ = reply.send(answer);
            }
            Msg::Control { op, reply } => {
                let r = self.control(op);
                let _ = reply.send(r);
            }
            Msg::Chat { line } => {
                self.chat.push_back(line.clone());
                while self.chat.len() > CHAT_KEPT {
                    self.chat.pop_front();
                }
                self.emit(Topic::Chat, line, None);
            }
            Msg::Presence { user, name, role, delta, focus } => self.presence(user, name, role, delta, focus),
            Msg::Read { f, reply } => {
                let v = f(ReadCtx { sim: &mut self.sim, metrics: &self.metrics });
                let _ = reply.send(v);
            }
            Msg::Save { reply } => {
                let _ = reply.send(self.save());
            }
            Msg::Stop { reply } => {
                let _ = reply.send(self.save());
                return false;
            }
        }
        true
    }

    fn save(&mut self) -> Saved {
        let mut inputs = String::new();
        for i in self.sim.input_log() {
            if let Ok(line) = serde_json::to_string(i) {
                inputs.push_str(&line);
                inputs.push('\n');
            }
        }
        Saved {
            bytes: self.sim.snapshot(),
            tick: self.sim.tick(),
            world_hash: self.sim.world_hash(),
            epoch: self.epoch,
            inputs_jsonl: inputs,
        }
    }

    fn command(&mut self, user: i64, role: Role, key: Option<String>, command: Command) -> Result<u64, String> {
        if let Some(k) = &key
            && let Some(first) = self.commands_seen.get(&(user, k.clone()))
        {
            return first.clone();
        }
        let tick = self.sim.tick() + 1;
        let answer = match self.may_play(user, role, &command) {
            Ok(()) => self.sim.submit(Input { tick, command }).map(|()| tick).map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        if let Some(k) = key {
            self.commands_seen.insert((user, k.clone()), answer.clone());
            self.commands_order.push_back((user, k));
            while self.commands_order.len() > COMMAND_IDS_KEPT {
                if let Some(old) = self.commands_order.pop_front() {
                    self.commands_seen.remove(&old);
                }
            }
        }
        answer
    }

    /// Below director, a user may only possess a free character for itself and steer or release
    /// the character it possesses.
    fn may_play(&mut self, user: i64, role: Role, command: &Command) -> Result<(), String> {
        if role >= Role::Director {
            return Ok(());
        }
        let holder = |sim: &mut Sim, c: CharacterId| -> Result<Option<u64>, String> {
            let g = sim.graph();
            let e = g.slot_of(c).map(|s| g.slot_entity[s as usize]).ok_or(format!("unknown character {}", c.0))?;
            Ok(sim.world().get::<Control>(e).and_then(|c| c.possessed_by))
        };
        let me = user as u64;
        match command {
            Command::Possess { character, user: u } => {
                if *u != me {
                    return Err("a player may only possess a character for itself".into());
                }
                match holder(&mut self.sim, *character)? {
                    Some(other) if other != me => {
                        Err(format!("character {} is possessed by someone else", character.0))
                    }
                    _ => Ok(()),
                }
            }
            Command::Release { character } | Command::Act { character, .. } => {
                if holder(&mut self.sim, *character)? == Some(me) {
                    Ok(())
                } else {
                    Err(format!("character {} is not possessed by you", character.0))
                }
            }
            _ => Err("this command needs the director role".into()),
        }
    }

    fn control(&mut self, op: ControlOp) -> Result<LiveStatus, String> {
        match op {
            ControlOp::Pause => self.rate = Rate::Paused,
            ControlOp::Resume => self.rate = self.last_running,
            ControlOp::Step => {
                self.rate = Rate::Paused;
                self.tick();
            }
            ControlOp::SetRate { rate } => {
                rate.check()?;
                self.rate = rate;
                if !matches!(rate, Rate::Paused) {
                    self.last_running = rate;
                }
            }
        }
        self.snapshot_cache = None; // snapshots show the rate
        let clock = json!({"rate": self.rate, "tick": self.sim.tick(), "op": op});
        self.emit(Topic::Clock, clock, None);
        self.publish_status();
        Ok(self.status_now())
    }

    fn presence(&mut self, user: i64, name: String, role: Role, delta: i32, focus: Option<String>) {
        let seen = match self.presence.get_mut(&user) {
            Some(s) => s,
            None => {
                let account = user as u64;
                let entity =
                    self.sim.world_mut().spawn((User { account, name: name.clone() }, role, Presence::default())).id();
                self.presence.entry(user).or_insert(Seen {
                    name: name.clone(),
                    role,
                    connections: 0,
                    focus: "world".into(),
                    entity,
                })
            }
        };
        seen.connections = seen.connections.saturating_add_signed(delta);
        seen.role = role;
        if let Some(f) = focus {
            seen.focus = f;
        }
        let focus = match seen.focus.strip_prefix("character:").and_then(|c| c.parse::<u32>().ok()) {
            Some(c) => Focus::Character(CharacterId(c)),
            None if seen.focus == "world" => Focus::World,
            None => Focus::View(seen.focus.clone()),
        };
        let (entity, connected) = (seen.entity, seen.connections > 0);
        if let Ok(mut e) = self.sim.world_mut().get_entity_mut(entity) {
            e.insert((role, Presence { connected, focus, possessing: None }));
        }
        let payload = self.presence_json();
        self.emit(Topic::Presence, payload, None);
    }

    fn presence_json(&self) -> Value {
        Value::Array(
            self.presence
                .iter()
                .filter(|(_, s)| s.connections > 0)
                .map(|(u, s)| json!({"user": u, "name": s.name, "role": s.role, "focus": s.focus, "connections": s.connections}))
                .collect(),
        )
    }

    /// Appends a delta on `topic` and sends it to its subscribers.
    fn emit(&mut self, topic: Topic, payload: Value, hash: Option<&str>) {
        self.seq += 1;
        let prev = self.last_on_topic.insert(topic, self.seq).unwrap_or(0);
        // Wall-clock send time (unix ms): lets a client on the same clock measure delta latency.
        let sent_ms =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        let mut extra = vec![("prev", json!(prev)), ("epoch", json!(self.epoch)), ("sent_ms", json!(sent_ms))];
        if let Some(h) = hash {
            extra.push(("world_hash", json!(h)));
        }
        let name = topic.name();
        let text = protocol::frame("delta", Some(&name), self.seq, self.sim.tick(), &extra, &payload);
        let d = Delta { seq: self.seq, topic, text: text.into() };
        self.hub.publish(&d);
        self.ring.push(d);
    }

    /// Marks that `topic` skipped a tick: resuming it from before now needs a snapshot.
    fn skip(&mut self, topic: Topic) {
        self.gap_before.insert(topic, self.seq + 1);
    }

    /// Whether to build `topic` this tick: someone receives it, or did within [`RESUME_GRACE`].
    fn produce(&mut self, topic: Topic, now: Instant) -> bool {
        if self.hub.wanted(topic) {
            self.last_wanted.insert(topic, now);
            return true;
        }
        self.last_wanted.get(&topic).is_some_and(|t| now.duration_since(*t) < RESUME_GRACE)
    }

    fn tick(&mut self) {
        let started = Instant::now();
        let from = self.sim.events().next_seq();
        self.sim.step();
        let events: Vec<Event> = self.sim.events().since(from).cloned().collect();
        let m = self.sim.metrics();
        self.metrics.push_back(m);
        while self.metrics.len() > METRICS_KEPT {
            self.metrics.pop_front();
        }
        let hash = m.tick.is_multiple_of(HASH_EVERY).then(|| hex(m.world_hash));
        let hash = hash.as_deref();
        if self.produce(Topic::Feed, started) {
            let names = self.sim.names();
            let mut feed = view::events_json(&events, &names);
            view::compact_feed(&mut feed);
            self.emit(Topic::Feed, feed, hash);
        } else {
            self.skip(Topic::Feed);
        }
        if self.produce(Topic::Graph, started) {
            let g = self.tracker.graph_delta(&mut self.sim, &events);
            self.emit(Topic::Graph, g, hash);
        } else {
            self.skip(Topic::Graph);
        }
        self.emit(Topic::Metrics, view::metrics_json(&m), hash);
        if self.produce(Topic::Arcs, started) {
            if let Some(a) = view::arcs_delta(&mut self.sim, &events) {
                self.emit(Topic::Arcs, a, hash);
            }
        } else {
            self.skip(Topic::Arcs);
        }
        let mut watched = self.hub.watched();
        watched
            .extend(self.last_wanted.keys().filter_map(|t| if let Topic::Character(c) = t { Some(*c) } else { None }));
        for c in watched {
            let topic = Topic::Character(c);
            if !self.produce(topic, started) {
                self.skip(topic);
                self.last_wanted.remove(&topic);
                continue;
            }
            if let Some(detail) = view::character(&mut self.sim, CharacterId(c)) {
                self.emit(topic, detail, hash);
            }
        }
        let now = Instant::now();
        self.tick_times.push_back((now, now - started));
        while self.tick_times.front().is_some_and(|(t, _)| now.duration_since(*t) > Duration::from_secs(1)) {
            self.tick_times.pop_front();
        }
        self.publish_status();
    }

    fn status_now(&self) -> LiveStatus {
        let n = self.tick_times.len().max(1) as f64;
        LiveStatus {
            tick: self.sim.tick(),
            seq: self.seq,
            epoch: self.epoch,
            rate: self.rate,
            world_hash: hex(self.sim.world_hash()),
            characters: self.sim.graph().n_characters(),
            subscribers: self.hub.len(),
            dropped: self.hub.dropped,
            tick_ms: self.tick_times.iter().map(|(_, d)| d.as_secs_f64() * 1e3).sum::<f64>() / n,
        }
    }

    fn publish_status(&self) {
        let s = self.status_now();
        match self.status.write() {
            Ok(mut w) => *w = s,
            Err(p) => *p.into_inner() = s,
        }
    }

    /// The first frames for a connection: missed deltas when it can resume, else a snapshot.
    fn attach_frames(&mut self, topics: &BTreeSet<Topic>, resume: Option<Position>) -> Vec<Utf8Bytes> {
        if let Some(p) = resume
            && p.epoch == self.epoch
            && topics.iter().all(|t| self.gap_before.get(t).is_none_or(|g| p.seq >= *g))
            && let Some(missed) = self.ring.after(p.seq, self.seq, topics)
        {
            let marker = protocol::frame(
                "replay",
                None,
                self.seq,
                self.sim.tick(),
                &[("epoch", json!(self.epoch))],
                &json!({"from": p.seq, "to": self.seq, "count": missed.len()}),
            );
            let mut frames = vec![Utf8Bytes::from(marker)];
            frames.extend(missed);
            return frames;
        }
        vec![self.snapshot_frame(topics)]
    }

    fn snapshot_frame(&mut self, topics: &BTreeSet<Topic>) -> Utf8Bytes {
        // A cached snapshot stays exact while the world has not ticked and no delta on these topics
        // came after it (deltas on other topics, e.g. presence as observers connect, do not touch
        // it): its `seq` is then still a position from which these topics continue without a gap.
        if let Some((seq, tick, t, text)) = &self.snapshot_cache
            && *tick == self.sim.tick()
            && t == topics
            && topics.iter().all(|t| self.last_on_topic.get(t).is_none_or(|last| last <= seq))
        {
            return text.clone();
        }
        let info = self.sim.info().clone();
        let mut state = json!({
            "session": {"id": self.id, "name": self.name},
            "world": {"name": info.name, "seed": info.seed, "genre": info.genre},
            "rate": self.rate,
            "characters": view::characters(&mut self.sim),
            "topics": topics.iter().map(|t| t.name()).collect::<Vec<_>>(),
        });
        if topics.contains(&Topic::Graph) {
            state["relationships"] = view::relationships(&self.sim);
            state["groups"] = view::groups(&mut self.sim);
        }
        if topics.contains(&Topic::Arcs) {
            state["arcs"] = view::arcs(&mut self.sim, 200);
        }
        if topics.contains(&Topic::Metrics) {
            let recent: Vec<Value> = self.metrics.iter().rev().take(300).rev().map(view::metrics_json).collect();
            state["metrics"] = Value::Array(recent);
        }
        if topics.contains(&Topic::Feed) {
            let names = self.sim.names();
            let log = self.sim.events();
            let start = log.next_seq().saturating_sub(view::SNAPSHOT_FEED as u64);
            let mut feed = view::events_json(log.since(start), &names);
            view::compact_feed(&mut feed);
            state["feed"] = feed;
        }
        if topics.contains(&Topic::Presence) {
            state["presence"] = self.presence_json();
        }
        if topics.contains(&Topic::Chat) {
            state["chat"] = Value::Array(self.chat.iter().cloned().collect());
        }
        let mut chars = serde_json::Map::new();
        for t in topics {
            if let Topic::Character(c) = t
                && let Some(d) = view::character(&mut self.sim, CharacterId(*c))
            {
                chars.insert(c.to_string(), d);
            }
        }
        if !chars.is_empty() {
            state["character"] = Value::Object(chars);
        }
        let text: Utf8Bytes = protocol::frame(
            "snapshot",
            None,
            self.seq,
            self.sim.tick(),
            &[("epoch", json!(self.epoch)), ("world_hash", json!(hex(self.sim.world_hash())))],
            &state,
        )
        .into();
        self.snapshot_cache = Some((self.seq, self.sim.tick(), topics.clone(), text.clone()));
        text
    }
}
