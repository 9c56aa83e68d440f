-- alert_records.sql with the replicated entities' labels: the error alerts carry the object's
-- and the business line's label as of the event's time (and whether the entity was known then),
-- and, when a replicated table is named by bizId, counts per business line join the union. The
-- warn_burst and counts records are alert_records.sql's, byte for byte (a test compares them).
CREATE TEMPORARY VIEW enriched_alert_records AS
SELECT JSON_OBJECT(
  KEY 'alertType' VALUE 'error',
  KEY 'action' VALUE action,
  KEY 'eventId' VALUE eventId,
  KEY 'userId' VALUE userId,
  KEY 'objectId' VALUE objectId,
  KEY 'bizId' VALUE bizId,
  KEY 'errorMsg' VALUE errorMsg,
${entity_fields}
  KEY 'createdAt' VALUE createdAt
) AS record
FROM enriched_error_alerts
UNION ALL
SELECT JSON_OBJECT(
  KEY 'alertType' VALUE 'warn_burst',
  KEY 'action' VALUE action,
  KEY 'windowStart' VALUE windowStart,
  KEY 'windowEnd' VALUE windowEnd,
  KEY 'warnCount' VALUE warnCount
) AS record
FROM warn_bursts
UNION ALL
SELECT JSON_OBJECT(
  KEY 'alertType' VALUE 'counts',
  KEY 'action' VALUE action,
  KEY 'windowStart' VALUE windowStart,
  KEY 'windowEnd' VALUE windowEnd,
  KEY 'events' VALUE events,
  KEY 'users' VALUE users
) AS record
FROM realtime_counts
${biz_counts_branch}
