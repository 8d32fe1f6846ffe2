//! `sealdesk login`, `sealdesk logout` and `sealdesk account …`: the terminal client's side of
//! staff authentication, through the typed HTTP client. The account commands beyond TOTP and
//! listing live in `account`.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use sealdesk_client::{Client, ClientError};
use sealdesk_proto::ErrorCode;
use sealdesk_proto::auth::{ClientKind, LoginRequest, Secret};

use super::account;
use crate::cli::{AccountArgs, AccountCommand, LoginArgs, SessionsCommand, TotpCommand};
use crate::exit::{DATA_ERR, Failure, NO_INPUT, UNAVAILABLE};
use crate::output;
use crate::profile::{self, Profile};

/// Maps client errors to messages and exit codes a person can act on.
pub(crate) fn fail(e: ClientError) -> anyhow::Error {
    match &e {
        ClientError::Api { body, .. } => {
            let code = match body.code {
                ErrorCode::InvalidCredentials
                | ErrorCode::Unauthenticated
                | ErrorCode::ReauthenticationRequired => 77, // EX_NOPERM
                ErrorCode::RateLimited => 75, // EX_TEMPFAIL
                ErrorCode::NotFound => NO_INPUT,
                _ => DATA_ERR,
            };
            Failure::new(code, format!("{} ({})", body.message, body.code)).into()
        }
        ClientError::Transport(_) => {
            anyhow::Error::new(e).context(Failure::new(UNAVAILABLE, "cannot reach the server"))
        }
        _ => e.into(),
    }
}

pub(crate) async fn login(args: LoginArgs) -> anyhow::Result<()> {
    if !args.password_stdin {
        return Err(Failure::new(
            DATA_ERR,
            "pass the password on standard input with --password-stdin",
        )
        .into());
    }
    let [password] = stdin_lines(["the password"])?;
    let tenant_id = args
        .tenant
        .parse()
        .map_err(|e: sealdesk_proto::ids::ParseIdError| Failure::new(DATA_ERR, e.to_string()))?;
    let client = Client::new(&args.server).map_err(fail)?;
    let request = LoginRequest {
        tenant_id,
        email: args.email.clone(),
        password: Secret(password),
        totp: args.totp.map(Secret),
        recovery_code: args.recovery_code.map(Secret),
        client: ClientKind::Cli,
    };
    let response = client.login(&request).await.map_err(fail)?;
    let token = response
        .token
        .ok_or_else(|| anyhow::anyhow!("the server returned no token"))?;
    let session = response.session;
    profile::save(
        &args.profile,
        &Profile {
            server: args.server,
            tenant_id,
            email: session.staff.email.clone(),
            token,
            session_id: session.session_id,
            expires_at: session.expires_at,
        },
    )?;
    if session.restricted {
        output::line(
            "logged in; this tenant requires a second factor: run `sealdesk account totp enroll`, then log in again with --totp",
        );
    } else {
        output::line(&format!(
            "logged in as {} ({})",
            session.staff.email, session.staff.role
        ));
    }
    Ok(())
}

/// Reads one line from standard input per entry of `what` (names for the error message).
/// Secrets come from standard input only, never from the command line, where other users
/// could see them (`ps`) and shells record them.
pub(crate) fn stdin_lines<const N: usize>(what: [&str; N]) -> anyhow::Result<[String; N]> {
    stdin_line_list(&what)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("standard input: wrong number of lines"))
}

/// One non-empty line of standard input per entry of `what` (names for the error message).
pub(crate) fn stdin_line_list(what: &[&str]) -> anyhow::Result<Vec<String>> {
    let mut buf = String::new();
    std::io::stdin()
        .take(8192)
        .read_to_string(&mut buf)
        .context("cannot read standard input")?;
    let mut lines = buf.lines();
    let mut out = Vec::with_capacity(what.len());
    for name in what {
        match lines.next() {
            Some(line) if !line.is_empty() => out.push(line.to_owned()),
            _ => {
                return Err(Failure::new(
                    DATA_ERR,
                    format!(
                        "standard input must give {}, one per line; {name} is missing",
                        what.join(", then ")
                    ),
                )
                .into());
            }
        }
    }
    Ok(out)
}

pub(crate) fn client_for(dir: &Path) -> anyhow::Result<(Client, Profile)> {
    let profile = profile::load(dir)?;
    let client = Client::new(&profile.server)
        .map_err(fail)?
        .with_token(profile.token.clone());
    Ok((client, profile))
}

pub(crate) async fn logout(dir: &Path) -> anyhow::Result<()> {
    let (client, _) = client_for(dir)?;
    match client.logout().await {
        // An expired or revoked session is already logged out on the server.
        Ok(()) | Err(ClientError::Api { status: 401, .. }) => {}
        Err(e) => return Err(fail(e)),
    }
    profile::remove(dir)?;
    output::line("logged out");
    Ok(())
}

pub(crate) async fn account(args: AccountArgs) -> anyhow::Result<()> {
    match args.command {
        AccountCommand::Totp(TotpCommand::Enroll { profile }) => {
            let (client, _) = client_for(&profile)?;
            let e = client.totp_enroll().await.map_err(fail)?;
            if args.json {
                output::json(&serde_json::json!({ "secret": e.secret, "uri": e.uri }))
            } else {
                if let Some(qr) = sealdesk_crypto::totp::qr_text(&e.uri) {
                    output::line(&qr);
                }
                output::line(&format!(
                    "secret: {}\nScan the code or type the secret into your authenticator app, then run\n  sealdesk account totp confirm --code CODE",
                    e.secret
                ));
                Ok(())
            }
        }
        AccountCommand::Totp(TotpCommand::Confirm { profile, code }) => {
            let (client, _) = client_for(&profile)?;
            let codes = client.totp_confirm(&code).await.map_err(fail)?;
            if args.json {
                output::json(&codes)
            } else {
                output::line(
                    "TOTP is on. Keep these recovery codes somewhere safe; each works once:",
                );
                for c in &codes.recovery_codes {
                    output::line(&format!("  {c}"));
                }
                Ok(())
            }
        }
        AccountCommand::Sessions(sessions) => {
            let Some(profile) = sessions.profile else {
                let Some(SessionsCommand::Revoke {
                    profile,
                    id,
                    others,
                }) = sessions.command
                else {
                    return Err(Failure::new(DATA_ERR, "give --profile DIR").into());
                };
                return account::revoke(&profile, id.as_deref(), others, args.json).await;
            };
            let (client, _) = client_for(&profile)?;
            let sessions = client.sessions().await.map_err(fail)?;
            output::emit(args.json, sessions.as_slice(), |list| {
                for s in list {
                    let mark = if s.current { "*" } else { " " };
                    output::line(&format!(
                        "{mark} {}  {:<9}  last seen {}  {}",
                        s.id,
                        s.kind,
                        s.last_seen_at,
                        s.ip.as_deref().unwrap_or("-")
                    ));
                }
            })
        }
        AccountCommand::Reauth(reauth) => account::reauth(reauth, args.json).await,
        AccountCommand::Password {
            profile,
            password_stdin,
        } => account::change_password(&profile, password_stdin).await,
        AccountCommand::RecoveryCodes(command) => account::recovery_codes(command, args.json).await,
        AccountCommand::Whoami { profile } => {
            let (client, _) = client_for(&profile)?;
            let info = client.session().await.map_err(fail)?;
            output::emit(args.json, &info, |i| {
                output::line(&format!(
                    "{} ({}) in tenant {}",
                    i.staff.email, i.staff.role, i.staff.tenant_id
                ));
            })
        }
    }
}
