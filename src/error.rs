//! Stable error codes shared by both sockets and the HTTP API (`docs/protocol.md` lists them).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    MalformedJson,
    UnknownType,
    InvalidFrame,
    BinaryNotSupported,
    UnsupportedVersion,
    MessageTooLong,
    RateLimited,
    FrameTooLarge,
    SlowConsumer,
    AlreadyStarted,
    NotStarted,
    UnknownQueue,
    ChatPurged,
    ChatClosed,
    ChatNotFound,
    AlreadyClaimed,
    AtCapacity,
    TargetUnavailable,
    InvalidTransfer,
    Replaced,
    SessionExpired,
    ServerClosing,
    /// Close reason (1012): this node is restarting or lost touch with the rest of the cluster;
    /// reconnect (another node answers) and `resume`.
    NodeLeaving,
    /// 503: this node of a cluster cannot reach the node that runs the chats right now.
    ClusterUnavailable,
    InvalidRequest,
    InvalidCredentials,
    NotLoggedIn,
    Forbidden,
    OriginNotAllowed,
    TooManyAttempts,
    NotFound,
    ServerBusy,
    Internal,
    /// Close reason: no `hello`/`resume` in time.
    HelloTimeout,
    /// Close reason: a `hello` never followed by anything the page does.
    Abandoned,
    CrossSiteRequest,
    UnsupportedMediaType,
    MethodNotAllowed,
    StoreUnavailable,
    WeakPassword,
    PasswordChangeRequired,
    UsernameTaken,
    LastAdmin,
    SecondFactorRequired,
    InvalidSecondFactor,
    SecondFactorEnrolmentRequired,
    /// `hello` without the proof of work this socket's `challenge` asks for.
    ProofRequired,
    /// `hello` whose proof does not solve this socket's `challenge`.
    ProofInvalid,
    /// An admin's settings edit was refused; the answer names the `field`.
    InvalidSetting,
}

/// What the hub refuses. Every variant is the caller's doing; the hub has no failures of its own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    #[error("That queue does not exist.")]
    UnknownQueue,
    #[error("That chat has ended and was deleted, or never existed. Start a new chat.")]
    ChatPurged,
    #[error("That chat has ended.")]
    ChatClosed,
    #[error("That chat is not one you can act on.")]
    ChatNotFound,
    #[error("Another advocate took this chat first, or the chatter left the queue.")]
    AlreadyClaimed,
    #[error("You already have as many chats as you can take.")]
    AtCapacity,
    #[error("That advocate is not available or has no room for another chat.")]
    TargetUnavailable,
    #[error("Name exactly one of `to_advocate` or `to_queue`, and not yourself.")]
    InvalidTransfer,
    #[error("This socket already has a chat.")]
    AlreadyStarted,
    #[error("Say hello first.")]
    NotStarted,
    #[error("The text is empty or longer than the limit.")]
    MessageTooLong,
    #[error("The intake answers are too large or not simple values.")]
    InvalidIntake,
    #[error("Your role may not do that.")]
    Forbidden,
}

impl HubError {
    pub fn code(&self) -> ErrorCode {
        match self {
            HubError::UnknownQueue => ErrorCode::UnknownQueue,
            HubError::ChatPurged => ErrorCode::ChatPurged,
            HubError::ChatClosed => ErrorCode::ChatClosed,
            HubError::ChatNotFound => ErrorCode::ChatNotFound,
            HubError::AlreadyClaimed => ErrorCode::AlreadyClaimed,
            HubError::AtCapacity => ErrorCode::AtCapacity,
            HubError::TargetUnavailable => ErrorCode::TargetUnavailable,
            HubError::InvalidTransfer => ErrorCode::InvalidTransfer,
            HubError::AlreadyStarted => ErrorCode::AlreadyStarted,
            HubError::NotStarted => ErrorCode::NotStarted,
            HubError::MessageTooLong => ErrorCode::MessageTooLong,
            HubError::InvalidIntake => ErrorCode::InvalidFrame,
            HubError::Forbidden => ErrorCode::Forbidden,
        }
    }
}
