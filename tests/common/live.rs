//! A real `aion serve` process on loopback, a small HTTP/1.1 client and a WebSocket client
//! (tokio-tungstenite) speaking `aion.observatory.v1`, for the server tests.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// A running server; killed when dropped (use [`Server::stop`] for a graceful shutdown).
pub struct Server {
    child: Option<Child>,
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its data directory.
    pub data: PathBuf,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Server {
    /// Starts `aion serve --dev` on a free loopback port with its data in `data`.
    pub fn start(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Server {
        let mut cmd = Command::new(super::aion_bin());
        cmd.args(["serve", "--dev", "--addr", "127.0.0.1:0", "--threads", "1", "--data"])
            .arg(data)
            .args(args)
            .env_remove("RUST_LOG")
            .env_remove("DATABASE_URL")
            .env_remove("AION_JWT_SECRET")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("aion serve starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let first = lines.recv_timeout(Duration::from_secs(120)).expect("the server prints its address");
        let addr = first
            .split("http://")
            .nth(1)
            .and_then(|r| r.split('/').next())
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| panic!("no address in {first:?}"));
        Server { child: Some(child), addr, data: data.to_owned(), lines }
    }

    /// Sends SIGTERM, waits for the process and returns what it printed after starting.
    pub fn stop(mut self) -> Vec<String> {
        let mut child = self.child.take().expect("running");
        let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
        let status = child.wait().expect("the server exits");
        assert!(status.success(), "aion serve exited with {status}");
        self.lines.try_iter().collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A response: status, headers (lower-case names) and JSON body (`Null` when empty or not JSON).
pub struct Resp {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: Vec<(String, String)>,
    /// Body as JSON.
    pub json: Value,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Resp {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request (connection closed after it).
pub async fn http(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: Option<&Value>) -> Resp {
    let raw = body.map(|b| b.to_string());
    http_raw(addr, method, path, token, raw.as_deref().map(str::as_bytes)).await
}

/// One HTTP/1.1 request with a raw body.
pub async fn http_raw(addr: SocketAddr, method: &str, path: &str, token: Option<&str>, body: Option<&[u8]>) -> Resp {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or_default();
    if !body.is_empty() || method == "POST" || method == "PUT" {
        req.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.expect("write");
    s.write_all(body).await.expect("write body");
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.expect("read");
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("a header block");
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = buf[split + 4..].to_vec();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
        body = dechunk(&body);
    }
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Resp { status, headers, json, body }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
        let n = usize::from_str_radix(String::from_utf8_lossy(&b[..nl]).trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + n]);
        b = &b[nl + 2 + n + 2..];
    }
    out
}

/// Registers and logs in; returns (user id, token).
pub async fn account(addr: SocketAddr, name: &str) -> (i64, String) {
    let cred = json!({"username": name, "password": "correct horse battery"});
    let r = http(addr, "POST", "/api/v1/auth/register", None, Some(&cred)).await;
    assert_eq!(r.status, 201, "register {name}: {}", r.json);
    let r = http(addr, "POST", "/api/v1/auth/login", None, Some(&cred)).await;
    assert_eq!(r.status, 200, "login {name}: {}", r.json);
    (r.json["user"]["id"].as_i64().unwrap(), r.json["token"].as_str().unwrap().to_owned())
}

/// An observatory connection.
pub struct Ws {
    inner: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How a connection ended.
#[derive(Debug, PartialEq)]
pub enum End {
    /// A close frame with this code.
    Closed(u16),
    /// The stream ended without one.
    Gone,
}

impl Ws {
    /// Connects to a session's observatory (optionally with a small receive buffer, to play a
    /// slow client).
    pub async fn connect(addr: SocketAddr, session: i64, token: &str, recv_buffer: Option<u32>) -> Ws {
        let url = format!("ws://{addr}/api/v1/sessions/{session}/ws?token={token}");
        let mut req = url.into_client_request().expect("request");
        req.headers_mut().insert("Sec-WebSocket-Protocol", "aion.observatory.v1".parse().expect("header"));
        let sock = TcpSocket::new_v4().expect("socket");
        if let Some(n) = recv_buffer {
            sock.set_recv_buffer_size(n).expect("SO_RCVBUF");
        }
        let stream = sock.connect(addr).await.expect("connect");
        let (inner, resp) =
            tokio_tungstenite::client_async(req, MaybeTlsStream::Plain(stream)).await.expect("handshake");
        if let Some(p) = resp.headers().get("sec-websocket-protocol") {
            assert_eq!(p, "aion.observatory.v1");
        }
        Ws { inner }
    }

    /// Sends a JSON message.
    pub async fn send(&mut self, v: Value) {
        self.inner.send(Message::Text(v.to_string().into())).await.expect("send");
    }

    /// Sends raw text.
    pub async fn send_text(&mut self, t: &str) {
        self.inner.send(Message::Text(t.to_owned().into())).await.expect("send");
    }

    /// The next JSON frame, or how the connection ended (within `secs`).
    pub async fn next(&mut self, secs: u64) -> Result<Value, End> {
        loop {
            let m = tokio::time::timeout(Duration::from_secs(secs), self.inner.next())
                .await
                .unwrap_or_else(|_| panic!("no frame within {secs} s"));
            match m {
                Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(t.as_str()).expect("frames are JSON")),
                Some(Ok(Message::Close(Some(f)))) => return Err(End::Closed(u16::from(f.code))),
                Some(Ok(Message::Close(None))) | None | Some(Err(_)) => return Err(End::Gone),
                Some(Ok(_)) => continue,
            }
        }
    }

    /// The next frame of one of these types, skipping others.
    pub async fn next_of(&mut self, types: &[&str], secs: u64) -> Value {
        loop {
            let f = self.next(secs).await.expect("connection open");
            if types.iter().any(|t| f["type"] == *t) {
                return f;
            }
        }
    }

    /// Reads until the server closes; returns the close code.
    pub async fn closed(&mut self, secs: u64) -> End {
        loop {
            if let Err(e) = self.next(secs).await {
                return e;
            }
        }
    }

    /// Closes normally.
    pub async fn close(mut self) {
        let _ = self
            .inner
            .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into(),
            }))
            .await;
    }
}
