//! One generator connection: a bare `TcpStream` shared (single-threaded) between its reader
//! task and the worker's sender. Writes go straight to the socket with `try_write`; what does
//! not fit waits in a small backlog that the reader task flushes when the socket is writable.
//! Reads go through the worker's one shared scratch buffer, so an idle connection holds no
//! read buffer at all; only a partial frame is kept per connection.

use std::cell::{Cell, RefCell};
use std::io;
use std::net::{SocketAddr, SocketAddrV4};
use std::rc::Rc;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, Interest};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Notify;

use super::Worker;
use super::state::{After, Seat};
use crate::chat::mono::now_ns;
use crate::chat::wsproto::{
    self, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT, parse_frame,
};

/// How a connection authenticates.
#[derive(Debug, Clone)]
pub(crate) enum Credential {
    /// Staff: a bearer header on the upgrade.
    Bearer(String),
    /// Visitor: a ticket in the first frame.
    Ticket(String),
}

/// What a connection is for.
#[derive(Debug, Clone)]
pub(crate) struct Spec {
    /// Its seat in its conversations.
    pub(crate) seat: Seat,
    /// Conversations (worker-local indexes) to subscribe to.
    pub(crate) convs: Vec<u32>,
    /// Credentials.
    pub(crate) credential: Credential,
}

/// A live connection.
#[derive(Debug)]
pub(crate) struct Conn {
    stream: TcpStream,
    /// Its seat.
    pub(crate) seat: Seat,
    /// Its conversation, for a visitor or an agent.
    pub(crate) conv: Option<u32>,
    out: RefCell<Vec<u8>>,
    wake: Notify,
    rbuf: RefCell<Vec<u8>>,
    frag: RefCell<Option<Vec<u8>>>,
    subscribed: Cell<u32>,
    sub_wait: Notify,
    open: Cell<bool>,
    mask: Cell<u32>,
}

/// What a frame asks of the reader.
enum Flow {
    Continue,
    Close,
}

impl Conn {
    /// Whether the connection is still open.
    pub(crate) fn is_open(&self) -> bool {
        self.open.get()
    }

    fn next_mask(&self) -> [u8; 4] {
        // xorshift32: masks only need to vary, not to be secret, on loopback.
        let mut x = self.mask.get();
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.mask.set(x);
        x.to_le_bytes()
    }

    /// Writes one frame. Returns whether it had to wait in the backlog.
    pub(crate) fn write_frame(&self, opcode: u8, payload: &[u8]) -> bool {
        let mut frame = Vec::with_capacity(payload.len() + 14);
        wsproto::encode_frame(opcode, payload, self.next_mask(), &mut frame);
        self.write_bytes(&frame)
    }

    fn write_bytes(&self, bytes: &[u8]) -> bool {
        if !self.open.get() {
            return false;
        }
        let mut out = self.out.borrow_mut();
        if !out.is_empty() {
            out.extend_from_slice(bytes);
            return true;
        }
        match self.stream.try_write(bytes) {
            Ok(n) if n == bytes.len() => false,
            Ok(n) => {
                out.extend_from_slice(bytes.get(n..).unwrap_or_default());
                self.wake.notify_one();
                true
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                out.extend_from_slice(bytes);
                self.wake.notify_one();
                true
            }
            Err(_) => {
                self.open.set(false);
                self.wake.notify_one();
                false
            }
        }
    }

    fn flush_backlog(&self) -> io::Result<()> {
        let mut out = self.out.borrow_mut();
        while !out.is_empty() {
            match self.stream.try_write(&out) {
                Ok(n) => {
                    out.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        if out.is_empty() {
            *out = Vec::new();
        }
        Ok(())
    }
}

/// Reads and handles frames until the connection ends.
pub(crate) async fn reader(worker: Rc<Worker>, conn: Rc<Conn>) {
    // Frames that arrived with the handshake.
    let early = std::mem::take(&mut *conn.rbuf.borrow_mut());
    if matches!(process(&worker, &conn, &early), Flow::Close) {
        return closed(&worker, &conn, None);
    }
    loop {
        if !conn.open.get() {
            break;
        }
        let pending = !conn.out.borrow().is_empty();
        let ready = if pending {
            conn.stream
                .ready(Interest::READABLE | Interest::WRITABLE)
                .await
        } else {
            tokio::select! {
                ready = conn.stream.ready(Interest::READABLE) => ready,
                () = conn.wake.notified() => continue,
            }
        };
        let Ok(ready) = ready else { break };
        if ready.is_writable() && conn.flush_backlog().is_err() {
            break;
        }
        if !(ready.is_readable() || ready.is_read_closed()) {
            continue;
        }
        match read_available(&worker, &conn) {
            Ok(Flow::Continue) => {}
            Ok(Flow::Close) | Err(_) => break,
        }
    }
    closed(&worker, &conn, None);
}

fn closed(worker: &Worker, conn: &Conn, code: Option<u16>) {
    if conn.open.replace(false) || code.is_some() {
        let mut state = worker.state.borrow_mut();
        state.counters.closed_by_server += 1;
        if let Some(code) = code {
            *state.counters.close_codes.entry(code).or_default() += 1;
        }
    }
    conn.sub_wait.notify_one();
}

/// Reads everything the socket has, through the shared scratch buffer. A read that does not
/// fill the buffer drained the socket: its readiness is cleared right away (as tokio's own
/// `AsyncRead` does), which saves the extra read that would only return `EAGAIN`.
fn read_available(worker: &Worker, conn: &Conn) -> io::Result<Flow> {
    loop {
        let mut scratch = worker.scratch.borrow_mut();
        let mut got = 0;
        let result = conn.stream.try_io(Interest::READABLE, || {
            let n = rustix::io::read(&conn.stream, &mut scratch[..])?;
            got = n;
            if n > 0 && n < scratch.len() {
                // Drained: clear the readiness; the data is handled below.
                return Err(io::ErrorKind::WouldBlock.into());
            }
            Ok(n)
        });
        match result {
            Ok(0) => return Ok(Flow::Close),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && got == 0 => {
                return Ok(Flow::Continue);
            }
            Ok(_) | Err(_) if got > 0 => {
                // Nothing below borrows the scratch buffer again.
                let data = scratch.get(..got).unwrap_or_default();
                if matches!(process(worker, conn, data), Flow::Close) {
                    return Ok(Flow::Close);
                }
                if got < scratch.len() {
                    return Ok(Flow::Continue);
                }
            }
            Ok(_) => return Ok(Flow::Continue),
            Err(e) => return Err(e),
        }
    }
}

/// Handles the complete frames in `data` (after any partial frame kept from before).
fn process(worker: &Worker, conn: &Conn, data: &[u8]) -> Flow {
    let mut rbuf = conn.rbuf.borrow_mut();
    let flow;
    if rbuf.is_empty() {
        let (consumed, f) = frames(worker, conn, data);
        flow = f;
        rbuf.extend_from_slice(data.get(consumed..).unwrap_or_default());
    } else {
        rbuf.extend_from_slice(data);
        let (consumed, f) = frames(worker, conn, &rbuf);
        flow = f;
        rbuf.drain(..consumed);
        if rbuf.is_empty() {
            // An idle connection keeps no buffer.
            *rbuf = Vec::new();
        }
    }
    flow
}

fn frames(worker: &Worker, conn: &Conn, buf: &[u8]) -> (usize, Flow) {
    let mut at = 0;
    loop {
        let rest = buf.get(at..).unwrap_or_default();
        match parse_frame(rest) {
            Ok(Some(frame)) => {
                let payload = rest.get(frame.start..frame.end).unwrap_or_default();
                at += frame.end;
                if matches!(
                    on_frame(worker, conn, frame.fin, frame.opcode, payload),
                    Flow::Close
                ) {
                    return (at, Flow::Close);
                }
            }
            Ok(None) => return (at, Flow::Continue),
            Err(e) => {
                let mut state = worker.state.borrow_mut();
                let key = format!("bad frame: {e}");
                *state.counters.errors.entry(key).or_default() += 1;
                return (at, Flow::Close);
            }
        }
    }
}

fn on_frame(worker: &Worker, conn: &Conn, fin: bool, opcode: u8, payload: &[u8]) -> Flow {
    match opcode {
        OP_TEXT if fin => on_text(worker, conn, payload),
        OP_TEXT => {
            *conn.frag.borrow_mut() = Some(payload.to_vec());
            Flow::Continue
        }
        OP_CONTINUATION => {
            let mut frag = conn.frag.borrow_mut();
            let Some(buf) = frag.as_mut() else {
                return Flow::Close;
            };
            buf.extend_from_slice(payload);
            if fin {
                let whole = frag.take().unwrap_or_default();
                drop(frag);
                return on_text(worker, conn, &whole);
            }
            Flow::Continue
        }
        OP_PING => {
            conn.write_frame(OP_PONG, payload);
            Flow::Continue
        }
        OP_PONG => Flow::Continue,
        OP_CLOSE => {
            let code = payload.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]));
            conn.write_frame(OP_CLOSE, payload.get(..2).unwrap_or_default());
            closed(worker, conn, Some(code.unwrap_or(1005)));
            Flow::Close
        }
        // Binary frames are not protocol v1.
        _ => {
            let mut state = worker.state.borrow_mut();
            *state
                .counters
                .errors
                .entry(format!("opcode {opcode}"))
                .or_default() += 1;
            Flow::Continue
        }
    }
}

fn on_text(worker: &Worker, conn: &Conn, text: &[u8]) -> Flow {
    let after = worker
        .state
        .borrow_mut()
        .on_text(conn.seat, conn.conv, text, now_ns());
    if after == After::Subscribed {
        conn.subscribed.set(conn.subscribed.get() + 1);
        conn.sub_wait.notify_one();
    }
    Flow::Continue
}

/// Why a setup failed (short, so failures group well in the report).
fn fail(what: &str, e: impl std::fmt::Display) -> String {
    let text = e.to_string();
    let text: String = text.chars().take(160).collect();
    format!("{what}: {text}")
}

/// Reads from `stream` into `buf` (at most 30 s per read).
async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Result<(), String> {
    let mut chunk = [0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(30), stream.read(&mut chunk))
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| fail("read", e))?;
    if n == 0 {
        return Err("closed during setup".to_owned());
    }
    buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    Ok(())
}

/// Connects, upgrades, authenticates and subscribes one connection, then leaves it to its
/// reader task. Returns its index.
pub(crate) async fn setup(
    worker: &Rc<Worker>,
    local: SocketAddrV4,
    server: SocketAddr,
    spec: &Spec,
    key_bytes: [u8; 16],
    mask_seed: u32,
) -> Result<usize, String> {
    let socket = TcpSocket::new_v4().map_err(|e| fail("socket", e))?;
    socket
        .bind(SocketAddr::V4(local))
        .map_err(|e| fail("bind", e))?;
    let mut stream = socket
        .connect(server)
        .await
        .map_err(|e| fail("connect", e))?;
    stream.set_nodelay(true).map_err(|e| fail("nodelay", e))?;
    let key = wsproto::request_key(key_bytes);
    let bearer;
    let headers: Vec<(&str, &str)> = match &spec.credential {
        Credential::Bearer(token) => {
            bearer = format!("Bearer {token}");
            vec![("Authorization", bearer.as_str())]
        }
        Credential::Ticket(_) => Vec::new(),
    };
    let host = server.to_string();
    let request = wsproto::upgrade_request(&host, "/api/ws", &key, "sealdesk.v1", &headers);
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| fail("write", e))?;
    let mut buf = Vec::new();
    let head = loop {
        match wsproto::check_upgrade(&buf, &key) {
            Ok(Some(n)) => break n,
            Ok(None) => read_more(&mut stream, &mut buf).await?,
            Err(e) => return Err(fail("upgrade", e)),
        }
    };
    buf.drain(..head);
    let mut mask = mask_seed.max(1);
    let mut frame = Vec::new();
    if let Credential::Ticket(ticket) = &spec.credential {
        let auth = format!("{{\"t\":\"auth\",\"token\":\"{ticket}\"}}");
        mask = mask.rotate_left(7) ^ 0x9E37_79B9;
        wsproto::encode_frame(OP_TEXT, auth.as_bytes(), mask.to_le_bytes(), &mut frame);
        stream
            .write_all(&frame)
            .await
            .map_err(|e| fail("write", e))?;
    }
    // The first text frame must be `ready`.
    loop {
        match parse_frame(&buf).map_err(|e| fail("frame", e))? {
            Some(f) if f.opcode == OP_TEXT => {
                let text = buf.get(f.start..f.end).unwrap_or_default();
                let text = String::from_utf8_lossy(text);
                if !text.starts_with("{\"t\":\"ready\"") {
                    return Err(fail("refused", text));
                }
                buf.drain(..f.end);
                break;
            }
            Some(f) if f.opcode == OP_CLOSE => {
                let code = buf
                    .get(f.start..f.start + 2)
                    .map_or(1005, |b| u16::from_be_bytes([b[0], b[1]]));
                return Err(format!("closed with {code} before ready"));
            }
            Some(f) => {
                buf.drain(..f.end);
            }
            None => read_more(&mut stream, &mut buf).await?,
        }
    }
    let conn = Rc::new(Conn {
        stream,
        seat: spec.seat,
        conv: match spec.seat {
            Seat::Dashboard => None,
            Seat::Visitor | Seat::Agent => spec.convs.first().copied(),
        },
        out: RefCell::new(Vec::new()),
        wake: Notify::new(),
        // Exactly the early frames, not the handshake buffer's capacity.
        rbuf: RefCell::new(buf.as_slice().to_vec()),
        frag: RefCell::new(None),
        subscribed: Cell::new(0),
        sub_wait: Notify::new(),
        open: Cell::new(true),
        mask: Cell::new(mask),
    });
    let index = worker.register(&conn, spec);
    tokio::task::spawn_local(reader(Rc::clone(worker), Rc::clone(&conn)));
    for c in &spec.convs {
        let id = worker.conv_id(*c);
        let sub = format!("{{\"t\":\"sub\",\"c\":\"{id}\",\"after\":0}}");
        conn.write_frame(OP_TEXT, sub.as_bytes());
    }
    let want = u32::try_from(spec.convs.len()).unwrap_or(u32::MAX);
    let deadline = tokio::time::Instant::now() + Duration::from_mins(1);
    while conn.subscribed.get() < want {
        if !conn.open.get() {
            return Err("closed while subscribing".to_owned());
        }
        if tokio::time::timeout_at(deadline, conn.sub_wait.notified())
            .await
            .is_err()
        {
            return Err("no subscribed frame within 60 s".to_owned());
        }
    }
    Ok(index)
}

/// Sends a close frame (1000) on an open connection.
pub(crate) fn close(conn: &Conn) {
    if conn.open.get() {
        conn.write_frame(OP_CLOSE, &1000u16.to_be_bytes());
        conn.open.set(false);
        conn.wake.notify_one();
    }
}
