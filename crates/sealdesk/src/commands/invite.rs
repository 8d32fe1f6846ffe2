//! `sealdesk invite accept`: sets the password of an invited staff account and keeps the new
//! session in the profile directory, like `sealdesk login`.

use sealdesk_client::Client;
use sealdesk_proto::auth::{AcceptInvitation, ClientKind, Secret};

use super::session::{fail, stdin_lines};
use crate::cli::{InviteAcceptArgs, InviteCommand};
use crate::exit::{DATA_ERR, Failure};
use crate::output;
use crate::profile::{self, Profile};

/// Runs an `invite` subcommand.
pub(crate) async fn run(command: InviteCommand) -> anyhow::Result<()> {
    let InviteCommand::Accept(args) = command;
    accept(args).await
}

async fn accept(args: InviteAcceptArgs) -> anyhow::Result<()> {
    if !args.token_stdin || !args.password_stdin {
        return Err(Failure::new(
            DATA_ERR,
            "pass the invitation token and the new password on standard input (one per line) \
             with --token-stdin --password-stdin",
        )
        .into());
    }
    let [token, password] = stdin_lines(["the invitation token", "the new password"])?;
    let client = Client::new(&args.server).map_err(fail)?;
    let response = client
        .accept_invitation(&AcceptInvitation {
            token: Secret(token.trim().to_owned()),
            password: Secret(password),
            client: ClientKind::Cli,
        })
        .await
        .map_err(fail)?;
    let token = response
        .token
        .ok_or_else(|| anyhow::anyhow!("the server returned no token"))?;
    let session = response.session;
    profile::save(
        &args.profile,
        &Profile {
            server: args.server,
            tenant_id: session.staff.tenant_id,
            email: session.staff.email.clone(),
            token,
            session_id: session.session_id,
            expires_at: session.expires_at,
        },
    )?;
    output::emit(args.json, &session, |s| {
        if s.restricted {
            output::line(&format!(
                "password set; logged in as {}. This tenant requires a second factor: run `sealdesk account totp enroll`, then log in again with --totp",
                s.staff.email
            ));
        } else {
            output::line(&format!(
                "password set; logged in as {} ({})",
                s.staff.email, s.staff.role
            ));
        }
    })
}
