"""Parts of the embedded endpoint (chalicelib.server): its S3, admin routes, transport."""
