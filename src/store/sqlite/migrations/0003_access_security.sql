-- Access security (issue 9): account state, session lifetimes, server keys, the audit log.

-- A disabled account cannot log in and has no sessions; a temporary password must be changed
-- at the next login; max_chats overrides chat.max_chats_per_advocate when set (0: the default).
ALTER TABLE staff ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
ALTER TABLE staff ADD COLUMN max_chats INTEGER NOT NULL DEFAULT 0;

-- When a session began, for the absolute lifetime (sessions from before this step expire).
ALTER TABLE sessions ADD COLUMN created_at INTEGER NOT NULL DEFAULT 0;

-- Random keys Haven makes for itself (the device-cookie signing key), so that they survive a
-- restart. Never user data.
CREATE TABLE IF NOT EXISTS server_keys (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);

-- Who did what, when. Never chat content, intake answers, chatter ids or addresses: `actor`
-- and `target` are staff ids (or NULL), `detail` is a short code-like string, and
-- `attempted_username` is set only for failed logins.
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT,
    action TEXT NOT NULL,
    target TEXT,
    attempted_username TEXT,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);

-- TOTP second factor (RFC 6238): the enrolled secret, one waiting for confirmation during
-- enrolment, the last time step used (a code works once), and single-use recovery codes
-- (only their SHA-256).
ALTER TABLE staff ADD COLUMN totp_secret BLOB;
ALTER TABLE staff ADD COLUMN totp_pending BLOB;
ALTER TABLE staff ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
CREATE TABLE IF NOT EXISTS recovery_codes (
    staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    PRIMARY KEY (staff_id, code_hash)
);

-- Security settings admins change at run time (e.g. which roles must use a second factor).
CREATE TABLE IF NOT EXISTS security_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
