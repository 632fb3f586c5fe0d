//! Shared server state, the error type every route returns, the authenticated-user extractor and
//! the per-user limits (commands per second, connections).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aion_engine::user::Role;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::auth::{Claims, Tokens};
use crate::live::{Registry, SessionHandle};
use crate::perm::{self, Act};
use crate::store::{Store, StoreError};

/// Limits the server enforces (documented in docs/observatory.md and the OpenAPI document).
#[derive(Clone, Debug, Serialize)]
pub struct Limits {
    /// Largest request body in bytes (a scenario upload included).
    pub body_bytes: usize,
    /// Largest client WebSocket frame in bytes.
    pub frame_bytes: usize,
    /// Most characters in a session's world.
    pub characters_max: usize,
    /// Most live sessions one user may own.
    pub sessions_per_user: usize,
    /// Commands (and other writes) per second per user, sustained.
    pub commands_per_second: f64,
    /// Burst of commands above the sustained rate.
    pub commands_burst: f64,
    /// Open WebSocket connections per user.
    pub connections_per_user: u32,
    /// Heartbeat interval the server expects pings within (twice this without a frame closes 4408).
    pub heartbeat_ms: u64,
    /// Frames queued per WebSocket client before it counts as slow and is resynced.
    pub client_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            body_bytes: 1 << 20,
            frame_bytes: 64 << 10,
            characters_max: 5000,
            sessions_per_user: 8,
            commands_per_second: 20.0,
            commands_burst: 40.0,
            connections_per_user: 16,
            heartbeat_ms: 15_000,
            client_queue: crate::live::hub::QUEUE_FRAMES,
        }
    }
}

/// Everything a request handler needs.
#[derive(Clone)]
pub struct App {
    /// Accounts, sessions, snapshots, chat.
    pub store: Store,
    /// Token issuer/checker.
    pub tokens: Tokens,
    /// Running sessions.
    pub live: Registry,
    /// Limits.
    pub limits: Arc<Limits>,
    /// Per-user token buckets and connection counts.
    pub meters: Arc<Meters>,
    /// Worker threads per session world.
    pub threads: usize,
    /// Connection ids.
    pub next_conn: Arc<AtomicU64>,
}

impl App {
    /// A fresh connection id.
    pub fn conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// The caller's role in a session, or 404 when the session does not exist and 403 when the
    /// caller is not a member. (A non-member learns only that the session exists.)
    pub async fn role(&self, user: &Claims, session: i64) -> Result<Role, ApiError> {
        if self.store.session(session).await?.is_none() {
            return Err(ApiError::not_found(format!("no session {session}")));
        }
        match self.store.member_role(session, user.sub).await? {
            Some(r) => perm::parse_role(&r).ok_or_else(|| ApiError::internal(format!("stored role {r:?}"))),
            None => Err(ApiError::forbidden(format!("you are not a member of session {session}"))),
        }
    }

    /// Checks that the caller may do `act` in `session`; returns its role.
    pub async fn require(&self, user: &Claims, session: i64, act: Act) -> Result<Role, ApiError> {
        let role = self.role(user, session).await?;
        if perm::allowed(role, act) {
            Ok(role)
        } else {
            Err(ApiError::forbidden(format!("a {} may not do this ({act:?})", perm::role_name(role))))
        }
    }

    /// The running session, or 409 when it is stored but not running.
    pub fn running(&self, session: i64) -> Result<SessionHandle, ApiError> {
        self.live
            .get(session)
            .ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "not_running", "session is not running"))
    }
}

/// A token bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Per-user rate meters.
#[derive(Debug, Default)]
pub struct Meters {
    buckets: Mutex<BTreeMap<i64, Bucket>>,
    conns: Mutex<BTreeMap<i64, u32>>,
}

impl Meters {
    /// Takes one token from the user's bucket, or says how long until one is free.
    pub fn take(&self, user: i64, limits: &Limits) -> Result<(), Duration> {
        let now = Instant::now();
        let mut b = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let bucket = b.entry(user).or_insert(Bucket { tokens: limits.commands_burst, at: now });
        let refill = now.duration_since(bucket.at).as_secs_f64() * limits.commands_per_second;
        bucket.tokens = (bucket.tokens + refill).min(limits.commands_burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / limits.commands_per_second))
        }
    }

    /// Counts a new connection for the user, unless it already has the maximum.
    pub fn connect(&self, user: i64, limits: &Limits) -> bool {
        let mut c = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        let n = c.entry(user).or_default();
        if *n >= limits.connections_per_user {
            return false;
        }
        *n += 1;
        true
    }

    /// Forgets a closed connection.
    pub fn disconnect(&self, user: i64) {
        let mut c = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = c.get_mut(&user) {
            *n = n.saturating_sub(1);
        }
    }
}

/// An API error: a status, a machine-readable code and a reason; `Retry-After` on 429.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Short code (`forbidden`, `bad_request`, ...).
    pub code: &'static str,
    /// Human-readable reason.
    pub message: String,
    /// Seconds to wait (429).
    pub retry_after: Option<u64>,
}

/// The JSON body of every error response.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Short code.
    pub error: String,
    /// Why.
    pub message: String,
}

impl ApiError {
    /// An error with a status and code.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }
    /// 400.
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", m)
    }
    /// 401.
    pub fn unauthorized(m: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", m)
    }
    /// 403.
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", m)
    }
    /// 404.
    pub fn not_found(m: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", m)
    }
    /// 429 with `Retry-After`.
    pub fn too_many(wait: Duration) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests; slow down");
        e.retry_after = Some(wait.as_secs_f64().ceil().max(1.0) as u64);
        e
    }
    /// 500 (logged; the client sees a generic reason).
    pub fn internal(m: impl Into<String>) -> Self {
        let m = m.into();
        tracing::error!("internal error: {m}");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error")
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(m) => Self::new(StatusCode::CONFLICT, "conflict", m),
            StoreError::NotFound(m) => Self::not_found(m),
            StoreError::Invalid(m) => Self::bad_request(m),
            StoreError::Invite(r) => Self::new(StatusCode::GONE, "invite_refused", format!("invite refused: {r}")),
            other => Self::internal(other.to_string()),
        }
    }
}

impl From<crate::live::runner::SendError> for ApiError {
    fn from(e: crate::live::runner::SendError) -> Self {
        match e {
            crate::live::runner::SendError::Busy => {
                let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "busy", e.to_string());
                e.retry_after = Some(1);
                e
            }
            crate::live::runner::SendError::Stopped => Self::new(StatusCode::CONFLICT, "not_running", e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody { error: self.code.into(), message: self.message };
        let mut r = (self.status, axum::Json(body)).into_response();
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

/// The authenticated caller: a valid bearer token in `Authorization`.
pub struct Caller(pub Claims);

impl<S> FromRequestParts<S> for Caller
where
    App: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let app = App::from_ref(state);
        let h = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token>"))?;
        let token = h
            .to_str()
            .ok()
            .and_then(|s| s.strip_prefix("Bearer "))
            .ok_or_else(|| ApiError::unauthorized("Authorization must be `Bearer <token>`"))?;
        let claims = app.tokens.verify(token.trim()).map_err(|e| ApiError::unauthorized(e.to_string()))?;
        Ok(Caller(claims))
    }
}
