//! Feeds arbitrary bytes to the WebSocket frame decoder: it must return a frame or an error
//! with a stable code, never panic, and never accept an oversized payload.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sealdesk_proto::ws::ClientFrame;
use sealdesk_server::ws::codec;

const MAX_PAYLOAD: usize = 64 * 1024;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(ClientFrame::Send { p, .. }) = codec::decode(text) {
        if let Ok(payload) = codec::decode_payload(&p, MAX_PAYLOAD) {
            assert!(!payload.is_empty() && payload.len() <= MAX_PAYLOAD);
        }
    }
});
