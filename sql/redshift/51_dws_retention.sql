-- DWS: N-day retention of each first-seen cohort.
--   cohort_day      the cohort's first_seen_day
--   days_after      1, 7 or 30
--   cohort_users    users whose first_seen_day is cohort_day
--   retained_users  of them, users with any event exactly on cohort_day + days_after
-- A row exists once the warehouse has taken in events received on or after
-- cohort_day + days_after (UTC), so a 0 means nobody came back, never "not yet known".
CREATE TABLE IF NOT EXISTS dws_retention (
    cohort_day DATE NOT NULL,
    days_after INTEGER NOT NULL,
    cohort_users BIGINT NOT NULL,
    retained_users BIGINT NOT NULL
)
DISTSTYLE ALL
SORTKEY (cohort_day);
