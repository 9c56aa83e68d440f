-- DWM: one row per UTC day, business line and user with any event in that line; the grain the
-- BI dashboards read, so that row-level security by business line filters every number.
--   events              events of the user in the line that day (after deduplication)
--   error_events        of them, events carrying an error marker (dwd_events.is_error)
--   conversion_started  1 when the user did the conversion's first action (default viewDoc) in the
--                       line that day, else 0
--   converted           1 when the user also did its second action (default buy) in the same line
--                       that day, at or after their first first-action there, else 0
--   new_user            1 when event_day is the user's first_seen_day (dim_user): a new user of the
--                       platform that day, else 0
-- Aggregated over lines, distinct users and new users per day, week or month and the sums of events
-- and errors equal the platform-wide models (dws_daily_kpis); the conversion is measured within a
-- line. Events without a biz_id (the contract requires one) form their own NULL line and never convert.
CREATE TABLE IF NOT EXISTS dwm_user_biz_daily (
    event_day DATE NOT NULL,
    biz_id VARCHAR(256),
    user_id VARCHAR(256) NOT NULL,
    events BIGINT NOT NULL,
    error_events BIGINT NOT NULL,
    conversion_started INTEGER NOT NULL,
    converted INTEGER NOT NULL,
    new_user INTEGER NOT NULL
)
DISTSTYLE KEY
DISTKEY (user_id)
SORTKEY (event_day);
