-- Settings admins edit while Haven runs (SQLite's 0004): queues, service hours, canned
-- responses, the program's texts. Every save is a new row, so an edit can be seen and rolled
-- back; the newest row of a section overrides that section of the configuration file. `value`
-- is the section as JSON; `saved_by` is a staff id. Never chat content.
CREATE TABLE settings_versions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    section TEXT NOT NULL,
    version BIGINT NOT NULL,
    value TEXT NOT NULL,
    saved_at BIGINT NOT NULL,
    saved_by TEXT,
    UNIQUE (section, version)
);
