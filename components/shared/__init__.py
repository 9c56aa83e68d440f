"""The building blocks every tier uses: stack context, IAM documents and roles, log groups, alarms,
dashboard widgets, Lambda functions, buckets, Kinesis streams, and the tier contract."""
