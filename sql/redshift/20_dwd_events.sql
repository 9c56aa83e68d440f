-- DWD: typed, cleaned events, one row per event_id.
--
-- Columns are the stored columns of the event contract (lambdas/events.py), snake_case,
-- plus `event_day` (UTC date of created_at) and `is_error` (error_msg contains [PANIC],
-- [panic], [ERROR] or [error], as the real-time alert rule reads it). VARCHAR sizes are
-- the contract's character limits times 4: Redshift counts bytes, UTF-8 needs up to 4.
-- A row needs event_id, action, user_id, created_at and received_at; empty optional
-- texts are stored as NULL. Of several deliveries of one event_id the earliest by
-- received_at is kept.
CREATE TABLE IF NOT EXISTS dwd_events (
    event_day DATE NOT NULL,
    event_id VARCHAR(256) NOT NULL,
    action VARCHAR(1024) NOT NULL,
    user_id VARCHAR(256) NOT NULL,
    object_id VARCHAR(256),
    biz_id VARCHAR(256),
    created_at TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    error_msg VARCHAR(4096),
    is_error BOOLEAN NOT NULL,
    source_ip VARCHAR(2048),
    user_agent VARCHAR(2048),
    schema_version INTEGER
)
DISTSTYLE KEY
DISTKEY (user_id)
SORTKEY (event_day);

-- Work table of the refresh, shaped like dwd_events: the deliveries read from the lake
-- plus the current rows of the days they touch; the refresh keeps the earliest
-- delivery of each event_id from here.
CREATE TABLE IF NOT EXISTS etl_staged_events (
    event_day DATE NOT NULL,
    event_id VARCHAR(256) NOT NULL,
    action VARCHAR(1024) NOT NULL,
    user_id VARCHAR(256) NOT NULL,
    object_id VARCHAR(256),
    biz_id VARCHAR(256),
    created_at TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    error_msg VARCHAR(4096),
    is_error BOOLEAN NOT NULL,
    source_ip VARCHAR(2048),
    user_agent VARCHAR(2048),
    schema_version INTEGER
)
DISTSTYLE KEY
DISTKEY (user_id)
SORTKEY (event_day);
