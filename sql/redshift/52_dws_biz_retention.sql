-- DWS: N-day retention of each first-seen cohort within each business line.
--   cohort_day      the cohort's first_seen_day
--   biz_id          the line: the cohort is the users first seen on cohort_day who were active in it
--                   that day (a user active in two lines on their first day is in both cohorts)
--   days_after      1, 7 or 30
--   cohort_users    users in the cohort
--   retained_users  of them, users active in the same line exactly on cohort_day + days_after
-- As in dws_retention, a row exists once the warehouse has taken in events received on or after
-- cohort_day + days_after (UTC).
CREATE TABLE IF NOT EXISTS dws_biz_retention (
    cohort_day DATE NOT NULL,
    biz_id VARCHAR(256),
    days_after INTEGER NOT NULL,
    cohort_users BIGINT NOT NULL,
    retained_users BIGINT NOT NULL
)
DISTSTYLE ALL
SORTKEY (cohort_day);
