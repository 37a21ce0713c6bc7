//! The JSON shapes shared by the server's API and the browser's islands (ARCHITECTURE.md,
//! "Public JSON API"). Ids are UUIDs, times RFC 3339, money integer micro-dollars.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserView {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
    pub created_at: DateTime<Utc>,
}

/// The body of `POST /api/auth/register` and `POST /api/auth/login` answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthResponse {
    pub user: UserView,
    pub token: String,
}
