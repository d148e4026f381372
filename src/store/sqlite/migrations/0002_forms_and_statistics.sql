-- Voluntary form answers and the daily operational counts. No table holds a chat id, a resume
-- token, a staff id, an address, a user agent, or a time finer than the date bucket.
-- Keyed by random ids WITHOUT ROWID, so that neither ids nor the table's physical order follow
-- the order of submission (an ordinary table would number rows as they arrive).
CREATE TABLE form_versions (
    form TEXT NOT NULL,
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    PRIMARY KEY (form, version)
) WITHOUT ROWID;

CREATE TABLE submissions (
    id TEXT PRIMARY KEY,
    form TEXT NOT NULL,
    version INTEGER NOT NULL,
    queue TEXT NOT NULL,
    -- 'YYYY-MM-DD': the day, or the Monday of the ISO week (forms.date_bucket).
    bucket TEXT NOT NULL,
    -- SHA-256 of the deletion code shown to the person, so they can erase this later.
    deletion_hash TEXT NOT NULL UNIQUE
) WITHOUT ROWID;

CREATE TABLE answers (
    submission_id TEXT NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (submission_id, question, value)
) WITHOUT ROWID;

CREATE TABLE free_text (
    id TEXT PRIMARY KEY,
    submission_id TEXT NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    question TEXT NOT NULL,
    answer TEXT NOT NULL
) WITHOUT ROWID;

-- Follow-up emails, apart from the answers: joined to nothing but the deletion code's hash.
CREATE TABLE followups (
    id TEXT PRIMARY KEY,
    deletion_hash TEXT NOT NULL,
    email TEXT NOT NULL,
    purpose TEXT NOT NULL,
    expires_on TEXT NOT NULL
) WITHOUT ROWID;

-- Submissions not stored because the person was under 13: a count, nothing else.
CREATE TABLE withheld (
    bucket TEXT NOT NULL,
    form TEXT NOT NULL,
    version INTEGER NOT NULL,
    queue TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (bucket, form, version, queue)
) WITHOUT ROWID;

-- Chats offered, answered, abandoned, turned away ... per date bucket and queue.
CREATE TABLE ops_counts (
    bucket TEXT NOT NULL,
    queue TEXT NOT NULL,
    metric TEXT NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (bucket, queue, metric)
) WITHOUT ROWID;
