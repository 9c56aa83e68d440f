-- DWS: one row per UTC day with any event.
--   dau              distinct users with an event that day
--   new_users        users whose first_seen_day is that day
--   events           events that day (after deduplication)
--   error_events     of them, events carrying an error marker
--   conversion_rate  of the users who did the conversion's first action (default viewDoc)
--                    that day, the share who also did its second action (default buy)
--                    that day at or after their first first-action; 4 decimals, rounded;
--                    NULL when nobody did the first action that day
CREATE TABLE IF NOT EXISTS dws_daily_kpis (
    event_day DATE NOT NULL,
    dau BIGINT NOT NULL,
    new_users BIGINT NOT NULL,
    events BIGINT NOT NULL,
    error_events BIGINT NOT NULL,
    conversion_rate DECIMAL(5, 4)
)
DISTSTYLE ALL
SORTKEY (event_day);
