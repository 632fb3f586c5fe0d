//! Accounts and access tokens: argon2id password hashes, name and password rules, HS256 JWTs.
//!
//! The signing secret comes from `AION_JWT_SECRET` (at least 32 bytes, not a known default). Without it
//! the server refuses to start, except in dev mode, where it makes a random secret per process (tokens
//! then die with the process) and says so in the log.

// Until serve.rs (which calls this module) is committed, nothing outside the tests uses it; delete this
// line then.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Environment variable holding the token signing secret.
pub const SECRET_VAR: &str = "AION_JWT_SECRET";
/// Environment variable holding the token lifetime in seconds.
pub const TTL_VAR: &str = "AION_TOKEN_TTL_SECS";
/// Token lifetime when `AION_TOKEN_TTL_SECS` is unset.
pub const DEFAULT_TTL: Duration = Duration::from_secs(3600);
/// Longest token lifetime accepted from the environment (30 days).
pub const MAX_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
/// Shortest secret accepted, in bytes (the HS256 key size).
pub const MIN_SECRET_BYTES: usize = 32;
/// The placeholder secret the docs show; refused like any other published value.
pub const DOCS_EXAMPLE_SECRET: &str = "replace-me-with-at-least-32-random-bytes";
/// Value of the `iss` and `aud` claims: tokens are made by and for this server.
pub const ISSUER: &str = "aion";
/// Clock skew tolerated when checking `exp`, in seconds.
pub const LEEWAY_SECS: u64 = 5;

/// Why authentication or its configuration failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No secret outside dev mode.
    #[error("{SECRET_VAR} is not set: set it to at least {MIN_SECRET_BYTES} random bytes (or run in dev mode)")]
    MissingSecret,
    /// The configured secret is too short or a published default.
    #[error("{SECRET_VAR} is too weak: {0}")]
    WeakSecret(&'static str),
    /// `AION_TOKEN_TTL_SECS` is not a number of seconds in range.
    #[error("{TTL_VAR} must be a whole number of seconds between 1 and 2592000 (30 days), got {0:?}")]
    BadTtl(String),
    /// The token's `exp` has passed.
    #[error("token expired")]
    Expired,
    /// The token is malformed, signed with another key or algorithm, or meant for someone else.
    #[error("invalid token")]
    InvalidToken,
    /// A user name outside the rules.
    #[error("invalid user name: {0}")]
    Username(&'static str),
    /// A password outside the rules.
    #[error("invalid password: {0}")]
    Password(&'static str),
    /// Hashing failed (no randomness for the salt) or a blocking task died.
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

// ---- names and passwords ----------------------------------------------------------------------------

/// User names: 3 to 32 characters of `A-Z a-z 0-9 _ . -`.
pub fn validate_username(name: &str) -> Result<(), AuthError> {
    if !(3..=32).contains(&name.len()) {
        return Err(AuthError::Username("must be 3 to 32 characters long"));
    }
    if !name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')) {
        return Err(AuthError::Username("only letters, digits, '_', '.' and '-' are allowed"));
    }
    Ok(())
}

/// Passwords: 8 to 128 characters (Unicode scalar values), anything else goes.
pub fn validate_password(password: &str) -> Result<(), AuthError> {
    let n = password.chars().count();
    if n < 8 {
        return Err(AuthError::Password("must be at least 8 characters long"));
    }
    if n > 128 {
        return Err(AuthError::Password("must be at most 128 characters long"));
    }
    Ok(())
}

/// Hash a password with argon2id (the crate's default parameters) and a fresh random salt, as a PHC string.
///
/// Slow on purpose (tens of milliseconds): from async code use `hash_password_async`.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hashing(e.to_string()))
}

/// Whether `password` matches a PHC hash made by `hash_password` (constant-time comparison in the crate).
/// A malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
}

/// A hash no password is known for, so logging in as a missing user costs as much as a wrong password.
static DUMMY_HASH: LazyLock<Option<String>> = LazyLock::new(|| {
    let mut raw = [0u8; 32];
    rand::fill(&mut raw);
    hash_password(&String::from_utf8_lossy(&raw)).ok()
});

/// `hash_password` on tokio's blocking pool, so request handlers do not stall the runtime.
pub async fn hash_password_async(password: String) -> Result<String, AuthError> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| AuthError::Hashing(e.to_string()))?
}

/// `verify_password` on tokio's blocking pool. With no stored hash (unknown user) it checks against a
/// dummy hash and returns `false`, taking as long as a real check so timing does not reveal user names.
pub async fn verify_password_async(password: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify_password(&password, &phc),
        None => {
            if let Some(dummy) = DUMMY_HASH.as_deref() {
                let _ = verify_password(&password, dummy);
            }
            false
        }
    })
    .await
    .unwrap_or(false)
}

// ---- tokens -----------------------------------------------------------------------------------------

/// What an access token says: who, until when, and a unique id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id (a decimal string in the token, as JWT wants).
    #[serde(with = "sub_string")]
    pub sub: i64,
    /// The user's name when the token was issued.
    pub name: String,
    /// Issued at, unix seconds.
    pub iat: u64,
    /// Expires at, unix seconds.
    pub exp: u64,
    /// Unique token id (128 random bits, hex).
    pub jti: String,
    /// Always `ISSUER`.
    pub iss: String,
    /// Always `ISSUER`.
    pub aud: String,
}

mod sub_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&v.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Issues and checks HS256 access tokens. Cheap to clone (keys behind an `Arc`).
#[derive(Clone)]
pub struct Tokens {
    keys: Arc<Keys>,
    ttl: Duration,
}

struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("secret", &"<hidden>").field("ttl", &self.ttl).finish()
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Tokens {
    /// Tokens signed with `secret`, valid for `ttl` after issue.
    pub fn new(secret: &[u8], ttl: Duration) -> Tokens {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
        validation.leeway = LEEWAY_SECS;
        validation.validate_exp = true;
        let keys =
            Keys { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), validation };
        Tokens { keys: Arc::new(keys), ttl }
    }

    /// How long issued tokens live.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// A signed token for this user, expiring `ttl` from now.
    pub fn issue(&self, user_id: i64, username: &str) -> String {
        self.issue_at(user_id, username, now_secs())
    }

    fn issue_at(&self, user_id: i64, username: &str, iat: u64) -> String {
        let mut jti = [0u8; 16];
        rand::fill(&mut jti);
        let claims = Claims {
            sub: user_id,
            name: username.to_owned(),
            iat,
            exp: iat.saturating_add(self.ttl.as_secs()),
            jti: jti.iter().map(|b| format!("{b:02x}")).collect(),
            iss: ISSUER.to_owned(),
            aud: ISSUER.to_owned(),
        };
        // HS256 over serde_json output of plain fields: encoding has no failure path for these inputs.
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.keys.encoding)
            .expect("HS256 signing of plain claims cannot fail")
    }

    /// The claims of a valid token: signed by this secret with HS256, issued by and for `ISSUER`, not
    /// expired (beyond `LEEWAY_SECS`). Everything else is `InvalidToken` (or `Expired`).
    pub fn verify(&self, token: &str) -> Result<Claims, AuthError> {
        use jsonwebtoken::errors::ErrorKind;
        match jsonwebtoken::decode::<Claims>(token, &self.keys.decoding, &self.keys.validation) {
            Ok(data) => Ok(data.claims),
            Err(e) if matches!(e.kind(), ErrorKind::ExpiredSignature) => Err(AuthError::Expired),
            Err(_) => Err(AuthError::InvalidToken),
        }
    }
}

// ---- configuration ----------------------------------------------------------------------------------

/// Authentication settings read at start-up.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Token issuer and checker.
    pub tokens: Tokens,
}

impl AuthConfig {
    /// Settings from `lookup(variable name)`; the process environment is `|k| std::env::var(k).ok()` (a
    /// closure rather than the environment itself keeps tests thread-safe). Without a secret: an error outside dev mode, a random
    /// per-process secret (and a warning) in dev mode. A weak secret is refused in both modes.
    pub fn from_lookup(dev: bool, lookup: impl Fn(&str) -> Option<String>) -> Result<AuthConfig, AuthError> {
        let ttl = match lookup(TTL_VAR) {
            None => DEFAULT_TTL,
            Some(raw) => match raw.trim().parse::<u64>() {
                Ok(secs) if secs >= 1 && secs <= MAX_TTL.as_secs() => Duration::from_secs(secs),
                _ => return Err(AuthError::BadTtl(raw)),
            },
        };
        let secret = match lookup(SECRET_VAR).filter(|s| !s.is_empty()) {
            Some(secret) => {
                check_secret(&secret)?;
                secret.into_bytes()
            }
            None if dev => {
                tracing::warn!(
                    "{SECRET_VAR} is not set: dev mode signs tokens with a random secret; they stop working when the \
                     server restarts"
                );
                let mut raw = vec![0u8; 32];
                rand::fill(raw.as_mut_slice());
                raw
            }
            None => return Err(AuthError::MissingSecret),
        };
        Ok(AuthConfig { tokens: Tokens::new(&secret, ttl) })
    }
}

/// Refuse secrets that are short, low in variety, or published placeholders.
fn check_secret(secret: &str) -> Result<(), AuthError> {
    if secret.len() < MIN_SECRET_BYTES {
        return Err(AuthError::WeakSecret("shorter than 32 bytes"));
    }
    if secret == DOCS_EXAMPLE_SECRET {
        return Err(AuthError::WeakSecret("it is the example from the documentation"));
    }
    let lower = secret.to_ascii_lowercase();
    const PLACEHOLDERS: [&str; 9] =
        ["changeme", "change-me", "change_me", "replace-me", "replace_me", "secret", "example", "password", "default"];
    if PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
        return Err(AuthError::WeakSecret("it looks like a placeholder (contains a word like 'secret' or 'changeme')"));
    }
    let mut seen = [false; 256];
    secret.bytes().for_each(|b| seen[usize::from(b)] = true);
    if seen.iter().filter(|s| **s).count() < 8 {
        return Err(AuthError::WeakSecret("fewer than 8 distinct characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const SECRET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEF";

    fn tokens() -> Tokens {
        Tokens::new(SECRET, Duration::from_secs(600))
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        move |k| map.get(k).cloned()
    }

    /// base64url (no padding) of `{"alg":"none","typ":"JWT"}`.
    const NONE_HEADER: &str = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";

    #[test]
    fn passwords_verify_only_when_right() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("", &hash));
        assert!(!verify_password("correct horse battery", "not a phc string"));
        let again = hash_password("correct horse battery").unwrap();
        assert_ne!(hash, again, "a fresh salt every time");
    }

    #[tokio::test]
    async fn async_helpers_hash_and_verify_off_the_runtime() {
        let hash = hash_password_async("hunter2hunter2".to_owned()).await.unwrap();
        assert!(verify_password_async("hunter2hunter2".to_owned(), Some(hash.clone())).await);
        assert!(!verify_password_async("hunter3hunter3".to_owned(), Some(hash)).await);
        assert!(!verify_password_async("hunter2hunter2".to_owned(), None).await, "unknown user never matches");
    }

    #[test]
    fn name_and_password_rules() {
        for ok in ["abc", "alice_01", "A.b-c", &"x".repeat(32)] {
            assert!(validate_username(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", &"x".repeat(33), "al ice", "alice!", "élise", "a/b", ""] {
            assert!(matches!(validate_username(bad), Err(AuthError::Username(_))), "{bad}");
        }
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password(&"é".repeat(128)).is_ok(), "counted in characters, not bytes");
        assert!(matches!(validate_password("1234567"), Err(AuthError::Password(_))));
        assert!(matches!(validate_password(&"x".repeat(129)), Err(AuthError::Password(_))));
    }

    #[test]
    fn a_fresh_token_verifies_with_its_claims() {
        let t = tokens();
        let token = t.issue(42, "alice");
        let claims = t.verify(&token).unwrap();
        assert_eq!((claims.sub, claims.name.as_str()), (42, "alice"));
        assert_eq!((claims.iss.as_str(), claims.aud.as_str()), (ISSUER, ISSUER));
        assert_eq!(claims.exp - claims.iat, 600);
        assert_eq!(claims.jti.len(), 32);
        assert_ne!(t.verify(&t.issue(42, "alice")).unwrap().jti, claims.jti, "unique token ids");
    }

    #[test]
    fn expired_tokens_are_refused_after_the_leeway() {
        let t = tokens();
        let now = now_secs();
        // Expired 601 - 600 = 1 s ago: still inside the leeway.
        assert!(t.verify(&t.issue_at(1, "a", now - 601)).is_ok());
        // Expired LEEWAY + 1 s ago.
        let old = t.issue_at(1, "a", now - 600 - LEEWAY_SECS - 1);
        assert!(matches!(t.verify(&old), Err(AuthError::Expired)));
    }

    #[test]
    fn forged_tampered_and_malformed_tokens_are_refused() {
        let t = tokens();
        let other = Tokens::new(b"another-key-of-sufficient-length-0123456789", Duration::from_secs(600));
        let forged = other.issue(1, "admin");
        assert!(matches!(t.verify(&forged), Err(AuthError::InvalidToken)));

        // Payload of one token with the signature of another: the payload was changed after signing.
        let mine: Vec<String> = t.issue(7, "mallory").split('.').map(str::to_owned).collect();
        let theirs: Vec<String> = t.issue(1, "admin").split('.').map(str::to_owned).collect();
        let tampered = format!("{}.{}.{}", mine[0], theirs[1], mine[2]);
        assert!(matches!(t.verify(&tampered), Err(AuthError::InvalidToken)));

        // alg "none" with no signature, and with the original signature.
        let unsigned = format!("{NONE_HEADER}.{}.", theirs[1]);
        assert!(matches!(t.verify(&unsigned), Err(AuthError::InvalidToken)));
        let relabelled = format!("{NONE_HEADER}.{}.{}", theirs[1], theirs[2]);
        assert!(matches!(t.verify(&relabelled), Err(AuthError::InvalidToken)));

        for junk in ["", "abc", "a.b.c", "...", &format!("{}.{}", theirs[0], theirs[1])] {
            assert!(matches!(t.verify(junk), Err(AuthError::InvalidToken)), "{junk:?}");
        }
    }

    #[test]
    fn wrong_algorithm_audience_or_issuer_is_refused() {
        let t = tokens();
        let now = now_secs();
        let claims = |aud: &str, iss: &str| Claims {
            sub: 1,
            name: "a".to_owned(),
            iat: now,
            exp: now + 600,
            jti: "00".to_owned(),
            iss: iss.to_owned(),
            aud: aud.to_owned(),
        };
        let key = EncodingKey::from_secret(SECRET);
        let sign = |alg, c: &Claims| jsonwebtoken::encode(&Header::new(alg), c, &key).unwrap();
        assert!(t.verify(&sign(Algorithm::HS256, &claims(ISSUER, ISSUER))).is_ok(), "control: same key and claims");
        let hs512 = sign(Algorithm::HS512, &claims(ISSUER, ISSUER));
        assert!(matches!(t.verify(&hs512), Err(AuthError::InvalidToken)), "same secret, other algorithm");
        let other_aud = sign(Algorithm::HS256, &claims("someone-else", ISSUER));
        assert!(matches!(t.verify(&other_aud), Err(AuthError::InvalidToken)));
        let other_iss = sign(Algorithm::HS256, &claims(ISSUER, "someone-else"));
        assert!(matches!(t.verify(&other_iss), Err(AuthError::InvalidToken)));
    }

    #[test]
    fn outside_dev_mode_a_secret_is_required() {
        let err = AuthConfig::from_lookup(false, env(&[])).unwrap_err();
        assert!(matches!(err, AuthError::MissingSecret));
        assert!(err.to_string().contains(SECRET_VAR), "the error names the variable: {err}");
        assert!(matches!(AuthConfig::from_lookup(false, env(&[(SECRET_VAR, "")])), Err(AuthError::MissingSecret)));

        let good = "q8Zr2vN5xT1mK7pL4wY9bC3dF6gH0jS2";
        let cfg = AuthConfig::from_lookup(false, env(&[(SECRET_VAR, good)])).unwrap();
        assert_eq!(cfg.tokens.ttl(), DEFAULT_TTL);
        // The configured secret is the one used: a token made with it elsewhere verifies.
        let same = Tokens::new(good.as_bytes(), DEFAULT_TTL);
        assert!(cfg.tokens.verify(&same.issue(3, "c")).is_ok());
    }

    #[test]
    fn weak_secrets_are_refused_in_every_mode() {
        let weak = [
            "secret",
            "changeme",
            "short-but-random-Zx81",
            DOCS_EXAMPLE_SECRET,
            "this-is-my-secret-key-for-aion-0123456789",
            "CHANGEME-CHANGEME-CHANGEME-CHANGEME",
            &"a".repeat(64),
            "abababababababababababababababababab",
        ];
        for dev in [false, true] {
            for w in weak {
                let got = AuthConfig::from_lookup(dev, env(&[(SECRET_VAR, w)]));
                assert!(matches!(got, Err(AuthError::WeakSecret(_))), "dev={dev} {w:?}: {got:?}");
            }
        }
    }

    #[test]
    fn dev_mode_makes_a_random_secret_per_process() {
        let a = AuthConfig::from_lookup(true, env(&[])).unwrap();
        let b = AuthConfig::from_lookup(true, env(&[])).unwrap();
        let token = a.tokens.issue(1, "dev");
        assert!(a.tokens.verify(&token).is_ok());
        assert!(matches!(b.tokens.verify(&token), Err(AuthError::InvalidToken)), "each secret is fresh");
    }

    #[test]
    fn token_lifetime_comes_from_the_environment() {
        let cfg = AuthConfig::from_lookup(true, env(&[(TTL_VAR, "120")])).unwrap();
        assert_eq!(cfg.tokens.ttl(), Duration::from_secs(120));
        let claims = cfg.tokens.verify(&cfg.tokens.issue(1, "a")).unwrap();
        assert_eq!(claims.exp - claims.iat, 120);
        for bad in ["0", "-5", "soon", "", &(MAX_TTL.as_secs() + 1).to_string()] {
            let got = AuthConfig::from_lookup(true, env(&[(TTL_VAR, bad)]));
            assert!(matches!(got, Err(AuthError::BadTtl(_))), "{bad:?}: {got:?}");
        }
    }
}
