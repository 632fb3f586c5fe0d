-- Accounts, live sessions, members, invites, snapshots and chat (SQLite).
-- Keep in step with ../postgres/0001_accounts_sessions.sql: same tables, columns and constraints;
-- only the id and blob column types differ. Times are unix seconds; u64 values are stored as i64 bits.

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    owner BIGINT NOT NULL REFERENCES users (id),
    scenario_name TEXT NOT NULL,
    scenario_toml TEXT NOT NULL,
    seed BIGINT NOT NULL,
    threads BIGINT NOT NULL,
    rate TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'stopped')),
    public BIGINT NOT NULL DEFAULT 0 CHECK (public IN (0, 1)),
    created_at BIGINT NOT NULL
);

CREATE TABLE members (
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'director', 'player', 'observer')),
    joined_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, user_id)
);
CREATE INDEX members_user ON members (user_id);

CREATE TABLE invites (
    token_hash TEXT PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    role TEXT NOT NULL CHECK (role IN ('owner', 'director', 'player', 'observer')),
    created_by BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    used_at BIGINT
);
CREATE INDEX invites_session ON invites (session_id);

CREATE TABLE snapshots (
    session_id BIGINT PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
    tick BIGINT NOT NULL,
    world_hash BIGINT NOT NULL,
    epoch BIGINT NOT NULL,
    bytes BLOB NOT NULL,
    inputs_jsonl TEXT NOT NULL,
    saved_at BIGINT NOT NULL
);

CREATE TABLE chat (
    id INTEGER PRIMARY KEY,
    session_id BIGINT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX chat_session ON chat (session_id, id);
