//! The demo of `sealdesk serve --demo`: a shop ("Demo Shop", `demo.localhost`) whose widget
//! and console work end to end encrypted from a fresh clone. It goes through the same steps
//! an owner does (root, issuing, team and archive keys; History Members in the pool; a
//! privacy notice) with key files and their passphrases in `<data_dir>/demo/` (mode 0700,
//! files 0600). That is for a demo on one machine only: a real owner keeps the root key
//! offline. The agent's device is still confirmed by a person: `sealdesk demo enrol`.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealdesk_core::clock::SystemClock;
use sealdesk_core::domain::{Tenant, WidgetOrigin};
use sealdesk_core::random::Random as _;
use sealdesk_crypto::OsRandom;
use sealdesk_proto::widget::{InboxWidgetSettings, PrechatField, PrechatKind, PrivacyNotice};
use sealdesk_proto::{TeamId, TenantId};
use sealdesk_server::AppState;
use sealdesk_server::app::tenancy::{self, CreateStaff, CreateTenant, Deps};
use sealdesk_store::{DeviceStatus, InboxWidget};
use serde::{Deserialize, Serialize};

use super::keys::{self, Secrets};
use crate::output;

/// The demo tenant's brand domain; the demo is found again by it.
pub(crate) const DEMO_DOMAIN: &str = "demo.localhost";
const AGENT_EMAIL: &str = "agent@demo.localhost";
/// Keep at least this many History Members in the pool at start-up.
const POOL_LOW: u32 = 10;

/// What the demo consists of.
pub(crate) struct Demo {
    pub(crate) tenant: TenantId,
    pub(crate) team: TeamId,
    pub(crate) agent_password: String,
}

/// The demo's secrets, kept between runs (0600).
#[derive(Serialize, Deserialize)]
struct DemoSecrets {
    agent_password: String,
    root: String,
    issuing: String,
    team: String,
    archive: String,
}

fn random_text(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    OsRandom.fill(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

fn demo_dir(data_dir: &Path) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt as _;
    let dir = data_dir.join("demo");
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    Ok(dir)
}

fn load_secrets(dir: &Path) -> anyhow::Result<DemoSecrets> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join("secrets.json");
    if path.exists() {
        let text = std::fs::read(&path)?;
        return serde_json::from_slice(&text).context("demo/secrets.json is damaged");
    }
    let secrets = DemoSecrets {
        agent_password: random_text(12),
        root: random_text(18),
        issuing: random_text(18),
        team: random_text(18),
        archive: random_text(18),
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    file.write_all(&serde_json::to_vec_pretty(&secrets)?)?;
    file.sync_all()?;
    Ok(secrets)
}

fn deps_of(state: &AppState) -> Deps {
    Deps {
        store: state.store().clone(),
        clock: Arc::new(SystemClock),
        random: Arc::new(OsRandom),
        password_policy: state.config().password_hash,
    }
}

async fn tenant_and_team(deps: &Deps, port: u16) -> anyhow::Result<(Tenant, TeamId)> {
    let origins = vec![
        format!("http://localhost:{port}"),
        format!("http://127.0.0.1:{port}"),
    ];
    let tenant = match deps.store.find_tenant_by_domain(DEMO_DOMAIN).await? {
        Some(t) => t,
        None => {
            tenancy::create_tenant(
                deps,
                CreateTenant {
                    name: "Demo Shop".into(),
                    domains: vec![DEMO_DOMAIN.into()],
                    origins: origins.clone(),
                    retention_days: 30,
                    // The demo agent logs in with a password alone; turn this on with
                    // `sealdesk admin tenant update ID --require-2fa true`.
                    require_second_factor: false,
                },
            )
            .await?
        }
    };
    // The port may differ from the last run: the demo page must stay an allowed origin.
    let mut wanted = tenant.widget_origins.clone();
    for o in &origins {
        let o = WidgetOrigin::parse(o).map_err(|e| anyhow::anyhow!("{e}"))?;
        if !wanted.contains(&o) {
            wanted.push(o);
        }
    }
    if wanted != tenant.widget_origins {
        deps.store.set_widget_origins(tenant.id, &wanted).await?;
    }
    let teams = deps.store.list_teams(tenant.id).await?;
    let team = match teams.into_iter().find(|t| t.name.to_string() == "Support") {
        Some(t) => t.id,
        None => tenancy::create_team(deps, tenant.id, "Support").await?.id,
    };
    Ok((tenant, team))
}

async fn agent(deps: &Deps, tenant: TenantId, team: TeamId, password: &str) -> anyhow::Result<()> {
    let staff = match deps.store.find_staff_by_email(tenant, AGENT_EMAIL).await? {
        Some(s) => s,
        None => {
            tenancy::create_staff(
                deps,
                CreateStaff {
                    tenant,
                    email: AGENT_EMAIL.into(),
                    role: "agent".into(),
                    display_name: Some("Alex (Demo Shop)".into()),
                    password: Some(secrecy::SecretString::from(password.to_owned())),
                },
            )
            .await?
        }
    };
    deps.store.add_team_member(tenant, team, staff.id).await?;
    Ok(())
}

fn given(items: &[&str]) -> Secrets {
    Secrets::Given(
        items
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<VecDeque<_>>(),
    )
}

/// The owner's key ceremony, once: root, issuing, team and archive keys in `dir`.
async fn ceremony(
    deps: &Deps,
    dir: &Path,
    tenant: TenantId,
    team: TeamId,
    s: &DemoSecrets,
) -> anyhow::Result<()> {
    let t = tenant.to_string();
    let path = |name: &str| dir.join(name);
    keys::init(
        deps,
        &mut given(&[&s.root]),
        true,
        t.clone(),
        path("root.key"),
        true,
    )
    .await?;
    keys::issue(
        deps,
        &mut given(&[&s.root, &s.issuing]),
        true,
        crate::cli::KeysIssueArgs {
            tenant: t.clone(),
            root: path("root.key"),
            out: path("issuing.key"),
            label: "Demo Shop admin".into(),
            days: 365,
            passphrase_stdin: true,
        },
    )
    .await?;
    let sealing = |out: &str| keys::KeysSealingArgs {
        tenant: t.clone(),
        root: path("root.key"),
        out: path(out),
        passphrase_stdin: true,
    };
    keys::sealing::create(
        deps,
        &mut given(&[&s.root, &s.team]),
        true,
        sealing("team.key"),
        Some(team.to_string()),
    )
    .await?;
    keys::sealing::create(
        deps,
        &mut given(&[&s.root, &s.archive]),
        true,
        sealing("archive.key"),
        None,
    )
    .await?;
    Ok(())
}

async fn widget_settings(deps: &Deps, tenant: TenantId, team: TeamId) -> anyhow::Result<()> {
    if deps.store.get_inbox_widget(tenant, team).await?.is_some() {
        return Ok(());
    }
    let field = |name: &str, label: &str, kind| PrechatField {
        name: name.into(),
        label: label.into(),
        kind,
        required: false,
    };
    deps.store
        .set_inbox_widget(&InboxWidget {
            tenant_id: tenant,
            team_id: team,
            settings: InboxWidgetSettings {
                privacy_notice: Some(PrivacyNotice {
                    version: "demo-1".into(),
                    text: "Demo Shop answers your questions here. Messages are end-to-end \
                           encrypted: only you, our support team and our archive can read \
                           them. We keep conversations for 30 days, then delete them."
                        .into(),
                    url: None,
                }),
                prechat_fields: vec![
                    field("name", "Your name", PrechatKind::Text),
                    field("order", "Order number", PrechatKind::Text),
                ],
            },
            updated_at: deps.clock.now(),
        })
        .await?;
    Ok(())
}

async fn fill_pool(
    deps: &Deps,
    dir: &Path,
    tenant: TenantId,
    team: TeamId,
    s: &DemoSecrets,
) -> anyhow::Result<()> {
    let size = deps
        .store
        .history_pool_size(tenant, team, deps.clock.now())
        .await?;
    if size >= POOL_LOW {
        return Ok(());
    }
    keys::history::fill(
        deps,
        &mut given(&[&s.issuing, &s.team, &s.archive]),
        true,
        keys::KeysHistoryArgs {
            tenant: tenant.to_string(),
            team: team.to_string(),
            issuing: dir.join("issuing.key"),
            team_key: dir.join("team.key"),
            archive_key: Some(dir.join("archive.key")),
            count: 20,
            passphrase_stdin: true,
        },
    )
    .await
}

/// Creates whatever of the demo is missing; idempotent.
pub(crate) async fn ensure(state: &AppState, port: u16) -> anyhow::Result<Demo> {
    let deps = deps_of(state);
    let dir = demo_dir(&state.config().data_dir)?;
    let secrets = load_secrets(&dir)?;
    let (tenant, team) = tenant_and_team(&deps, port).await?;
    agent(&deps, tenant.id, team, &secrets.agent_password).await?;
    output::set_quiet(true);
    let keys = async {
        if deps.store.root_keys(tenant.id).await?.is_empty() {
            ceremony(&deps, &dir, tenant.id, team, &secrets).await?;
        }
        widget_settings(&deps, tenant.id, team).await?;
        fill_pool(&deps, &dir, tenant.id, team, &secrets).await
    }
    .await;
    output::set_quiet(false);
    keys.context("the demo's key ceremony failed")?;
    Ok(Demo {
        tenant: tenant.id,
        team,
        agent_password: secrets.agent_password,
    })
}

/// `sealdesk demo enrol`: confirms the demo agent's pending console device whose fingerprint
/// the person typed (read from the console's screen), with the demo's issuing and team keys.
pub(crate) async fn enrol(deps: &Deps, data_dir: &Path, fingerprint: &str) -> anyhow::Result<()> {
    let dir = data_dir.join("demo");
    let secrets = load_secrets(&dir)?;
    let tenant = deps
        .store
        .find_tenant_by_domain(DEMO_DOMAIN)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no demo here: start `sealdesk serve --demo` first"))?;
    let typed: String = fingerprint
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_lowercase();
    let devices = deps.store.list_devices(tenant.id, None).await?;
    let device = devices
        .iter()
        .filter(|d| d.status == DeviceStatus::Pending)
        .find(|d| {
            sealdesk_server::app::devices::fingerprint(&d.signature_key, &d.wrap_key)
                .replace(' ', "")
                == typed
        })
        .ok_or_else(|| {
            crate::exit::Failure::new(
                crate::exit::DATA_ERR,
                "no pending device shows this fingerprint: compare it again with the console",
            )
        })?;
    keys::enrol::enrol(
        deps,
        &mut given(&[&secrets.issuing, &secrets.team]),
        false,
        keys::KeysEnrolArgs {
            tenant: tenant.id.to_string(),
            device: sealdesk_proto::DeviceId::from_uuid(device.id).to_string(),
            fingerprint: fingerprint.to_owned(),
            issuing: dir.join("issuing.key"),
            role: "agent".into(),
            label: None,
            days: 30,
            team_keys: vec![dir.join("team.key")],
            passphrase_stdin: true,
        },
    )
    .await
}
