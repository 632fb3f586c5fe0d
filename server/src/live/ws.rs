//! One observatory WebSocket connection: authenticate, `hello`, `subscribe`, then the first frames
//! (snapshot or replay) and live deltas, while answering commands, chat, focus and pings.

use std::collections::{BTreeSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aion_engine::user::Role;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::SessionHandle;
use super::protocol::{self, ClientMessage, Position, Topic, close};
use super::runner::Msg;
use crate::app::{ApiError, App};
use crate::auth::Claims;
use crate::perm::{self, Act};

/// Resyncs (queue overflows) allowed within [`RESYNC_WINDOW`] before the client is closed 4499.
pub const RESYNCS_MAX: usize = 3;
/// Window over which resyncs are counted.
pub const RESYNC_WINDOW: Duration = Duration::from_secs(60);

/// Query string of the WebSocket URL: browsers cannot set headers, so the token travels here.
#[derive(Deserialize)]
pub struct WsQuery {
    /// Access token.
    pub token: Option<String>,
}

/// `GET /api/v1/sessions/{id}/ws`: upgrades to the observatory protocol.
pub async fn upgrade(
    ws: WebSocketUpgrade,
    Path(session): Path<i64>,
    Query(q): Query<WsQuery>,
    State(app): State<App>,
) -> Response {
    // Frames up to 4x the limit are read so that an oversize one can be refused with 4413.
    let cap = app.limits.frame_bytes * 4;
    ws.protocols([protocol::SUBPROTOCOL]).max_message_size(cap).max_frame_size(cap).on_upgrade(
        move |socket| async move {
            let mut conn = Conn { socket, app, session, closed: false };
            conn.run(q.token).await;
        },
    )
}

struct Conn {
    socket: WebSocket,
    app: App,
    session: i64,
    closed: bool,
}

/// What a subscribed connection holds.
struct Sub {
    topics: BTreeSet<Topic>,
    rx: mpsc::Receiver<Utf8Bytes>,
    lagging: Arc<AtomicBool>,
}

impl Conn {
    async fn close(&mut self, code: u16, reason: &str) {
        if !self.closed {
            self.closed = true;
            let _ = self.socket.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
        }
    }

    async fn send(&mut self, text: impl Into<Utf8Bytes>) -> bool {
        self.socket.send(Message::Text(text.into())).await.is_ok()
    }

    async fn run(&mut self, token: Option<String>) {
        let claims = match token.as_deref().map(|t| self.app.tokens.verify(t)) {
            Some(Ok(c)) => c,
            Some(Err(e)) => return self.close(close::UNAUTHENTICATED, &format!("invalid token: {e}")).await,
            None => return self.close(close::UNAUTHENTICATED, "missing ?token=").await,
        };
        let role = match self.app.role(&claims, self.session).await {
            Ok(r) => r,
            Err(ApiError { code: "not_found", message, .. }) => return self.close(close::NOT_FOUND, &message).await,
            Err(e) => return self.close(close::FORBIDDEN, &e.message).await,
        };
        let Some(handle) = self.app.live.get(self.session) else {
            return self.close(close::NOT_FOUND, "the session is not running").await;
        };
        if !self.app.meters.connect(claims.sub, &self.app.limits) {
            return self.close(close::RATE_LIMITED, "too many connections for this user").await;
        }
        let _ = handle.send(Msg::Presence { user: claims.sub, name: claims.name.clone(), role, delta: 1, focus: None });
        self.serve(&handle, &claims, role).await;
        let _ =
            handle.send(Msg::Presence { user: claims.sub, name: claims.name.clone(), role, delta: -1, focus: None });
        self.app.meters.disconnect(claims.sub);
    }

    async fn serve(&mut self, handle: &SessionHandle, who: &Claims, role: Role) {
        let st = handle.status();
        let limits = self.app.limits.clone();
        let hello = protocol::frame(
            "hello",
            None,
            st.seq,
            st.tick,
            &[("epoch", json!(st.epoch))],
            &json!({
                "protocol": protocol::SUBPROTOCOL, "session": self.session, "epoch": st.epoch, "seq": st.seq,
                "tick": st.tick, "heartbeat_ms": limits.heartbeat_ms, "limits": &*limits,
                "topics": Topic::FIXED.iter().map(|t| t.name()).chain(["character:<id>".into()]).collect::<Vec<_>>(),
                "characters": st.characters, "rate": st.rate,
                "you": {"user": who.sub, "name": who.name, "role": perm::role_name(role)},
            }),
        );
        if !self.send(hello).await {
            return;
        }
        let conn = self.app.conn_id();
        let mut sub: Option<Sub> = None;
        let mut resyncs: VecDeque<Instant> = VecDeque::new();
        let mut last_heard = Instant::now();
        let hb = Duration::from_millis(limits.heartbeat_ms);
        let mut check = tokio::time::interval(hb / 2);
        loop {
            let queued = async {
                match sub.as_mut() {
                    Some(s) => s.rx.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                incoming = self.socket.recv() => {
                    let text = match incoming {
                        None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                        Some(Ok(Message::Text(t))) => t,
                        Some(Ok(Message::Binary(_))) => {
                            self.close(close::BAD_MESSAGE, "binary frames are not part of the protocol").await;
                            break;
                        }
                        // Pongs (answers to our pings) and pings count as signs of life.
                        Some(Ok(_)) => { last_heard = Instant::now(); continue; }
                    };
                    last_heard = Instant::now();
                    if text.len() > limits.frame_bytes {
                        self.close(close::TOO_BIG, &format!("frames are limited to {} bytes", limits.frame_bytes)).await;
                        break;
                    }
                    let msg: ClientMessage = match serde_json::from_str(text.as_str()) {
                        Ok(m) => m,
                        Err(e) => {
                            self.close(close::BAD_MESSAGE, &truncate(&format!("bad message: {e}"), 120)).await;
                            break;
                        }
                    };
                    if !self.message(msg, handle, who, role, conn, &mut sub).await {
                        break;
                    }
                }
                frame = queued => {
                    let Some(frame) = frame else {
                        // The hub let go of us; if we overflowed, resync below, else the session ended.
                        if sub.as_ref().is_some_and(|s| s.lagging.load(Ordering::Acquire)) {
                            if !self.resync(handle, conn, &mut sub, &mut resyncs).await { break; }
                            continue;
                        }
                        self.close(close::NOT_FOUND, "the session stopped").await;
                        break;
                    };
                    if sub.as_ref().is_some_and(|s| s.lagging.load(Ordering::Acquire)) {
                        if !self.resync(handle, conn, &mut sub, &mut resyncs).await { break; }
                        continue;
                    }
                    if !self.send(frame).await { break; }
                }
                _ = check.tick() => {
                    if last_heard.elapsed() > hb * 2 {
                        self.close(close::TIMEOUT, "no frame within two heartbeats").await;
                        break;
                    }
                    // A protocol-level ping: browsers and WebSocket libraries answer it by themselves.
                    if self.socket.send(Message::Ping(Default::default())).await.is_err() {
                        break;
                    }
                }
            }
        }
        let _ = handle.send(Msg::Detach { conn });
    }

    /// Drops what is queued and starts again from a fresh snapshot; too many in a row closes 4499.
    async fn resync(
        &mut self,
        handle: &SessionHandle,
        conn: u64,
        sub: &mut Option<Sub>,
        resyncs: &mut VecDeque<Instant>,
    ) -> bool {
        let now = Instant::now();
        resyncs.push_back(now);
        while resyncs.front().is_some_and(|t| now.duration_since(*t) > RESYNC_WINDOW) {
            resyncs.pop_front();
        }
        if resyncs.len() > RESYNCS_MAX {
            self.close(close::SLOW_CONSUMER, "fell behind too often").await;
            return false;
        }
        let topics = sub.take().map(|s| s.topics).unwrap_or_default();
        self.attach(handle, conn, topics, None, sub).await
    }

    /// Registers with the session thread and sends the first frames.
    async fn attach(
        &mut self,
        handle: &SessionHandle,
        conn: u64,
        topics: BTreeSet<Topic>,
        resume: Option<Position>,
        sub: &mut Option<Sub>,
    ) -> bool {
        let (tx, rx) = mpsc::channel(self.app.limits.client_queue.max(1));
        let lagging = Arc::new(AtomicBool::new(false));
        let (reply, answer) = oneshot::channel();
        let msg = Msg::Attach { conn, topics: topics.clone(), resume, tx, lagging: lagging.clone(), reply };
        if handle.send(msg).is_err() {
            self.close(close::NOT_FOUND, "the session is not running").await;
            return false;
        }
        let Ok(first) = answer.await else {
            self.close(close::NOT_FOUND, "the session stopped").await;
            return false;
        };
        for f in first.frames {
            if !self.send(f).await {
                return false;
            }
        }
        *sub = Some(Sub { topics, rx, lagging });
        true
    }

    /// Handles one client message; `false` closes the connection.
    async fn message(
        &mut self,
        msg: ClientMessage,
        handle: &SessionHandle,
        who: &Claims,
        role: Role,
        conn: u64,
        sub: &mut Option<Sub>,
    ) -> bool {
        let st = handle.status();
        let error = |code: &str, m: &str, id: Option<&str>| protocol::error_frame(st.seq, st.tick, code, m, id);
        match msg {
            ClientMessage::Subscribe { topics, resume } => {
                if sub.is_some() {
                    self.close(close::DUPLICATE_SUBSCRIPTION, "already subscribed; send `topics` to change").await;
                    return false;
                }
                let Some(topics) = self.topics(&topics, st.characters).await else { return false };
                self.attach(handle, conn, topics, resume, sub).await
            }
            ClientMessage::Topics { topics } => {
                let Some(topics) = self.topics(&topics, st.characters).await else { return false };
                let _ = handle.send(Msg::Detach { conn });
                *sub = None;
                self.attach(handle, conn, topics, None, sub).await
            }
            ClientMessage::Ping { t } => {
                self.send(protocol::frame("pong", None, st.seq, st.tick, &[], &json!({ "t": t }))).await
            }
            ClientMessage::Command { id, command } => {
                let Some(role) = self.current_role(who).await else { return false };
                if !perm::allowed(role, perm::needs(&command)) {
                    return self.send(error("forbidden", "your role may not send this command", Some(&id))).await;
                }
                if let Err(wait) = self.app.meters.take(who.sub, &self.app.limits) {
                    let m = format!("rate limited; retry after {} ms", wait.as_millis());
                    return self.send(error("rate_limited", &m, Some(&id))).await;
                }
                let (reply, answer) = oneshot::channel();
                let sent = handle.send(Msg::Command { user: who.sub, role, key: Some(id.clone()), command, reply });
                let out = match (sent, answer.await) {
                    (Ok(()), Ok(Ok(tick))) => {
                        protocol::frame("ack", None, st.seq, st.tick, &[], &json!({"id": id, "applied_at_tick": tick}))
                    }
                    (Ok(()), Ok(Err(e))) => error("command_refused", &e, Some(&id)),
                    _ => error("busy", "the session is busy or stopped", Some(&id)),
                };
                self.send(out).await
            }
            ClientMessage::Control { id, op } => {
                let Some(role) = self.current_role(who).await else { return false };
                if !perm::allowed(role, Act::Control) {
                    return self
                        .send(error("forbidden", "only directors and owners control the clock", Some(&id)))
                        .await;
                }
                if let Err(wait) = self.app.meters.take(who.sub, &self.app.limits) {
                    let m = format!("rate limited; retry after {} ms", wait.as_millis());
                    return self.send(error("rate_limited", &m, Some(&id))).await;
                }
                let (reply, answer) = oneshot::channel();
                let out = match (handle.send(Msg::Control { op, reply }), answer.await) {
                    (Ok(()), Ok(Ok(s))) => {
                        protocol::frame("ack", None, s.seq, s.tick, &[], &json!({"id": id, "status": s}))
                    }
                    (Ok(()), Ok(Err(e))) => error("bad_control", &e, Some(&id)),
                    _ => error("busy", "the session is busy or stopped", Some(&id)),
                };
                self.send(out).await
            }
            ClientMessage::Chat { text } => {
                if self.current_role(who).await.is_none() {
                    return false;
                }
                let text = text.trim();
                if text.is_empty() || text.len() > protocol::CHAT_MAX {
                    let m = format!("chat lines are 1..={} bytes", protocol::CHAT_MAX);
                    return self.send(error("bad_chat", &m, None)).await;
                }
                if let Err(wait) = self.app.meters.take(who.sub, &self.app.limits) {
                    let m = format!("rate limited; retry after {} ms", wait.as_millis());
                    return self.send(error("rate_limited", &m, None)).await;
                }
                match self.app.store.add_chat(self.session, who.sub, text).await {
                    Ok(row) => {
                        let line = json!({"id": row.id, "user": row.user_id, "name": row.username, "text": row.text, "at": row.at, "tick": st.tick});
                        let _ = handle.send(Msg::Chat { line });
                        true
                    }
                    Err(e) => self.send(error("chat_failed", &e.to_string(), None)).await,
                }
            }
            ClientMessage::Focus { focus } => {
                if focus.len() > 64 {
                    return self.send(error("bad_focus", "focus names are at most 64 bytes", None)).await;
                }
                let _ = handle.send(Msg::Presence {
                    user: who.sub,
                    name: who.name.clone(),
                    role,
                    delta: 0,
                    focus: Some(focus),
                });
                true
            }
        }
    }

    /// The user's role now (read from storage for every write, so a demotion or removal takes effect
    /// at once); a user no longer a member is closed 4403.
    async fn current_role(&mut self, who: &Claims) -> Option<Role> {
        match self.app.role(who, self.session).await {
            Ok(r) => Some(r),
            Err(e) => {
                self.close(close::FORBIDDEN, &truncate(&e.message, 120)).await;
                None
            }
        }
    }

    /// Parses topic names; an unknown topic or character closes the connection 4403.
    async fn topics(&mut self, names: &[String], characters: usize) -> Option<BTreeSet<Topic>> {
        let mut out = BTreeSet::new();
        for n in names {
            match Topic::parse(n) {
                Some(Topic::Character(c)) if c as usize >= characters => {
                    self.close(close::FORBIDDEN, &truncate(&format!("no character {c}"), 120)).await;
                    return None;
                }
                Some(t) => {
                    out.insert(t);
                }
                None => {
                    self.close(close::FORBIDDEN, &truncate(&format!("unknown topic {n:?}"), 120)).await;
                    return None;
                }
            }
        }
        if out.is_empty() {
            self.close(close::BAD_MESSAGE, "subscribe to at least one topic").await;
            return None;
        }
        Some(out)
    }
}

/// At most `n` bytes of `s`, on a char boundary (close reasons are limited to 123 bytes).
fn truncate(s: &str, n: usize) -> String {
    let mut end = s.len().min(n);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}
