//! The terminal agent's staff-only content, end-to-end encrypted (`sealdesk_mls::teamseal`,
//! SDT1): internal notes on a conversation (`agent note`, `agent notes`) and a team's canned
//! responses (`agent canned list|add|delete`). Notes are sealed to the conversation's team's
//! newest announced key and to the newest archive key; canned responses to the team's newest
//! key. Both are signed by this device; readers check the author's chain under the pinned root
//! and print the text as text (control characters replaced).

use std::collections::HashSet;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_core::random::Random as _;
use sealdesk_mls::announce::Announcement;
use sealdesk_mls::bundle::{KeyKind, OpeningKey, Recipient};
use sealdesk_mls::certs::Role;
use sealdesk_mls::seal;
use sealdesk_mls::teamseal::{self, Author, CannedResponse, Note, Opened as Sealed};
use sealdesk_proto::{CannedResponseId, ConversationId, TeamId};
use secrecy::SecretString;

use super::chat::printable;
use super::device::{Opened, now};
use crate::commands::session::{client_for, fail, stdin_lines};
use crate::exit::{DATA_ERR, Failure};
use crate::output;

fn bad(message: impl Into<String>) -> anyhow::Error {
    Failure::new(DATA_ERR, message).into()
}

/// `sealdesk agent canned …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum CannedCommand {
    /// A team's canned responses, decrypted. Standard input: the passphrase.
    List {
        /// Profile directory.
        #[arg(long)]
        profile: PathBuf,
        /// The team.
        #[arg(long)]
        team: String,
        /// Read the passphrase from standard input (required).
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Add a canned response (supervisors and above). Standard input: the passphrase, the
    /// title, then the text (one line each).
    Add {
        /// Profile directory.
        #[arg(long)]
        profile: PathBuf,
        /// The team.
        #[arg(long)]
        team: String,
        /// Read the passphrase, title and text from standard input (required).
        #[arg(long)]
        stdin: bool,
    },
    /// Delete a canned response (supervisors and above).
    Delete {
        /// Profile directory.
        #[arg(long)]
        profile: PathBuf,
        /// The team.
        #[arg(long)]
        team: String,
        /// The canned response's id.
        #[arg(long)]
        id: String,
    },
}

fn team_id(raw: &str) -> anyhow::Result<TeamId> {
    raw.parse().map_err(|_| bad("--team must be a team id"))
}

pub(crate) async fn run_canned(cmd: CannedCommand) -> anyhow::Result<()> {
    match cmd {
        CannedCommand::List {
            profile,
            team,
            passphrase_stdin,
        } => {
            super::require_stdin(passphrase_stdin)?;
            let team = team_id(&team)?;
            let dev = super::opened(&profile).await?;
            list_canned(&dev, team).await
        }
        CannedCommand::Add {
            profile,
            team,
            stdin,
        } => {
            super::require_stdin(stdin)?;
            let team = team_id(&team)?;
            let [pass, title, text] =
                stdin_lines(["this device's passphrase", "the title", "the text"])?;
            let dev = Opened::open(&profile, SecretString::from(pass)).await?;
            add_canned(&dev, team, &title, &text).await
        }
        CannedCommand::Delete { profile, team, id } => {
            let team = team_id(&team)?;
            let id: CannedResponseId = id.parse().map_err(|_| bad("--id must be an id"))?;
            let (client, profile) = client_for(&profile)?;
            client
                .delete_canned_response(profile.tenant_id, team, id)
                .await
                .map_err(fail)?;
            output::line(&format!("deleted {id}"));
            Ok(())
        }
    }
}

/// The newest announced team key of `team` and, if `archive`, the newest archive key, each
/// verified under the pinned root (never a key the server merely names).
pub(super) async fn recipients(
    dev: &Opened,
    team: TeamId,
    archive: bool,
) -> anyhow::Result<Vec<Recipient>> {
    let announced = dev
        .http
        .sealing_keys(dev.profile.tenant_id)
        .await
        .map_err(fail)?;
    let (mut newest_team, mut newest_archive): (Option<Recipient>, Option<Recipient>) =
        (None, None);
    for k in &announced.keys {
        let Some(a) = STANDARD
            .decode(&k.announcement)
            .ok()
            .and_then(|b| Announcement::verify(&b, &dev.anchor).ok())
        else {
            continue;
        };
        let slot = match a.kind {
            KeyKind::Team if a.team == *team.as_uuid().as_bytes() => &mut newest_team,
            KeyKind::Archive if archive => &mut newest_archive,
            _ => continue,
        };
        if slot.is_none_or(|r| r.key_version < a.version) {
            *slot = Some(Recipient {
                kind: a.kind,
                key_version: a.version,
                public: a.public,
            });
        }
    }
    let team_key =
        newest_team.ok_or_else(|| bad(format!("team {team} has no announced key to seal to")))?;
    Ok(std::iter::once(team_key).chain(newest_archive).collect())
}

/// Tries this device's team keys on an object: the key it is sealed to, if the device holds
/// it. `None` when it holds none of them.
pub(super) fn open_with<T>(
    dev: &Opened,
    bytes: &[u8],
    open: impl Fn(&OpeningKey<'_>) -> Result<Sealed<T>, sealdesk_mls::MlsError>,
) -> anyhow::Result<Option<Result<Sealed<T>, sealdesk_mls::MlsError>>> {
    let envelope = match teamseal::parse(bytes) {
        Ok(e) => e,
        Err(e) => return Ok(Some(Err(e))),
    };
    for key in &dev.secrets.team_keys {
        let ikm = STANDARD
            .decode(&key.ikm)
            .map_err(|_| bad("device.json is damaged"))?;
        let pair = seal::derive_keys(&ikm)?;
        let recipient = Recipient {
            kind: KeyKind::Team,
            key_version: key.version,
            public: pair.public,
        };
        if envelope.seals.iter().any(|(r, _)| *r == recipient) {
            return Ok(Some(open(&OpeningKey {
                recipient,
                private: &pair.private,
            })));
        }
    }
    Ok(None)
}

/// "Jane D. (agent, verified)": the author's certified name and role.
pub(super) fn by(author: &Author) -> String {
    let role = match author.certificate.role {
        Role::Supervisor => "supervisor",
        _ => "agent",
    };
    format!(
        "{} ({role}, verified)",
        printable(&author.certificate.label)
    )
}

fn rfc3339_ms(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

/// Seals `text` as a note on `id` and stores it.
pub(crate) async fn add_note(dev: &Opened, id: ConversationId, text: &str) -> anyhow::Result<()> {
    let chain = dev.chain()?;
    let tenant = dev.profile.tenant_id;
    let conversation = dev.http.conversation(tenant, id).await.map_err(fail)?;
    let recipients = recipients(dev, conversation.team_id, true).await?;
    let mut note_id = [0u8; 16];
    sealdesk_crypto::OsRandom.fill(&mut note_id);
    let note = Note {
        conversation: *id.as_uuid().as_bytes(),
        id: note_id,
        written_ms: now() * 1000,
        text: text.to_owned(),
        carried_from: None,
    };
    let sealed = teamseal::seal_note(
        &note,
        *tenant.as_uuid().as_bytes(),
        *conversation.team_id.as_uuid().as_bytes(),
        chain,
        &recipients,
        &dev.signer()?,
    )?;
    let view = dev.http.add_note(tenant, id, &sealed).await.map_err(fail)?;
    let archive = if recipients.len() > 1 {
        " and the archive key"
    } else {
        " (no archive key announced)"
    };
    output::line(&format!(
        "note {} added, sealed to team key version {}{archive}",
        view.seq, recipients[0].key_version
    ));
    Ok(())
}

/// Prints a conversation's notes, each with its verified author.
pub(crate) async fn notes(dev: &Opened, id: ConversationId) -> anyhow::Result<()> {
    dev.chain()?;
    let list = dev
        .http
        .notes(dev.profile.tenant_id, id)
        .await
        .map_err(fail)?;
    if list.notes.is_empty() {
        output::line("no internal notes");
    }
    let conversation = *id.as_uuid().as_bytes();
    let mut seen = HashSet::new();
    for n in &list.notes {
        // The original, else a copy carried over to this device's team at a transfer.
        let opened = super::carry::open_note(dev, n, conversation)?;
        let line = match opened {
            None => format!(
                "note {}: sealed to a team key this device does not hold",
                n.seq
            ),
            Some(Err(e)) => format!("note {}: does not verify ({e}); not shown", n.seq),
            Some(Ok(o)) if !seen.insert(o.content.id) => {
                format!("note {}: a repeat of an earlier note; not shown", n.seq)
            }
            Some(Ok(o)) => match super::carry::author_line(dev, &o) {
                Ok(author) => format!(
                    "note {}  {}  {author}: {}",
                    n.seq,
                    rfc3339_ms(n.at),
                    printable(&o.content.text)
                ),
                Err(e) => format!(
                    "note {}: its named author does not verify ({e}); not shown",
                    n.seq
                ),
            },
        };
        output::line(&line);
    }
    Ok(())
}

async fn list_canned(dev: &Opened, team: TeamId) -> anyhow::Result<()> {
    dev.chain()?;
    let list = dev
        .http
        .canned_responses(dev.profile.tenant_id, team)
        .await
        .map_err(fail)?;
    if list.canned_responses.is_empty() {
        output::line("no canned responses");
    }
    for c in &list.canned_responses {
        let bytes = STANDARD
            .decode(&c.p)
            .map_err(|_| bad("a canned response is not base64"))?;
        let at = u64::try_from(c.created_at.unix_timestamp()).unwrap_or(0);
        let opened = open_with(dev, &bytes, |key| {
            teamseal::open_canned(&bytes, *team.as_uuid().as_bytes(), key, &dev.anchor, at)
        })?;
        match opened {
            None => output::line(&format!(
                "{}: sealed to a team key this device does not hold",
                c.id
            )),
            Some(Err(e)) => output::line(&format!("{}: does not verify ({e}); not shown", c.id)),
            Some(Ok(o)) => {
                output::line(&format!(
                    "{}  [{}]  by {}",
                    c.id,
                    printable(&o.content.title),
                    by(&o.author)
                ));
                output::line(&format!("    {}", printable(&o.content.text)));
            }
        }
    }
    Ok(())
}

async fn add_canned(dev: &Opened, team: TeamId, title: &str, text: &str) -> anyhow::Result<()> {
    let chain = dev.chain()?;
    let tenant = dev.profile.tenant_id;
    let recipients = recipients(dev, team, false).await?;
    let canned = CannedResponse {
        team: *team.as_uuid().as_bytes(),
        written_ms: now() * 1000,
        title: title.to_owned(),
        text: text.to_owned(),
    };
    let sealed = teamseal::seal_canned(
        &canned,
        *tenant.as_uuid().as_bytes(),
        chain,
        &recipients,
        &dev.signer()?,
    )?;
    let view = dev
        .http
        .create_canned_response(tenant, team, &sealed)
        .await
        .map_err(fail)?;
    output::line(&format!(
        "canned response {} added, sealed to team key version {}",
        view.id, recipients[0].key_version
    ));
    Ok(())
}

/// After a team key rotation (`agent rekey`), a supervisor's device re-seals each canned
/// response of its teams that is sealed to an older version than the team's newest announced
/// key, if it holds that key (`docs/e2ee.md`): it opens and verifies the response, seals the
/// same title, text and time to the newest key only, checks that the copy opens with that key
/// into the same content, and replaces it with a compare-and-swap on the version read (a
/// `conflict` means another console re-sealed it first). Agent devices do nothing here.
pub(crate) async fn reseal_canned(dev: &Opened) -> anyhow::Result<()> {
    let chain = dev.chain()?;
    let signer = dev.signer()?;
    let role =
        match sealdesk_mls::certs::verify_identity(chain, &signer.public(), &dev.anchor, now()) {
            Ok(sealdesk_mls::certs::Verified::Device(body)) => body.role,
            _ => return Ok(()),
        };
    if role != Role::Supervisor {
        return Ok(());
    }
    let mut teams: Vec<TeamId> = dev.secrets.team_keys.iter().map(|k| k.team).collect();
    teams.sort_unstable_by_key(TeamId::as_uuid);
    teams.dedup();
    for team in teams {
        let (resealed, raced, skipped, version) = match reseal_team(dev, team, chain, &signer).await
        {
            Ok(counts) => counts,
            Err(e) => {
                output::line(&format!("team {team}: canned responses not re-sealed: {e}"));
                continue;
            }
        };
        if resealed + raced + skipped > 0 {
            output::line(&format!(
                "team {team}: {resealed} canned response(s) re-sealed to team key version \
                 {version}, {raced} already re-sealed elsewhere, {skipped} not opened here"
            ));
        }
    }
    Ok(())
}

/// One team's pass: (re-sealed, raced, skipped, newest version).
async fn reseal_team(
    dev: &Opened,
    team: TeamId,
    chain: &[u8],
    signer: &sealdesk_mls::DeviceSigner,
) -> anyhow::Result<(u32, u32, u32, u32)> {
    let tenant = dev.profile.tenant_id;
    let team_bytes = *team.as_uuid().as_bytes();
    let newest = recipients(dev, team, false).await?[0];
    let Some(held) = dev
        .secrets
        .team_keys
        .iter()
        .find(|k| k.team == team && k.version == newest.key_version)
    else {
        return Ok((0, 0, 0, newest.key_version)); // Not given the newest version yet.
    };
    let ikm = STANDARD
        .decode(&held.ikm)
        .map_err(|_| bad("device.json is damaged"))?;
    let pair = seal::derive_keys(&ikm)?;
    if pair.public != newest.public {
        return Ok((0, 0, 0, newest.key_version));
    }
    let newest_key = OpeningKey {
        recipient: newest,
        private: &pair.private,
    };
    let list = dev
        .http
        .canned_responses(tenant, team)
        .await
        .map_err(fail)?;
    let (mut resealed, mut raced, mut skipped) = (0, 0, 0);
    for c in &list.canned_responses {
        let bytes = STANDARD
            .decode(&c.p)
            .map_err(|_| bad("a canned response is not base64"))?;
        let Some(from) = teamseal::parse(&bytes).ok().and_then(|e| {
            e.seals
                .iter()
                .filter(|(r, _)| r.kind == KeyKind::Team)
                .map(|(r, _)| r.key_version)
                .max()
        }) else {
            continue;
        };
        if from >= newest.key_version {
            continue;
        }
        let at = u64::try_from(c.created_at.unix_timestamp()).unwrap_or(0);
        let Some(Ok(opened)) = open_with(dev, &bytes, |key| {
            teamseal::open_canned(&bytes, team_bytes, key, &dev.anchor, at)
        })?
        else {
            skipped += 1;
            continue;
        };
        let sealed = teamseal::seal_canned(
            &opened.content,
            *tenant.as_uuid().as_bytes(),
            chain,
            &[newest],
            signer,
        )?;
        let check = teamseal::open_canned(&sealed, team_bytes, &newest_key, &dev.anchor, now())?;
        if check.content != opened.content {
            skipped += 1;
            continue;
        }
        match dev
            .http
            .replace_canned_response(tenant, team, c.id, (from, &bytes), &sealed)
            .await
        {
            Ok(_) => resealed += 1,
            Err(sealdesk_client::ClientError::Api { body, .. })
                if body.code == sealdesk_proto::ErrorCode::Conflict =>
            {
                raced += 1;
            }
            Err(e) => return Err(fail(e)),
        }
    }
    Ok((resealed, raced, skipped, newest.key_version))
}
