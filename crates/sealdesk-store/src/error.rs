//! The store's error type, built from `sqlx::Error` in exactly one place per backend.

/// A uniqueness rule that a write broke. Named the same on every backend, so callers can
/// tell the user which value is taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Constraint {
    /// A brand domain already belongs to a tenant.
    TenantDomain,
    /// A team of that name already exists in the tenant.
    TeamName,
    /// A staff account with that e-mail already exists in the tenant.
    StaffEmail,
    /// The row's primary key already exists.
    PrimaryKey,
    /// A session with that token hash already exists.
    SessionToken,
    /// An invitation with that token hash already exists.
    InvitationToken,
    /// The same recovery code digest was given twice for one account.
    RecoveryCode,
    /// The account already has a confirmed TOTP enrolment.
    TotpConfirmed,
    /// The change would leave the tenant without an enabled owner.
    LastOwner,
    /// A passkey with that credential id is already registered.
    PasskeyCredential,
    /// The conversation is no longer in the state a guarded change expected (another
    /// agent claimed it first, it was closed, …).
    ConversationState,
    /// A visitor with that key hash already exists in the tenant.
    VisitorKey,
    /// A visitor with that external (customer) id already exists in the tenant.
    VisitorExternalId,
    /// A visitor ticket with that token hash already exists.
    VisitorTicket,
    /// A device already holds as many key packages as allowed.
    KeyPackageLimit,
    /// A team or archive key version is not the next one (or another publisher won).
    KeyVersion,
    /// A device with that signature key is already registered in the tenant.
    DeviceKey,
    /// The staff member already has as many devices as allowed.
    DeviceLimit,
    /// The device is not in the state the change needs (certify a pending one, revoke one
    /// not yet revoked, wrap keys for a certified one).
    DeviceState,
    /// Another constraint, by its database name.
    Other(String),
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Constraint::TenantDomain => f.write_str("tenant_domain"),
            Constraint::TeamName => f.write_str("team_name"),
            Constraint::StaffEmail => f.write_str("staff_email"),
            Constraint::PrimaryKey => f.write_str("primary_key"),
            Constraint::SessionToken => f.write_str("session_token"),
            Constraint::InvitationToken => f.write_str("invitation_token"),
            Constraint::RecoveryCode => f.write_str("recovery_code"),
            Constraint::TotpConfirmed => f.write_str("totp_confirmed"),
            Constraint::LastOwner => f.write_str("last_owner"),
            Constraint::PasskeyCredential => f.write_str("passkey_credential"),
            Constraint::ConversationState => f.write_str("conversation_state"),
            Constraint::VisitorKey => f.write_str("visitor_key"),
            Constraint::VisitorExternalId => f.write_str("visitor_external_id"),
            Constraint::VisitorTicket => f.write_str("visitor_ticket"),
            Constraint::KeyPackageLimit => f.write_str("key_package_limit"),
            Constraint::KeyVersion => f.write_str("key_version"),
            Constraint::DeviceKey => f.write_str("device_key"),
            Constraint::DeviceLimit => f.write_str("device_limit"),
            Constraint::DeviceState => f.write_str("device_state"),
            Constraint::Other(name) => f.write_str(name),
        }
    }
}

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist, or belongs to another tenant (the two are never told apart).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was broken; nothing was written.
    #[error("conflict on {constraint}")]
    Conflict {
        /// Which rule.
        constraint: Constraint,
    },
    /// The database cannot be reached, is closed, or timed out; the operation may be retried.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// A stored value could not be read back as a domain value (corruption or a bug).
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    /// Any other database error.
    #[error("database error")]
    Other(#[source] sqlx::Error),
}

impl StoreError {
    /// Classifies a sqlx error, using `classify` to name a unique-violation constraint from
    /// the backend-specific database error.
    // Used by the backends; a build with neither backend feature has no caller.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn from_sqlx(
        err: sqlx::Error,
        classify: fn(&dyn sqlx::error::DatabaseError) -> Constraint,
    ) -> Self {
        match err {
            sqlx::Error::RowNotFound => StoreError::NotFound,
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict {
                constraint: classify(db.as_ref()),
            },
            e @ (sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed) => StoreError::Unavailable(e),
            e => StoreError::Other(e),
        }
    }
}
