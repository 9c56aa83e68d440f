-- DWM: one row per user and UTC day with any event.
--   events            events that day (after deduplication)
--   distinct_actions  how many different actions the user did that day
--   error_events      events whose error_msg carries an error marker (dwd_events.is_error)
CREATE TABLE IF NOT EXISTS dwm_user_daily (
    event_day DATE NOT NULL,
    user_id VARCHAR(256) NOT NULL,
    events BIGINT NOT NULL,
    distinct_actions BIGINT NOT NULL,
    error_events BIGINT NOT NULL
)
DISTSTYLE KEY
DISTKEY (user_id)
SORTKEY (event_day);
