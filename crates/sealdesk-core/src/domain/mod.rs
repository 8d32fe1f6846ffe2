//! Validated domain types and the entities built from them.

mod cidr;
mod domain_name;
mod email;
mod names;
mod origin;
mod role;
mod staff;
mod team;
mod tenant;

pub use cidr::Cidr;
pub use domain_name::DomainName;
pub use email::Email;
pub use names::{DisplayName, TeamName, TenantName};
pub use origin::WidgetOrigin;
pub use role::Role;
pub use staff::{NewStaff, Staff};
pub use team::{NewTeam, Team};
pub use tenant::{NewTenant, Tenant, TenantSettings};
