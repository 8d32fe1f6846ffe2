//! A visitor as the widget runs it, for the terminal agent's tests: a ticket, a conversation,
//! a WebSocket subscribed to it, and the conversation's MLS group (openmls, the widget's
//! profile) with the inbox's History Member added, as the widget does before its first message.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sealdesk_client::Client;
use sealdesk_client::ws::{Connection, Credential, Cursors};
use sealdesk_mls::Client as Mls;
use sealdesk_mls::certs::{ChainCheck, VISITOR_MAGIC};
use sealdesk_proto::ws::WireKind;
use sealdesk_proto::{ConversationId, TeamId, TenantId};

/// The visitor's pieces, taken apart by the tests.
pub(crate) struct WidgetVisitor {
    /// The REST client with the visitor's ticket.
    pub(crate) http: Client,
    pub(crate) conn: Connection,
    pub(crate) cursors: Cursors,
    pub(crate) mls: Mls,
    pub(crate) c: ConversationId,
}

impl WidgetVisitor {
    /// A new visitor of `team` (`seed` makes its MLS identity) with an open conversation, its
    /// group created, its `GroupInfo` sent and the History Member added.
    pub(crate) async fn start(
        url: &str,
        tenant: TenantId,
        team: TeamId,
        check: Arc<ChainCheck>,
        seed: u8,
    ) -> Self {
        let http = Client::new(url).unwrap();
        let ticket = http.visitor_ticket(tenant, team, None).await.unwrap();
        let http = http.with_token(ticket.ticket.clone());
        let c: ConversationId = http.open_conversation(None).await.unwrap().id;
        let mut conn = Connection::connect(
            &url::Url::parse(url).unwrap(),
            &Credential::Ticket(ticket.ticket),
        )
        .await
        .unwrap();
        conn.subscribe(c, 0).await.unwrap();
        let mut identity = VISITOR_MAGIC.to_vec();
        identity.extend_from_slice(&[seed; 16]);
        let mut mls = Mls::new(&identity, check).unwrap();
        mls.create_group(c.to_string().as_bytes()).unwrap();
        conn.send(c, "gi", WireKind::Handshake, &mls.group_info().unwrap())
            .await
            .unwrap();
        let hm = STANDARD
            .decode(http.visitor_history_member(c).await.unwrap().key_package)
            .unwrap();
        add_member(&mut conn, &mut mls, c, &hm, "hm").await;
        Self {
            http,
            conn,
            cursors: Cursors::default(),
            mls,
            c,
        }
    }
}

/// Adds the member of `key_package` as the widget does: the commit (client id `add-{tag}`),
/// merged once sent, then its Welcome (`w-{tag}`).
pub(crate) async fn add_member(
    conn: &mut Connection,
    mls: &mut Mls,
    c: ConversationId,
    key_package: &[u8],
    tag: &str,
) {
    let add = mls.commit(&[key_package.to_vec()], &[]).unwrap();
    conn.send(c, &format!("add-{tag}"), WireKind::Handshake, &add.commit)
        .await
        .unwrap();
    mls.merge().unwrap();
    conn.send(
        c,
        &format!("w-{tag}"),
        WireKind::Welcome,
        &add.welcome.unwrap(),
    )
    .await
    .unwrap();
}
