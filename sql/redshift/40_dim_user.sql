-- DIM: one row per user ever seen; first and last UTC day with an event.
CREATE TABLE IF NOT EXISTS dim_user (
    user_id VARCHAR(256) NOT NULL,
    first_seen_day DATE NOT NULL,
    last_seen_day DATE NOT NULL
)
DISTSTYLE KEY
DISTKEY (user_id)
SORTKEY (first_seen_day);
