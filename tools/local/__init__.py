"""Local stand-ins for what runs in AWS: the ingest Lambda against moto, a lake on disk in Firehose's layout,
the edge (CloudFront's viewer-request function under node, its real-time log lines).

Every offline run (these runners, the mock engine, the tests) is in one account and region:
moto's default account, and the region the stack files use.
"""

ACCOUNT_ID = "123456789012"
REGION = "eu-west-1"
