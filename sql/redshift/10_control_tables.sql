-- Control tables of the incremental refresh (refresh.sql).
--
-- They hold no business data: the watermark that says how far the warehouse has read
-- the lake, and the work lists of the last refresh, kept after it ends so an operator
-- can see what it rebuilt. The refresh empties the work lists with DELETE, never
-- TRUNCATE: TRUNCATE commits on Redshift and would split the refresh transaction.

-- One row. `watermark` is the latest received_at the warehouse has taken in;
-- `previous_watermark` the one before the last refresh. Setting `watermark` to NULL
-- makes the next refresh read the whole lake (a full rebuild).
CREATE TABLE IF NOT EXISTS etl_refresh_state (
    watermark TIMESTAMP,
    previous_watermark TIMESTAMP,
    lookback_days INTEGER,
    refreshed_at TIMESTAMP
)
DISTSTYLE ALL;

-- What the last refresh rebuilt, by scope:
--   'event'  event days whose events changed (dwd_events, dwm_user_daily)
--   'kpi'    days whose dws_daily_kpis row was recomputed
--   'cohort' cohort days whose dws_retention rows were recomputed
--   'line'   days whose dwm_user_biz_daily rows were recomputed
--   'line_cohort'  cohort days whose dws_biz_retention rows were recomputed
CREATE TABLE IF NOT EXISTS etl_refresh_days (
    scope VARCHAR(16) NOT NULL,
    affected_day DATE NOT NULL
)
DISTSTYLE ALL;

-- Users whose activity on a changed day changed, so whose dim_user row is recomputed.
CREATE TABLE IF NOT EXISTS etl_changed_users (
    user_id VARCHAR(256) NOT NULL
)
DISTSTYLE KEY
DISTKEY (user_id);
