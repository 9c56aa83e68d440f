-- error_alerts.sql's alerts, each carrying the object's and the business line's labels as they were
-- at the event's time (event-time temporal joins with the versioned entity tables). The alert is
-- the same (same predicate, same eventId de-duplication, same fallback to receivedAt); an event
-- whose entity is unknown, deleted or forgotten (enrichment.ttl.seconds) still alerts, marked
-- known = FALSE with no label. The joins emit once both streams' watermarks pass the event.
CREATE TEMPORARY VIEW enriched_error_alerts AS
SELECT
  a.action,
  a.eventId,
  a.userId,
  a.objectId,
  a.bizId,
  a.errorMsg,
  a.createdAt,
  CASE WHEN o.deleted THEN CAST(NULL AS STRING) ELSE o.entityLabel END AS objectName,
  COALESCE(NOT o.deleted, FALSE) AS objectKnown,
  CASE WHEN b.deleted THEN CAST(NULL AS STRING) ELSE b.entityLabel END AS bizName,
  COALESCE(NOT b.deleted, FALSE) AS bizKnown
FROM (
  SELECT
    action,
    eventId,
    userId,
    objectId,
    bizId,
    errorMsg,
    CASE WHEN hasEventTime THEN createdAt ELSE receivedAt END AS createdAt,
    eventTime
  FROM (
    SELECT
      *,
      ROW_NUMBER() OVER (PARTITION BY eventId ORDER BY procTime ASC) AS occurrence
    FROM events
    WHERE ${error_predicate}
  )
  WHERE occurrence = 1
) AS a
LEFT JOIN object_versions FOR SYSTEM_TIME AS OF a.eventTime AS o ON a.objectId = o.entityKey
LEFT JOIN biz_versions FOR SYSTEM_TIME AS OF a.eventTime AS b ON a.bizId = b.entityKey
