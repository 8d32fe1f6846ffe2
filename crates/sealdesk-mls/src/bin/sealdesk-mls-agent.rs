//! `sealdesk-mls-agent`: one openmls client driven over JSON lines on stdin/stdout, so the
//! Node interop suite (`web/interop`) can put a Rust member in a group with ts-mls members
//! (E2EE.md, "Cross-implementation test approaches", B). Not a product binary: the terminal
//! agent (`sealdesk agent`) is.
//!
//! Each request is `{"id": N, "op": "...", ...}`; each answer `{"id": N, "ok": true, ...}` or
//! `{"id": N, "ok": false, "code": "...", "error": "..."}`. Byte strings are standard base64.
//! Ops: `init`, `key_package`, `export_key_package_private`, `import_key_package`,
//! `create_group`, `group_info`, `join`, `commit`, `self_update`, `merge`, `discard`, `send`,
//! `process`, `epoch`, `save`, `load`, `quit` (`web/interop/agent.ts` is the client).

use std::io::{BufRead as _, Write as _};
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_mls::{Client, CredentialCheck, KeyPackageSecrets, MlsError, Processed, profile};
use serde_json::{Map, Value, json};

/// Accepts identities starting with one of the prefixes; every identity when none are given
/// (the interop scenarios that are not about credentials).
struct PrefixCheck(Vec<Vec<u8>>);

impl CredentialCheck for PrefixCheck {
    fn check(&self, identity: &[u8], _: &[u8]) -> Result<(), String> {
        if self.0.is_empty() || self.0.iter().any(|p| identity.starts_with(p)) {
            Ok(())
        } else {
            Err(format!(
                "untrusted identity {}",
                String::from_utf8_lossy(identity)
            ))
        }
    }
}

struct Agent {
    client: Option<Client>,
    check: Arc<PrefixCheck>,
}

type Reply = Result<Value, MlsError>;

fn bad(what: &str) -> MlsError {
    MlsError::Malformed(format!("request: {what}"))
}

fn bytes(req: &Map<String, Value>, field: &str) -> Result<Vec<u8>, MlsError> {
    let text = req
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| bad(&format!("{field} missing")))?;
    STANDARD
        .decode(text)
        .map_err(|_| bad(&format!("{field} is not base64")))
}

fn byte_list(req: &Map<String, Value>, field: &str) -> Result<Vec<Vec<u8>>, MlsError> {
    match req.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .and_then(|s| STANDARD.decode(s).ok())
                    .ok_or_else(|| bad(&format!("{field} holds a non-base64 item")))
            })
            .collect(),
        Some(_) => Err(bad(&format!("{field} is not a list"))),
    }
}

fn b64(data: &[u8]) -> Value {
    Value::String(STANDARD.encode(data))
}

impl Agent {
    fn client(&mut self) -> Result<&mut Client, MlsError> {
        self.client
            .as_mut()
            .ok_or_else(|| MlsError::State("init first".into()))
    }

    fn init(&mut self, req: &Map<String, Value>) -> Reply {
        let prefixes = match req.get("trusted_prefixes") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(|s| s.as_bytes().to_vec())
                        .ok_or_else(|| bad("trusted_prefixes"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            _ => Vec::new(),
        };
        self.check = Arc::new(PrefixCheck(prefixes));
        let client = Client::new(&bytes(req, "identity")?, self.check.clone())?;
        let key = b64(&client.signature_key());
        self.client = Some(client);
        Ok(json!({ "signature_key": key }))
    }

    fn commit(&mut self, req: &Map<String, Value>) -> Reply {
        let add = byte_list(req, "add")?;
        let remove = match req.get("remove") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_u64()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| bad("remove"))
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(_) => return Err(bad("remove is not a list")),
        };
        let out = self.client()?.commit(&add, &remove)?;
        Ok(json!({ "commit": b64(&out.commit), "welcome": out.welcome.as_deref().map(b64) }))
    }

    fn handle(&mut self, op: &str, req: &Map<String, Value>) -> Reply {
        match op {
            "init" => self.init(req),
            "key_package" => {
                let lifetime = if req.get("history").and_then(Value::as_bool) == Some(true) {
                    profile::HISTORY_KEY_PACKAGE_LIFETIME
                } else {
                    profile::DEVICE_KEY_PACKAGE_LIFETIME
                };
                Ok(json!({ "key_package": b64(&self.client()?.key_package(lifetime)?) }))
            }
            "export_key_package_private" => {
                let s = self.client()?.export_last_key_package()?;
                Ok(json!({
                    "key_package": b64(&s.key_package),
                    "init_private": b64(&s.init_private),
                    "encryption_private": b64(&s.encryption_private),
                    "signature_private": b64(&s.signature_private),
                }))
            }
            "import_key_package" => {
                let secrets = KeyPackageSecrets {
                    key_package: bytes(req, "key_package")?,
                    init_private: bytes(req, "init_private")?,
                    encryption_private: bytes(req, "encryption_private")?,
                    signature_private: bytes(req, "signature_private")?,
                };
                self.client()?.import_key_package(&secrets)?;
                Ok(json!({}))
            }
            "create_group" => {
                Ok(json!({ "epoch": self.client()?.create_group(&bytes(req, "group_id")?)? }))
            }
            "group_info" => Ok(json!({ "group_info": b64(&self.client()?.group_info()?) })),
            "join" => Ok(json!({ "epoch": self.client()?.join(&bytes(req, "welcome")?)? })),
            "commit" => self.commit(req),
            "self_update" => Ok(json!({ "commit": b64(&self.client()?.self_update()?) })),
            "merge" => Ok(json!({ "epoch": self.client()?.merge()? })),
            "discard" => {
                self.client()?.discard()?;
                Ok(json!({}))
            }
            "send" => {
                Ok(json!({ "message": b64(&self.client()?.send(&bytes(req, "plaintext")?)?) }))
            }
            "process" => match self.client()?.process(&bytes(req, "message")?)? {
                Processed::Application { plaintext, sender } => Ok(
                    json!({ "kind": "application", "plaintext": b64(&plaintext), "sender": sender }),
                ),
                Processed::Commit {
                    epoch,
                    removed_self,
                } => Ok(json!({ "kind": "commit", "epoch": epoch, "removed_self": removed_self })),
            },
            "epoch" => {
                let info = self.client()?.epoch_info()?;
                let members: Vec<Value> = info
                    .members
                    .iter()
                    .map(|m| json!({ "leaf": m.leaf, "identity": b64(&m.identity) }))
                    .collect();
                Ok(json!({
                    "epoch": info.epoch,
                    "authenticator": hex::encode(&info.authenticator),
                    "exporter": hex::encode(&info.exporter),
                    "members": members,
                }))
            }
            "save" => {
                let path = req
                    .get("path")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("path missing"))?;
                let state = self.client()?.save()?;
                std::fs::write(path, state).map_err(|e| MlsError::State(e.to_string()))?;
                Ok(json!({}))
            }
            "load" => {
                let path = req
                    .get("path")
                    .and_then(Value::as_str)
                    .ok_or_else(|| bad("path missing"))?;
                let state = std::fs::read(path).map_err(|e| MlsError::State(e.to_string()))?;
                let client = Client::restore(&state, self.check.clone())?;
                let epoch = client.epoch_info().map(|i| i.epoch).ok();
                self.client = Some(client);
                Ok(json!({ "epoch": epoch }))
            }
            other => Err(bad(&format!("unknown op {other}"))),
        }
    }
}

fn main() -> std::io::Result<()> {
    let mut agent = Agent {
        client: None,
        check: Arc::new(PrefixCheck(Vec::new())),
    };
    let stdin = std::io::stdin();
    let mut stdout = std::io::stdout().lock();
    for line in stdin.lock().lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let (id, answer) = match serde_json::from_str::<Value>(&line) {
            Ok(Value::Object(req)) => {
                let id = req.get("id").cloned().unwrap_or(Value::Null);
                let op = req
                    .get("op")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                if op == "quit" {
                    writeln!(stdout, "{}", json!({ "id": id, "ok": true }))?;
                    stdout.flush()?;
                    return Ok(());
                }
                (id, agent.handle(&op, &req))
            }
            _ => (Value::Null, Err(bad("not a JSON object"))),
        };
        let reply = match answer {
            Ok(Value::Object(mut fields)) => {
                fields.insert("id".into(), id);
                fields.insert("ok".into(), Value::Bool(true));
                Value::Object(fields)
            }
            Ok(_) => json!({ "id": id, "ok": true }),
            Err(e) => json!({ "id": id, "ok": false, "code": e.code(), "error": e.to_string() }),
        };
        writeln!(stdout, "{reply}")?;
        stdout.flush()?;
    }
    Ok(())
}
