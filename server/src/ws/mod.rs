//! `GET /ws`: the live feed (ARCHITECTURE.md, "WebSocket feed"). The upgrade is
//! authenticated by `?token=`, a bearer header or the session cookie; a cookie-authenticated
//! upgrade must come from our own origin, since a browser attaches cookies to any site's
//! WebSocket. A user holds at most `MAX_SOCKETS_PER_USER` sockets on one process (the count
//! is per process: with several behind a balancer, each allows that many).

mod session;

use std::time::Duration;

use axum::{
    extract::{ws::WebSocketUpgrade, Query, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
    Extension,
};
use serde::Deserialize;

use app::wire::UserStatus;

use crate::{
    auth::AuthError,
    http::{
        cross_site::is_cross_site,
        error::ApiError,
        session::{credential, CredentialSource},
    },
    limits::RetryAfter,
    startup::ConnectionSlot,
    state::AppState,
};

/// Starting size of a socket's read and write buffers.
const SOCKET_BUFFER_BYTES: usize = 2 * 1024;

/// Limits of one socket.
#[derive(Clone, Debug)]
pub struct SocketSettings {
    /// The server pings this often.
    pub ping_interval: Duration,
    /// A socket silent for this long (no frame, not even a pong) is closed.
    pub idle_timeout: Duration,
    /// Largest frame a client may send.
    pub max_frame_bytes: usize,
    /// `WS_FRAMES_PER_SECOND`: frames a client may send per second (after a burst of twice
    /// that); 0 is no limit. Far beyond what a tab needs: a subscribe per conversation opened,
    /// a ping now and then.
    pub frames_per_second: u32,
}

impl SocketSettings {
    /// The most a frame may be while it is read: larger frames than `max_frame_bytes` are read
    /// (up to this) only to be refused cleanly.
    pub fn read_limit(&self) -> usize {
        self.max_frame_bytes.saturating_mul(16).max(1 << 20)
    }
}

impl Default for SocketSettings {
    fn default() -> Self {
        Self {
            ping_interval: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(90),
            max_frame_bytes: 64 * 1024,
            frames_per_second: 20,
        }
    }
}

#[derive(Deserialize)]
pub struct WsQuery {
    token: Option<String>,
}

pub async fn upgrade(
    State(state): State<AppState>,
    Query(query): Query<WsQuery>,
    headers: HeaderMap,
    slot: Option<Extension<ConnectionSlot>>,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    let (token, source) = match query.token {
        Some(token) => (token, CredentialSource::QueryToken),
        None => credential(&headers).ok_or_else(|| {
            ApiError::unauthorized("unauthorized", "Log in to open the live feed.")
        })?,
    };
    if source == CredentialSource::Cookie && is_cross_site(&headers) {
        return Err(ApiError::Forbidden {
            code: "bad_origin",
            message: "The live feed only accepts pages of this site.".into(),
        });
    }
    let user = state.auth.session_for_token(&token).await?.user;
    if user.status == UserStatus::Pending {
        return Err(AuthError::PendingApproval.into());
    }
    let socket_slot = state.limits.open_socket(user.id).ok_or_else(|| {
        ApiError::too_many_requests(
            "too_many_sockets",
            "You have too many live connections open. Close some tabs, then reload.",
            RetryAfter(Duration::from_secs(10)),
        )
    })?;
    let settings = state.sockets.clone();
    Ok(ws
        // tungstenite allocates 128 KiB per socket for each buffer by default: 1.4 GB for
        // 10,000 idle sockets. Ours flush after every message or batch of ready ones anyway, and
        // the buffers grow for the rare large frame (a finished reply's message.updated carries
        // its whole text, so the write buffer is not capped: a batch is at most 64 frames).
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(SOCKET_BUFFER_BYTES)
        // Frames are read up to a larger limit and measured by the session, which answers
        // one over `max_frame_bytes` with a close frame (1009) and a proper closing handshake;
        // refused while reading, the frame's unread rest would reset the connection under it.
        .max_message_size(settings.read_limit())
        .max_frame_size(settings.read_limit())
        .on_upgrade(move |socket| async move {
            // The socket holds its connection's place among MAX_CONNECTIONS, and its place
            // among the user's sockets, while it is open.
            let _slot = slot;
            session::run(socket, state, user.id, token).await;
            drop(socket_slot);
        })
        .into_response())
}
