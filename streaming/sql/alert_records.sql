-- The three results as the JSON records the alerts stream carries, built here so that
-- the local run and the Kinesis sink emit the very same bytes. Window bounds are UTC.
-- JSON_OBJECT writes its keys in sorted order and the values come from the alert alone,
-- so a copy of an alert that Flink emits again is the same string: the alerts stream's
-- partition key (the record, sink_alerts.sql) sends both copies to one shard.
CREATE TEMPORARY VIEW alert_records AS
SELECT JSON_OBJECT(
  KEY 'alertType' VALUE 'error',
  KEY 'action' VALUE action,
  KEY 'eventId' VALUE eventId,
  KEY 'userId' VALUE userId,
  KEY 'objectId' VALUE objectId,
  KEY 'bizId' VALUE bizId,
  KEY 'errorMsg' VALUE errorMsg,
  KEY 'createdAt' VALUE createdAt
) AS record
FROM error_alerts
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
