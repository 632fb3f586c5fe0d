//! The observatory page served at `/`: the single-page app built from `web/` into `web/dist/`,
//! embedded in the binary (so `aion serve` needs nothing on disk), with an SPA fallback so that
//! links such as `/session/3` load the page, which then routes itself.
//!
//! Every asset carries a strong `ETag` (a hash of its bytes) and `Cache-Control: no-cache`, so
//! browsers revalidate cheaply (`304 Not Modified`) and never run a stale page after an upgrade.
//! Paths under `/api/` that no API route matched keep the API's JSON 404.

use axum::Router;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, X_CONTENT_TYPE_OPTIONS};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};

use crate::app::{ApiError, App};

/// One embedded file.
struct Asset {
    /// Its URL path.
    path: &'static str,
    /// `Content-Type`.
    mime: &'static str,
    /// Its bytes.
    body: &'static [u8],
}

/// The built page (`cd web && npm run build` writes these; they are committed).
const ASSETS: &[Asset] = &[
    Asset { path: "/", mime: "text/html; charset=utf-8", body: include_bytes!("../../web/dist/index.html") },
    Asset {
        path: "/assets/app.js",
        mime: "text/javascript; charset=utf-8",
        body: include_bytes!("../../web/dist/assets/app.js"),
    },
    Asset {
        path: "/assets/app.css",
        mime: "text/css; charset=utf-8",
        body: include_bytes!("../../web/dist/assets/app.css"),
    },
];

/// Routes of the page: the assets, and the page itself for any other non-API path.
pub fn routes() -> Router<App> {
    let mut r = Router::new().route("/index.html", get(|h: HeaderMap| async move { serve(&ASSETS[0], &h) }));
    for asset in ASSETS {
        r = r.route(asset.path, get(move |h: HeaderMap| async move { serve(asset, &h) }));
    }
    r.route("/{*rest}", any(fallback))
}

/// Any other path: the API's 404 under `/api/`, a 404 for a missing asset, else the page.
async fn fallback(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::not_found("no such route").into_response();
    }
    if path.starts_with("/assets/") {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, "the page only answers GET").into_response();
    }
    serve(&ASSETS[0], &headers)
}

/// An asset's response, or `304` when the browser already holds these bytes.
fn serve(asset: &Asset, headers: &HeaderMap) -> Response {
    let tag = etag(asset.body);
    let fresh = headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    let mut res = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        ([(CONTENT_TYPE, HeaderValue::from_static(asset.mime))], asset.body).into_response()
    };
    let h = res.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(ETAG, v);
    }
    res
}

/// A strong entity tag: FNV-1a (64 bit) of the bytes, quoted.
fn etag(body: &[u8]) -> String {
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    for b in body {
        x ^= u64::from(*b);
        x = x.wrapping_mul(0x0100_0000_01b3);
    }
    format!("\"{x:016x}-{}\"", body.len())
}

#[cfg(test)]
mod tests {
    use super::{ASSETS, etag};

    #[test]
    fn the_built_page_is_embedded_and_references_its_assets() {
        let html = std::str::from_utf8(ASSETS[0].body).expect("index.html is UTF-8");
        for a in &ASSETS[1..] {
            assert!(html.contains(a.path), "index.html loads {}", a.path);
            assert!(a.body.len() > 1000, "{} is built (run `cd web && npm ci && npm run build`)", a.path);
        }
        assert!(!String::from_utf8_lossy(ASSETS[1].body).contains("sourceMappingURL"), "no source maps shipped");
    }

    #[test]
    fn etags_follow_the_bytes() {
        assert_eq!(etag(b"abc"), etag(b"abc"));
        assert_ne!(etag(b"abc"), etag(b"abd"));
    }
}
