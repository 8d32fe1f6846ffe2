//! The null relay: the speed-of-light control of PERFORMANCE.md. A minimal tokio +
//! tokio-tungstenite WebSocket server with the server's buffer sizes (4 KiB read buffer, no
//! write buffer) that speaks enough of protocol v1 for the same generator to drive it:
//! `auth` (any token) or a bearer header → `ready`; `sub` → `subscribed`; `send` → an `ack`
//! to the sender and an `entry` (with a per-conversation `seq`) to every subscriber of the
//! conversation, the sender's own connection included, as our server does; `typing`/`read`
//! forwarded to the other subscribers; `ping` → `pong`; a WebSocket ping every heartbeat.
//! Nothing is persisted, nothing is checked beyond the JSON shape, and the payload is never
//! decoded. It runs as a child process so its CPU and memory are read like the server's.

use std::collections::HashMap;
use std::hash::{BuildHasher as _, RandomState};
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use futures_util::{SinkExt as _, StreamExt as _};
use serde::Deserialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// `null-relay`.
#[derive(Debug, Clone, Args)]
pub(crate) struct RelayArgs {
    /// Address to listen on (loopback only).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub(crate) listen: SocketAddr,
    /// Seconds between WebSocket pings to each client, like the server's heartbeat (0: none).
    #[arg(long, default_value_t = 25)]
    pub(crate) heartbeat_secs: u64,
    /// Runtime worker threads [default: one per CPU, like the server].
    #[arg(long)]
    pub(crate) threads: Option<usize>,
}

/// Frames queued per connection before further events for it are dropped (and counted).
const MAILBOX: usize = 1024;
const SHARDS: usize = 64;
/// How many queued frames are written before one flush.
const BATCH: usize = 64;

#[derive(Default)]
struct Room {
    seq: u64,
    subs: Vec<(u64, mpsc::Sender<Utf8Bytes>)>,
}

struct Relay {
    shards: Vec<Mutex<HashMap<Box<str>, Room>>>,
    hasher: RandomState,
    next_id: AtomicU64,
    dropped: AtomicU64,
    heartbeat: Option<Duration>,
}

impl Relay {
    fn shard(&self, c: &str) -> std::sync::MutexGuard<'_, HashMap<Box<str>, Room>> {
        let h = usize::try_from(self.hasher.hash_one(c) % SHARDS as u64).unwrap_or(0);
        self.shards[h]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a client frame may carry (strings borrowed: ids, UUIDs and base64 need no escapes,
/// and a frame with escapes is refused, so they can be copied into replies verbatim).
#[derive(Debug, Deserialize)]
struct In<'a> {
    t: &'a str,
    #[serde(default, borrow)]
    c: Option<&'a str>,
    #[serde(default, borrow)]
    id: Option<&'a str>,
    #[serde(default, borrow)]
    k: Option<&'a str>,
    #[serde(default, borrow)]
    p: Option<&'a str>,
    #[serde(default)]
    on: Option<bool>,
    #[serde(default)]
    seq: Option<u64>,
    #[serde(default)]
    n: Option<u64>,
    #[serde(default, borrow)]
    token: Option<&'a str>,
}

/// Runs the relay until SIGTERM or SIGINT; prints `null relay listening on ADDR` first.
pub(crate) fn run(args: &RelayArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.listen.ip().is_loopback(),
        "the null relay listens on loopback only"
    );
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = args.threads {
        builder.worker_threads(n.max(1));
    }
    let runtime = builder
        .enable_all()
        .build()
        .context("cannot start a runtime")?;
    runtime.block_on(serve(args))
}

async fn serve(args: &RelayArgs) -> anyhow::Result<()> {
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "null relay listening on http://{addr}")?;
        out.flush()?;
    }
    let relay = Arc::new(Relay {
        shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
        hasher: RandomState::new(),
        next_id: AtomicU64::new(1),
        dropped: AtomicU64::new(0),
        heartbeat: (args.heartbeat_secs > 0).then(|| Duration::from_secs(args.heartbeat_secs)),
    });
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                // EMFILE and friends: keep serving the connections we have.
                let Ok((stream, _)) = accepted else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                tokio::spawn(connection(Arc::clone(&relay), stream));
            }
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "null relay: {} frames dropped to full mailboxes",
        relay.dropped.load(Ordering::Relaxed)
    )?;
    Ok(())
}

fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_message_size(Some(128 << 10))
        .max_frame_size(Some(128 << 10))
}

type Ws = WebSocketStream<TcpStream>;

struct Conn {
    relay: Arc<Relay>,
    ws: Ws,
    id: u64,
    me: String,
    tx: mpsc::Sender<Utf8Bytes>,
    subs: Vec<Box<str>>,
}

async fn connection(relay: Arc<Relay>, stream: TcpStream) {
    let _ = stream.set_nodelay(true);
    let mut bearer = false;
    // tungstenite's callback signature fixes the (large) error type.
    #[allow(clippy::result_large_err)]
    let callback = |request: &Request, mut response: Response| {
        bearer = request.headers().contains_key("authorization");
        let offered = request
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|p| p.trim() == "sealdesk.v1"));
        if offered {
            response.headers_mut().insert(
                "sec-websocket-protocol",
                HeaderValue::from_static("sealdesk.v1"),
            );
        }
        Ok::<_, ErrorResponse>(response)
    };
    let Ok(mut ws) =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(config())).await
    else {
        return;
    };
    let id = relay.next_id.fetch_add(1, Ordering::Relaxed);
    let kind = if bearer {
        "staff"
    } else {
        match authenticate(&mut ws).await {
            Some(kind) => kind,
            None => return,
        }
    };
    let me = format!("{{\"kind\":\"{kind}\",\"id\":\"00000000-0000-4000-8000-{id:012x}\"}}");
    let ready =
        format!("{{\"t\":\"ready\",\"v\":1,\"me\":{me},\"heartbeat_s\":25,\"max_payload\":65536}}");
    if ws.send(Message::text(ready)).await.is_err() {
        return;
    }
    let (tx, rx) = mpsc::channel(MAILBOX);
    let mut conn = Conn {
        relay,
        ws,
        id,
        me,
        tx,
        subs: Vec::new(),
    };
    let _ = conn.serve(rx).await;
    conn.unsubscribe_all();
}

/// Waits (at most 10 s) for the `auth` frame; a visitor ticket makes a visitor.
async fn authenticate(ws: &mut Ws) -> Option<&'static str> {
    let first = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .ok()??;
    let Ok(Message::Text(text)) = first else {
        return None;
    };
    let frame: In<'_> = serde_json::from_str(text.as_str()).ok()?;
    if frame.t != "auth" {
        return None;
    }
    Some(if frame.token?.starts_with("sd_vt_") {
        "visitor"
    } else {
        "staff"
    })
}

impl Conn {
    async fn serve(&mut self, mut rx: mpsc::Receiver<Utf8Bytes>) -> Result<(), ()> {
        let period = self.relay.heartbeat.unwrap_or(Duration::from_hours(1));
        let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        loop {
            tokio::select! {
                message = self.ws.next() => match message {
                    Some(Ok(Message::Text(text))) => {
                        self.on_text(text.as_str()).await?;
                        self.ws.flush().await.map_err(drop)?;
                    }
                    Some(Ok(Message::Binary(_) | Message::Close(_)) | Err(_)) | None => return Ok(()),
                    Some(Ok(_)) => {}
                },
                frame = rx.recv() => {
                    let Some(frame) = frame else { return Ok(()) };
                    self.ws.feed(Message::Text(frame)).await.map_err(drop)?;
                    for _ in 1..BATCH {
                        let Ok(frame) = rx.try_recv() else { break };
                        self.ws.feed(Message::Text(frame)).await.map_err(drop)?;
                    }
                    self.ws.flush().await.map_err(drop)?;
                }
                _ = ticker.tick(), if self.relay.heartbeat.is_some() => {
                    self.ws.send(Message::Ping(bytes::Bytes::new())).await.map_err(drop)?;
                }
            }
        }
    }

    async fn reply(&mut self, text: String) -> Result<(), ()> {
        self.ws.feed(Message::text(text)).await.map_err(drop)
    }

    async fn on_text(&mut self, text: &str) -> Result<(), ()> {
        let Ok(frame) = serde_json::from_str::<In<'_>>(text) else {
            return self.error("invalid_input", None).await;
        };
        match (frame.t, frame.c) {
            ("sub", Some(c)) => {
                let last_seq = {
                    let mut shard = self.relay.shard(c);
                    let room = shard.entry(c.into()).or_default();
                    if !room.subs.iter().any(|(id, _)| *id == self.id) {
                        room.subs.push((self.id, self.tx.clone()));
                    }
                    room.seq
                };
                if !self.subs.iter().any(|s| &**s == c) {
                    self.subs.push(c.into());
                }
                self.reply(format!(
                    "{{\"t\":\"subscribed\",\"c\":\"{c}\",\"last_seq\":{last_seq},\"state\":\"assigned\"}}"
                ))
                .await
            }
            ("unsub", Some(c)) => {
                self.leave(c);
                self.subs.retain(|s| &**s != c);
                self.reply(format!("{{\"t\":\"unsubscribed\",\"c\":\"{c}\"}}"))
                    .await
            }
            ("send", Some(c)) => self.on_send(c, &frame).await,
            ("typing", Some(c)) => {
                let on = frame.on.unwrap_or(false);
                let out = format!(
                    "{{\"t\":\"typing\",\"c\":\"{c}\",\"from\":{},\"on\":{on}}}",
                    self.me
                );
                self.forward(c, out);
                Ok(())
            }
            ("read", Some(c)) => {
                let seq = frame.seq.unwrap_or(0);
                let out = format!(
                    "{{\"t\":\"read\",\"c\":\"{c}\",\"from\":{},\"seq\":{seq}}}",
                    self.me
                );
                self.forward(c, out);
                Ok(())
            }
            ("ping", _) => {
                let n = frame.n.unwrap_or(0);
                self.reply(format!("{{\"t\":\"pong\",\"n\":{n}}}")).await
            }
            _ => self.error("invalid_input", frame.c).await,
        }
    }

    async fn on_send(&mut self, c: &str, frame: &In<'_>) -> Result<(), ()> {
        let (Some(id), Some(k), Some(p)) = (frame.id, frame.k, frame.p) else {
            return self.error("invalid_input", Some(c)).await;
        };
        if k == "system" {
            return self.error("forbidden", Some(c)).await;
        }
        let at = unix_ms();
        let seq = {
            let mut shard = self.relay.shard(c);
            let room = shard.entry(c.into()).or_default();
            room.seq += 1;
            let seq = room.seq;
            let entry = Utf8Bytes::from(format!(
                "{{\"t\":\"entry\",\"c\":\"{c}\",\"seq\":{seq},\"k\":\"{k}\",\"from\":{},\"id\":\"{id}\",\"at\":{at},\"p\":\"{p}\"}}",
                self.me
            ));
            // Under the room's lock, so every subscriber gets the room's entries in order.
            for (_, tx) in &room.subs {
                if tx.try_send(entry.clone()).is_err() {
                    self.relay.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            seq
        };
        self.reply(format!(
            "{{\"t\":\"ack\",\"c\":\"{c}\",\"id\":\"{id}\",\"seq\":{seq}}}"
        ))
        .await
    }

    /// Sends an ephemeral frame to the conversation's other subscribers.
    fn forward(&self, c: &str, text: String) {
        let frame = Utf8Bytes::from(text);
        let shard = self.relay.shard(c);
        let Some(room) = shard.get(c) else { return };
        for (id, tx) in &room.subs {
            if *id != self.id && tx.try_send(frame.clone()).is_err() {
                self.relay.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    async fn error(&mut self, code: &str, c: Option<&str>) -> Result<(), ()> {
        let c = c.map(|c| format!(",\"c\":\"{c}\"")).unwrap_or_default();
        self.reply(format!(
            "{{\"t\":\"error\",\"code\":\"{code}\",\"message\":\"refused by the null relay\"{c}}}"
        ))
        .await
    }

    fn leave(&self, c: &str) {
        let mut shard = self.relay.shard(c);
        if let Some(room) = shard.get_mut(c) {
            room.subs.retain(|(id, _)| *id != self.id);
        }
    }

    fn unsubscribe_all(&mut self) {
        for c in std::mem::take(&mut self.subs) {
            self.leave(&c);
        }
    }
}

/// Unix milliseconds for the `at` field (wall clock: the entry's append time).
#[allow(clippy::disallowed_methods)] // the relay has no injected clock; `at` is informational
fn unix_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}
