//! The REST API under `/api/v1`: accounts, sessions, members and invites, world reads, director
//! commands, clock control, snapshots, forks and chat. Every session route checks the caller's
//! role through [`App::require`] (one place), and every write is metered per user.
//! The OpenAPI document is generated from these handlers (`/api/v1/openapi.json`).

use aion_engine::Sim;
use aion_engine::command::Command;
use aion_engine::ids::CharacterId;
use aion_engine::user::Role;
use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use utoipa::{OpenApi, ToSchema};

use crate::app::{ApiError, App, Caller, ErrorBody};
use crate::auth;
use crate::live::protocol::{ControlOp, Rate};
use crate::live::runner::{LiveStatus, Msg};
use crate::live::view;
use crate::perm::{self, Act};
use crate::serve;
use crate::shipped;
use crate::store::{NewSession, SessionRow};

/// The API's routes (without the WebSocket and the page).
pub fn routes() -> Router<App> {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/auth/register", post(register))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/me", get(me))
        .route("/api/v1/scenarios", get(scenarios))
        .route("/api/v1/sessions", get(list_sessions).post(create_session))
        .route("/api/v1/sessions/{id}", get(get_session).delete(delete_session))
        .route("/api/v1/sessions/{id}/join", post(join))
        .route("/api/v1/sessions/{id}/leave", post(leave))
        .route("/api/v1/sessions/{id}/members", get(members))
        .route("/api/v1/sessions/{id}/members/{user}", put(set_member).delete(remove_member))
        .route("/api/v1/sessions/{id}/invites", post(invite))
        .route("/api/v1/invites/{token}/accept", post(accept_invite))
        .route("/api/v1/sessions/{id}/characters", get(characters))
        .route("/api/v1/sessions/{id}/characters/{cid}", get(character))
        .route("/api/v1/sessions/{id}/relationships", get(relationships))
        .route("/api/v1/sessions/{id}/arcs", get(arcs))
        .route("/api/v1/sessions/{id}/metrics", get(metrics))
        .route("/api/v1/sessions/{id}/events", get(events))
        .route("/api/v1/sessions/{id}/snapshot", get(download_snapshot).post(save_snapshot))
        .route("/api/v1/sessions/{id}/commands", post(command))
        .route("/api/v1/sessions/{id}/control", post(control))
        .route("/api/v1/sessions/{id}/fork", post(fork))
        .route("/api/v1/sessions/{id}/chat", get(chat).post(post_chat))
        .route("/api/v1/sessions/{id}/ws", get(crate::live::ws::upgrade))
        .fallback(|| async { ApiError::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            ApiError::new(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "method not allowed on this route")
        })
}

/// The generated OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Aion API", description = "Sessions, the observatory, director commands. WebSocket protocol: docs/observatory.md"),
    paths(
        health, register, login, me, scenarios, list_sessions, create_session, get_session, delete_session, join,
        leave, members, set_member, remove_member, invite, accept_invite, characters, character, relationships,
        arcs, metrics, events, download_snapshot, save_snapshot, command, control, fork, chat, post_chat
    ),
    components(schemas(ErrorBody, Credentials, TokenOut, UserOut, SessionIn, SessionOut, MemberOut, RoleIn,
        InviteIn, InviteOut, JoinOut, CommandIn, CommandOut, ControlIn, ForkIn, ChatIn, SavedOut, ScenarioOut)),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
            );
        }
    }
}

type ApiResult<T> = Result<T, ApiError>;

/// Liveness.
#[utoipa::path(get, path = "/api/v1/health", responses((status = 200, description = "ok")))]
async fn health(State(app): State<App>) -> Json<Value> {
    Json(json!({"ok": true, "sessions": app.live.all().len()}))
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// Username and password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// 3..=32 of `[A-Za-z0-9_.-]`.
    pub username: String,
    /// 8..=128 characters.
    pub password: String,
}

/// An account as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct UserOut {
    /// Account id.
    pub id: i64,
    /// Name.
    pub username: String,
}

/// A login's answer.
#[derive(Serialize, ToSchema)]
pub struct TokenOut {
    /// JWT access token (send as `Authorization: Bearer ...` or `?token=` on the WebSocket).
    pub token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// Who.
    pub user: UserOut,
}

/// Creates an account.
#[utoipa::path(post, path = "/api/v1/auth/register", request_body = Credentials,
    responses((status = 201, body = UserOut), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn register(State(app): State<App>, Json(c): Json<Credentials>) -> ApiResult<(StatusCode, Json<UserOut>)> {
    auth::validate_username(&c.username).map_err(|e| ApiError::bad_request(e.to_string()))?;
    auth::validate_password(&c.password).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let hash = auth::hash_password_async(c.password).await.map_err(|e| ApiError::internal(e.to_string()))?;
    let u = app.store.create_user(&c.username, &hash).await.map_err(|e| match e {
        crate::store::StoreError::Conflict(_) => {
            ApiError::new(StatusCode::CONFLICT, "conflict", format!("the name {:?} is taken", c.username))
        }
        e => e.into(),
    })?;
    Ok((StatusCode::CREATED, Json(UserOut { id: u.id, username: u.username })))
}

/// Logs in: a token for a name and password.
#[utoipa::path(post, path = "/api/v1/auth/login", request_body = Credentials,
    responses((status = 200, body = TokenOut), (status = 401, body = ErrorBody)))]
async fn login(State(app): State<App>, Json(c): Json<Credentials>) -> ApiResult<Json<TokenOut>> {
    let found = app.store.user_by_name(&c.username).await?;
    let hash = found.as_ref().map(|f| f.password_hash.clone());
    // Verify even for an unknown name so that timing does not tell which names exist.
    let ok = auth::verify_password_async(c.password, hash).await;
    match found {
        Some(f) if ok => Ok(Json(TokenOut {
            token: app.tokens.issue(f.user.id, &f.user.username),
            token_type: "Bearer".into(),
            expires_in: app.tokens.ttl().as_secs(),
            user: UserOut { id: f.user.id, username: f.user.username },
        })),
        _ => Err(ApiError::unauthorized("wrong username or password")),
    }
}

/// Who the token belongs to.
#[utoipa::path(get, path = "/api/v1/me", security(("bearer" = [])), responses((status = 200, body = UserOut), (status = 401, body = ErrorBody)))]
async fn me(Caller(c): Caller) -> Json<UserOut> {
    Json(UserOut { id: c.sub, username: c.name })
}

/// A shipped scenario.
#[derive(Serialize, ToSchema)]
pub struct ScenarioOut {
    /// Name to pass as `scenario` when creating a session.
    pub name: String,
    /// World name.
    pub world: String,
    /// Characters.
    pub characters: usize,
}

/// The shipped scenarios.
#[utoipa::path(get, path = "/api/v1/scenarios", responses((status = 200, body = [ScenarioOut])))]
async fn scenarios() -> Json<Vec<ScenarioOut>> {
    Json(
        shipped::SCENARIOS
            .iter()
            .filter_map(|(n, t)| {
                let s = crate::shipped::parse_scenario(t, n).ok()?;
                Some(ScenarioOut {
                    name: (*n).into(),
                    world: s.world.name.clone(),
                    characters: crate::serve::scenario_size(&s),
                })
            })
            .collect(),
    )
}

/// A new session.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionIn {
    /// Display name (1..=80 bytes).
    pub name: String,
    /// A shipped scenario's name (see `/scenarios`)...
    #[serde(default)]
    pub scenario: Option<String>,
    /// ...or an uploaded scenario's TOML text (at most the body limit).
    #[serde(default)]
    pub scenario_toml: Option<String>,
    /// Seed [default: the scenario's].
    #[serde(default)]
    pub seed: Option<u64>,
    /// Clock [default: 10 ticks per second].
    #[serde(default)]
    #[schema(value_type = Object)]
    pub rate: Option<Rate>,
    /// Anyone signed in may join as an observer.
    #[serde(default)]
    pub public: bool,
}

/// A session as the API shows it.
#[derive(Serialize, ToSchema)]
pub struct SessionOut {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// Owner's account id.
    pub owner: i64,
    /// Scenario name.
    pub scenario: String,
    /// Seed.
    pub seed: u64,
    /// `running`, `paused` or `stopped`.
    pub state: String,
    /// Open to observers.
    pub public: bool,
    /// Your role, if you are a member.
    pub role: Option<String>,
    /// The live status (tick, seq, epoch, rate, hash), when running.
    #[schema(value_type = Object)]
    pub live: Option<LiveStatus>,
}

fn session_out(row: &SessionRow, role: Option<Role>, app: &App) -> SessionOut {
    SessionOut {
        id: row.id,
        name: row.name.clone(),
        owner: row.owner,
        scenario: row.scenario_name.clone(),
        seed: row.seed,
        state: row.state.clone(),
        public: row.public,
        role: role.map(|r| perm::role_name(r).to_owned()),
        live: app.live.get(row.id).map(|h| h.status()),
    }
}

/// Sessions you are a member of, and public ones.
#[utoipa::path(get, path = "/api/v1/sessions", security(("bearer" = [])), responses((status = 200, body = [SessionOut])))]
async fn list_sessions(State(app): State<App>, Caller(c): Caller) -> ApiResult<Json<Vec<SessionOut>>> {
    let mine = app.store.sessions_for_user(c.sub).await?;
    let mut out = Vec::new();
    for row in app.store.list_sessions().await? {
        let member = mine.iter().any(|m| m.id == row.id);
        if member || row.public {
            let role = match member {
                true => app.store.member_role(row.id, c.sub).await?.and_then(|r| perm::parse_role(&r)),
                false => None,
            };
            out.push(session_out(&row, role, &app));
        }
    }
    Ok(Json(out))
}

/// Creates a session from a shipped or uploaded scenario and starts it; you own it.
#[utoipa::path(post, path = "/api/v1/sessions", security(("bearer" = [])), request_body = SessionIn,
    responses((status = 201, body = SessionOut), (status = 400, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn create_session(
    State(app): State<App>,
    Caller(c): Caller,
    Json(input): Json<SessionIn>,
) -> ApiResult<(StatusCode, Json<SessionOut>)> {
    app.meters.take(c.sub, &app.limits).map_err(ApiError::too_many)?;
    if input.name.trim().is_empty() || input.name.len() > 80 {
        return Err(ApiError::bad_request("name must be 1..=80 bytes"));
    }
    let owned = app.store.list_sessions().await?.iter().filter(|s| s.owner == c.sub && s.state != "stopped").count();
    if owned >= app.limits.sessions_per_user {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_sessions",
            format!("at most {} live sessions per user", app.limits.sessions_per_user),
        ));
    }
    let (scenario_name, toml) = match (&input.scenario, &input.scenario_toml) {
        (Some(n), None) => (
            n.clone(),
            shipped::scenario(n).ok_or_else(|| ApiError::bad_request(format!("no shipped scenario {n:?}")))?.to_owned(),
        ),
        (None, Some(t)) => ("uploaded".to_owned(), t.clone()),
        _ => return Err(ApiError::bad_request("give exactly one of `scenario` and `scenario_toml`")),
    };
    let rate = input.rate.unwrap_or(Rate::Realtime { ticks_per_second: 10.0 });
    rate.check().map_err(ApiError::bad_request)?;
    let scenario = serve::check_scenario(&toml, &scenario_name, &app.limits).map_err(ApiError::bad_request)?;
    let seed = input.seed.unwrap_or(scenario.world.seed);
    let row = app
        .store
        .create_session(&NewSession {
            name: input.name.trim().to_owned(),
            owner: c.sub,
            scenario_name,
            scenario_toml: toml,
            seed,
            threads: app.threads as u32,
            rate: serde_json::to_string(&rate).unwrap_or_default(),
            public: input.public,
        })
        .await?;
    serve::start(&app, &row, None).await.map_err(|e| ApiError::internal(format!("{e:#}")))?;
    Ok((StatusCode::CREATED, Json(session_out(&row, Some(Role::Owner), &app))))
}

/// One session.
#[utoipa::path(get, path = "/api/v1/sessions/{id}", security(("bearer" = [])),
    responses((status = 200, body = SessionOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_session(State(app): State<App>, Caller(c): Caller, Path(id): Path<i64>) -> ApiResult<Json<SessionOut>> {
    let role = app.require(&c, id, Act::View).await?;
    let row = app.store.session(id).await?.ok_or_else(|| ApiError::not_found(format!("no session {id}")))?;
    Ok(Json(session_out(&row, Some(role), &app)))
}

/// Stops and deletes a session (owner).
#[utoipa::path(delete, path = "/api/v1/sessions/{id}", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody)))]
async fn delete_session(State(app): State<App>, Caller(c): Caller, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    app.require(&c, id, Act::Delete).await?;
    if let Some(h) = app.live.remove(id) {
        let _ = h.stop().await;
    }
    app.store.delete_session(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The role you got.
#[derive(Serialize, ToSchema)]
pub struct JoinOut {
    /// Session id.
    pub session: i64,
    /// Your role.
    pub role: String,
}

/// Joins a public session as an observer (members keep their role).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/join", security(("bearer" = [])),
    responses((status = 200, body = JoinOut), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn join(State(app): State<App>, Caller(c): Caller, Path(id): Path<i64>) -> ApiResult<Json<JoinOut>> {
    let row = app.store.session(id).await?.ok_or_else(|| ApiError::not_found(format!("no session {id}")))?;
    if let Some(r) = app.store.member_role(id, c.sub).await? {
        return Ok(Json(JoinOut { session: id, role: r }));
    }
    if !row.public {
        return Err(ApiError::forbidden("this session is private: ask for an invite"));
    }
    app.store.add_member(id, c.sub, "observer").await?;
    Ok(Json(JoinOut { session: id, role: "observer".into() }))
}

/// Leaves a session (an owner cannot leave its own session; delete it instead).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/leave", security(("bearer" = [])),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn leave(State(app): State<App>, Caller(c): Caller, Path(id): Path<i64>) -> ApiResult<StatusCode> {
    let role = app.require(&c, id, Act::View).await?;
    if role == Role::Owner {
        return Err(ApiError::bad_request("the owner cannot leave; delete the session instead"));
    }
    app.store.remove_member(id, c.sub).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A member.
#[derive(Serialize, ToSchema)]
pub struct MemberOut {
    /// Account id.
    pub user: i64,
    /// Name.
    pub username: String,
    /// Role.
    pub role: String,
}

/// The session's members.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/members", security(("bearer" = [])), responses((status = 200, body = [MemberOut])))]
async fn members(State(app): State<App>, Caller(c): Caller, Path(id): Path<i64>) -> ApiResult<Json<Vec<MemberOut>>> {
    app.require(&c, id, Act::View).await?;
    let m = app.store.members(id).await?;
    Ok(Json(m.into_iter().map(|m| MemberOut { user: m.user_id, username: m.username, role: m.role }).collect()))
}

/// A role.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleIn {
    /// `owner`, `director`, `player` or `observer`.
    pub role: String,
}

fn parse_role(s: &str) -> ApiResult<Role> {
    perm::parse_role(s)
        .ok_or_else(|| ApiError::bad_request(format!("unknown role {s:?}: owner, director, player or observer")))
}

/// Sets a member's role (owner). The owner's own role cannot be changed.
#[utoipa::path(put, path = "/api/v1/sessions/{id}/members/{user}", security(("bearer" = [])), request_body = RoleIn,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn set_member(
    State(app): State<App>,
    Caller(c): Caller,
    Path((id, user)): Path<(i64, i64)>,
    Json(r): Json<RoleIn>,
) -> ApiResult<StatusCode> {
    app.require(&c, id, Act::ManageMembers).await?;
    let role = parse_role(&r.role)?;
    if user == c.sub {
        return Err(ApiError::bad_request("the owner's role cannot be changed"));
    }
    if app.store.member_role(id, user).await?.is_none() {
        return Err(ApiError::not_found(format!("user {user} is not a member")));
    }
    app.store.add_member(id, user, perm::role_name(role)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes a member (owner).
#[utoipa::path(delete, path = "/api/v1/sessions/{id}/members/{user}", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody)))]
async fn remove_member(
    State(app): State<App>,
    Caller(c): Caller,
    Path((id, user)): Path<(i64, i64)>,
) -> ApiResult<StatusCode> {
    app.require(&c, id, Act::ManageMembers).await?;
    if user == c.sub {
        return Err(ApiError::bad_request("the owner cannot remove itself"));
    }
    app.store.remove_member(id, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An invite to make.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteIn {
    /// Role the invitee gets (a director may invite players and observers).
    pub role: String,
    /// Seconds it stays valid (60..=604800, default 86400).
    #[serde(default)]
    pub expires_in: Option<i64>,
}

/// An invite token.
#[derive(Serialize, ToSchema)]
pub struct InviteOut {
    /// Single-use token for `/invites/{token}/accept`.
    pub token: String,
    /// Unix seconds.
    pub expires_at: i64,
}

/// Invites someone (owner: any role; director: player or observer).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/invites", security(("bearer" = [])), request_body = InviteIn,
    responses((status = 201, body = InviteOut), (status = 403, body = ErrorBody)))]
async fn invite(
    State(app): State<App>,
    Caller(c): Caller,
    Path(id): Path<i64>,
    Json(i): Json<InviteIn>,
) -> ApiResult<(StatusCode, Json<InviteOut>)> {
    let role = parse_role(&i.role)?;
    app.require(&c, id, Act::Invite(role)).await?;
    app.meters.take(c.sub, &app.limits).map_err(ApiError::too_many)?;
    let secs = i.expires_in.unwrap_or(86_400);
    if !(60..=604_800).contains(&secs) {
        return Err(ApiError::bad_request("expires_in must be 60..=604800 seconds"));
    }
    let expires_at = crate::store::unix_now() + secs;
    let token = app.store.create_invite(id, perm::role_name(role), c.sub, expires_at).await?;
    Ok((StatusCode::CREATED, Json(InviteOut { token, expires_at })))
}

/// Accepts an invite (single use; expired or used ones are refused with 410).
#[utoipa::path(post, path = "/api/v1/invites/{token}/accept", security(("bearer" = [])),
    responses((status = 200, body = JoinOut), (status = 410, body = ErrorBody)))]
async fn accept_invite(
    State(app): State<App>,
    Caller(c): Caller,
    Path(token): Path<String>,
) -> ApiResult<Json<JoinOut>> {
    let (session, role) = app.store.redeem_invite(&token, c.sub).await?;
    Ok(Json(JoinOut { session, role }))
}

async fn read(
    app: &App,
    id: i64,
    f: impl FnOnce(crate::live::runner::ReadCtx<'_>) -> Value + Send + 'static,
) -> ApiResult<Json<Value>> {
    Ok(Json(app.running(id)?.read(f).await?))
}

/// Every character (id, key, name, traits, mood, status).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/characters", security(("bearer" = [])), responses((status = 200, description = "array of characters")))]
async fn characters(State(app): State<App>, Caller(c): Caller, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    app.require(&c, id, Act::View).await?;
    read(&app, id, |ctx| view::characters(ctx.sim)).await
}

/// One character in full (traits, mood, emotions, needs, goals, memories, bonds, arcs).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/characters/{cid}", security(("bearer" = [])),
    responses((status = 200, description = "the character"), (status = 404, body = ErrorBody)))]
async fn character(
    State(app): State<App>,
    Caller(c): Caller,
    Path((id, cid)): Path<(i64, u32)>,
) -> ApiResult<Json<Value>> {
    app.require(&c, id, Act::View).await?;
    let v = read(&app, id, move |ctx| view::character(ctx.sim, CharacterId(cid)).unwrap_or(Value::Null)).await?;
    if v.0.is_null() {
        return Err(ApiError::not_found(format!("no character {cid}")));
    }
    Ok(v)
}

/// Query of `/relationships`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RelQuery {
    character: Option<u32>,
}

/// Directed relationships `[from, to, affinity, trust, respect, attraction, familiarity]`, all or one character's.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/relationships", security(("bearer" = [])),
    params(("character" = Option<u32>, Query, description = "only this character's outgoing bonds")),
    responses((status = 200, description = "bond rows")))]
async fn relationships(
    State(app): State<App>,
    Caller(c): Caller,
    Path(id): Path<i64>,
    Query(q): Query<RelQuery>,
) -> ApiResult<Json<Value>> {
    app.require(&c, id, Act::View).await?;
    read(&app, id, move |ctx| {
        let all = view::relationships(ctx.sim);
        match q.character {
            None => all,
            Some(ch) => {
                Value::Array(all.as_array().into_iter().flatten().filter(|r| r[0] == json!(ch)).cloned().collect())
            }
        }
    })
    .await
}

/// Story arcs, most recently updated first.
#[utoipa::path(get, path = "/api/v1/sessions/{id}/arcs", security(("bearer" = [])), responses((status = 200, description = "arcs")))]
async fn arcs(State(app): State<App>, Caller(c): Caller, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    app.require(&c, id, Act::View).await?;
    read(&app, id, |ctx| view::arcs(ctx.sim, 500)).await
}

/// Query with a lower bound.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Since {
    since: Option<u64>,
    limit: Option<usize>,
}

/// Per-tick metrics after `since` (the last hour of ticks is kept).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/metrics", security(("bearer" = [])),
    params(("since" = Option<u64>, Query, description = "ticks after this one")), responses((status = 200, description = "metrics rows")))]
async fn metrics(
    State(app): State<App>,
    Caller(c): Caller,
    Path(id): Path<i64>,
    Query(q): Query<Since>,
) -> ApiResult<Json<Value>> {
    app.require(&c, id, Act::View).await?;
    let since = q.since.unwrap_or(0);
    read(&app, id, move |ctx| {
        Value::Array(ctx.metrics.iter().filter(|m| m.tick > since).map(view::metrics_json).collect())
    })
    .await
}

/// Events with `seq >= since` (at most `limit`, default 500, max 5000).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/events", security(("bearer" = [])),
    params(("since" = Option<u64>, Query, description = "first seq"), ("limit" = Option<usize>, Query, description = "most events")),
    responses((status = 200, description = "events")))]
async fn events(
    State(app): State<App>,
    Caller(c): Caller,
    Path(id): Path<i64>,
    Query(q): Query<Since>,
) -> ApiResult<Json<Value>> {
    app.require(&c, id, Act::View).await?;
    let (since, limit) = (q.since.unwrap_or(0), q.limit.unwrap_or(500).min(5000));
    read(&app, id, move |ctx| {
        let names = ctx.sim.names();
        view::events_json(ctx.sim.events().since(since).take(limit), &names)
    })
    .await
}

/// The world as a binary snapshot (`aion run --from-snapshot` reads it).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/snapshot", security(("bearer" = [])),
    responses((status = 200, description = "application/octet-stream snapshot")))]
async fn download_snapshot(State(app): State<App>, Caller(c): Caller, Path(id): Path<i64>) -> ApiResult<Response> {
    app.require(&c, id, Act::View).await?;
    let saved = app.running(id)?.save().await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"session-{id}-tick-{}.snapshot\"", saved.tick),
            ),
        ],
        saved.bytes,
    )
        .into_response())
}

/// A saved snapshot.
#[derive(Serialize, ToSchema)]
pub struct SavedOut {
    /// Tick.
    pub tick: u64,
    /// World hash (hex).
    pub world_hash: String,
}

/// Saves the world to storage now (director).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/snapshot", security(("bearer" = [])),
    responses((status = 200, body = SavedOut), (status = 403, body = ErrorBody)))]
async fn save_snapshot(State(app): State<App>, Caller(c): Caller, Path(id): Path<i64>) -> ApiResult<Json<SavedOut>> {
    app.require(&c, id, Act::Control).await?;
    app.meters.take(c.sub, &app.limits).map_err(ApiError::too_many)?;
    let saved = serve::save(&app, id).await.map_err(|e| ApiError::internal(format!("{e:#}")))?;
    Ok(Json(SavedOut { tick: saved.tick, world_hash: crate::output::hex(saved.world_hash) }))
}

/// A command.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandIn {
    /// Idempotency key (or the `Idempotency-Key` header): a repeated key is not applied twice.
    #[serde(default)]
    pub id: Option<String>,
    /// The engine command, e.g. `{"set_mood": {"character": 3, "mood": {"p": 0.5, "a": 0, "d": 0}}}`.
    #[schema(value_type = Object)]
    pub command: Command,
}

/// Where a command landed.
#[derive(Serialize, ToSchema)]
pub struct CommandOut {
    /// It is applied before this tick.
    pub applied_at_tick: u64,
}

/// Sends a director or player command (applied at the next tick boundary).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/commands", security(("bearer" = [])), request_body = CommandIn,
    responses((status = 202, body = CommandOut), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn command(
    State(app): State<App>,
    Caller(c): Caller,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Json(input): Json<CommandIn>,
) -> ApiResult<(StatusCode, Json<CommandOut>)> {
    let role = app.require(&c, id, perm::needs(&input.command)).await?;
    app.meters.take(c.sub, &app.limits).map_err(ApiError::too_many)?;
    let key = input.id.or_else(|| headers.get("idempotency-key").and_then(|v| v.to_str().ok()).map(str::to_owned));
    if key.as_ref().is_some_and(|k| k.len() > 128) {
        return Err(ApiError::bad_request("idempotency keys are at most 128 bytes"));
    }
    let h = app.running(id)?;
    let (reply, answer) = oneshot::channel();
    h.send(Msg::Command { user: c.sub, role, key, command: input.command, reply })?;
    match answer.await {
        Ok(Ok(tick)) => Ok((StatusCode::ACCEPTED, Json(CommandOut { applied_at_tick: tick }))),
        Ok(Err(e)) => Err(ApiError::bad_request(e)),
        Err(_) => Err(ApiError::new(StatusCode::CONFLICT, "not_running", "the session stopped")),
    }
}

/// A clock operation: `{"op": "pause"}`, `{"op": "resume"}`, `{"op": "step"}`,
/// `{"op": "set_rate", "rate": {"mode": "realtime", "ticks_per_second": 10}}` (modes: realtime, fast, paused).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlIn {
    /// `pause`, `resume`, `step` or `set_rate`.
    pub op: String,
    /// The rate, for `set_rate`.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub rate: Option<Rate>,
}

impl ControlIn {
    fn op(self) -> ApiResult<ControlOp> {
        Ok(match (self.op.as_str(), self.rate) {
            ("pause", None) => ControlOp::Pause,
            ("resume", None) => ControlOp::Resume,
            ("step", None) => ControlOp::Step,
            ("set_rate", Some(rate)) => ControlOp::SetRate { rate },
            ("set_rate", None) => return Err(ApiError::bad_request("set_rate needs `rate`")),
            (op @ ("pause" | "resume" | "step"), Some(_)) => {
                return Err(ApiError::bad_request(format!("{op} takes no `rate`")));
            }
            (op, _) => {
                return Err(ApiError::bad_request(format!("unknown op {op:?}: pause, resume, step or set_rate")));
            }
        })
    }
}

/// Pauses, resumes, steps or sets the tick rate (director).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/control", security(("bearer" = [])), request_body = ControlIn,
    responses((status = 200, description = "the live status"), (status = 403, body = ErrorBody)))]
async fn control(
    State(app): State<App>,
    Caller(c): Caller,
    Path(id): Path<i64>,
    Json(input): Json<ControlIn>,
) -> ApiResult<Json<LiveStatus>> {
    app.require(&c, id, Act::Control).await?;
    let op = input.op()?;
    app.meters.take(c.sub, &app.limits).map_err(ApiError::too_many)?;
    let h = app.running(id)?;
    let (reply, answer) = oneshot::channel();
    h.send(Msg::Control { op, reply })?;
    let status = answer.await.map_err(|_| ApiError::new(StatusCode::CONFLICT, "not_running", "the session stopped"))?;
    let status = status.map_err(ApiError::bad_request)?;
    let state = if matches!(status.rate, Rate::Paused) { "paused" } else { "running" };
    app.store.set_session_state(id, state).await?;
    Ok(Json(status))
}

/// A fork.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ForkIn {
    /// Name of the new session [default: "<name> (fork)"].
    #[serde(default)]
    pub name: Option<String>,
    /// New seed (a new branch); without it the fork continues exactly like the original.
    #[serde(default)]
    pub seed: Option<u64>,
}

/// Forks the session at its current tick into a new session you own (director).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/fork", security(("bearer" = [])), request_body = ForkIn,
    responses((status = 201, body = SessionOut), (status = 403, body = ErrorBody)))]
async fn fork(
    State(app): State<App>,
    Caller(c): Caller,
    Path(id): Path<i64>,
    Json(f): Json<ForkIn>,
) -> ApiResult<(StatusCode, Json<SessionOut>)> {
    app.require(&c, id, Act::Fork).await?;
    app.meters.take(c.sub, &app.limits).map_err(ApiError::too_many)?;
    let row = app.store.session(id).await?.ok_or_else(|| ApiError::not_found(format!("no session {id}")))?;
    let saved = app.running(id)?.save().await?;
    let name = f.name.unwrap_or_else(|| format!("{} (fork)", row.name));
    if name.trim().is_empty() || name.len() > 80 {
        return Err(ApiError::bad_request("name must be 1..=80 bytes"));
    }
    let new = app
        .store
        .create_session(&NewSession {
            name,
            owner: c.sub,
            scenario_name: row.scenario_name.clone(),
            scenario_toml: row.scenario_toml.clone(),
            seed: f.seed.unwrap_or(row.seed),
            threads: row.threads,
            rate: row.rate.clone(),
            public: false,
        })
        .await?;
    let mut sim = Sim::from_snapshot(&saved.bytes, app.threads).map_err(|e| ApiError::internal(e.to_string()))?;
    if let Some(s) = f.seed {
        sim.set_seed(s);
    }
    serve::start_sim(&app, &new, sim, 1).await.map_err(|e| ApiError::internal(format!("{e:#}")))?;
    Ok((StatusCode::CREATED, Json(session_out(&new, Some(Role::Owner), &app))))
}

/// Recent chat lines (oldest first).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/chat", security(("bearer" = [])), responses((status = 200, description = "chat lines")))]
async fn chat(State(app): State<App>, Caller(c): Caller, Path(id): Path<i64>) -> ApiResult<Json<Value>> {
    app.require(&c, id, Act::View).await?;
    let rows = app.store.recent_chat(id, 200).await?;
    Ok(Json(Value::Array(
        rows.into_iter()
            .map(|r| json!({"id": r.id, "user": r.user_id, "name": r.username, "text": r.text, "at": r.at}))
            .collect(),
    )))
}

/// A chat line.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatIn {
    /// 1..=1000 bytes.
    pub text: String,
}

/// Posts a chat line (any member).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/chat", security(("bearer" = [])), request_body = ChatIn,
    responses((status = 201, description = "the stored line"), (status = 400, body = ErrorBody)))]
async fn post_chat(
    State(app): State<App>,
    Caller(c): Caller,
    Path(id): Path<i64>,
    Json(m): Json<ChatIn>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    app.require(&c, id, Act::Chat).await?;
    app.meters.take(c.sub, &app.limits).map_err(ApiError::too_many)?;
    let text = m.text.trim();
    if text.is_empty() || text.len() > crate::live::protocol::CHAT_MAX {
        return Err(ApiError::bad_request("chat lines are 1..=1000 bytes"));
    }
    let r = app.store.add_chat(id, c.sub, text).await?;
    let tick = app.live.get(id).map(|h| h.status().tick).unwrap_or(0);
    let line = json!({"id": r.id, "user": r.user_id, "name": r.username, "text": r.text, "at": r.at, "tick": tick});
    if let Some(h) = app.live.get(id) {
        let _ = h.send(Msg::Chat { line: line.clone() });
    }
    Ok((StatusCode::CREATED, Json(line)))
}
