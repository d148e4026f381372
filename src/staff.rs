//! Who staff are, as every layer sees them. Staff have a login name and a display name chosen
//! by the program (what chatters see); Haven stores no real names.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Advocate,
    Supervisor,
    Evaluator,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Advocate => "advocate",
            Role::Supervisor => "supervisor",
            Role::Evaluator => "evaluator",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "advocate" => Some(Role::Advocate),
            "supervisor" => Some(Role::Supervisor),
            "evaluator" => Some(Role::Evaluator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// May answer chats on the console.
    pub fn can_chat(self) -> bool {
        !matches!(self, Role::Evaluator)
    }

    /// Sees every active chat and queue length (read-only).
    pub fn oversees(self) -> bool {
        matches!(self, Role::Supervisor | Role::Admin)
    }
}

/// A staff member as the hub and the HTTP layer need them (no password material).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Staff {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub role: Role,
}
