//! Wire types and pure rules shared by the Gatehouse server, agent, CLI and web console.
//!
//! Nothing here knows about HTTP servers, databases or async runtimes: every function is pure and
//! takes "now" as an argument, so the same decision can be made (and tested) anywhere.

/// Declares a named string schema for the OpenAPI description: a field says
/// `schema(value_type = Name)` and the description carries the constraint once, by reference.
#[cfg(feature = "openapi")]
macro_rules! string_schema {
    ($(#[$doc:meta])* $name:ident, pattern = $pattern:literal $(, max_length = $max:literal)?) => {
        $(#[$doc])*
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some($pattern))
                    $(.max_length(Some($max)))?
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
        }
    };
}

pub mod acl;
pub mod agent_link;
pub mod api;
pub mod approval;
pub mod asciicast;
pub mod audit;
pub mod error;
pub mod exec;
pub mod exec_stream;
pub mod files;
pub mod gate;
pub mod ids;
pub mod lifecycle;
pub mod next_action;
pub mod pattern;
pub mod recording;
pub mod scope;
pub mod server;
pub mod settings;
pub mod share;
pub mod signin;
pub mod token;
pub mod tunnel;
pub mod user;
pub mod websh;
pub mod work_session;

pub use error::{ErrorCode, ErrorEnvelope};
pub use ids::*;
pub use scope::Scope;
pub use user::{Role, User, UserRef};
pub use work_session::{Status, WorkSession};
