//! `sealdesk account reauth | password | sessions revoke | recovery-codes regenerate`: the
//! account commands that prove identity again, change the password, end sessions and replace
//! recovery codes. A re-authentication replaces the session (OWASP ASVS v5.0.0-7.2.4), so
//! the new token is saved in the profile at once.

use std::path::Path;

use sealdesk_client::{Client, ClientError};
use sealdesk_proto::ErrorCode;
use sealdesk_proto::auth::{ChangePassword, ReauthRequest, Secret};
use uuid::Uuid;

use super::session::{client_for, fail, stdin_lines};
use crate::cli::{ReauthArgs, RecoveryCodesCommand};
use crate::exit::{DATA_ERR, Failure};
use crate::output;
use crate::profile;

fn require_stdin(flag: bool, what: &str) -> anyhow::Result<()> {
    if flag {
        Ok(())
    } else {
        Err(Failure::new(
            DATA_ERR,
            format!("pass {what} on standard input with --password-stdin"),
        )
        .into())
    }
}

/// Re-authenticates the profile's session and saves the session that replaces it; returns a
/// client carrying the new token.
async fn reauthenticate(
    dir: &Path,
    password: String,
    totp: Option<String>,
    recovery_code: Option<String>,
) -> anyhow::Result<(Client, sealdesk_proto::auth::LoginResponse)> {
    let (client, mut saved) = client_for(dir)?;
    let request = ReauthRequest {
        password: Some(Secret(password)),
        totp: totp.map(Secret),
        recovery_code: recovery_code.map(Secret),
        passkey: None,
    };
    let response = client.reauth(&request).await.map_err(fail)?;
    let token = response
        .token
        .clone()
        .ok_or_else(|| anyhow::anyhow!("the server returned no token"))?;
    // The old token no longer works: keep the new one before anything else.
    saved.token.clone_from(&token);
    saved.session_id = response.session.session_id;
    saved.expires_at = response.session.expires_at;
    profile::save(dir, &saved)?;
    Ok((client.with_token(token), response))
}

/// `sealdesk account reauth`.
pub(crate) async fn reauth(args: ReauthArgs, json: bool) -> anyhow::Result<()> {
    require_stdin(args.password_stdin, "the password")?;
    let [password] = stdin_lines(["the password"])?;
    let (_, response) =
        reauthenticate(&args.profile, password, args.totp, args.recovery_code).await?;
    output::emit(json, &response.session, |s| {
        output::line(&format!(
            "re-authenticated as {}; the session was renewed (sensitive changes are allowed for five minutes)",
            s.staff.email
        ));
    })
}

/// `sealdesk account password`: current password on the first line, the new one on the
/// second.
pub(crate) async fn change_password(dir: &Path, password_stdin: bool) -> anyhow::Result<()> {
    require_stdin(password_stdin, "the current and the new password")?;
    let [current, new] = stdin_lines(["the current password", "the new password"])?;
    let (client, _) = client_for(dir)?;
    client
        .change_password(&ChangePassword {
            current_password: Secret(current),
            new_password: Secret(new),
        })
        .await
        .map_err(fail)?;
    output::line("password changed; every other session and API token was signed out");
    Ok(())
}

/// `sealdesk account sessions revoke (ID | --others)`.
pub(crate) async fn revoke(
    dir: &Path,
    id: Option<&str>,
    others: bool,
    json: bool,
) -> anyhow::Result<()> {
    let (client, saved) = client_for(dir)?;
    let (count, this_one) = match id {
        Some(id) if !others => {
            let id: Uuid = id
                .parse()
                .map_err(|_| Failure::new(DATA_ERR, format!("{id:?} is not a session id")))?;
            client.revoke_session(id).await.map_err(fail)?;
            (1, id == saved.session_id)
        }
        _ => (client.revoke_other_sessions().await.map_err(fail)?, false),
    };
    if this_one {
        // That was this profile's own session: it is logged out now.
        profile::remove(dir)?;
    }
    output::emit(
        json,
        &serde_json::json!({ "revoked": count, "logged_out": this_one }),
        |_| {
            output::line(&match (others, this_one) {
                (true, _) => format!("revoked {count} other session(s) and API token(s)"),
                (false, true) => "revoked this session; logged out".to_owned(),
                (false, false) => "session revoked".to_owned(),
            });
        },
    )
}

/// `sealdesk account recovery-codes regenerate`.
pub(crate) async fn recovery_codes(
    command: RecoveryCodesCommand,
    json: bool,
) -> anyhow::Result<()> {
    let RecoveryCodesCommand::Regenerate {
        profile: dir,
        password_stdin,
        totp,
        recovery_code,
    } = command;
    let client = if password_stdin {
        let [password] = stdin_lines(["the password"])?;
        reauthenticate(&dir, password, totp, recovery_code).await?.0
    } else {
        client_for(&dir)?.0
    };
    let codes = match client.regenerate_recovery_codes().await {
        Err(ClientError::Api { body, .. }) if body.code == ErrorCode::ReauthenticationRequired => {
            return Err(Failure::new(
                77,
                "this needs a proof of identity from the last five minutes: pass \
                 --password-stdin (and --totp CODE), or run `sealdesk account reauth` first",
            )
            .into());
        }
        other => other.map_err(fail)?,
    };
    if json {
        output::json(&codes)
    } else {
        output::line(
            "New recovery codes; the old ones no longer work. Keep these somewhere safe; each works once:",
        );
        for c in &codes.recovery_codes {
            output::line(&format!("  {c}"));
        }
        Ok(())
    }
}
