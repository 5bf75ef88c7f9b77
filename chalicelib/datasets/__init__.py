"""Data import: Avro schema rules, CSV validation and normalisation, S3 reading."""
