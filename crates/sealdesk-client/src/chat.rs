//! Typed HTTP calls of the widget and the staff console: tickets, conversations, routing.

use sealdesk_proto::conversations::{
    AvailabilityRequest, AvailabilityView, ConversationList, ConversationView, EntryPage,
    OpenConversation, RoutingSettings, TicketRequest, TicketResponse, TransferRequest,
    WidgetConfig,
};
use sealdesk_proto::widget::InboxWidgetSettings;
use sealdesk_proto::{ConversationId, StaffId, TeamId, TenantId};

use crate::{Client, ClientError};

impl Client {
    /// `GET /api/widget/{tenant}/{team}/config`.
    pub async fn widget_config(
        &self,
        tenant: TenantId,
        team: TeamId,
    ) -> Result<WidgetConfig, ClientError> {
        self.get(&format!("/api/widget/{tenant}/{team}/config"))
            .await
    }

    /// `POST /api/widget/{tenant}/{team}/tickets`: a ticket for the visitor holding
    /// `visitor_key`, or for a new visitor.
    pub async fn visitor_ticket(
        &self,
        tenant: TenantId,
        team: TeamId,
        visitor_key: Option<&str>,
    ) -> Result<TicketResponse, ClientError> {
        let body = TicketRequest {
            visitor_key: visitor_key.map(str::to_owned),
            ..TicketRequest::default()
        };
        self.visitor_ticket_with(tenant, team, &body).await
    }

    /// `POST /api/widget/{tenant}/{team}/tickets` with every option (identity token,
    /// proof-of-work solution).
    pub async fn visitor_ticket_with(
        &self,
        tenant: TenantId,
        team: TeamId,
        request: &TicketRequest,
    ) -> Result<TicketResponse, ClientError> {
        self.post(&format!("/api/widget/{tenant}/{team}/tickets"), request)
            .await
    }

    /// `GET /api/widget/{tenant}/{team}/challenge`.
    pub async fn challenge(
        &self,
        tenant: TenantId,
        team: TeamId,
    ) -> Result<sealdesk_proto::conversations::ChallengeResponse, ClientError> {
        self.get(&format!("/api/widget/{tenant}/{team}/challenge"))
            .await
    }

    /// `POST /api/visitor/conversations` (this client must carry a visitor ticket).
    pub async fn open_conversation(
        &self,
        reopen: Option<ConversationId>,
    ) -> Result<ConversationView, ClientError> {
        self.open_conversation_with(&OpenConversation {
            reopen,
            consent: None,
        })
        .await
    }

    /// `POST /api/visitor/conversations` with every field (consent to the privacy notice).
    pub async fn open_conversation_with(
        &self,
        request: &OpenConversation,
    ) -> Result<ConversationView, ClientError> {
        self.post("/api/visitor/conversations", request).await
    }

    /// `GET /api/visitor/conversations`.
    pub async fn my_conversations(&self) -> Result<ConversationList, ClientError> {
        self.get("/api/visitor/conversations").await
    }

    /// `POST /api/visitor/conversations/{id}/erasure`: the visitor asks for the conversation
    /// to be deleted.
    pub async fn visitor_request_erasure(
        &self,
        id: ConversationId,
    ) -> Result<ConversationView, ClientError> {
        self.post(
            &format!("/api/visitor/conversations/{id}/erasure"),
            &serde_json::json!({}),
        )
        .await
    }

    /// `POST /api/visitor/conversations/{id}/close`.
    pub async fn visitor_close(&self, id: ConversationId) -> Result<ConversationView, ClientError> {
        self.post(
            &format!("/api/visitor/conversations/{id}/close"),
            &serde_json::json!({}),
        )
        .await
    }

    /// `GET /api/tenants/{tenant}/conversations` with a query string such as
    /// `state=queued&team=…`.
    pub async fn conversations(
        &self,
        tenant: TenantId,
        query: &str,
    ) -> Result<ConversationList, ClientError> {
        let path = if query.is_empty() {
            format!("/api/tenants/{tenant}/conversations")
        } else {
            format!("/api/tenants/{tenant}/conversations?{query}")
        };
        self.get(&path).await
    }

    /// `GET /api/tenants/{tenant}/conversations/{id}`.
    pub async fn conversation(
        &self,
        tenant: TenantId,
        id: ConversationId,
    ) -> Result<ConversationView, ClientError> {
        self.get(&format!("/api/tenants/{tenant}/conversations/{id}"))
            .await
    }

    /// `GET /api/tenants/{tenant}/conversations/{id}/entries`.
    pub async fn entries(
        &self,
        tenant: TenantId,
        id: ConversationId,
        after: u64,
        limit: u32,
    ) -> Result<EntryPage, ClientError> {
        self.get(&format!(
            "/api/tenants/{tenant}/conversations/{id}/entries?after={after}&limit={limit}"
        ))
        .await
    }

    async fn conversation_action(
        &self,
        tenant: TenantId,
        id: ConversationId,
        action: &str,
        body: &serde_json::Value,
    ) -> Result<ConversationView, ClientError> {
        self.post(
            &format!("/api/tenants/{tenant}/conversations/{id}/{action}"),
            body,
        )
        .await
    }

    /// `POST …/claim`.
    pub async fn claim(
        &self,
        tenant: TenantId,
        id: ConversationId,
    ) -> Result<ConversationView, ClientError> {
        self.conversation_action(tenant, id, "claim", &serde_json::json!({}))
            .await
    }

    /// `POST …/transfer`.
    pub async fn transfer(
        &self,
        tenant: TenantId,
        id: ConversationId,
        to: &TransferRequest,
    ) -> Result<ConversationView, ClientError> {
        let body = serde_json::to_value(to).map_err(|e| ClientError::Unexpected {
            status: 0,
            snippet: e.to_string(),
        })?;
        self.conversation_action(tenant, id, "transfer", &body)
            .await
    }

    /// `POST …/join`.
    pub async fn join(
        &self,
        tenant: TenantId,
        id: ConversationId,
    ) -> Result<ConversationView, ClientError> {
        self.conversation_action(tenant, id, "join", &serde_json::json!({}))
            .await
    }

    /// `POST …/close`.
    pub async fn close_conversation(
        &self,
        tenant: TenantId,
        id: ConversationId,
    ) -> Result<ConversationView, ClientError> {
        self.conversation_action(tenant, id, "close", &serde_json::json!({}))
            .await
    }

    /// `GET /api/account/availability`.
    pub async fn availability(&self) -> Result<AvailabilityView, ClientError> {
        self.get("/api/account/availability").await
    }

    /// `PUT /api/account/availability`.
    pub async fn set_availability(
        &self,
        availability: &str,
        capacity: Option<u16>,
    ) -> Result<(), ClientError> {
        let body = AvailabilityRequest {
            availability: availability.to_owned(),
            capacity,
        };
        let body = serde_json::to_value(&body).map_err(|e| ClientError::Unexpected {
            status: 0,
            snippet: e.to_string(),
        })?;
        self.send_no_content(
            reqwest::Method::PUT,
            "/api/account/availability",
            Some(&body),
        )
        .await
    }

    /// `PUT /api/tenants/{tenant}/teams/{team}/members/{staff}`.
    pub async fn add_team_member(
        &self,
        tenant: TenantId,
        team: TeamId,
        staff: StaffId,
    ) -> Result<(), ClientError> {
        self.send_no_content(
            reqwest::Method::PUT,
            &format!("/api/tenants/{tenant}/teams/{team}/members/{staff}"),
            None,
        )
        .await
    }

    /// `DELETE /api/tenants/{tenant}/teams/{team}/members/{staff}`.
    pub async fn remove_team_member(
        &self,
        tenant: TenantId,
        team: TeamId,
        staff: StaffId,
    ) -> Result<(), ClientError> {
        self.send_no_content(
            reqwest::Method::DELETE,
            &format!("/api/tenants/{tenant}/teams/{team}/members/{staff}"),
            None,
        )
        .await
    }

    /// `PUT /api/tenants/{tenant}/teams/{team}/routing`.
    pub async fn set_routing(
        &self,
        tenant: TenantId,
        team: TeamId,
        assignment: &str,
    ) -> Result<RoutingSettings, ClientError> {
        let body = RoutingSettings {
            assignment: assignment.to_owned(),
        };
        decode_put(
            self,
            &format!("/api/tenants/{tenant}/teams/{team}/routing"),
            &body,
        )
        .await
    }

    /// `GET /api/tenants/{tenant}/teams/{team}/widget`.
    pub async fn widget_settings(
        &self,
        tenant: TenantId,
        team: TeamId,
    ) -> Result<InboxWidgetSettings, ClientError> {
        self.get(&format!("/api/tenants/{tenant}/teams/{team}/widget"))
            .await
    }

    /// `PUT /api/tenants/{tenant}/teams/{team}/widget`.
    pub async fn set_widget_settings(
        &self,
        tenant: TenantId,
        team: TeamId,
        settings: &InboxWidgetSettings,
    ) -> Result<InboxWidgetSettings, ClientError> {
        decode_put(
            self,
            &format!("/api/tenants/{tenant}/teams/{team}/widget"),
            settings,
        )
        .await
    }

    /// `PUT /api/tenants/{tenant}/widget-origins`.
    pub async fn set_widget_origins(
        &self,
        tenant: TenantId,
        origins: &[&str],
    ) -> Result<sealdesk_proto::widget::WidgetOrigins, ClientError> {
        let body = sealdesk_proto::widget::WidgetOrigins {
            origins: origins.iter().map(|o| (*o).to_owned()).collect(),
        };
        decode_put(
            self,
            &format!("/api/tenants/{tenant}/widget-origins"),
            &body,
        )
        .await
    }

    /// The bearer token this client carries, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

async fn decode_put<B: serde::Serialize, T: serde::de::DeserializeOwned>(
    client: &Client,
    path: &str,
    body: &B,
) -> Result<T, ClientError> {
    let response = client
        .request(reqwest::Method::PUT, path)?
        .json(body)
        .send()
        .await?;
    crate::decode(response).await
}
