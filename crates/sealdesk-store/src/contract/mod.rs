//! The backend-agnostic contract suite: every [`Store`] must pass these cases. A backend's
//! integration tests run them all with one [`store_contract_tests!`](crate::store_contract_tests)
//! call, given a factory that returns a fresh, empty, migrated store.

// This module is test code compiled into the library (feature `contract-tests`) so that every
// backend's test binary can share it; clippy's test allowances do not reach it, so they are
// granted here. A failed expectation must panic to fail the test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod admin;
mod audit;
mod carry;
mod conversations;
mod data;
mod desk;
mod devices;
mod erasure;
mod group_commit;
mod history_rotation;
mod invitations;
mod key_packages;
mod log;
mod notes;
mod passkeys;
mod people;
mod recovery;
mod retention;
mod roles;
mod routing;
mod sealing_keys;
mod session_activity;
mod session_resolve;
mod sessions;
mod staff;
mod teams;
mod tenants;
mod throttle;
mod totp;
mod upgrade;
mod visitors;
mod widget;

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

pub use admin::{
    closed_store_is_unavailable, concurrent_same_domain_one_wins,
    concurrent_same_team_name_one_wins, migrate_again_applies_nothing, ping_answers,
};
pub use audit::{
    audit_append_list_and_verify, concurrent_audit_appends_form_one_chain, verify_chain,
};
pub use carry::carried_copies_are_stored_with_the_transfer;
pub use conversations::{
    appends_racing_a_close_never_follow_it, changes_follow_their_guards,
    concurrent_claims_have_one_winner, conversation_create_get_and_reopen,
    conversation_is_scoped_to_tenant, list_conversations_filters_and_pages,
    participants_include_the_assignee,
};
pub use data::TestData;
pub use devices::{
    devices_are_enrolled_certified_and_revoked, key_wraps_go_to_certified_devices_only,
};
pub use erasure::{delete_tenant_erases_only_that_tenant, inbox_identity_round_trip};
pub use group_commit::{
    group_commit_answers_each_caller_with_its_outcome, group_commit_batches_concurrent_appends,
    group_commit_failure_fails_the_batch,
};
pub use history_rotation::{
    a_pending_history_member_is_abandoned_after_a_transfer,
    deleting_a_conversation_removes_its_history_members, history_members_rotate_by_generation,
    history_rotation_skips_expired_and_closed,
};
pub use invitations::{
    concurrent_take_invitation_one_wins, expired_invitation_is_not_taken,
    invitation_is_scoped_to_tenant, invitation_taken_once, list_and_delete_invitations,
    peek_invitation_does_not_use_it,
};
pub use key_packages::{
    history_pool_gives_each_conversation_one_member,
    key_packages_are_taken_once_and_the_last_resort_is_kept,
};
pub use log::{
    batches_of_every_size_store_every_entry, closed_conversation_refuses_appends,
    one_bad_entry_does_not_fail_the_batch, read_log_pages_after_a_cursor, retries_are_idempotent,
    sequence_numbers_are_gapless_in_batch_order,
};
pub use notes::{
    canned_response_replaced_only_if_unchanged, canned_responses_belong_to_a_team,
    notes_are_numbered_per_conversation,
};
pub use passkeys::{
    ceremony_taken_once_before_expiry, concurrent_ceremony_take_one_wins_and_purge,
    passkey_conflicts_and_tenant_scope, passkey_create_list_use_and_delete,
};
pub use recovery::{
    concurrent_recovery_code_use_one_wins, recovery_codes_conflict_and_scope,
    recovery_codes_keep_their_key_version, recovery_codes_replace_use_once_and_count,
};
pub use retention::{
    an_erasure_request_makes_a_closed_conversation_due,
    attachments_are_referenced_per_conversation, deleting_a_conversation_removes_what_it_owns,
    expired_conversations_oldest_first,
};
pub use roles::{
    concurrent_demotions_keep_an_owner, last_owner_cannot_be_demoted, set_staff_role_changes_role,
};
pub use routing::{
    assignment_mode_defaults_and_round_trips, availability_reads_back,
    team_loads_count_assigned_conversations, team_membership_is_idempotent_and_scoped,
};
pub use sealing_keys::sealing_keys_are_versioned_per_scope;
pub use session_activity::{
    active_sessions_checks_many_at_once, list_sessions_excludes_expired_and_revoked,
    touch_moves_idle_expiry,
};
pub use session_resolve::{
    concurrent_rotations_one_wins, resolve_session_joins_account_tenant_and_factors,
    revoke_other_sessions_keeps_the_current_one, rotate_session_replaces_the_old_one_once,
};
pub use sessions::{
    revoke_all_counts_and_spares_others, session_inactive_after_revoke,
    session_is_scoped_to_tenant, session_round_trip_by_token_hash,
};
pub use staff::{
    create_staff_for_missing_tenant_is_not_found, duplicate_staff_email_conflicts,
    password_hash_set_and_read_back, same_email_in_another_tenant_is_allowed,
    staff_create_get_find_list, staff_disable_and_enable, staff_is_scoped_to_tenant,
};
pub use teams::{
    create_team_for_missing_tenant_is_not_found, duplicate_team_name_ignoring_case_conflicts,
    same_team_name_in_another_tenant_is_allowed, team_create_get_list, team_disable_and_enable,
    team_is_scoped_to_tenant,
};
pub use tenants::{
    disable_and_enable_tenant, duplicate_domain_conflicts_and_writes_nothing,
    duplicate_tenant_id_conflicts, find_tenant_by_domain, list_tenants_oldest_first,
    root_keys_round_trip, tenant_round_trip, unknown_tenant_is_not_found,
    update_tenant_settings_round_trip, widget_origins_are_replaced,
};
pub use throttle::{
    concurrent_failures_are_all_counted, purge_throttle_forgets_old_keys,
    throttle_counts_locks_and_clears,
};
pub use totp::{
    concurrent_totp_step_one_wins, list_totp_secrets_covers_every_tenant,
    replace_totp_secret_is_compare_and_swap, totp_begin_confirm_and_use_steps,
    totp_begin_when_confirmed_conflicts, totp_is_scoped_to_tenant,
};
pub use upgrade::{WrittenLog, log_reads_back_after_upgrade, write_log_for_upgrade};
pub use visitors::{
    create_visitor_needs_a_team_of_the_tenant, tickets_found_by_hash_and_purged_after_expiry,
    visitor_create_get_and_find, visitor_key_and_external_id_are_unique_per_tenant,
};
pub use widget::inbox_widget_round_trips_and_records_consent;

use crate::{Constraint, DynStore, Store, StoreError, StoreResult};

type Teardown = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

/// A store under test, with whatever must outlive it (a temporary directory) and the
/// clean-up to run after a case passes (dropping a schema).
pub struct Fixture {
    store: DynStore,
    guard: Option<Box<dyn Send>>,
    teardown: Option<Teardown>,
}

impl Fixture {
    /// A fixture around `store`.
    pub fn new(store: DynStore) -> Self {
        Self {
            store,
            guard: None,
            teardown: None,
        }
    }

    /// Keeps `guard` alive until the case is over (for example a `tempfile::TempDir`).
    #[must_use]
    pub fn with_guard(mut self, guard: impl Send + 'static) -> Self {
        self.guard = Some(Box::new(guard));
        self
    }

    /// Runs `teardown` after the store is closed, when the case passed. A failed case
    /// leaves its data behind for inspection.
    #[must_use]
    pub fn with_teardown<F, Fut>(mut self, teardown: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.teardown = Some(Box::new(move || Box::pin(teardown())));
        self
    }

    /// The store.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// A shared handle to the store, for cases that spawn tasks or start a group committer.
    pub fn shared(&self) -> DynStore {
        DynStore::clone(&self.store)
    }

    /// Closes the store, runs the teardown, then drops the guard.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some(teardown) = self.teardown {
            teardown().await;
        }
        drop(self.guard);
    }
}

impl Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// What a contract factory may return: a store, a [`Fixture`], or `None` to skip the case
/// (for example when the backend's test database is not configured).
pub trait IntoFixture {
    /// The fixture, or `None` to skip.
    fn into_fixture(self) -> Option<Fixture>;
}

impl IntoFixture for Fixture {
    fn into_fixture(self) -> Option<Fixture> {
        Some(self)
    }
}

impl IntoFixture for Option<Fixture> {
    fn into_fixture(self) -> Option<Fixture> {
        self
    }
}

impl IntoFixture for DynStore {
    fn into_fixture(self) -> Option<Fixture> {
        Some(Fixture::new(self))
    }
}

impl IntoFixture for Option<DynStore> {
    fn into_fixture(self) -> Option<Fixture> {
        self.map(Fixture::new)
    }
}

/// Asserts that `result` is a conflict on `want`.
#[track_caller]
pub fn assert_conflict<T: Debug>(result: StoreResult<T>, want: &Constraint) {
    match result {
        Err(StoreError::Conflict { constraint }) => {
            assert_eq!(&constraint, want, "wrong constraint");
        }
        other => panic!("expected a conflict on {want}, got {other:?}"),
    }
}

/// Asserts that `result` is `NotFound`.
#[track_caller]
pub fn assert_not_found<T: Debug>(result: StoreResult<T>) {
    match result {
        Err(StoreError::NotFound) => {}
        other => panic!("expected NotFound, got {other:?}"),
    }
}

/// Generates one `#[tokio::test]` per contract case. The argument is an async function (or
/// closure) with no arguments returning a fresh, empty, migrated store as anything that
/// implements [`IntoFixture`]: a `DynStore`, a `Fixture`, or an
/// `Option` of either (`None` skips the case). The calling crate needs `tokio` with the
/// `macros` and `rt` features.
///
/// ```ignore
/// async fn fresh_store() -> sealdesk_store::DynStore { /* open and migrate */ }
/// sealdesk_store::store_contract_tests!(fresh_store);
/// ```
///
/// A new case is a `pub async fn(&dyn Store)` in `contract/`, re-exported from
/// `contract/mod.rs` and added to the first list below; a case that needs a shared handle
/// (to spawn tasks or run a group committer) takes a [`DynStore`] and goes in the second.
#[macro_export]
macro_rules! store_contract_tests {
    ($factory:expr) => {
        $crate::store_contract_tests!(@cases $factory;
            tenant_round_trip,
            list_tenants_oldest_first,
            duplicate_domain_conflicts_and_writes_nothing,
            duplicate_tenant_id_conflicts,
            find_tenant_by_domain,
            disable_and_enable_tenant,
            update_tenant_settings_round_trip,
            widget_origins_are_replaced,
            unknown_tenant_is_not_found,
            root_keys_round_trip,
            key_packages_are_taken_once_and_the_last_resort_is_kept,
            history_pool_gives_each_conversation_one_member,
            history_members_rotate_by_generation,
            history_rotation_skips_expired_and_closed,
            a_pending_history_member_is_abandoned_after_a_transfer,
            carried_copies_are_stored_with_the_transfer,
            deleting_a_conversation_removes_its_history_members,
            sealing_keys_are_versioned_per_scope,
            inbox_widget_round_trips_and_records_consent,
            devices_are_enrolled_certified_and_revoked,
            key_wraps_go_to_certified_devices_only,
            team_create_get_list,
            team_disable_and_enable,
            duplicate_team_name_ignoring_case_conflicts,
            same_team_name_in_another_tenant_is_allowed,
            team_is_scoped_to_tenant,
            create_team_for_missing_tenant_is_not_found,
            staff_create_get_find_list,
            staff_disable_and_enable,
            duplicate_staff_email_conflicts,
            same_email_in_another_tenant_is_allowed,
            staff_is_scoped_to_tenant,
            password_hash_set_and_read_back,
            create_staff_for_missing_tenant_is_not_found,
            migrate_again_applies_nothing,
            ping_answers,
            closed_store_is_unavailable,
            concurrent_same_domain_one_wins,
            concurrent_same_team_name_one_wins,
            set_staff_role_changes_role,
            last_owner_cannot_be_demoted,
            concurrent_demotions_keep_an_owner,
            session_round_trip_by_token_hash,
            session_inactive_after_revoke,
            revoke_all_counts_and_spares_others,
            session_is_scoped_to_tenant,
            list_sessions_excludes_expired_and_revoked,
            active_sessions_checks_many_at_once,
            touch_moves_idle_expiry,
            resolve_session_joins_account_tenant_and_factors,
            rotate_session_replaces_the_old_one_once,
            concurrent_rotations_one_wins,
            revoke_other_sessions_keeps_the_current_one,
            totp_begin_confirm_and_use_steps,
            totp_begin_when_confirmed_conflicts,
            totp_is_scoped_to_tenant,
            replace_totp_secret_is_compare_and_swap,
            concurrent_totp_step_one_wins,
            list_totp_secrets_covers_every_tenant,
            recovery_codes_replace_use_once_and_count,
            recovery_codes_conflict_and_scope,
            concurrent_recovery_code_use_one_wins,
            recovery_codes_keep_their_key_version,
            throttle_counts_locks_and_clears,
            concurrent_failures_are_all_counted,
            purge_throttle_forgets_old_keys,
            invitation_taken_once,
            expired_invitation_is_not_taken,
            list_and_delete_invitations,
            invitation_is_scoped_to_tenant,
            concurrent_take_invitation_one_wins,
            peek_invitation_does_not_use_it,
            audit_append_list_and_verify,
            concurrent_audit_appends_form_one_chain,
            passkey_create_list_use_and_delete,
            passkey_conflicts_and_tenant_scope,
            ceremony_taken_once_before_expiry,
            concurrent_ceremony_take_one_wins_and_purge,
            visitor_create_get_and_find,
            create_visitor_needs_a_team_of_the_tenant,
            visitor_key_and_external_id_are_unique_per_tenant,
            tickets_found_by_hash_and_purged_after_expiry,
            conversation_create_get_and_reopen,
            conversation_is_scoped_to_tenant,
            list_conversations_filters_and_pages,
            changes_follow_their_guards,
            participants_include_the_assignee,
            sequence_numbers_are_gapless_in_batch_order,
            retries_are_idempotent,
            closed_conversation_refuses_appends,
            one_bad_entry_does_not_fail_the_batch,
            read_log_pages_after_a_cursor,
            batches_of_every_size_store_every_entry,
            team_membership_is_idempotent_and_scoped,
            team_loads_count_assigned_conversations,
            availability_reads_back,
            assignment_mode_defaults_and_round_trips,
            notes_are_numbered_per_conversation,
            canned_responses_belong_to_a_team,
            canned_response_replaced_only_if_unchanged,
            attachments_are_referenced_per_conversation,
            expired_conversations_oldest_first,
            an_erasure_request_makes_a_closed_conversation_due,
            deleting_a_conversation_removes_what_it_owns,
            delete_tenant_erases_only_that_tenant,
            inbox_identity_round_trip,
        );
        $crate::store_contract_tests!(@shared_cases $factory;
            concurrent_claims_have_one_winner,
            appends_racing_a_close_never_follow_it,
            group_commit_batches_concurrent_appends,
            group_commit_answers_each_caller_with_its_outcome,
            group_commit_failure_fails_the_batch,
        );
    };
    (@shared_cases $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[::tokio::test]
            async fn $case() {
                let Some(fixture) = $crate::contract::IntoFixture::into_fixture(($factory)().await) else {
                    return;
                };
                $crate::contract::$case(fixture.shared()).await;
                fixture.finish().await;
            }
        )+
    };
    (@cases $factory:expr; $($case:ident),+ $(,)?) => {
        $(
            #[::tokio::test]
            async fn $case() {
                let Some(fixture) = $crate::contract::IntoFixture::into_fixture(($factory)().await) else {
                    return;
                };
                $crate::contract::$case(fixture.store()).await;
                fixture.finish().await;
            }
        )+
    };
}
