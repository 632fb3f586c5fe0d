//! Durable state of the server: accounts, live sessions, members, invites, snapshots and chat.
//!
//! One `Store` talks to SQLite (the default: an embedded file, nothing to set up) or PostgreSQL (when
//! `DATABASE_URL` names one) through `sqlx::Any`, so every query below is written once. The SQL sticks to
//! what both accept: `$n` placeholders (SQLite reads `$n` as the n-th argument), `RETURNING`,
//! `ON CONFLICT ... DO UPDATE`, `BIGINT`/`TEXT` columns. Only the table definitions differ (identity
//! columns, BLOB vs BYTEA), so migrations ship per backend in `server/migrations/{sqlite,postgres}` and
//! are embedded at compile time. Why `Any` and not two pools: one code path means one set of tests shows
//! both backends behave alike; the cost (no compile-time checked queries, a handful of value types) does
//! not matter for a dozen small queries.
//!
//! Values: times are unix seconds; `u64` values that may exceed `i64::MAX` (hashes, seeds, ticks, epochs)
//! are stored as the same 64 bits in an `i64` and converted back losslessly.

use std::borrow::Cow;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyConnection, AnyPool, Row, SqlSafeStr};

#[cfg(test)]
mod tests;

/// The columns `session_from` reads, for `SELECT` statements on `sessions s` (a macro so queries stay literals).
macro_rules! session_columns {
    () => {
        "s.id, s.name, s.owner, s.scenario_name, s.scenario_toml, s.seed, s.threads, s.rate, s.state, s.public, s.created_at"
    };
}

/// Roles a member can hold in a session, from most to least powerful.
pub const ROLES: [&str; 4] = ["owner", "director", "player", "observer"];

/// States a session row can be in.
pub const SESSION_STATES: [&str; 3] = ["running", "paused", "stopped"];

/// Why a storage call failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key is already taken (user name, ...).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The row to change, or a row it refers to, does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// A value the schema does not accept (unknown role or state, ...).
    #[error("invalid value: {0}")]
    Invalid(String),
    /// An invite that cannot be redeemed.
    #[error("invite refused: {0}")]
    Invite(InviteRefusal),
    /// The database URL names no supported backend.
    #[error("unsupported database URL {0:?}: expected sqlite://PATH or postgres://...")]
    Url(String),
    /// Creating the SQLite file's directory failed.
    #[error("cannot create the directory for {path}: {source}")]
    Io { path: String, source: std::io::Error },
    /// The embedded migrations could not be applied.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Any other database error (connection, I/O, ...).
    #[error("database error: {0}")]
    Db(sqlx::Error),
}

/// Why an invite was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteRefusal {
    /// No invite has this token.
    Unknown,
    /// Someone already redeemed it (invites are single use).
    Used,
    /// Its expiry time has passed.
    Expired,
}

impl std::fmt::Display for InviteRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InviteRefusal::Unknown => "unknown token",
            InviteRefusal::Used => "already used",
            InviteRefusal::Expired => "expired",
        })
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        if let sqlx::Error::Database(db) = &err {
            let what = db.constraint().map_or_else(|| db.message().to_owned(), str::to_owned);
            match db.kind() {
                ErrorKind::UniqueViolation => return StoreError::Conflict(what),
                ErrorKind::ForeignKeyViolation => return StoreError::NotFound(format!("referenced row ({what})")),
                ErrorKind::CheckViolation | ErrorKind::NotNullViolation => return StoreError::Invalid(what),
                _ => {}
            }
        }
        StoreError::Db(err)
    }
}

/// Result of a storage call.
pub type StoreResult<T> = Result<T, StoreError>;

/// Which database a `Store` talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The backend a URL names, if any.
    pub fn of_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}

/// An account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub created_at: i64,
}

/// An account with its password hash, for logging in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserCredentials {
    pub user: User,
    /// Argon2 PHC string (`auth::hash_password`).
    pub password_hash: String,
}

/// What is needed to create a live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    pub name: String,
    /// User id of the owner (also call `add_member(.., "owner")`; `create_session` does it).
    pub owner: i64,
    pub scenario_name: String,
    pub scenario_toml: String,
    pub seed: u64,
    pub threads: u32,
    /// The tick rate in its text form (the runtime's `TickRate` `Display`/`FromStr`).
    pub rate: String,
    /// Anyone signed in may join as an observer.
    pub public: bool,
}

/// A stored live session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub id: i64,
    pub name: String,
    pub owner: i64,
    pub scenario_name: String,
    pub scenario_toml: String,
    pub seed: u64,
    pub threads: u32,
    pub rate: String,
    /// One of `SESSION_STATES`.
    pub state: String,
    /// Anyone signed in may join as an observer.
    pub public: bool,
    pub created_at: i64,
}

/// A member of a session and the role they hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: i64,
    pub username: String,
    /// One of `ROLES`.
    pub role: String,
    pub joined_at: i64,
}

/// The latest snapshot of a session's world.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotRow {
    pub tick: u64,
    pub world_hash: u64,
    pub epoch: u64,
    pub bytes: Vec<u8>,
    /// The commands applied since the snapshot's base, one JSON object per line.
    pub inputs_jsonl: String,
    pub saved_at: i64,
}

/// A chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRow {
    pub id: i64,
    pub session_id: i64,
    pub user_id: i64,
    pub username: String,
    pub text: String,
    pub at: i64,
}

/// The server's database: a connection pool, cheap to clone and share between tasks.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    #[allow(dead_code)] // read through `backend()`
    backend: Backend,
}

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs().cast_signed())
}

fn to_db(v: u64) -> i64 {
    v.cast_signed()
}

fn from_db(v: i64) -> u64 {
    v.cast_unsigned()
}

/// The embedded migrations for a backend (`server/migrations/<backend>/`).
fn migrator(backend: Backend) -> Migrator {
    let sql = match backend {
        Backend::Sqlite => include_str!("../../migrations/sqlite/0001_accounts_sessions.sql"),
        Backend::Postgres => include_str!("../../migrations/postgres/0001_accounts_sessions.sql"),
    };
    Migrator::with_migrations(vec![Migration::new(
        1,
        Cow::Borrowed("accounts sessions"),
        MigrationType::Simple,
        sql.into_sql_str(),
        false,
    )])
}

/// `sqlite://PATH` with `mode=rwc` (create the file if missing) unless the URL already sets a mode.
fn sqlite_url(url: &str) -> StoreResult<String> {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let (path, params) = rest.split_once('?').unwrap_or((rest, ""));
    if path.is_empty() || path == ":memory:" {
        return Err(StoreError::Url(url.to_owned()));
    }
    if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Io { path: path.to_owned(), source })?;
    }
    let has_mode = params.split('&').any(|p| p.starts_with("mode="));
    Ok(match (params.is_empty(), has_mode) {
        (true, _) => format!("sqlite://{path}?mode=rwc"),
        (false, true) => format!("sqlite://{path}?{params}"),
        (false, false) => format!("sqlite://{path}?{params}&mode=rwc"),
    })
}

impl Store {
    /// Open a database and apply any pending migrations.
    ///
    /// `sqlite://PATH`: the file (and its directory) is created if missing; WAL journal, foreign keys on,
    /// 5 s busy timeout. `postgres://user:pass@host:port/db`: the database must exist.
    pub async fn open(url: &str) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        let backend = Backend::of_url(url).ok_or_else(|| StoreError::Url(url.to_owned()))?;
        let store = match backend {
            Backend::Sqlite => {
                let url = sqlite_url(url)?;
                let pool = AnyPoolOptions::new()
                    .max_connections(8)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // sqlx already turns foreign keys on and sets a 5 s busy timeout for SQLite;
                            // state both so the behaviour does not hang on a library default.
                            sqlx::query("PRAGMA foreign_keys = ON").execute(&mut *conn).await?;
                            sqlx::query("PRAGMA busy_timeout = 5000").execute(&mut *conn).await?;
                            Ok(())
                        })
                    })
                    .connect(&url)
                    .await?;
                // WAL is a property of the file: set once, every later connection uses it.
                sqlx::query("PRAGMA journal_mode = WAL").fetch_all(&pool).await?;
                Store { pool, backend }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(16)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?;
                Store { pool, backend }
            }
        };
        migrator(backend).run(&store.pool).await?;
        Ok(store)
    }

    /// Which database this store talks to (for start-up messages; the tests check it).
    #[allow(dead_code)] // no caller in serve.rs yet
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Close every pooled connection (on shutdown, after the last write).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    // ---- users ----------------------------------------------------------------------------------------

    /// Create an account. User names are unique regardless of case (`Conflict` otherwise).
    pub async fn create_user(&self, username: &str, password_hash: &str) -> StoreResult<User> {
        let now = unix_now();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(username)
        .bind(password_hash)
        .bind(now)
        .fetch_one(&self.pool)
        .await?;
        Ok(User { id, username: username.to_owned(), created_at: now })
    }

    /// The account with this name (case-insensitive) and its password hash.
    pub async fn user_by_name(&self, username: &str) -> StoreResult<Option<UserCredentials>> {
        let row =
            sqlx::query("SELECT id, username, created_at, password_hash FROM users WHERE lower(username) = lower($1)")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| Ok(UserCredentials { user: user_from(&r)?, password_hash: r.try_get("password_hash")? }))
            .transpose()
    }

    /// The account with this id.
    #[allow(dead_code)] // for account routes (`GET /me`); the tests use it
    pub async fn user_by_id(&self, id: i64) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT id, username, created_at FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from).transpose()
    }

    // ---- sessions -------------------------------------------------------------------------------------

    /// Store a new session in state `running` and make its owner a member with role `owner`, atomically.
    pub async fn create_session(&self, new: &NewSession) -> StoreResult<SessionRow> {
        let now = unix_now();
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sessions (name, owner, scenario_name, scenario_toml, seed, threads, rate, state, public, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8, $9) RETURNING id",
        )
        .bind(&new.name)
        .bind(new.owner)
        .bind(&new.scenario_name)
        .bind(&new.scenario_toml)
        .bind(to_db(new.seed))
        .bind(i64::from(new.threads))
        .bind(&new.rate)
        .bind(i64::from(new.public))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        upsert_member(&mut tx, id, new.owner, "owner", now).await?;
        tx.commit().await?;
        Ok(SessionRow {
            id,
            name: new.name.clone(),
            owner: new.owner,
            scenario_name: new.scenario_name.clone(),
            scenario_toml: new.scenario_toml.clone(),
            seed: new.seed,
            threads: new.threads,
            rate: new.rate.clone(),
            state: "running".to_owned(),
            public: new.public,
            created_at: now,
        })
    }

    /// The session with this id.
    pub async fn session(&self, id: i64) -> StoreResult<Option<SessionRow>> {
        let row = sqlx::query(concat!("SELECT ", session_columns!(), " FROM sessions s WHERE s.id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(session_from).transpose()
    }

    /// Every session, oldest first.
    pub async fn list_sessions(&self) -> StoreResult<Vec<SessionRow>> {
        let rows = sqlx::query(concat!("SELECT ", session_columns!(), " FROM sessions s ORDER BY s.id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(session_from).collect()
    }

    /// The sessions this user is a member of (any role), oldest first.
    pub async fn sessions_for_user(&self, user_id: i64) -> StoreResult<Vec<SessionRow>> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions s JOIN members m ON m.session_id = s.id WHERE m.user_id = $1 ORDER BY s.id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(session_from).collect()
    }

    /// Record a session's run state (one of `SESSION_STATES`); `NotFound` if there is no such session.
    pub async fn set_session_state(&self, id: i64, state: &str) -> StoreResult<()> {
        if !SESSION_STATES.contains(&state) {
            return Err(StoreError::Invalid(format!("session state {state:?}")));
        }
        let done = sqlx::query("UPDATE sessions SET state = $1 WHERE id = $2")
            .bind(state)
            .bind(id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("session {id}")));
        }
        Ok(())
    }

    /// Delete a session with its members, invites, snapshot and chat; `NotFound` if there is none.
    pub async fn delete_session(&self, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(&self.pool).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("session {id}")));
        }
        Ok(())
    }

    // ---- members --------------------------------------------------------------------------------------

    /// Make a user a member with `role` (one of `ROLES`), or change the role of an existing member.
    pub async fn add_member(&self, session_id: i64, user_id: i64, role: &str) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        upsert_member(&mut conn, session_id, user_id, role, unix_now()).await
    }

    /// The role a user holds in a session, if they are a member.
    pub async fn member_role(&self, session_id: i64, user_id: i64) -> StoreResult<Option<String>> {
        Ok(sqlx::query_scalar("SELECT role FROM members WHERE session_id = $1 AND user_id = $2")
            .bind(session_id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The members of a session, in the order they joined.
    pub async fn members(&self, session_id: i64) -> StoreResult<Vec<Member>> {
        let rows = sqlx::query(
            "SELECT m.user_id, u.username, m.role, m.joined_at FROM members m JOIN users u ON u.id = m.user_id \
             WHERE m.session_id = $1 ORDER BY m.joined_at, m.user_id",
        )
        .bind(session_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Member {
                    user_id: r.try_get("user_id")?,
                    username: r.try_get("username")?,
                    role: r.try_get("role")?,
                    joined_at: r.try_get("joined_at")?,
                })
            })
            .collect()
    }

    /// Remove a member (leave or kick); `NotFound` if the user is not a member.
    pub async fn remove_member(&self, session_id: i64, user_id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM members WHERE session_id = $1 AND user_id = $2")
            .bind(session_id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("member {user_id} of session {session_id}")));
        }
        Ok(())
    }

    // ---- invites --------------------------------------------------------------------------------------

    /// Create a single-use invite to a session with `role`, valid until `expires_at_unix` (exclusive).
    ///
    /// Returns the token (256 random bits, 64 hex digits, URL-safe). Only its SHA-256 is stored, so a
    /// copy of the database does not hand out working invites.
    pub async fn create_invite(
        &self,
        session_id: i64,
        role: &str,
        created_by: i64,
        expires_at_unix: i64,
    ) -> StoreResult<String> {
        check_role(role)?;
        let mut raw = [0u8; 32];
        rand::fill(&mut raw);
        let token = hex(&raw);
        sqlx::query(
            "INSERT INTO invites (token_hash, session_id, role, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(token_hash(&token))
        .bind(session_id)
        .bind(role)
        .bind(created_by)
        .bind(unix_now())
        .bind(expires_at_unix)
        .execute(&self.pool)
        .await?;
        Ok(token)
    }

    /// Redeem an invite: mark it used and make the user a member, in one transaction.
    ///
    /// Returns the session and the role the user now holds: the invite's role, or the role they already
    /// had if that is stronger (an observer invite never demotes an owner). Refused with
    /// `StoreError::Invite` when the token is unknown, used or expired; of two concurrent redeems of one
    /// token exactly one succeeds (the conditional `UPDATE` takes the row lock first).
    pub async fn redeem_invite(&self, token: &str, user_id: i64) -> StoreResult<(i64, String)> {
        let now = unix_now();
        let hash = token_hash(token);
        let mut tx = self.pool.begin().await?;
        let claimed = sqlx::query(
            "UPDATE invites SET used_by = $1, used_at = $2 \
             WHERE token_hash = $3 AND used_by IS NULL AND used_at IS NULL AND expires_at > $2 \
             RETURNING session_id, role",
        )
        .bind(user_id)
        .bind(now)
        .bind(&hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = claimed else {
            let state = sqlx::query("SELECT used_at FROM invites WHERE token_hash = $1")
                .bind(&hash)
                .fetch_optional(&mut *tx)
                .await?;
            let refusal = match state {
                None => InviteRefusal::Unknown,
                Some(r) if r.try_get::<Option<i64>, _>("used_at")?.is_some() => InviteRefusal::Used,
                Some(_) => InviteRefusal::Expired,
            };
            return Err(StoreError::Invite(refusal));
        };
        let session_id: i64 = row.try_get("session_id")?;
        let invited: String = row.try_get("role")?;
        let current: Option<String> =
            sqlx::query_scalar("SELECT role FROM members WHERE session_id = $1 AND user_id = $2")
                .bind(session_id)
                .bind(user_id)
                .fetch_optional(&mut *tx)
                .await?;
        let role = match current {
            Some(have) if role_rank(&have) < role_rank(&invited) => have,
            _ => invited,
        };
        upsert_member(&mut tx, session_id, user_id, &role, now).await?;
        tx.commit().await?;
        Ok((session_id, role))
    }

    // ---- snapshots ------------------------------------------------------------------------------------

    /// Replace the session's latest snapshot. The old one stays until the new one is committed, so a
    /// crash or error part-way never leaves the session without its last good snapshot.
    pub async fn save_snapshot(
        &self,
        session_id: i64,
        tick: u64,
        world_hash: u64,
        epoch: u64,
        bytes: &[u8],
        inputs_jsonl: &str,
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        let snap = SnapshotRef { tick, world_hash, epoch, bytes, inputs_jsonl };
        write_snapshot(&mut tx, session_id, &snap).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The session's latest committed snapshot, if any.
    pub async fn latest_snapshot(&self, session_id: i64) -> StoreResult<Option<SnapshotRow>> {
        let row = sqlx::query(
            "SELECT tick, world_hash, epoch, bytes, inputs_jsonl, saved_at FROM snapshots WHERE session_id = $1",
        )
        .bind(session_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SnapshotRow {
                tick: from_db(r.try_get("tick")?),
                world_hash: from_db(r.try_get("world_hash")?),
                epoch: from_db(r.try_get("epoch")?),
                bytes: r.try_get("bytes")?,
                inputs_jsonl: r.try_get("inputs_jsonl")?,
                saved_at: r.try_get("saved_at")?,
            })
        })
        .transpose()
    }

    // ---- chat -----------------------------------------------------------------------------------------

    /// Append a chat message to a session.
    pub async fn add_chat(&self, session_id: i64, user_id: i64, text: &str) -> StoreResult<ChatRow> {
        let now = unix_now();
        let mut tx = self.pool.begin().await?;
        let id: i64 =
            sqlx::query_scalar("INSERT INTO chat (session_id, user_id, text, at) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(session_id)
                .bind(user_id)
                .bind(text)
                .bind(now)
                .fetch_one(&mut *tx)
                .await?;
        let username: String =
            sqlx::query_scalar("SELECT username FROM users WHERE id = $1").bind(user_id).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(ChatRow { id, session_id, user_id, username, text: text.to_owned(), at: now })
    }

    /// The last `limit` messages of a session, oldest first.
    pub async fn recent_chat(&self, session_id: i64, limit: u32) -> StoreResult<Vec<ChatRow>> {
        let rows = sqlx::query(
            "SELECT c.id, c.session_id, c.user_id, u.username, c.text, c.at FROM chat c JOIN users u ON u.id = c.user_id \
             WHERE c.session_id = $1 ORDER BY c.id DESC LIMIT $2",
        )
        .bind(session_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                Ok(ChatRow {
                    id: r.try_get("id")?,
                    session_id: r.try_get("session_id")?,
                    user_id: r.try_get("user_id")?,
                    username: r.try_get("username")?,
                    text: r.try_get("text")?,
                    at: r.try_get("at")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        out.reverse();
        Ok(out)
    }
}

fn user_from(r: &AnyRow) -> StoreResult<User> {
    Ok(User { id: r.try_get("id")?, username: r.try_get("username")?, created_at: r.try_get("created_at")? })
}

fn session_from(r: &AnyRow) -> StoreResult<SessionRow> {
    let threads: i64 = r.try_get("threads")?;
    Ok(SessionRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        owner: r.try_get("owner")?,
        scenario_name: r.try_get("scenario_name")?,
        scenario_toml: r.try_get("scenario_toml")?,
        seed: from_db(r.try_get("seed")?),
        threads: u32::try_from(threads).map_err(|_| StoreError::Invalid(format!("stored thread count {threads}")))?,
        rate: r.try_get("rate")?,
        state: r.try_get("state")?,
        public: r.try_get::<i64, _>("public")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

fn check_role(role: &str) -> StoreResult<()> {
    if ROLES.contains(&role) { Ok(()) } else { Err(StoreError::Invalid(format!("role {role:?}"))) }
}

/// Position of a role in `ROLES` (0 = owner, the strongest); unknown roles rank last.
fn role_rank(role: &str) -> usize {
    ROLES.iter().position(|r| *r == role).unwrap_or(ROLES.len())
}

async fn upsert_member(
    conn: &mut AnyConnection,
    session_id: i64,
    user_id: i64,
    role: &str,
    now: i64,
) -> StoreResult<()> {
    check_role(role)?;
    sqlx::query(
        "INSERT INTO members (session_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (session_id, user_id) DO UPDATE SET role = excluded.role",
    )
    .bind(session_id)
    .bind(user_id)
    .bind(role)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A snapshot to write, borrowed.
struct SnapshotRef<'a> {
    tick: u64,
    world_hash: u64,
    epoch: u64,
    bytes: &'a [u8],
    inputs_jsonl: &'a str,
}

/// The statements of a snapshot replacement; the caller owns the transaction (and its commit).
async fn write_snapshot(conn: &mut AnyConnection, session_id: i64, snap: &SnapshotRef<'_>) -> StoreResult<()> {
    sqlx::query("DELETE FROM snapshots WHERE session_id = $1").bind(session_id).execute(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO snapshots (session_id, tick, world_hash, epoch, bytes, inputs_jsonl, saved_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(session_id)
    .bind(to_db(snap.tick))
    .bind(to_db(snap.world_hash))
    .bind(to_db(snap.epoch))
    .bind(snap.bytes)
    .bind(snap.inputs_jsonl)
    .bind(unix_now())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// What the invites table stores for a token: SHA-256, hex.
fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}
