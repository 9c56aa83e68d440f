-- The search feed: what an operator searches while an alert is happening. Every event
-- whose errorMsg carries an error or a warning marker (the whole stored record: the
-- client's event and the ingest envelope), and the alerts themselves (error alerts and
-- warning bursts; per-window counts are not alerts). One JSON document per row, in the
-- shape the search index template takes (`lambdas/search_schema.py`, derived from the
-- event contract and the alert contract; a test proves they agree). Absent values are
-- left out (ABSENT ON NULL) rather than written as nulls.
--
-- `@timestamp` is when the thing happened: the event's createdAt (receivedAt when the
-- job could not use createdAt, as error alerts do), a burst's window start. `feedKey`
-- names the thing a document is about: Kinesis delivers at least once and Flink may
-- emit again after a restart, so a thing can be indexed twice, and the saved searches
-- collapse on it. `level` is error when any error marker matches, else warning.
CREATE TEMPORARY VIEW search_documents AS
SELECT JSON_OBJECT(
  KEY '@timestamp' VALUE CASE WHEN hasEventTime THEN createdAt ELSE receivedAt END,
  KEY 'kind' VALUE 'event',
  KEY 'level' VALUE CASE WHEN ${error_predicate} THEN 'error' ELSE 'warning' END,
  KEY 'feedKey' VALUE CONCAT('event:', eventId),
  KEY 'eventId' VALUE eventId,
  KEY 'action' VALUE action,
  KEY 'userId' VALUE userId,
  KEY 'objectId' VALUE objectId,
  KEY 'bizId' VALUE bizId,
  KEY 'createdAt' VALUE createdAt,
  KEY 'errorMsg' VALUE errorMsg,
  KEY 'receivedAt' VALUE receivedAt,
  KEY 'sourceIp' VALUE sourceIp,
  KEY 'userAgent' VALUE userAgent,
  KEY 'schemaVersion' VALUE schemaVersion,
  KEY 'edgeLocation' VALUE edgeLocation,
  KEY 'edgeRequestId' VALUE edgeRequestId
  ABSENT ON NULL
) AS document
FROM events
WHERE ${error_predicate} OR ${warn_predicate}
UNION ALL
SELECT JSON_OBJECT(
  KEY '@timestamp' VALUE createdAt,
  KEY 'kind' VALUE 'alert',
  KEY 'level' VALUE 'error',
  KEY 'feedKey' VALUE CONCAT('alert:error:', eventId),
  KEY 'alertType' VALUE 'error',
  KEY 'action' VALUE action,
  KEY 'eventId' VALUE eventId,
  KEY 'userId' VALUE userId,
  KEY 'objectId' VALUE objectId,
  KEY 'bizId' VALUE bizId,
  KEY 'errorMsg' VALUE errorMsg,
  KEY 'createdAt' VALUE createdAt
  ABSENT ON NULL
) AS document
FROM error_alerts
UNION ALL
SELECT JSON_OBJECT(
  KEY '@timestamp' VALUE windowStart,
  KEY 'kind' VALUE 'alert',
  KEY 'level' VALUE 'warning',
  KEY 'feedKey' VALUE CONCAT('alert:warn_burst:', action, ':', windowStart),
  KEY 'alertType' VALUE 'warn_burst',
  KEY 'action' VALUE action,
  KEY 'windowStart' VALUE windowStart,
  KEY 'windowEnd' VALUE windowEnd,
  KEY 'warnCount' VALUE warnCount
  ABSENT ON NULL
) AS document
FROM warn_bursts
