//! `sealdesk admin keys`: a root key sealed in a file and registered with the server, an
//! issuing key certified by it, a device certified by that, and the chain verifying against
//! the registered root; wrong passphrases and misuse fail clearly.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sealdesk_mls::DeviceSigner;
use sealdesk_mls::certs::{Role, TrustAnchor, Verified, verify_identity};

use super::{admin, admin_stdin, assert_fails, json};

#[test]
#[allow(clippy::too_many_lines)] // one story: init, issue, certify, verify, audit
fn root_issuing_and_device_keys_form_a_chain_the_server_knows() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = json(&admin(
        dir.path(),
        &[
            "tenant",
            "create",
            "--name",
            "Keys Shop",
            "--domain",
            "keys.example",
            "--json",
        ],
    ))["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let root_file = dir.path().join("root.key");
    let root_path = root_file.to_str().unwrap();
    let init = json(&admin_stdin(
        dir.path(),
        &[
            "keys",
            "init",
            "--tenant",
            &tenant,
            "--out",
            root_path,
            "--passphrase-stdin",
            "--json",
        ],
        "root passphrase, long\n",
    ));
    let snippet = init["snippet"].as_str().unwrap();
    let file = std::fs::read_to_string(&root_file).unwrap();
    assert!(
        !file.contains("root passphrase"),
        "the file holds no passphrase"
    );
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&root_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    // The registered key is the one in the snippet.
    let listed = json(&admin(
        dir.path(),
        &["keys", "list", "--tenant", &tenant, "--json"],
    ));
    assert_eq!(listed[0]["snippet"], snippet);
    assert_eq!(listed[0]["fingerprint"], init["fingerprint"]);
    let root_key: [u8; 32] = URL_SAFE_NO_PAD
        .decode(
            snippet
                .split("ed25519:")
                .nth(1)
                .unwrap()
                .trim_end_matches('"'),
        )
        .unwrap()
        .try_into()
        .unwrap();
    // Never overwritten; the root's passphrase is needed for an issuing key.
    assert_fails(
        &admin_stdin(
            dir.path(),
            &[
                "keys",
                "init",
                "--tenant",
                &tenant,
                "--out",
                root_path,
                "--passphrase-stdin",
            ],
            "another\n",
        ),
        65,
        "never overwritten",
    );
    let issuing_file = dir.path().join("issuing.key");
    let issuing_path = issuing_file.to_str().unwrap();
    assert_fails(
        &admin_stdin(
            dir.path(),
            &[
                "keys",
                "issue",
                "--tenant",
                &tenant,
                "--root",
                root_path,
                "--out",
                issuing_path,
                "--passphrase-stdin",
            ],
            "wrong passphrase\nissuing passphrase\n",
        ),
        65,
        "wrong passphrase",
    );
    admin_stdin(
        dir.path(),
        &[
            "keys",
            "issue",
            "--tenant",
            &tenant,
            "--root",
            root_path,
            "--out",
            issuing_path,
            "--passphrase-stdin",
            "--json",
        ],
        "root passphrase, long\nissuing passphrase\n",
    );
    // An agent device: its key is made on the device; only the public half is certified.
    let device = DeviceSigner::from_seed(&[5; 32]).unwrap();
    let certified = json(&admin_stdin(
        dir.path(),
        &[
            "keys",
            "certify",
            "--tenant",
            &tenant,
            "--issuing",
            issuing_path,
            "--role",
            "agent",
            "--label",
            "Jane D.",
            "--subject",
            &STANDARD.encode(device.public()),
            "--passphrase-stdin",
            "--json",
        ],
        "issuing passphrase\n",
    ));
    let chain = STANDARD
        .decode(certified["credential"].as_str().unwrap())
        .unwrap();
    let anchor = TrustAnchor {
        tenant: *uuid::Uuid::parse_str(&tenant).unwrap().as_bytes(),
        roots: vec![root_key],
    };
    let now = u64::try_from(
        sealdesk_core::clock::Clock::now(&sealdesk_core::clock::SystemClock).unix_timestamp(),
    )
    .unwrap();
    match verify_identity(&chain, &device.public(), &anchor, now).unwrap() {
        Verified::Device(body) => {
            assert_eq!((body.role, body.label.as_str()), (Role::Agent, "Jane D."));
        }
        other @ Verified::Visitor(_) => panic!("{other:?}"),
    }
    // A History Member certificate names its team.
    assert_fails(
        &admin_stdin(
            dir.path(),
            &[
                "keys",
                "certify",
                "--tenant",
                &tenant,
                "--issuing",
                issuing_path,
                "--role",
                "history",
                "--label",
                "Archive",
                "--subject",
                &STANDARD.encode(device.public()),
                "--passphrase-stdin",
            ],
            "issuing passphrase\n",
        ),
        65,
        "--team",
    );
    // The audit log recorded the three key operations, without any secret.
    let audit = json(&admin(
        dir.path(),
        &["audit", "list", "--tenant", &tenant, "--json"],
    ));
    let text = audit.to_string();
    assert_eq!(text.matches("key_operation").count(), 3, "{text}");
    assert!(!text.contains("passphrase"));
}
