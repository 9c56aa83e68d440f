-- One replicated table as a versioned table: per key, its rows over time (a delete, and the old
-- key of an update that changed the key, are versions saying "no such entity from now on").
-- Flink reads a deduplication that keeps each key's last row by change time as a versioned view,
-- which event-time temporal joins look up as of an event's time. Rows of one key reach the job in
-- commit order (DMS partitions the stream by primary key), so of two versions with one change time
-- the later one wins, as in the source.
-- Both versions an update that changed the key makes come from its one record (UNNEST), read once:
-- two scans of the stream, one per kind, would race, and the deduplication drops a version that
-- arrives after a newer one of its key (the load of a row after the re-key that ended it).
CREATE TEMPORARY VIEW ${entity}_versions AS
SELECT entityKey, entityLabel, deleted, changeTime
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY entityKey ORDER BY changeTime DESC) AS version
  FROM (
    SELECT v.entityKey, v.entityLabel, v.deleted, changeTime
    FROM changes
    CROSS JOIN UNNEST(ARRAY[
      ROW(
        `data`[${key}],
        SUBSTR(`data`[${label}], 1, 1024),
        `metadata`.`operation` = 'delete'
      ),
      ROW(
        CASE
          WHEN `metadata`.`operation` = 'update' AND `before-image`[${key}] <> `data`[${key}]
          THEN `before-image`[${key}]
        END,
        CAST(NULL AS STRING),
        TRUE
      )
    ]) AS v (entityKey, entityLabel, deleted)
    WHERE `metadata`.`record-type` = 'data'
      AND `metadata`.`schema-name` = ${schema}
      AND `metadata`.`table-name` = ${table}
      AND v.entityKey IS NOT NULL
  )
)
WHERE version = 1
