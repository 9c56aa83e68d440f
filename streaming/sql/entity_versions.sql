-- One replicated table as a versioned table: per key, its rows over time (a delete, and the old
-- key of an update that changed the key, are versions saying "no such entity from now on").
-- Flink reads a deduplication that keeps each key's last row by change time as a versioned view,
-- which event-time temporal joins look up as of an event's time. Rows of one key reach the job in
-- commit order (DMS partitions the stream by primary key), so of two versions with one change time
-- the later one wins, as in the source.
CREATE TEMPORARY VIEW ${entity}_versions AS
SELECT entityKey, entityLabel, deleted, changeTime
FROM (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY entityKey ORDER BY changeTime DESC) AS version
  FROM (
    SELECT
      `data`[${key}] AS entityKey,
      SUBSTR(`data`[${label}], 1, 1024) AS entityLabel,
      `metadata`.`operation` = 'delete' AS deleted,
      changeTime
    FROM changes
    WHERE `metadata`.`record-type` = 'data'
      AND `metadata`.`schema-name` = ${schema}
      AND `metadata`.`table-name` = ${table}
      AND `data`[${key}] IS NOT NULL
    UNION ALL
    SELECT
      `before-image`[${key}] AS entityKey,
      CAST(NULL AS STRING) AS entityLabel,
      TRUE AS deleted,
      changeTime
    FROM changes
    WHERE `metadata`.`record-type` = 'data'
      AND `metadata`.`operation` = 'update'
      AND `metadata`.`schema-name` = ${schema}
      AND `metadata`.`table-name` = ${table}
      AND `before-image`[${key}] IS NOT NULL
      AND `before-image`[${key}] <> `data`[${key}]
  )
)
WHERE version = 1
