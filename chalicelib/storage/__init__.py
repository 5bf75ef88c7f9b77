"""Storage backends behind one interface: SQLite + a local folder for the embedded
endpoint; DynamoDB + S3 for the serverless stages."""
